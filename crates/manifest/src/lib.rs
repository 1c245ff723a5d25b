//! netpol-manifest: not written yet.

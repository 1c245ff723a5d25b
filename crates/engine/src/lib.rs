//! netpol-engine: not written yet.

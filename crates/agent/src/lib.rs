//! netpol-agent: not written yet.

//! netpol-lab: not written yet.

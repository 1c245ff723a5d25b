//! netpol-matrix: not written yet.

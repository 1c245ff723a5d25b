//! netpol-testkit: not written yet.

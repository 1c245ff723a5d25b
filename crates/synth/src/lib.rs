//! netpol-synth: not written yet.

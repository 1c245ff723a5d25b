//! netpol-nft: not written yet.

//! The kernel side of a sync, behind a trait: apply one transaction to
//! `table inet netpol`, and cut the connections a ruleset denies.
//!
//! [`NftDataplane`] runs `nft` and `conntrack` (in a network namespace when
//! given); [`crate::testing::FakeDataplane`] records the calls instead, so the
//! sync logic is tested without root.

use netpol_nft::apply::{self, Applied, ApplyError};
use netpol_nft::Ruleset;

/// One transaction on `table inet netpol`.
#[derive(Clone, Copy, Debug)]
pub struct Transaction<'a> {
    /// The nft script, committed all or nothing.
    pub script: &'a str,
    /// What the table holds once the script commits.
    pub ruleset: &'a Ruleset,
    /// The script holds only the difference from this ruleset (the last one
    /// applied); `None`: it replaces the whole table.
    pub from: Option<&'a Ruleset>,
}

impl Transaction<'_> {
    /// Whether the script replaces the whole table.
    pub fn whole(&self) -> bool {
        self.from.is_none()
    }
}

/// Where the rules are enforced.
pub trait Dataplane {
    type Error: std::error::Error + 'static;

    /// Commits `transaction` in one piece: on an error nothing changed.
    fn apply(&mut self, transaction: &Transaction<'_>) -> Result<Applied, Self::Error>;

    /// Deletes the tracked connections `ruleset` (now applied) would refuse as
    /// new ones; returns how many.
    fn reset_denied(&mut self, ruleset: &Ruleset) -> Result<usize, Self::Error>;
}

/// The kernel through `nft -f` and `conntrack`, in `netns` when given
/// (`ip netns exec NAME`).
#[derive(Clone, Debug, Default)]
pub struct NftDataplane {
    pub netns: Option<String>,
}

impl NftDataplane {
    pub fn new(netns: Option<String>) -> Self {
        NftDataplane { netns }
    }
}

impl Dataplane for NftDataplane {
    type Error = ApplyError;

    fn apply(&mut self, transaction: &Transaction<'_>) -> Result<Applied, ApplyError> {
        apply::apply(transaction.script, self.netns.as_deref())
    }

    fn reset_denied(&mut self, ruleset: &Ruleset) -> Result<usize, ApplyError> {
        apply::reset_denied(ruleset, self.netns.as_deref())
    }
}

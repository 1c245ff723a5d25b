//! Test doubles for the agent's seams, public so that integration tests and
//! other sources' tests (the Kubernetes API next) drive the sync loop without
//! root: [`FakeDataplane`] stands for the kernel.
//!
//! ```
//! use netpol_agent::testing::{Call, FakeDataplane};
//! use netpol_agent::Syncer;
//! let mut syncer = Syncer::with_dataplane(FakeDataplane::new(), Default::default(), false);
//! syncer.sync(&netpol_model::Cluster::default(), 0).unwrap();
//! assert_eq!(syncer.dataplane().calls(), [Call::Apply { whole: true, committed: true }]);
//! ```

use std::time::Duration;

use netpol_nft::apply::Applied;
use netpol_nft::Ruleset;

use crate::dataplane::{Dataplane, Transaction};

/// One call a [`FakeDataplane`] received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// An apply of the whole table or of a difference, and whether it committed.
    Apply { whole: bool, committed: bool },
    /// A conntrack reset: whether it succeeded, and whether it judged by the
    /// ruleset the table holds (`current`).
    Reset { done: bool, current: bool },
}

#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    #[error("the fake kernel refused the difference (as told to)")]
    Refused,
    #[error("the difference does not start from what the fake table holds")]
    Diverged,
    #[error("the fake kernel failed the whole apply (as told to)")]
    Failed,
    #[error("the fake conntrack reset failed (as told to)")]
    ResetFailed,
}

/// A dataplane that records every call and holds the ruleset of the last
/// committed transaction, as the kernel would. It can be told to refuse the
/// next differences, fail the next whole applies or the next resets; each
/// order is used up by the call it fails. A difference that does not start
/// from what the table holds is refused ([`FakeError::Diverged`]), as nft
/// refuses to delete an element that is not there.
#[derive(Clone, Debug, Default)]
pub struct FakeDataplane {
    table: Option<Ruleset>,
    calls: Vec<Call>,
    refuse_differences: usize,
    fail_wholes: usize,
    fail_resets: usize,
    denied: usize,
}

impl FakeDataplane {
    pub fn new() -> Self {
        FakeDataplane::default()
    }

    /// The ruleset the table holds (`None`: nothing was ever committed).
    pub fn table(&self) -> Option<&Ruleset> {
        self.table.as_ref()
    }

    /// Every call so far, oldest first.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// The calls since the last take.
    pub fn take_calls(&mut self) -> Vec<Call> {
        std::mem::take(&mut self.calls)
    }

    /// The next difference applied is refused (the table stays as it is).
    pub fn refuse_next_difference(&mut self) {
        self.refuse_differences += 1;
    }

    /// The next whole-table apply fails (the table stays as it is).
    pub fn fail_next_whole(&mut self) {
        self.fail_wholes += 1;
    }

    /// The next reset fails.
    pub fn fail_next_reset(&mut self) {
        self.fail_resets += 1;
    }

    /// Someone else emptied the table (`nft flush table inet netpol`): it holds
    /// no rules now, whatever the syncer last applied; only a whole replace
    /// (a resync) puts them back.
    pub fn flush(&mut self) {
        self.table = Some(Ruleset::default());
    }

    /// Each successful reset reports deleting `connections` entries.
    pub fn deny(&mut self, connections: usize) {
        self.denied = connections;
    }
}

/// Uses up one order of `count`, if any.
fn take(count: &mut usize) -> bool {
    let some = *count > 0;
    *count = count.saturating_sub(1);
    some
}

impl Dataplane for FakeDataplane {
    type Error = FakeError;

    fn apply(&mut self, transaction: &Transaction<'_>) -> Result<Applied, FakeError> {
        let result = match transaction.from {
            None if take(&mut self.fail_wholes) => Err(FakeError::Failed),
            None => Ok(()),
            Some(_) if take(&mut self.refuse_differences) => Err(FakeError::Refused),
            Some(from) if !self.table.as_ref().is_some_and(|table| table.same_rules(from)) => Err(FakeError::Diverged),
            Some(_) => Ok(()),
        };
        self.calls.push(Call::Apply { whole: transaction.whole(), committed: result.is_ok() });
        result?;
        self.table = Some(transaction.ruleset.clone());
        Ok(Applied { duration: Duration::ZERO, bytes: transaction.script.len() })
    }

    fn reset_denied(&mut self, ruleset: &Ruleset) -> Result<usize, FakeError> {
        let current = self.table.as_ref().is_some_and(|table| table.same_rules(ruleset));
        let done = !take(&mut self.fail_resets);
        self.calls.push(Call::Reset { done, current });
        match done {
            true => Ok(self.denied),
            false => Err(FakeError::ResetFailed),
        }
    }
}

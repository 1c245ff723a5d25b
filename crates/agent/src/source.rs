//! Where the desired state comes from, behind a trait: the folder of
//! manifests ([`crate::FolderSource`]) or the Kubernetes API
//! (`netpol_kube::ApiSource`, in the crate that holds the kube-rs client). A source
//! hands the sync loop a [`Snapshot`] of the whole desired cluster and says
//! when it changed; how it learns of changes (inotify, a watch stream) stays
//! inside it.

use std::time::{Duration, Instant};

use netpol_manifest::Diagnostic;
use netpol_model::Cluster;

/// The desired state as a source holds it now.
#[derive(Clone, Debug)]
pub struct Snapshot<'a> {
    /// Every object merged (the order of objects is unspecified).
    pub cluster: &'a Cluster,
    /// Changes whenever a pod or namespace of `cluster` changes (not on policy
    /// or service changes): what [`netpol_nft::render_cached`] needs.
    pub pods_version: u64,
    /// Every diagnostic of the current input (errors included).
    pub diagnostics: Vec<Diagnostic>,
    /// Inputs (files) with errors that contributed their last good version instead.
    pub stale: Vec<String>,
    /// Inputs (files) with errors that were left out (no good version known).
    pub skipped: Vec<String>,
    /// Inputs (files) with errors left out that hold only kinds netpol does
    /// not model (a custom resource too deep to parse, say): unlike `skipped`,
    /// they never hold back the first apply.
    pub unmodeled: Vec<String>,
    /// Inputs not complete yet (a watcher whose first list has not arrived):
    /// until something was applied, they hold back the first apply, so a new
    /// node never enforces half of the cluster's policies.
    pub incomplete: Vec<String>,
}

/// What [`Source::wait`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The desired state changed; `Instant` is when the first change was seen
    /// (what "ms after the change" counts from).
    Changed(Instant),
    /// Nothing changed within the timeout.
    Timeout,
    /// The source ended: the agent stops (its rules stay in place).
    Closed,
}

/// The desired state of the node's rules.
pub trait Source {
    type Error: std::error::Error + 'static;

    /// Waits at most `timeout` for the desired state to change. Only waits and
    /// notes what changed (the folder notes paths; the API source folds the
    /// converted objects its watchers deliver into its projection, which costs
    /// no I/O): reading files is [`Source::read`]'s job.
    fn wait(&mut self, timeout: Duration) -> Wait;

    /// The desired state now, after reading what changed since the last read,
    /// or everything again when `everything` (at start, on a retry or a resync).
    /// An error leaves the sync loop's rules in place; it retries with `everything`.
    fn read(&mut self, everything: bool) -> Result<Snapshot<'_>, Self::Error>;
}

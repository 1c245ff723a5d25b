//! One sync: render the cluster, and apply the script only when it changed.
//!
//! Design: the syncer keeps the last script it applied and its ruleset. It
//! never flushes the table: the first apply replaces `table inet netpol` whole
//! in one `nft -f` transaction; later ones apply only the difference (element
//! adds and deletes, changed chains refilled), also in one transaction, and fall
//! back to the whole replace if the kernel refuses the difference. A failed
//! apply leaves the kernel as it was and forgets nothing, so the next sync retries.

use std::fmt;
use std::time::{Duration, Instant};

use netpol_model::Cluster;
use netpol_nft::apply::{self, ApplyError};
use netpol_nft::{RenderCache, RenderOptions, Ruleset, Stats};

/// What one sync did, as the agent reports it on stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncReport {
    pub changed: bool,
    pub stats: Stats,
    /// Size of the script given to `nft` (0 when unchanged).
    pub applied_bytes: usize,
    /// Whether that script replaced the whole table (the first sync, or a
    /// difference the kernel refused) rather than only the difference.
    pub whole: bool,
    pub render: Duration,
    pub apply: Duration,
    /// Conntrack entries deleted because the new ruleset denies them (`--reset-denied`).
    pub reset: usize,
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(
            f,
            "{}: {} rules, {} elements, {} chains; render {:.1} ms",
            if self.changed { "changed" } else { "unchanged" },
            self.stats.rules,
            self.stats.elements,
            self.stats.chains,
            ms(self.render),
        )?;
        if self.changed {
            let what = if self.whole { "whole table" } else { "difference" };
            write!(f, ", apply {:.1} ms ({what}, {} bytes)", ms(self.apply), self.applied_bytes)?;
        }
        if self.reset > 0 {
            write!(f, "; reset {} denied connection{}", self.reset, if self.reset == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

/// Renders and applies; remembers what is in the kernel.
#[derive(Debug)]
pub struct Syncer {
    netns: Option<String>,
    options: RenderOptions,
    reset_denied: bool,
    /// What the kernel holds: the last ruleset applied.
    last: Option<Ruleset>,
    /// The last render: a policy change renders only the subject groups it touches.
    cache: RenderCache,
}

impl Syncer {
    pub fn new(netns: Option<String>, options: RenderOptions, reset_denied: bool) -> Self {
        Syncer { netns, options, reset_denied, last: None, cache: RenderCache::new() }
    }

    /// The last ruleset applied, if any.
    pub fn applied(&self) -> Option<&Ruleset> {
        self.last.as_ref()
    }

    /// Renders `cluster` and applies what changed. `pods_version` must change
    /// whenever a pod or namespace of `cluster` does ([`crate::Read::pods_version`]).
    pub fn sync(&mut self, cluster: &Cluster, pods_version: u64) -> Result<SyncReport, ApplyError> {
        let start = Instant::now();
        let ruleset = netpol_nft::render_cached(cluster, &self.options, &mut self.cache, pods_version);
        let render = start.elapsed();
        let stats = ruleset.stats();
        let mut report = SyncReport {
            changed: false,
            stats,
            applied_bytes: 0,
            whole: false,
            render,
            apply: Duration::ZERO,
            reset: 0,
        };
        if self.last.as_ref() == Some(&ruleset) {
            return Ok(report);
        }
        let netns = self.netns.as_deref();
        // Only what changed, in one transaction; the whole table when the delta
        // cannot be computed or the kernel refuses it (e.g. someone changed the table).
        let delta = self.last.as_ref().and_then(|before| ruleset.delta_script(before));
        let applied = match delta.map(|d| apply::apply(&d, netns)) {
            Some(Ok(applied)) => applied,
            _ => {
                report.whole = true;
                apply::apply(&ruleset.script(), netns)?
            }
        };
        report.changed = true;
        report.applied_bytes = applied.bytes;
        report.apply = applied.duration;
        // The kernel holds the new ruleset now, whatever the reset does.
        let ruleset = self.last.insert(ruleset);
        if self.reset_denied {
            report.reset = apply::reset_denied(ruleset, netns)?;
        }
        Ok(report)
    }
}

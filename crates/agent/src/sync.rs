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
use netpol_nft::{RenderOptions, Ruleset, Stats};

/// What one sync did, as the agent reports it on stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncReport {
    pub changed: bool,
    pub stats: Stats,
    pub bytes: usize,
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
            "{}: {} rules, {} elements, {} chains, {} bytes; render {:.1} ms, apply {:.1} ms",
            if self.changed { "changed" } else { "unchanged" },
            self.stats.rules,
            self.stats.elements,
            self.stats.chains,
            self.bytes,
            ms(self.render),
            ms(self.apply),
        )?;
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
    last: Option<(String, Ruleset)>,
}

impl Syncer {
    pub fn new(netns: Option<String>, options: RenderOptions, reset_denied: bool) -> Self {
        Syncer { netns, options, reset_denied, last: None }
    }

    /// The last script applied, if any.
    pub fn applied(&self) -> Option<&str> {
        self.last.as_ref().map(|(s, _)| s.as_str())
    }

    pub fn sync(&mut self, cluster: &Cluster) -> Result<SyncReport, ApplyError> {
        let start = Instant::now();
        let ruleset = netpol_nft::render(cluster, &self.options);
        let script = ruleset.script();
        let render = start.elapsed();
        let stats = ruleset.stats();
        let bytes = script.len();
        if self.last.as_ref().is_some_and(|(s, _)| *s == script) {
            return Ok(SyncReport { changed: false, stats, bytes, render, apply: Duration::ZERO, reset: 0 });
        }
        let netns = self.netns.as_deref();
        // Only what changed, in one transaction; the whole table when the delta
        // cannot be computed or the kernel refuses it (e.g. someone changed the table).
        let delta = self.last.as_ref().and_then(|(_, before)| ruleset.delta_script(before));
        let applied = match delta.map(|d| apply::apply(&d, netns)) {
            Some(Ok(applied)) => applied,
            _ => apply::apply(&script, netns)?,
        };
        let mut reset = 0;
        if self.reset_denied {
            reset = apply::reset_denied(&ruleset, netns)?;
        }
        self.last = Some((script, ruleset));
        Ok(SyncReport { changed: true, stats, bytes, render, apply: applied.duration, reset })
    }
}

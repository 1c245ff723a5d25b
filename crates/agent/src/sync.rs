//! One sync: render the cluster, and apply the script only when it changed.
//!
//! Design: the syncer keeps the last ruleset it applied. It never flushes the
//! table: the first apply replaces `table inet netpol` whole in one `nft -f`
//! transaction; later ones apply only the difference (element adds and
//! deletes, changed chains refilled), also in one transaction, and fall back
//! to the whole replace if the kernel refuses the difference; a resync
//! replaces the whole table even when nothing changed (undoing changes made by
//! others). A failed apply leaves the kernel as it was and forgets nothing, so
//! the next sync retries; a failed `--reset-denied` is retried by the next
//! sync even when the rules did not change again. The kernel side is a
//! [`Dataplane`]: [`NftDataplane`] for real, a recording fake in tests.

use std::fmt;
use std::time::{Duration, Instant};

use netpol_model::Cluster;
use netpol_nft::{RenderCache, RenderOptions, Ruleset, Stats};

use crate::dataplane::{Dataplane, NftDataplane, Transaction};

/// What one sync did, as the agent reports it on stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncReport {
    /// The rules differ from the last ones applied.
    pub changed: bool,
    pub stats: Stats,
    /// Size of the script given to `nft` (0 when nothing was applied).
    pub applied_bytes: usize,
    /// Whether that script replaced the whole table (the first sync, a resync,
    /// or a difference the kernel refused) rather than only the difference.
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
        if self.applied_bytes > 0 {
            let what = if self.whole { "whole table" } else { "difference" };
            write!(f, ", apply {:.1} ms ({what}, {} bytes)", ms(self.apply), self.applied_bytes)?;
        }
        if self.reset > 0 {
            write!(f, "; reset {} denied connection{}", self.reset, if self.reset == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

/// Renders and applies to a [`Dataplane`]; remembers what it holds.
#[derive(Debug)]
pub struct Syncer<D = NftDataplane> {
    dataplane: D,
    options: RenderOptions,
    reset_denied: bool,
    /// What the dataplane holds: the last ruleset applied.
    last: Option<Ruleset>,
    /// The last render: a policy change renders only the subject groups it touches.
    cache: RenderCache,
    /// A change was applied whose denied connections are not cut yet (`--reset-denied`).
    reset_pending: bool,
}

impl Syncer<NftDataplane> {
    /// Applies with `nft` (and `conntrack`), in `netns` when given.
    pub fn new(netns: Option<String>, options: RenderOptions, reset_denied: bool) -> Self {
        Syncer::with_dataplane(NftDataplane::new(netns), options, reset_denied)
    }
}

impl<D: Dataplane> Syncer<D> {
    /// Applies to `dataplane`; with `reset_denied`, cuts the connections each
    /// changed ruleset denies.
    pub fn with_dataplane(dataplane: D, options: RenderOptions, reset_denied: bool) -> Self {
        Syncer { dataplane, options, reset_denied, last: None, cache: RenderCache::new(), reset_pending: false }
    }

    pub fn dataplane(&self) -> &D {
        &self.dataplane
    }

    pub fn dataplane_mut(&mut self) -> &mut D {
        &mut self.dataplane
    }

    /// The last ruleset applied, if any.
    pub fn applied(&self) -> Option<&Ruleset> {
        self.last.as_ref()
    }

    /// Renders `cluster` and applies what changed. `pods_version` must change
    /// whenever a pod or namespace of `cluster` does ([`crate::Snapshot::pods_version`]).
    pub fn sync(&mut self, cluster: &Cluster, pods_version: u64) -> Result<SyncReport, D::Error> {
        self.run(cluster, pods_version, false)
    }

    /// [`Syncer::sync`], but replacing the whole table even when nothing
    /// changed: undoes whatever else changed `table inet netpol` since (the
    /// differences are computed against what the agent applied, not read back).
    pub fn resync(&mut self, cluster: &Cluster, pods_version: u64) -> Result<SyncReport, D::Error> {
        self.run(cluster, pods_version, true)
    }

    fn run(&mut self, cluster: &Cluster, pods_version: u64, whole: bool) -> Result<SyncReport, D::Error> {
        let start = Instant::now();
        let ruleset = netpol_nft::render_cached(cluster, &self.options, &mut self.cache, pods_version);
        let render = start.elapsed();
        let stats = ruleset.stats();
        let changed = self.last.as_ref().is_none_or(|last| !last.same_rules(&ruleset));
        let mut report =
            SyncReport { changed, stats, applied_bytes: 0, whole: false, render, apply: Duration::ZERO, reset: 0 };
        if changed || whole {
            // Only what changed, in one transaction; the whole table when asked, on
            // the first sync, or when the kernel refuses the difference.
            let mut applied = None;
            let mut replace = whole;
            match self.last.as_ref().filter(|_| !whole).and_then(|before| ruleset.delta_script(before)) {
                None => replace = true,
                Some(delta) if delta.is_empty() => {}
                Some(delta) => {
                    let from = self.last.as_ref();
                    match self.dataplane.apply(&Transaction { script: &delta, ruleset: &ruleset, from }) {
                        Ok(done) => applied = Some(done),
                        Err(_) => replace = true,
                    }
                }
            }
            if replace {
                report.whole = true;
                let script = ruleset.script();
                applied =
                    Some(self.dataplane.apply(&Transaction { script: &script, ruleset: &ruleset, from: None })?);
            }
            if let Some(applied) = applied {
                report.applied_bytes = applied.bytes;
                report.apply = applied.duration;
            }
            // The kernel holds the new ruleset now; connections it denies are cut
            // below, or by the retry if that fails.
            self.reset_pending |= self.reset_denied && changed;
        }
        let ruleset = &*self.last.insert(ruleset);
        if self.reset_pending {
            report.reset = self.dataplane.reset_denied(ruleset)?;
            self.reset_pending = false;
        }
        Ok(report)
    }
}

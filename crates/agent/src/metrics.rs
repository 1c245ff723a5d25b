//! What the agent counts and whether it is healthy: Prometheus metrics
//! (prometheus-client, OpenMetrics text), readiness and liveness.
//!
//! Design (model, goals, implementation, threads):
//! - Model: one [`Metrics`] per agent process, shared as `Arc<Metrics>` by
//!   the sync loop ([`crate::Agent::with_metrics`] observes every
//!   [`crate::Event`] and beats the heartbeat), the [`crate::Source`] (objects
//!   by kind, watch restarts, skipped objects, whether it holds everything)
//!   and the HTTP server ([`crate::serve`]) that reads it. No global registry:
//!   a test makes as many as it likes.
//! - Readiness ([`Metrics::ready`]): the source holds everything
//!   ([`Metrics::set_source_ready`]: the folder once it is read, the
//!   Kubernetes API once every watcher delivered its initial list) **and**
//!   the last step of the sync loop succeeded (a sync ran and applied or found
//!   nothing to change). A failed read or apply, or a start held back by input
//!   with errors ([`crate::Event::Waiting`]), is not ready until a sync
//!   succeeds again.
//! - Liveness ([`Metrics::live`]): the sync loop beats [`Metrics::heartbeat`]
//!   at the top of every turn (at least every 50 ms when idle: its wait on the
//!   source). Liveness fails once the loop has been silent for longer than
//!   [`LIVENESS_FACTOR`] times the longest turn it has completed, and never
//!   sooner than [`LIVENESS_FLOOR`]: a loop stuck in `nft` or a deadlock
//!   restarts the agent, a loop that is merely slow (a first render of a big
//!   cluster) does not. Before the first beat (the process starting, or no
//!   loop at all) it is live: serving the endpoint is all there is to check.
//! - Threads: every metric is atomic (prometheus-client); the readiness state
//!   is one small mutex taken by [`Metrics::observe`] and the readers.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use netpol_manifest::Severity;
use prometheus_client::encoding::{text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::Event;

/// Histogram buckets, in seconds: 0.5 ms to 10 s (syncs take milliseconds;
/// a first apply of a large cluster, seconds).
pub const BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// Liveness fails after the loop is silent this many times its longest turn...
pub const LIVENESS_FACTOR: u32 = 3;
/// ...and never sooner than this.
pub const LIVENESS_FLOOR: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScriptLabel {
    script: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabel {
    stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeverityLabel {
    severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InputLabel {
    state: &'static str,
}

const SEVERITIES: [Severity; 3] = [Severity::Error, Severity::Warning, Severity::Note];

/// What the last step of the sync loop concluded.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Never,
    Waiting(Vec<String>),
    /// Nothing applied: a source's first lists have not all arrived.
    Incomplete(Vec<String>),
    Synced,
    Failed(String),
}

#[derive(Debug)]
struct Health {
    source_ready: bool,
    last: Outcome,
    /// A `Diagnostics` event came since the last step ended: the step's input
    /// has diagnostics (else it has none).
    diagnostics_seen: bool,
}

/// The agent's metrics registry and health state; `Send + Sync`, shared as `Arc<Metrics>`.
pub struct Metrics {
    registry: Registry,
    syncs: Family<ResultLabel, Counter>,
    applies: Family<ScriptLabel, Counter>,
    sync_duration: Histogram,
    apply_duration: Histogram,
    change_to_commit: Histogram,
    rules: Gauge,
    set_elements: Gauge,
    chains: Gauge,
    reset_connections: Counter,
    last_sync: Gauge<f64, AtomicU64>,
    errors: Family<StageLabel, Counter>,
    diagnostics: Family<SeverityLabel, Counter>,
    input_diagnostics: Family<SeverityLabel, Gauge>,
    inputs_with_errors: Family<InputLabel, Gauge>,
    waiting: Gauge,
    objects: Family<KindLabel, Gauge>,
    watch_restarts: Family<KindLabel, Counter>,
    objects_skipped: Family<KindLabel, Counter>,
    ready_gauge: Gauge,
    health: Mutex<Health>,
    /// Liveness clock: milliseconds since `start` of the last beat, plus one (0: never).
    start: Instant,
    beat: AtomicU64,
    longest_turn: AtomicU64,
    liveness_floor: Duration,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").field("ready", &self.ready()).field("live", &self.live()).finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

fn gauge_of(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Metrics {
    /// Every series registered, not ready (the source has not said it holds
    /// everything, nothing synced yet), live.
    pub fn new() -> Self {
        Metrics::with_liveness_floor(LIVENESS_FLOOR)
    }

    fn with_liveness_floor(liveness_floor: Duration) -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("netpol"),
            syncs: Family::default(),
            applies: Family::default(),
            sync_duration: histogram(),
            apply_duration: histogram(),
            change_to_commit: histogram(),
            rules: Gauge::default(),
            set_elements: Gauge::default(),
            chains: Gauge::default(),
            reset_connections: Counter::default(),
            last_sync: Gauge::default(),
            errors: Family::default(),
            diagnostics: Family::default(),
            input_diagnostics: Family::default(),
            inputs_with_errors: Family::default(),
            waiting: Gauge::default(),
            objects: Family::default(),
            watch_restarts: Family::default(),
            objects_skipped: Family::default(),
            ready_gauge: Gauge::default(),
            health: Mutex::new(Health { source_ready: false, last: Outcome::Never, diagnostics_seen: false }),
            start: Instant::now(),
            beat: AtomicU64::new(0),
            longest_turn: AtomicU64::new(0),
            liveness_floor,
        };
        let r = &mut m.registry;
        r.register("syncs", "Syncs that ran, by whether the rules changed", m.syncs.clone());
        r.register("applies", "Transactions committed, by script (whole table or difference)", m.applies.clone());
        let seconds = || Unit::Seconds;
        r.register_with_unit("sync_duration", "Render plus apply time of a sync", seconds(), m.sync_duration.clone());
        r.register_with_unit(
            "apply_duration",
            "Time to commit one transaction (syncs that applied something)",
            seconds(),
            m.apply_duration.clone(),
        );
        r.register_with_unit(
            "change_to_commit",
            "From the first change seen to its commit in the kernel (syncs that changed the rules)",
            seconds(),
            m.change_to_commit.clone(),
        );
        r.register("rules", "Rules in the applied ruleset", m.rules.clone());
        r.register("set_elements", "Set elements and map entries in the applied ruleset", m.set_elements.clone());
        r.register("chains", "Chains in the applied ruleset", m.chains.clone());
        r.register(
            "reset_connections",
            "Conntrack entries deleted because a new ruleset denies them (--reset-denied)",
            m.reset_connections.clone(),
        );
        r.register_with_unit(
            "last_sync_timestamp",
            "Unix time of the last successful sync",
            seconds(),
            m.last_sync.clone(),
        );
        r.register("errors", "Failures, by stage (sync: a read or apply failed and is retried)", m.errors.clone());
        r.register("diagnostics", "Diagnostics reported by reads, by severity", m.diagnostics.clone());
        r.register(
            "input_diagnostics",
            "Diagnostics of the input as last read, by severity",
            m.input_diagnostics.clone(),
        );
        r.register(
            "inputs_with_errors",
            "Inputs with errors as last read: stale (last good version kept), skipped (left out), \
             unmodeled (left out, only kinds netpol does not model)",
            m.inputs_with_errors.clone(),
        );
        r.register(
            "waiting",
            "1 while nothing is applied yet because inputs have errors and no earlier good version",
            m.waiting.clone(),
        );
        r.register("objects", "Objects the source holds, by kind", m.objects.clone());
        r.register("watch_restarts", "Watches of the source restarted, by kind", m.watch_restarts.clone());
        r.register(
            "objects_skipped",
            "Objects the source could not use and left out, by kind",
            m.objects_skipped.clone(),
        );
        r.register(
            "ready",
            "1 when ready (the source holds everything and the last sync succeeded)",
            m.ready_gauge.clone(),
        );
        // Every fixed label value is present from the start (a rate needs the zero).
        for result in ["changed", "unchanged"] {
            m.syncs.get_or_create(&ResultLabel { result }).inc_by(0);
        }
        for script in ["whole", "difference"] {
            m.applies.get_or_create(&ScriptLabel { script }).inc_by(0);
        }
        m.errors.get_or_create(&StageLabel { stage: "sync".into() }).inc_by(0);
        for severity in SEVERITIES {
            m.diagnostics.get_or_create(&SeverityLabel { severity: severity.as_str() }).inc_by(0);
            m.input_diagnostics.get_or_create(&SeverityLabel { severity: severity.as_str() }).set(0);
        }
        for state in ["stale", "skipped", "unmodeled"] {
            m.inputs_with_errors.get_or_create(&InputLabel { state }).set(0);
        }
        m
    }

    /// Counts what an event of the sync loop says and updates readiness.
    /// [`crate::Agent::with_metrics`] calls it for every event.
    pub fn observe(&self, event: &Event) {
        let mut health = self.lock();
        match event {
            Event::Synced { report, since_change, stale, skipped, unmodeled } => {
                let result = if report.changed { "changed" } else { "unchanged" };
                self.syncs.get_or_create(&ResultLabel { result }).inc();
                self.sync_duration.observe((report.render + report.apply).as_secs_f64());
                if report.applied_bytes > 0 {
                    self.apply_duration.observe(report.apply.as_secs_f64());
                    let script = if report.whole { "whole" } else { "difference" };
                    self.applies.get_or_create(&ScriptLabel { script }).inc();
                }
                if report.changed {
                    self.change_to_commit.observe(since_change.as_secs_f64());
                }
                self.rules.set(gauge_of(report.stats.rules));
                self.set_elements.set(gauge_of(report.stats.elements));
                self.chains.set(gauge_of(report.stats.chains));
                self.reset_connections.inc_by(u64::try_from(report.reset).unwrap_or(u64::MAX));
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
                self.last_sync.set(now.as_secs_f64());
                for (state, inputs) in [("stale", stale), ("skipped", skipped), ("unmodeled", unmodeled)] {
                    self.inputs_with_errors.get_or_create(&InputLabel { state }).set(gauge_of(inputs.len()));
                }
                self.waiting.set(0);
                self.end_step(&mut health, Outcome::Synced);
            }
            Event::Diagnostics(diagnostics) => {
                for severity in SEVERITIES {
                    let n = diagnostics.iter().filter(|d| d.severity == severity).count();
                    let label = SeverityLabel { severity: severity.as_str() };
                    self.diagnostics.get_or_create(&label).inc_by(n as u64);
                    self.input_diagnostics.get_or_create(&label).set(gauge_of(n));
                }
                health.diagnostics_seen = true;
            }
            Event::Waiting { skipped, incomplete } => {
                self.inputs_with_errors.get_or_create(&InputLabel { state: "skipped" }).set(gauge_of(skipped.len()));
                self.waiting.set(1);
                let outcome = if skipped.is_empty() {
                    Outcome::Incomplete(incomplete.clone())
                } else {
                    Outcome::Waiting(skipped.clone())
                };
                self.end_step(&mut health, outcome);
            }
            Event::Failed(why) => {
                self.errors.get_or_create(&StageLabel { stage: "sync".into() }).inc();
                // A failed read reported no diagnostics: what was last read stands.
                health.diagnostics_seen = false;
                health.last = Outcome::Failed(why.clone());
                self.update_ready(&health);
            }
        }
    }

    /// A step read its input and concluded `outcome`.
    fn end_step(&self, health: &mut Health, outcome: Outcome) {
        if !std::mem::take(&mut health.diagnostics_seen) {
            for severity in SEVERITIES {
                self.input_diagnostics.get_or_create(&SeverityLabel { severity: severity.as_str() }).set(0);
            }
        }
        health.last = outcome;
        self.update_ready(health);
    }

    /// How many objects of `kind` (`Pod`, `Namespace`, `NetworkPolicy`, ...) the source holds.
    pub fn set_objects(&self, kind: &str, count: u64) {
        self.objects.get_or_create(&KindLabel { kind: kind.to_string() }).set(i64::try_from(count).unwrap_or(i64::MAX));
    }

    /// The source's watch of `kind` restarted (a lost connection, an expired resource version).
    pub fn watch_restart(&self, kind: &str) {
        self.watch_restarts.get_or_create(&KindLabel { kind: kind.to_string() }).inc();
    }

    /// The source left out one object of `kind` it could not use.
    pub fn object_skipped(&self, kind: &str) {
        self.objects_skipped.get_or_create(&KindLabel { kind: kind.to_string() }).inc();
    }

    /// One failure at `stage` (`sync` is counted by [`Metrics::observe`]; a
    /// source counts its own, e.g. `watch`).
    pub fn error(&self, stage: &str) {
        self.errors.get_or_create(&StageLabel { stage: stage.to_string() }).inc();
    }

    /// Whether the source holds everything: the folder once read, the
    /// Kubernetes API once every watcher delivered its initial list.
    pub fn set_source_ready(&self, ready: bool) {
        let mut health = self.lock();
        health.source_ready = ready;
        self.update_ready(&health);
    }

    /// `Ok` when the source holds everything and the last sync succeeded;
    /// else why not.
    pub fn ready(&self) -> Result<(), String> {
        readiness(&self.lock())
    }

    /// Called by the sync loop at the top of every turn.
    pub fn heartbeat(&self) {
        let now = self.millis() + 1;
        let before = self.beat.swap(now, Ordering::Relaxed);
        if before != 0 {
            self.longest_turn.fetch_max(now.saturating_sub(before), Ordering::Relaxed);
        }
    }

    /// `Ok` unless the sync loop has been silent for longer than
    /// [`LIVENESS_FACTOR`] times its longest turn (at least [`LIVENESS_FLOOR`]).
    pub fn live(&self) -> Result<(), String> {
        let last = self.beat.load(Ordering::Relaxed);
        if last == 0 {
            return Ok(());
        }
        let silent = Duration::from_millis((self.millis() + 1).saturating_sub(last));
        let longest = Duration::from_millis(self.longest_turn.load(Ordering::Relaxed));
        let limit = longest.saturating_mul(LIVENESS_FACTOR).max(self.liveness_floor);
        if silent > limit {
            return Err(format!(
                "the sync loop has not turned for {:.1} s (limit {:.1} s: {LIVENESS_FACTOR} times its longest turn, \
                 {:.1} s, and at least {:.1} s)",
                silent.as_secs_f64(),
                limit.as_secs_f64(),
                longest.as_secs_f64(),
                self.liveness_floor.as_secs_f64()
            ));
        }
        Ok(())
    }

    /// Every series, as OpenMetrics text (ending in `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail, and the registry holds no invalid names.
        text::encode(&mut out, &self.registry).expect("OpenMetrics text into a String");
        out
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Health> {
        // A panic elsewhere while holding the lock left consistent data (plain fields).
        self.health.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn update_ready(&self, health: &Health) {
        self.ready_gauge.set(i64::from(readiness(health).is_ok()));
    }
}

fn readiness(health: &Health) -> Result<(), String> {
    if !health.source_ready {
        return Err("waiting for the initial lists".into());
    }
    match &health.last {
        Outcome::Synced => Ok(()),
        Outcome::Never => Err("never synced".into()),
        Outcome::Waiting(skipped) => Err(format!(
            "never synced: {} ha{} errors and no earlier good version",
            skipped.join(", "),
            if skipped.len() == 1 { "s" } else { "ve" }
        )),
        Outcome::Incomplete(kinds) => Err(format!("never synced: waiting for the first list of {}", kinds.join(", "))),
        Outcome::Failed(why) => Err(format!("last sync failed: {why}")),
    }
}

#[cfg(test)]
#[path = "metrics_tests.rs"]
mod tests;

//! The sync loop: a [`Source`] of desired state, a [`Syncer`] applying it to a
//! [`Dataplane`], and when to read, retry and resync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dataplane::Dataplane;
use crate::metrics::Metrics;
use crate::source::{Source, Wait};
use crate::sync::Syncer;
use crate::Event;

/// What one [`Agent::step`] reads and applies; each reads and applies at
/// least what the ones before it do (`Changes < Everything < Resync`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// What the source saw change since its last read; the difference, if any.
    Changes,
    /// Everything the source holds (at start, on a retry); the difference, if any.
    Everything,
    /// Everything, and the whole table replaced even when nothing changed.
    Resync,
}

/// When [`Agent::run`] reads again without a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// One step, then return.
    pub once: bool,
    /// Replace the whole table this often; `None`: never. Failures do not
    /// hold it back: a resync that falls due during retries runs on time.
    pub resync: Option<Duration>,
    /// After a failed step, read everything again this much later; the delay
    /// doubles with each failure in a row, up to `retry_max`. Changes seen in
    /// the meantime wait for the retry, which reads them.
    pub retry: Duration,
    /// The longest delay between retries.
    pub retry_max: Duration,
}

impl Schedule {
    /// The delay before the retry after `failures` failed steps in a row (1 or more).
    pub fn backoff(&self, failures: u32) -> Duration {
        let doubled = self.retry.saturating_mul(1 << failures.saturating_sub(1).min(30));
        doubled.min(self.retry_max.max(self.retry))
    }
}

/// A source kept applied to a dataplane.
#[derive(Debug)]
pub struct Agent<S, D> {
    source: S,
    syncer: Syncer<D>,
    /// Something was applied (until then, input with files left out applies nothing).
    started: bool,
    /// Where every event is counted and the loop beats its heartbeat.
    metrics: Option<Arc<Metrics>>,
}

impl<S: Source, D: Dataplane> Agent<S, D> {
    pub fn new(source: S, syncer: Syncer<D>) -> Self {
        Agent { source, syncer, started: false, metrics: None }
    }

    /// Counts every event of [`Agent::step`] into `metrics` (before `on_event`
    /// sees it), and beats its heartbeat at the top of every turn of [`Agent::run`].
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.metrics.as_ref()
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    pub fn source_mut(&mut self) -> &mut S {
        &mut self.source
    }

    pub fn syncer(&self) -> &Syncer<D> {
        &self.syncer
    }

    pub fn syncer_mut(&mut self) -> &mut Syncer<D> {
        &mut self.syncer
    }

    /// Steps until `stop` is set (checked between events), the source closes,
    /// or once with `schedule.once`. Failures are reported through `on_event`
    /// and retried with backoff; the dataplane keeps its rules when this returns.
    ///
    /// Three deadlines drive it: a change (stepped at once, unless a retry is
    /// waiting: then the retry reads it), a retry (after a failure, backing
    /// off), and the resync (on its own clock: neither failures nor changes
    /// move it). What falls due together runs as one step, the largest.
    pub fn run(&mut self, schedule: &Schedule, stop: &AtomicBool, on_event: &mut dyn FnMut(Event)) {
        let mut pending = Some((Instant::now(), Step::Everything));
        // After a failure: when to retry, and what (at least everything).
        let mut retry: Option<(Instant, Step)> = None;
        let mut failures = 0;
        let mut resync_at = schedule.resync.map(|every| Instant::now() + every);
        loop {
            if let Some(metrics) = &self.metrics {
                metrics.heartbeat();
            }
            let now = Instant::now();
            if let Some(at) = resync_at.filter(|&at| now >= at) {
                pending = Some(merge(pending, (at, Step::Resync)));
                retry = None; // the resync reads everything now
                resync_at = schedule.resync.map(|every| now + every);
            }
            if let Some((at, step)) = retry.filter(|&(at, _)| now >= at) {
                pending = Some(merge(pending, (at, step)));
                retry = None;
            }
            if retry.is_none() {
                if let Some((changed_at, step)) = pending.take() {
                    if self.step(step, changed_at, on_event) {
                        failures = 0;
                    } else {
                        failures += 1;
                        retry = Some((Instant::now() + schedule.backoff(failures), step.max(Step::Everything)));
                    }
                }
            }
            if schedule.once || stop.load(Ordering::Relaxed) {
                return;
            }
            match self.source.wait(Duration::from_millis(50)) {
                Wait::Changed(first) => pending = Some(merge(pending, (first, Step::Changes))),
                Wait::Timeout => {}
                Wait::Closed => return,
            }
        }
    }

    /// One read + sync, reported through `on_event`; `changed_at` is when the
    /// change that called for it was seen. Returns false when it should be
    /// retried (the read or the apply failed; the dataplane kept its rules).
    pub fn step(&mut self, step: Step, changed_at: Instant, on_event: &mut dyn FnMut(Event)) -> bool {
        let metrics = self.metrics.as_deref();
        let mut emit = |event: Event| {
            if let Some(metrics) = metrics {
                metrics.observe(&event);
            }
            on_event(event);
        };
        let snapshot = match self.source.read(step != Step::Changes) {
            Ok(snapshot) => snapshot,
            Err(e) => {
                emit(Event::Failed(e.to_string()));
                return false;
            }
        };
        if !snapshot.diagnostics.is_empty() {
            emit(Event::Diagnostics(snapshot.diagnostics.clone()));
        }
        let held_back = !snapshot.skipped.is_empty() || !snapshot.incomplete.is_empty();
        if !self.started && held_back {
            emit(Event::Waiting { skipped: snapshot.skipped, incomplete: snapshot.incomplete });
            return true;
        }
        let synced = match step {
            Step::Resync => self.syncer.resync(snapshot.cluster, snapshot.pods_version),
            Step::Changes | Step::Everything => self.syncer.sync(snapshot.cluster, snapshot.pods_version),
        };
        match synced {
            Ok(report) => {
                self.started = true;
                let since_change = changed_at.elapsed();
                let (stale, skipped, unmodeled) = (snapshot.stale, snapshot.skipped, snapshot.unmodeled);
                emit(Event::Synced { report, since_change, stale, skipped, unmodeled });
                true
            }
            Err(e) => {
                emit(Event::Failed(e.to_string()));
                false
            }
        }
    }
}

/// Two pending steps as one: the earlier change, the larger step.
fn merge(pending: Option<(Instant, Step)>, (at, step): (Instant, Step)) -> (Instant, Step) {
    match pending {
        Some((before, other)) => (before.min(at), other.max(step)),
        None => (at, step),
    }
}

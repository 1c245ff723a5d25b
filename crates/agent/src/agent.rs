//! The sync loop: a [`Source`] of desired state, a [`Syncer`] applying it to a
//! [`Dataplane`], and when to read, retry and resync.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::dataplane::Dataplane;
use crate::source::{Source, Wait};
use crate::sync::Syncer;
use crate::Event;

/// What one [`Agent::step`] reads and applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
    /// Replace the whole table this often; `None`: never.
    pub resync: Option<Duration>,
    /// After a failed step, read everything again this much later (or at the next change).
    pub retry: Duration,
}

/// A source kept applied to a dataplane.
#[derive(Debug)]
pub struct Agent<S, D> {
    source: S,
    syncer: Syncer<D>,
    /// Something was applied (until then, input with files left out applies nothing).
    started: bool,
}

impl<S: Source, D: Dataplane> Agent<S, D> {
    pub fn new(source: S, syncer: Syncer<D>) -> Self {
        Agent { source, syncer, started: false }
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
    /// and retried; the dataplane keeps its rules when this returns.
    pub fn run(&mut self, schedule: &Schedule, stop: &AtomicBool, on_event: &mut dyn FnMut(Event)) {
        let mut pending = Some((Instant::now(), Step::Everything));
        let mut retry_at: Option<Instant> = None;
        let mut resync_at = schedule.resync.map(|every| Instant::now() + every);
        loop {
            if pending.is_none() && retry_at.is_some_and(|t| Instant::now() >= t) {
                pending = Some((Instant::now(), Step::Everything));
            }
            if pending.is_none() && resync_at.is_some_and(|t| Instant::now() >= t) {
                pending = Some((Instant::now(), Step::Resync));
            }
            if let Some((changed_at, step)) = pending.take() {
                retry_at = None;
                if self.step(step, changed_at, on_event) {
                    if step == Step::Resync {
                        resync_at = schedule.resync.map(|every| Instant::now() + every);
                    }
                } else {
                    retry_at = Some(Instant::now() + schedule.retry);
                }
            }
            if schedule.once || stop.load(Ordering::Relaxed) {
                return;
            }
            match self.source.wait(Duration::from_millis(50)) {
                Wait::Changed(first) => pending = Some((first, Step::Changes)),
                Wait::Timeout => {}
                Wait::Closed => return,
            }
        }
    }

    /// One read + sync, reported through `on_event`; `changed_at` is when the
    /// change that called for it was seen. Returns false when it should be
    /// retried (the read or the apply failed; the dataplane kept its rules).
    pub fn step(&mut self, step: Step, changed_at: Instant, on_event: &mut dyn FnMut(Event)) -> bool {
        let snapshot = match self.source.read(step != Step::Changes) {
            Ok(snapshot) => snapshot,
            Err(e) => {
                on_event(Event::Failed(e.to_string()));
                return false;
            }
        };
        if !snapshot.diagnostics.is_empty() {
            on_event(Event::Diagnostics(snapshot.diagnostics.clone()));
        }
        if !self.started && !snapshot.skipped.is_empty() {
            on_event(Event::Waiting { skipped: snapshot.skipped });
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
                on_event(Event::Synced { report, since_change, stale: snapshot.stale, skipped: snapshot.skipped });
                true
            }
            Err(e) => {
                on_event(Event::Failed(e.to_string()));
                false
            }
        }
    }
}

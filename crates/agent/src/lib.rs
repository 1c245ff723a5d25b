//! netpol-agent: keeps a node's nftables ruleset equal to what a folder of
//! manifests declares (the local stand-in for the Kubernetes API, edited as
//! `kubectl apply -f` would).
//!
//! Where it sits in the data flow:
//! ```text
//! Source: folder --watch (inotify via notify, debounced)--> read (manifest::load, last good per file)
//!   --> Snapshot --> Syncer: nft::render --(changed?)--> script (difference or whole table)
//!   --> Dataplane: nft -f (one transaction) [--> conntrack reset]
//!   --> Event --> Metrics (counters, histograms, readiness) <-- serve: GET /metrics, /healthz, /readyz
//! ```
//!
//! Design (model, goals, implementation, threads):
//! - Model: the [`Source`] holds the desired state (the folder: [`FolderSource`];
//!   the Kubernetes API plugs in at the same place); the [`Dataplane`]'s
//!   `table inet netpol` is the actual state ([`NftDataplane`]: the kernel,
//!   through `nft` and `conntrack`); the [`Syncer`] remembers the last ruleset
//!   it applied. [`Agent`] is the loop between them, generic over both seams,
//!   so its state sequences are tested without root ([`testing::FakeDataplane`]).
//! - Goals: enforce a change within milliseconds; never a window with no rules
//!   (atomic replace, never a flush, not even at start); keep running on bad
//!   input; leave the rules in place on exit.
//! - Bad input: a file with errors, or one that cannot be read, keeps its last
//!   good version (fail static); at start, before any clean read, nothing is
//!   applied and the previous run's rules stay, unless the only files without
//!   a good version hold only kinds netpol does not model. A failed read or
//!   apply changes nothing; the loop reads everything again after [`RETRY`],
//!   doubling to [`RETRY_MAX`] while failures go on; the resync keeps its own
//!   clock. See docs/enforcement.md.
//! - Threads: notify's watcher thread only sends events over a channel; the
//!   caller's thread waits on the source (debouncing, taking every queued
//!   event at once, reading the folder whole once many paths are pending),
//!   reads, renders and applies. The folder recreated at its path is watched
//!   again before the next read. A stop flag (set by SIGINT or SIGTERM in the binary) ends the
//!   loop between events. With [`Config::metrics`], the loop counts every
//!   event into a [`Metrics`] and beats its liveness clock; [`serve`] answers
//!   `/metrics`, `/healthz` and `/readyz` from it on a thread of its own.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use netpol_agent::{run, Config};
//! let config = Config { once: true, ..Config::new("manifests/") };
//! run(&config, &AtomicBool::new(false), &mut |event| eprintln!("{event}")).unwrap();
//! ```

mod agent;
mod dataplane;
mod folder;
mod kind;
mod merge;
mod metrics;
mod serve;
mod source;
mod sync;
pub mod testing;
mod walk;
mod watch;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

pub use agent::{Agent, Schedule, Step};
pub use dataplane::{Dataplane, NftDataplane, Transaction};
pub use folder::{Folder, FolderError};
pub use metrics::{Metrics, BUCKETS, LIVENESS_FACTOR, LIVENESS_FLOOR};
use netpol_manifest::{Diagnostic, LoadOptions};
use netpol_nft::RenderOptions;
pub use serve::{serve, Server, OPENMETRICS};
pub use source::{Snapshot, Source, Wait};
pub use sync::{SyncReport, Syncer};
pub use watch::FolderSource;

/// How the agent runs.
#[derive(Clone, Debug)]
pub struct Config {
    pub manifests: PathBuf,
    /// Apply inside this network namespace (`ip netns exec`); `None`: the current one.
    pub netns: Option<String>,
    pub render: RenderOptions,
    /// After a change, delete the conntrack entries of connections the new ruleset denies.
    pub reset_denied: bool,
    pub lenient: bool,
    /// Quiet time after a file event before reading (editors write in several steps).
    pub debounce: Duration,
    /// Sync once and return.
    pub once: bool,
    /// Replace the whole table this often even when nothing changed (undoes
    /// what others changed in `table inet netpol`); `None`: never.
    pub resync: Option<Duration>,
    /// Count every event and beat the liveness clock here (served by [`serve`]); `None`: no metrics.
    pub metrics: Option<Arc<Metrics>>,
}

impl Config {
    pub fn new(manifests: impl Into<PathBuf>) -> Self {
        Config {
            manifests: manifests.into(),
            netns: None,
            render: RenderOptions::default(),
            reset_denied: false,
            lenient: false,
            debounce: Duration::from_millis(2),
            once: false,
            resync: Some(DEFAULT_RESYNC),
            metrics: None,
        }
    }
}

/// What the agent reports, one line each (the binary prints them on stderr).
#[derive(Debug)]
pub enum Event {
    /// A sync ran: how long from the triggering change, and what it did.
    Synced {
        report: SyncReport,
        since_change: Duration,
        stale: Vec<String>,
        skipped: Vec<String>,
        /// Left out too, holding back nothing: only kinds netpol does not model.
        unmodeled: Vec<String>,
    },
    /// Findings of a read (errors keep the file's last good version).
    Diagnostics(Vec<Diagnostic>),
    /// Nothing applied yet: the folder has never read cleanly (`skipped`:
    /// files with errors and no good version), or a source's first lists have
    /// not all arrived (`incomplete`: what it still waits for).
    Waiting { skipped: Vec<String>, incomplete: Vec<String> },
    /// The folder or nft failed; the kernel keeps its rules and the agent retries.
    Failed(String),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Synced { report, since_change, stale, skipped, unmodeled } => {
                write!(f, "sync {report}; {:.1} ms after the change", since_change.as_secs_f64() * 1000.0)?;
                if !stale.is_empty() {
                    write!(f, "; kept the last good version of {}", stale.join(", "))?;
                }
                if !skipped.is_empty() {
                    write!(f, "; left out {} (never loaded cleanly)", skipped.join(", "))?;
                }
                if !unmodeled.is_empty() {
                    write!(
                        f,
                        "; left out {} (never loaded cleanly; only kinds netpol does not model)",
                        unmodeled.join(", ")
                    )?;
                }
                Ok(())
            }
            Event::Diagnostics(ds) => {
                for (i, d) in ds.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{}", d.to_string().trim_end())?;
                }
                Ok(())
            }
            Event::Waiting { skipped, incomplete } if skipped.is_empty() => write!(
                f,
                "not applying: waiting for the first whole list of {}; the rules in place stay",
                incomplete.join(", ")
            ),
            Event::Waiting { skipped, .. } => write!(
                f,
                "not applying: {} ha{} errors and no earlier good version; the rules in place stay",
                skipped.join(", "),
                if skipped.len() == 1 { "s" } else { "ve" }
            ),
            Event::Failed(why) => write!(f, "sync failed (rules in place stay; will retry): {why}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("{path}: not a folder")]
    NotAFolder { path: String },
    #[error("watching {path}: {source}")]
    Watch { path: String, source: notify::Error },
}

/// How long to wait before retrying a failed sync (doubling with each failure in a row)...
pub const RETRY: Duration = Duration::from_millis(50);
/// ...up to this.
pub const RETRY_MAX: Duration = Duration::from_secs(5);
/// How often the whole table is replaced when nothing else happens.
pub const DEFAULT_RESYNC: Duration = Duration::from_secs(300);

/// Runs the agent on the folder `config` names, applying with nft, until
/// `stop` is set (or once). Only setting up the watch fails; everything after
/// is reported through `on_event` and retried.
pub fn run(config: &Config, stop: &AtomicBool, on_event: &mut dyn FnMut(Event)) -> Result<(), AgentError> {
    let options = LoadOptions { lenient: config.lenient, ..LoadOptions::default() };
    let mut source = FolderSource::new(&config.manifests, options, config.debounce, !config.once)?;
    if let Some(metrics) = &config.metrics {
        source = source.with_metrics(Arc::clone(metrics));
    }
    run_source(source, config, stop, on_event);
    Ok(())
}

/// Runs the sync loop on any [`Source`] (the folder, the Kubernetes API),
/// applying with nft as `config` says (its `manifests`, `lenient` and
/// `debounce` are the folder's and unused here), until `stop` is set (or
/// once), with `config.metrics` fed by the loop.
pub fn run_source<S: Source>(source: S, config: &Config, stop: &AtomicBool, on_event: &mut dyn FnMut(Event)) {
    let syncer = Syncer::new(config.netns.clone(), config.render.clone(), config.reset_denied);
    let schedule = Schedule { once: config.once, resync: config.resync, retry: RETRY, retry_max: RETRY_MAX };
    let mut agent = Agent::new(source, syncer);
    if let Some(metrics) = &config.metrics {
        agent = agent.with_metrics(Arc::clone(metrics));
    }
    agent.run(&schedule, stop, on_event);
}

//! netpol-agent: keeps a node's nftables ruleset equal to what a folder of
//! manifests declares (the local stand-in for the Kubernetes API, edited as
//! `kubectl apply -f` would).
//!
//! Where it sits in the data flow:
//! ```text
//! folder --watch (inotify via notify, debounced)--> read (manifest::load, last good per file)
//!        --> nft::render --> script --(changed?)--> nft::apply (one transaction) [--> conntrack reset]
//! ```
//!
//! Design (model, goals, implementation, threads):
//! - Model: the folder is the desired state; the kernel's `table inet netpol` is
//!   the actual state; the [`Syncer`] remembers the last script it applied.
//! - Goals: enforce a change within milliseconds; never a window with no rules
//!   (atomic replace, never a flush, not even at start); keep running on bad
//!   input; leave the rules in place on exit.
//! - Bad input: a file with errors keeps its last good version (fail static);
//!   at start, before any clean read, nothing is applied and the previous run's
//!   rules stay. See docs/enforcement.md.
//! - Threads: notify's watcher thread sends events over a channel; the caller's
//!   thread debounces, reads, renders and applies. A stop flag (set by SIGINT or
//!   SIGTERM in the binary) ends the loop between events.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use netpol_agent::{run, Config};
//! let config = Config { once: true, ..Config::new("manifests/") };
//! run(&config, &AtomicBool::new(false), &mut |event| eprintln!("{event}")).unwrap();
//! ```

mod folder;
mod merge;
mod sync;

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use folder::{Folder, FolderError, Read};
use netpol_manifest::{Diagnostic, LoadOptions};
use netpol_nft::RenderOptions;
use notify::Watcher;
pub use sync::{SyncReport, Syncer};

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
        }
    }
}

/// What the agent reports, one line each (the binary prints them on stderr).
#[derive(Debug)]
pub enum Event {
    /// A sync ran: how long from the triggering change, and what it did.
    Synced { report: SyncReport, since_change: Duration, stale: Vec<String>, skipped: Vec<String> },
    /// Findings of a read (errors keep the file's last good version).
    Diagnostics(Vec<Diagnostic>),
    /// Nothing applied yet: the folder has never read cleanly.
    Waiting { skipped: Vec<String> },
    /// The folder or nft failed; the kernel keeps its rules and the agent retries.
    Failed(String),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Synced { report, since_change, stale, skipped } => {
                write!(f, "sync {report}; {:.1} ms after the change", since_change.as_secs_f64() * 1000.0)?;
                if !stale.is_empty() {
                    write!(f, "; kept the last good version of {}", stale.join(", "))?;
                }
                if !skipped.is_empty() {
                    write!(f, "; left out {} (never loaded cleanly)", skipped.join(", "))?;
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
            Event::Waiting { skipped } => write!(
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

/// How long to wait before retrying a failed sync.
const RETRY: Duration = Duration::from_secs(1);
/// How often the whole table is replaced when nothing else happens.
pub const DEFAULT_RESYNC: Duration = Duration::from_secs(300);
/// Debouncing never delays a sync by more than this.
const MAX_DELAY: Duration = Duration::from_millis(100);

/// Runs the agent until `stop` is set (or once). Only setting up the watch fails;
/// everything after is reported through `on_event` and retried.
pub fn run(config: &Config, stop: &AtomicBool, on_event: &mut dyn FnMut(Event)) -> Result<(), AgentError> {
    let path = config.manifests.display().to_string();
    if !config.manifests.is_dir() {
        return Err(AgentError::NotAFolder { path });
    }
    let (tx, rx) = mpsc::channel::<(Instant, Changed)>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let changed = match event {
            Ok(event) if matches!(event.kind, notify::EventKind::Access(_)) => return,
            Ok(event) if event.need_rescan() || event.paths.is_empty() => Changed::Everything,
            Ok(event) => Changed::Files(event.paths),
            // The watcher lost track (e.g. its queue overflowed): read everything.
            Err(_) => Changed::Everything,
        };
        let _ = tx.send((Instant::now(), changed));
    })
    .map_err(|source| AgentError::Watch { path: path.clone(), source })?;
    if !config.once {
        watcher
            .watch(&config.manifests, notify::RecursiveMode::Recursive)
            .map_err(|source| AgentError::Watch { path: path.clone(), source })?;
    }

    let mut folder = Folder::new(&config.manifests, LoadOptions { lenient: config.lenient });
    let mut syncer = Syncer::new(config.netns.clone(), config.render.clone(), config.reset_denied);
    let mut started = false;
    let mut pending: Option<(Instant, Changed)> = Some((Instant::now(), Changed::Everything));
    let mut retry_at: Option<Instant> = None;
    let mut resync_at = config.resync.map(|every| Instant::now() + every);
    loop {
        if pending.is_none() && retry_at.is_some_and(|t| Instant::now() >= t) {
            pending = Some((Instant::now(), Changed::Everything));
        }
        let resync = pending.is_none() && resync_at.is_some_and(|t| Instant::now() >= t);
        if resync {
            pending = Some((Instant::now(), Changed::Everything));
        }
        if let Some((changed_at, changed)) = pending.take() {
            retry_at = None;
            if step(&mut folder, &changed, resync, &mut syncer, &mut started, changed_at, on_event) {
                if resync {
                    resync_at = config.resync.map(|every| Instant::now() + every);
                }
            } else {
                retry_at = Some(Instant::now() + RETRY);
            }
        }
        if config.once || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok((first, mut changed)) => {
                // Debounce: wait until the folder is quiet, at most MAX_DELAY.
                while first.elapsed() < MAX_DELAY {
                    match rx.recv_timeout(config.debounce) {
                        Ok((_, more)) => changed.add(more),
                        Err(_) => break,
                    }
                }
                pending = Some((first, changed));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

/// What a watcher reported: these paths changed, or read everything again.
#[derive(Debug)]
enum Changed {
    Everything,
    Files(Vec<std::path::PathBuf>),
}

impl Changed {
    fn add(&mut self, more: Changed) {
        match (self, more) {
            (Changed::Files(paths), Changed::Files(more)) => paths.extend(more),
            (this, _) => *this = Changed::Everything,
        }
    }
}

/// One read + sync. Returns false when it should be retried.
#[allow(clippy::too_many_arguments)]
fn step(
    folder: &mut Folder,
    changed: &Changed,
    resync: bool,
    syncer: &mut Syncer,
    started: &mut bool,
    changed_at: Instant,
    on_event: &mut dyn FnMut(Event),
) -> bool {
    let read = match changed {
        // Also after a failed sync: the retry re-reads everything.
        Changed::Everything => folder.read(),
        Changed::Files(paths) => folder.read_changed(paths),
    };
    let read = match read {
        Ok(read) => read,
        Err(e) => {
            on_event(Event::Failed(e.to_string()));
            return false;
        }
    };
    if !read.diagnostics.is_empty() {
        on_event(Event::Diagnostics(read.diagnostics.clone()));
    }
    if !*started && !read.skipped.is_empty() {
        on_event(Event::Waiting { skipped: read.skipped });
        return true;
    }
    let synced = match resync {
        true => syncer.resync(read.cluster, read.pods_version),
        false => syncer.sync(read.cluster, read.pods_version),
    };
    match synced {
        Ok(report) => {
            *started = true;
            let since_change = changed_at.elapsed();
            on_event(Event::Synced { report, since_change, stale: read.stale, skipped: read.skipped });
            true
        }
        Err(e) => {
            on_event(Event::Failed(e.to_string()));
            false
        }
    }
}

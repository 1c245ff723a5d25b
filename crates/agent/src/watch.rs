//! The folder source: a [`Folder`] and an inotify watcher (via `notify`) on it.
//!
//! The watcher's callback only forwards what changed over a channel; waiting,
//! debouncing and reading run on the sync loop's thread.
//!
//! Bursts are coalesced: everything queued while a sync ran is taken at the
//! next wait (not one event per sync), and once more than [`COALESCE`] paths
//! are pending the next read lists the folder once instead.
//!
//! The folder itself removed (or renamed away) and created again at the same
//! path ends inotify's watch on it; the source notices (an event naming the
//! folder itself, or a read finding another directory there) and watches the
//! path again before it reads. While the folder is gone every read fails, so
//! the sync loop's backoff polls the path until it is back.

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use netpol_manifest::LoadOptions;
use notify::Watcher;

use crate::folder::{Folder, FolderError};
use crate::metrics::Metrics;
use crate::source::{Snapshot, Source, Wait};
use crate::AgentError;

/// Debouncing never delays a sync by more than this.
const MAX_DELAY: Duration = Duration::from_millis(100);
/// More changed paths than this pending: read the whole folder once.
pub const COALESCE: usize = 256;

/// A folder of manifests, watched recursively: the desired state is its files.
#[derive(Debug)]
pub struct FolderSource {
    folder: Folder,
    debounce: Duration,
    rx: mpsc::Receiver<(Instant, Changed)>,
    /// Kept alive for as long as the source: dropping it ends the events.
    watcher: notify::RecommendedWatcher,
    /// Whether the folder is watched, and then the directory watched (device
    /// and inode; `None`: it must be watched again before the next read).
    watched: Option<Option<(u64, u64)>>,
    /// What the watcher reported since the last read.
    pending: Option<Changed>,
    /// Told the objects by kind of every read, and that the source is ready after the first.
    metrics: Option<Arc<Metrics>>,
}

impl FolderSource {
    /// The folder at `dir`. With `watch`, changes are waited for (quiet for
    /// `debounce`, at most 100 ms); without, [`Source::wait`] only times out.
    pub fn new(dir: &Path, options: LoadOptions, debounce: Duration, watch: bool) -> Result<Self, AgentError> {
        let path = dir.display().to_string();
        if !dir.is_dir() {
            return Err(AgentError::NotAFolder { path });
        }
        let (tx, rx) = mpsc::channel::<(Instant, Changed)>();
        let root = dir.to_path_buf();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            use notify::EventKind::{Access, Modify, Other, Remove};
            let changed = match event {
                Ok(event) if matches!(event.kind, Access(_)) => return,
                Ok(event) if event.need_rescan() || event.paths.is_empty() => Changed::Everything,
                // The folder itself went away (or elsewhere): its watch ends with it.
                Ok(event)
                    if matches!(event.kind, Remove(_) | Modify(notify::event::ModifyKind::Name(_)) | Other)
                        && event.paths.contains(&root) =>
                {
                    Changed::Folder
                }
                Ok(event) => Changed::Files(event.paths.into_iter().collect()),
                // The watcher lost track (e.g. its queue overflowed): read everything.
                Err(_) => Changed::Everything,
            };
            let _ = tx.send((Instant::now(), changed));
        })
        .map_err(|source| AgentError::Watch { path: path.clone(), source })?;
        let mut watched = None;
        if watch {
            watched = Some(identity(dir));
            watcher
                .watch(dir, notify::RecursiveMode::Recursive)
                .map_err(|source| AgentError::Watch { path, source })?;
        }
        let folder = Folder::new(dir, options);
        Ok(FolderSource { folder, debounce, rx, watcher, watched, pending: None, metrics: None })
    }

    /// After every read, sets the objects by kind in `metrics` (`Pod` counts
    /// workload endpoints too), and the source ready once a read succeeded:
    /// the folder holds everything once read.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Watches the folder again if what is at its path is not what is watched
    /// (it was removed or moved, and maybe created again). Returns whether it did.
    fn rewatch(&mut self) -> Result<bool, FolderError> {
        let dir = self.folder.dir().to_path_buf();
        let Some(watched) = self.watched else { return Ok(false) };
        let now = identity(&dir);
        if now.is_none() || (watched.is_some() && watched == now) {
            return Ok(false); // gone (the read says so), or still the folder watched
        }
        let _ = self.watcher.unwatch(&dir);
        self.watcher
            .watch(&dir, notify::RecursiveMode::Recursive)
            .map_err(|source| FolderError::Watch { path: dir.display().to_string(), source })?;
        self.watched = Some(now);
        Ok(true)
    }

    pub fn folder(&self) -> &Folder {
        &self.folder
    }

    fn note(&mut self, changed: Changed) {
        if matches!(changed, Changed::Folder) {
            if let Some(watched) = &mut self.watched {
                *watched = None;
            }
        }
        match &mut self.pending {
            Some(pending) => pending.add(changed),
            None => self.pending = Some(changed),
        }
    }

    /// Notes everything already queued.
    fn drain(&mut self) {
        while let Ok((_, more)) = self.rx.try_recv() {
            self.note(more);
        }
    }
}

impl Source for FolderSource {
    type Error = FolderError;

    fn wait(&mut self, timeout: Duration) -> Wait {
        match self.rx.recv_timeout(timeout) {
            Ok((first, changed)) => {
                self.note(changed);
                // What piled up while the last sync ran, all of it.
                self.drain();
                // Debounce: wait until the folder is quiet, at most MAX_DELAY from now.
                let until = Instant::now() + MAX_DELAY;
                while let Some(left) = until.checked_duration_since(Instant::now()) {
                    match self.rx.recv_timeout(self.debounce.min(left)) {
                        Ok((_, more)) => {
                            self.note(more);
                            self.drain();
                        }
                        Err(_) => break,
                    }
                }
                Wait::Changed(first)
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Wait::Timeout,
            Err(mpsc::RecvTimeoutError::Disconnected) => Wait::Closed,
        }
    }

    fn read(&mut self, everything: bool) -> Result<Snapshot<'_>, FolderError> {
        let rewatched = match self.rewatch() {
            Ok(rewatched) => rewatched,
            Err(e) => {
                // Not watched: the retry tries again.
                self.pending = Some(Changed::Folder);
                return Err(e);
            }
        };
        let snapshot = match (everything || rewatched, self.pending.take()) {
            (true, _) | (false, Some(Changed::Everything | Changed::Folder)) => self.folder.read(),
            (false, Some(Changed::Files(paths))) => self.folder.read_changed(&paths.into_iter().collect::<Vec<_>>()),
            (false, None) => self.folder.read_changed(&[]),
        };
        if let (Some(metrics), Ok(snapshot)) = (&self.metrics, &snapshot) {
            let cluster = snapshot.cluster;
            for (kind, count) in [
                ("Namespace", cluster.namespaces.len()),
                ("Pod", cluster.pods.len()),
                ("Service", cluster.services.len()),
                ("NetworkPolicy", cluster.policies.len()),
                ("Node", cluster.nodes.len()),
                ("ServiceAccount", cluster.service_accounts.len()),
                ("Tier", cluster.tiers.len()),
            ] {
                metrics.set_objects(kind, u64::try_from(count).unwrap_or(u64::MAX));
            }
            // The ordered kinds, by the names the API source labels them with.
            use netpol_model::TieredKind as T;
            for kind in [
                T::AdminNetworkPolicy,
                T::BaselineAdminNetworkPolicy,
                T::ClusterNetworkPolicy,
                T::GlobalNetworkPolicy,
                T::CalicoNetworkPolicy,
            ] {
                let count = cluster.tiered.iter().filter(|p| p.kind == kind).count();
                metrics.set_objects(kind.as_str(), u64::try_from(count).unwrap_or(u64::MAX));
            }
            metrics.set_source_ready(true);
        }
        snapshot
    }
}

/// What a watcher reported: these paths changed, read everything again, or
/// the folder itself went (read everything, once it is watched again).
#[derive(Debug)]
enum Changed {
    Everything,
    Folder,
    Files(BTreeSet<PathBuf>),
}

impl Changed {
    fn add(&mut self, more: Changed) {
        match (&mut *self, more) {
            (Changed::Files(paths), Changed::Files(more)) => {
                paths.extend(more);
                if paths.len() > COALESCE {
                    *self = Changed::Everything;
                }
            }
            (Changed::Folder, _) | (_, Changed::Folder) => *self = Changed::Folder,
            (this, _) => *this = Changed::Everything,
        }
    }
}

/// The directory at `path` (device and inode), if there is one.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().filter(|m| m.is_dir()).map(|m| (m.dev(), m.ino()))
}

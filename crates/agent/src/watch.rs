//! The folder source: a [`Folder`] and an inotify watcher (via `notify`) on it.
//!
//! The watcher's callback only forwards what changed over a channel; waiting,
//! debouncing and reading run on the sync loop's thread.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netpol_manifest::LoadOptions;
use notify::Watcher;

use crate::folder::{Folder, FolderError};
use crate::source::{Snapshot, Source, Wait};
use crate::AgentError;

/// Debouncing never delays a sync by more than this.
const MAX_DELAY: Duration = Duration::from_millis(100);

/// A folder of manifests, watched recursively: the desired state is its files.
#[derive(Debug)]
pub struct FolderSource {
    folder: Folder,
    debounce: Duration,
    rx: mpsc::Receiver<(Instant, Changed)>,
    /// Kept alive for as long as the source: dropping it ends the events.
    _watcher: notify::RecommendedWatcher,
    /// What the watcher reported since the last read.
    pending: Option<Changed>,
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
        if watch {
            watcher
                .watch(dir, notify::RecursiveMode::Recursive)
                .map_err(|source| AgentError::Watch { path, source })?;
        }
        let folder = Folder::new(dir, options);
        Ok(FolderSource { folder, debounce, rx, _watcher: watcher, pending: None })
    }

    pub fn folder(&self) -> &Folder {
        &self.folder
    }

    fn note(&mut self, changed: Changed) {
        match &mut self.pending {
            Some(pending) => pending.add(changed),
            None => self.pending = Some(changed),
        }
    }
}

impl Source for FolderSource {
    type Error = FolderError;

    fn wait(&mut self, timeout: Duration) -> Wait {
        match self.rx.recv_timeout(timeout) {
            Ok((first, changed)) => {
                self.note(changed);
                // Debounce: wait until the folder is quiet, at most MAX_DELAY.
                while first.elapsed() < MAX_DELAY {
                    match self.rx.recv_timeout(self.debounce) {
                        Ok((_, more)) => self.note(more),
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
        match (everything, self.pending.take()) {
            (true, _) | (false, Some(Changed::Everything)) => self.folder.read(),
            (false, Some(Changed::Files(paths))) => self.folder.read_changed(&paths),
            (false, None) => self.folder.read_changed(&[]),
        }
    }
}

/// What a watcher reported: these paths changed, or read everything again.
#[derive(Debug)]
enum Changed {
    Everything,
    Files(Vec<PathBuf>),
}

impl Changed {
    fn add(&mut self, more: Changed) {
        match (self, more) {
            (Changed::Files(paths), Changed::Files(more)) => paths.extend(more),
            (this, _) => *this = Changed::Everything,
        }
    }
}

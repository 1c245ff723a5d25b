//! Reading the manifest folder into a cluster, keeping each file's last good
//! version.
//!
//! Design: a file whose objects do not load cleanly (any error diagnostic)
//! keeps contributing the last version of it that did ("fail static": its
//! objects stay enforced exactly as before, neither opened nor closed); a
//! file that never loaded cleanly contributes nothing. A file that cannot be
//! read (not UTF-8, permission denied, an I/O error) is a file with errors: it
//! keeps its last good version too. A deleted file removes its objects, as
//! `kubectl delete -f` would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use netpol_manifest::{Diagnostic, LoadOptions, Severity};
use netpol_model::Cluster;

use crate::merge::Merged;
use crate::source::Snapshot;

/// One manifest file: its text, what loading it said, and what it contributes.
#[derive(Debug)]
struct File {
    name: String,
    /// `None`: the file could not be read.
    text: Option<String>,
    diagnostics: Vec<Diagnostic>,
    has_errors: bool,
    /// Its errors hold back nothing: it holds only kinds netpol does not model.
    unmodeled: bool,
    /// The last clean load (`None`: never loaded cleanly, contributes nothing).
    good: Option<Arc<Cluster>>,
}

/// What reading one file gave.
#[derive(Debug)]
enum Text {
    Read(String),
    /// It is gone (removed or replaced between an event or a listing and the
    /// read: the next event reads it again), or not a regular file.
    Gone,
    /// It is there and cannot be read: why.
    Unreadable(String),
}

/// The manifest folder: each file's last text and last good load, and the
/// cluster they make together.
#[derive(Debug)]
pub struct Folder {
    dir: PathBuf,
    options: LoadOptions,
    /// By path: path order is the order of a folder walk.
    files: BTreeMap<PathBuf, File>,
    merged: Merged,
    /// The last whole read met a symbolic link (then every change reads everything).
    symlinks: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error(transparent)]
    Input(#[from] netpol_input::InputError),
    #[error("{path}: the manifest folder is gone (the rules in place stay)")]
    Gone { path: String },
    #[error("watching {path} again: {source}")]
    Watch { path: String, source: notify::Error },
}

impl Folder {
    pub fn new(dir: impl Into<PathBuf>, options: LoadOptions) -> Self {
        Folder { dir: dir.into(), options, files: BTreeMap::new(), merged: Merged::default(), symlinks: false }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads every manifest file now in the folder. A folder that is gone is an
    /// error (the rules in place stay), not an empty cluster.
    pub fn read(&mut self) -> Result<Snapshot<'_>, FolderError> {
        if !self.dir.is_dir() {
            return Err(FolderError::Gone { path: self.dir.display().to_string() });
        }
        let listing = crate::walk::manifest_files(&self.dir)?;
        self.symlinks = listing.links;
        let mut sources = BTreeMap::new();
        for file in listing.files {
            match read_text(&file) {
                Text::Gone => {}
                text => {
                    sources.insert(file, text);
                }
            }
        }
        self.load_paths(sources);
        Ok(self.current())
    }

    /// Reads only the files at `paths` (what a watcher reported changed); the
    /// others keep what they gave. Falls back to [`Folder::read`] when that
    /// cannot be trusted: a directory or a symbolic link changed (a ConfigMap
    /// volume swaps a hidden `..data` link), a path is outside the folder, or
    /// the folder holds symbolic links (their targets change without an event
    /// naming them).
    pub fn read_changed(&mut self, paths: &[PathBuf]) -> Result<Snapshot<'_>, FolderError> {
        if self.symlinks || !self.dir.is_dir() {
            return self.read();
        }
        let mut changes = BTreeMap::new();
        for path in paths {
            let Some(relative) = self.relative(path) else { return self.read() };
            let path = self.dir.join(relative.as_path());
            if path.is_dir() || is_symlink(&path) {
                return self.read(); // a folder or a link appeared, changed or went away
            }
            if !path.exists() && self.files.keys().any(|f| f.starts_with(&path) && *f != path) {
                return self.read(); // a folder went away
            }
            if relative.components().any(|c| c.as_os_str().as_encoded_bytes().starts_with(b".")) {
                continue; // hidden, as in a folder walk (e.g. an editor's or kubectl's temporary file)
            }
            if netpol_input::is_manifest_file(&path) {
                let text = read_text(&path);
                changes.insert(path, text);
            }
        }
        for (path, text) in changes {
            self.update(path, text);
        }
        Ok(self.current())
    }

    /// `path` relative to the folder, if it is inside it.
    fn relative(&self, path: &Path) -> Option<PathBuf> {
        if let Ok(rel) = path.strip_prefix(&self.dir) {
            return Some(rel.to_path_buf());
        }
        let dir = self.dir.canonicalize().ok()?;
        path.strip_prefix(dir).ok().map(Path::to_path_buf)
    }

    /// Loads `(name, text)` sources as the whole folder (files not among them
    /// are gone), substituting last good versions for bad files. Files are
    /// taken in path order (that of a folder walk), whatever the order given.
    ///
    /// Each file is loaded on its own and kept by its text, so a change costs
    /// the changed files only; the parts are merged as one load would (a later
    /// duplicate wins). Cluster-wide findings that a single file cannot judge
    /// (undeclared namespaces, DNS egress) are left to `netpol validate`.
    pub fn load(&mut self, sources: Vec<(String, String)>) -> Snapshot<'_> {
        self.load_paths(sources.into_iter().map(|(name, text)| (PathBuf::from(name), Text::Read(text))).collect());
        self.current()
    }

    /// [`Folder::load`], where some files could not be read: `Err(why)`. An
    /// unreadable file is a file with errors (it keeps its last good version).
    pub fn load_read(&mut self, sources: Vec<(String, Result<String, String>)>) -> Snapshot<'_> {
        let text = |read: Result<String, String>| read.map_or_else(Text::Unreadable, Text::Read);
        self.load_paths(sources.into_iter().map(|(name, read)| (PathBuf::from(name), text(read))).collect());
        self.current()
    }

    /// [`Folder::load`] by path.
    fn load_paths(&mut self, sources: BTreeMap<PathBuf, Text>) {
        let gone: Vec<PathBuf> = self.files.keys().filter(|p| !sources.contains_key(*p)).cloned().collect();
        for path in gone {
            self.update(path, Text::Gone);
        }
        for (path, text) in sources {
            self.update(path, text);
        }
    }

    /// The file at `path` now holds `text`. Files are keyed by their path as
    /// it is (names that are not UTF-8 included); the name shown in
    /// diagnostics is its display form.
    fn update(&mut self, path: PathBuf, text: Text) {
        let before = self.files.remove(&path);
        let old_good = before.as_ref().and_then(|f| f.good.clone());
        let name = path.display().to_string();
        let file = match (text, before) {
            (Text::Gone, _) => None,
            (Text::Read(text), Some(before)) if before.text.as_ref() == Some(&text) => Some(before),
            (Text::Read(text), _) => {
                let loaded = netpol_manifest::load([(name.as_str(), text.as_str())], &self.options);
                let has_errors = loaded.has_errors();
                let diagnostics = loaded.diagnostics.into_iter().filter(|d| !CLUSTER_WIDE.contains(&d.code)).collect();
                let good = if has_errors { old_good.clone() } else { Some(Arc::new(loaded.cluster)) };
                let unmodeled = has_errors && crate::kind::only_unmodeled_kinds(&text);
                Some(File { name, text: Some(text), diagnostics, has_errors, unmodeled, good })
            }
            (Text::Unreadable(why), _) => {
                let diagnostic = Diagnostic {
                    code: UNREADABLE,
                    severity: Severity::Error,
                    file: name.clone(),
                    line: 1,
                    column: 1,
                    message: format!("cannot read the file: {why}"),
                    help: Some("until it reads, its last good version stays (if it ever had one)".into()),
                };
                let good = old_good.clone();
                Some(File { name, text: None, diagnostics: vec![diagnostic], has_errors: true, unmodeled: false, good })
            }
        };
        let new_good = file.as_ref().and_then(|f| f.good.clone());
        if let Some(file) = file {
            self.files.insert(path.clone(), file);
        }
        let same = match (&old_good, &new_good) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            let files = &self.files;
            self.merged.replace(&path, old_good.as_deref(), new_good.as_deref(), |p| {
                files.get(p).and_then(|f| f.good.as_deref())
            });
        }
    }

    /// What the files give now.
    fn current(&mut self) -> Snapshot<'_> {
        self.merged.link();
        let (mut diagnostics, mut stale, mut skipped, mut unmodeled) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for file in self.files.values() {
            diagnostics.extend(file.diagnostics.iter().cloned());
            if file.has_errors {
                match file.good {
                    Some(_) => stale.push(file.name.clone()),
                    None if file.unmodeled => unmodeled.push(file.name.clone()),
                    None => skipped.push(file.name.clone()),
                }
            }
        }
        Snapshot {
            cluster: self.merged.cluster(),
            pods_version: self.merged.pods_version(),
            diagnostics,
            stale,
            skipped,
            unmodeled,
            incomplete: Vec::new(),
        }
    }
}

/// Whether `path` itself is a symbolic link.
fn is_symlink(path: &Path) -> bool {
    path.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink())
}

/// A file's text, if it is there and readable.
fn read_text(path: &Path) -> Text {
    // Only regular files (through links): reading a FIFO named `x.yaml` would block.
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return Text::Gone;
    }
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Text::Read(text),
            Err(e) => {
                Text::Unreadable(format!("not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()))
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Text::Gone,
        Err(e) => Text::Unreadable(e.to_string()),
    }
}

/// The code of an unreadable file's error: NP0001, the file is not valid
/// text (YAML or JSON) and other files still load.
const UNREADABLE: &str = "NP0001";

/// Diagnostics about the whole cluster, meaningless for one file alone.
const CLUSTER_WIDE: [&str; 2] = ["NP0052", "NP0054"];

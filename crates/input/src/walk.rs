//! A folder's manifest files, each directory visited once.
//!
//! Design: the walk follows links (a linked folder of manifests is read), so it
//! keeps the identity (device, inode) of every directory it entered. A link to a
//! directory already entered is not followed again: one note for that link,
//! naming where the directory was read, and the walk goes on. Two self links
//! (`ln -s . a; ln -s . b`) are two notes instead of an endless walk, and a cycle
//! (`sub/up -> ..`) is one note instead of 40 levels of duplicate objects.
//! Entries that are not regular files (FIFOs, sockets, devices, links to them)
//! are skipped with a note: opening a FIFO blocks, and a device never ends.

use std::collections::HashMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};

use crate::{is_manifest_file, InputError};

/// The manifest files under a folder, sorted by path, and what was skipped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Walk {
    pub files: Vec<PathBuf>,
    /// One line per skipped entry: `path: why`.
    pub notes: Vec<String>,
}

/// Every manifest file under `dir`, sorted by path (the notes of [`Walk`] dropped).
pub fn manifest_files(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    Walk::new(dir).map(|walk| walk.files)
}

impl Walk {
    /// Walks `dir` recursively, skipping hidden entries, entering each directory once.
    pub fn new(dir: &Path) -> Result<Walk, InputError> {
        let mut walk = Walk::default();
        let mut seen = HashMap::new();
        let meta = std::fs::metadata(dir).map_err(|error| InputError::Io { path: dir.display().to_string(), error })?;
        seen.insert(identity(dir, &meta), dir.to_path_buf());
        walk.dir(dir, &mut seen)?;
        Ok(walk)
    }

    fn dir(&mut self, dir: &Path, seen: &mut HashMap<Identity, PathBuf>) -> Result<(), InputError> {
        let io = |error| InputError::Io { path: dir.display().to_string(), error };
        let mut entries = std::fs::read_dir(dir).map_err(io)?.collect::<Result<Vec<_>, _>>().map_err(io)?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            // Follows links; a dangling link stays a file, so reading it reports it.
            let Ok(meta) = std::fs::metadata(&path) else {
                if is_manifest_file(&path) {
                    self.files.push(path);
                }
                continue;
            };
            if meta.is_dir() {
                let id = identity(&path, &meta);
                if let Some(first) = seen.get(&id) {
                    let how = if dir.starts_with(first) { "loops back to" } else { "leads to" };
                    self.notes.push(format!(
                        "{}: a link that {how} the folder {}, already read: not followed",
                        path.display(),
                        first.display()
                    ));
                    continue;
                }
                seen.insert(id, path.clone());
                self.dir(&path, seen)?;
            } else if is_manifest_file(&path) {
                if meta.is_file() {
                    self.files.push(path);
                } else {
                    self.notes.push(format!("{}: {}: skipped", path.display(), not_regular(&meta)));
                }
            }
        }
        Ok(())
    }
}

/// What a non-regular file is, in words.
pub(crate) fn not_regular(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO, not a regular file";
        }
        if t.is_socket() {
            return "a socket, not a regular file";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device, not a regular file";
        }
    }
    if meta.is_dir() {
        "a folder, not a regular file"
    } else {
        "not a regular file"
    }
}

#[cfg(unix)]
type Identity = (u64, u64);

#[cfg(unix)]
fn identity(_path: &Path, meta: &Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt as _;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
type Identity = PathBuf;

#[cfg(not(unix))]
fn identity(path: &Path, _meta: &Metadata) -> Identity {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

//! Listing the manifest files of the folder, for the agent: like
//! `netpol_input::manifest_files` (sorted, hidden names skipped, links
//! followed), but each directory is visited once, by device and inode, so a
//! link loop (a link to the folder itself, or two links to each other) costs
//! one visit instead of an explosion of paths.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use netpol_input::InputError;

/// What a walk found.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Manifest files by path, in the order of a folder walk (sorted by name in each directory).
    pub files: Vec<PathBuf>,
    /// A symbolic link was met on the way (then events cannot be trusted to name every change).
    pub links: bool,
}

/// Every manifest file under `dir`; a directory reached twice (through a
/// link) is listed once, under the first path that reached it.
pub(crate) fn manifest_files(dir: &Path) -> Result<Listing, InputError> {
    let io = |error| InputError::Io { path: dir.display().to_string(), error };
    let root = std::fs::metadata(dir).map_err(io)?;
    let mut visited = HashSet::from([(root.dev(), root.ino())]);
    let mut listing = Listing::default();
    walk(dir, &mut visited, &mut listing)?;
    Ok(listing)
}

fn walk(dir: &Path, visited: &mut HashSet<(u64, u64)>, listing: &mut Listing) -> Result<(), InputError> {
    let io = |error| InputError::Io { path: dir.display().to_string(), error };
    let mut entries = std::fs::read_dir(dir).map_err(io)?.collect::<Result<Vec<_>, _>>().map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        listing.links |= entry.file_type().is_ok_and(|t| t.is_symlink());
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                if visited.insert((meta.dev(), meta.ino())) {
                    walk(&path, visited, listing)?;
                }
            }
            // A dangling link, or a file gone since the listing: not a file now.
            Err(_) => {}
            Ok(_) if netpol_input::is_manifest_file(&path) => listing.files.push(path),
            Ok(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_loop_is_visited_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "a").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b.yaml"), "b").unwrap();
        std::os::unix::fs::symlink(".", dir.path().join("self")).unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("sub/up")).unwrap();
        std::os::unix::fs::symlink("missing", dir.path().join("dangling.yaml")).unwrap();
        let listing = manifest_files(dir.path()).unwrap();
        assert_eq!(listing.files, [dir.path().join("a.yaml"), dir.path().join("sub/b.yaml")]);
        assert!(listing.links);
    }
}

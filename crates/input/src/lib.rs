//! Reads manifests from disk or stdin into [`Source`]s for the CLI, so that
//! `netpol-manifest` can stay pure. (The agent's folder source,
//! `crates/agent/src/folder.rs`, reads its watched folder itself: it rereads
//! only the files an event names and keeps each file's last good version.)
//!
//! Paths may be files (any extension), folders (walked recursively, keeping
//! `.yaml`, `.yml` and `.json`, in sorted order so results are deterministic),
//! or `-` for standard input.
//!
//! ```no_run
//! let sources = netpol_input::read_paths(&["examples/seed-000-walkthrough".into()]).unwrap();
//! for s in &sources { println!("{} ({} bytes)", s.name, s.text.len()); }
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

/// One manifest file's text and the name diagnostics use for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path as given (joined for files found in folders), or `<stdin>`.
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Source { name: name.into(), text: text.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: not valid UTF-8 text")]
    NotUtf8 { path: String },
    #[error("{path}: no .yaml, .yml or .json files in this folder")]
    EmptyFolder { path: String },
}

/// True for the extensions read from folders.
pub fn is_manifest_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// Reads every path: files as given, folders recursively, `-` as stdin.
pub fn read_paths(paths: &[PathBuf]) -> Result<Vec<Source>, InputError> {
    let mut sources = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| InputError::Io { path: "<stdin>".into(), source })?;
            sources.push(Source::new("<stdin>", text));
        } else if path.is_dir() {
            let mut files = Vec::new();
            walk(path, &mut files)?;
            if files.is_empty() {
                return Err(InputError::EmptyFolder { path: path.display().to_string() });
            }
            for file in files {
                sources.push(read_file(&file)?);
            }
        } else {
            sources.push(read_file(path)?);
        }
    }
    Ok(sources)
}

/// Every manifest file under `dir`, sorted by path.
pub fn manifest_files(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let io = |source| InputError::Io { path: dir.display().to_string(), source };
    let mut entries = std::fs::read_dir(dir).map_err(io)?.collect::<Result<Vec<_>, _>>().map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if is_manifest_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Source, InputError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| InputError::Io { path: name.clone(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| InputError::NotUtf8 { path: name.clone() })?;
    Ok(Source::new(name, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_walked_sorted_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.yaml"), "b").unwrap();
        std::fs::write(dir.path().join("a.json"), "a").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "skip").unwrap();
        std::fs::write(dir.path().join(".hidden.yaml"), "skip").unwrap();
        std::fs::write(dir.path().join("sub/c.yml"), "c").unwrap();
        let sources = read_paths(&[dir.path().to_path_buf()]).unwrap();
        let texts: Vec<_> = sources.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["a", "b", "c"]);
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = read_paths(&["/nonexistent/x.yaml".into()]).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/x.yaml: "), "{err}");
    }

    #[test]
    fn empty_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read_paths(&[dir.path().to_path_buf()]), Err(InputError::EmptyFolder { .. })));
    }
}

//! Reads manifests from disk or stdin into [`Source`]s for the CLI, so that
//! `netpol-manifest` can stay pure. (The agent's folder source,
//! `crates/agent/src/folder.rs`, reads its watched folder itself: it rereads
//! only the files an event names and keeps each file's last good version;
//! [`read_file`] is the one-file reader it can share.)
//!
//! Paths may be files (any extension), folders (walked recursively, keeping
//! `.yaml`, `.yml` and `.json`, in sorted order so results are deterministic),
//! or `-` for standard input.
//!
//! Hostile input. A folder's walk visits each directory once (by device and
//! inode), so links that loop (`ln -s . a`) end the walk instead of feeding it
//! forever; each such link is one [`Input::notes`] entry. Non-regular files
//! found in folders (FIFOs, sockets, devices, links to them) are skipped with a
//! note; a path named on the command line is read whatever it is, as `cat`
//! would. Every read stops at a size limit ([`ReadOptions`]): per file and in
//! total; `/dev/zero` is refused after the limit, not after the memory is gone,
//! and text that is not UTF-8 (such as `/dev/urandom`) is refused at its first
//! bad byte.
//!
//! ```no_run
//! use netpol_input::{read_inputs, ReadOptions};
//! let input = read_inputs(&["examples/seed-000-walkthrough".into()], &ReadOptions::default()).unwrap();
//! for s in &input.sources { println!("{} ({} bytes)", s.name, s.text.len()); }
//! for note in &input.notes { eprintln!("note: {note}"); }
//! ```

mod walk;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use walk::{manifest_files, Walk};

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

/// The default limit on one file: far above any real manifest file (the API
/// server takes at most 3 MiB per object), and low enough that `/dev/zero`
/// is refused in about a second.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1024 * 1024 * 1024;

/// The default limit on all the input of one command together.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Size limits for reading (the CLI's `--max-input-bytes` sets both).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// Bytes one file (or stdin) may have.
    pub max_file_bytes: u64,
    /// Bytes all files together may have.
    pub max_total_bytes: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { max_file_bytes: DEFAULT_MAX_FILE_BYTES, max_total_bytes: DEFAULT_MAX_TOTAL_BYTES }
    }
}

impl ReadOptions {
    /// One limit for each file and for all of them.
    pub fn with_max_bytes(max: u64) -> Self {
        ReadOptions { max_file_bytes: max, max_total_bytes: max }
    }
}

/// What [`read_inputs`] read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Input {
    pub sources: Vec<Source>,
    /// What was skipped and why (`path: ...`), one line each, for stderr.
    pub notes: Vec<String>,
    /// Bytes read in all.
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The OS error is part of the message and not also a `source()`, so that an
    /// error chain (`{:#}`) prints it once.
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{path}: not valid UTF-8 text")]
    NotUtf8 { path: String },
    #[error("{path}: no .yaml, .yml or .json files in this folder")]
    EmptyFolder { path: String },
    #[error("{path}: more than {limit} bytes, the input limit {which}; raise it with --max-input-bytes")]
    TooLarge { path: String, limit: u64, which: &'static str },
}

/// True for the extensions read from folders.
pub fn is_manifest_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// Reads every path with the default limits, dropping the notes: files as
/// given, folders recursively, `-` as stdin.
pub fn read_paths(paths: &[PathBuf]) -> Result<Vec<Source>, InputError> {
    read_inputs(paths, &ReadOptions::default()).map(|input| input.sources)
}

/// Reads every path: files as given (whatever they are, as `cat` reads them),
/// folders recursively (regular manifest files only, each directory once),
/// `-` as stdin; within the limits of `options`.
pub fn read_inputs(paths: &[PathBuf], options: &ReadOptions) -> Result<Input, InputError> {
    let mut input = Input::default();
    let read = |input: &mut Input, name: String, reader: &mut dyn Read, expected: u64| -> Result<(), InputError> {
        let left = options.max_total_bytes.saturating_sub(input.bytes);
        let (limit, which) = if left < options.max_file_bytes {
            (left, "for all files together")
        } else {
            (options.max_file_bytes, "per file")
        };
        let text = read_text(reader, &name, limit, expected).map_err(|e| match e {
            InputError::TooLarge { path, .. } => {
                let limit = if which == "per file" { options.max_file_bytes } else { options.max_total_bytes };
                InputError::TooLarge { path, limit, which }
            }
            other => other,
        })?;
        input.bytes += text.len() as u64;
        input.sources.push(Source::new(name, text));
        Ok(())
    };
    for path in paths {
        if path.as_os_str() == "-" {
            read(&mut input, "<stdin>".into(), &mut std::io::stdin().lock(), 0)?;
        } else if path.is_dir() {
            let walk = Walk::new(path)?;
            input.notes.extend(walk.notes);
            if walk.files.is_empty() {
                return Err(InputError::EmptyFolder { path: path.display().to_string() });
            }
            for file in walk.files {
                let name = file.display().to_string();
                let mut f = std::fs::File::open(&file).map_err(|error| InputError::Io { path: name.clone(), error })?;
                let expected = regular_len(&f);
                read(&mut input, name, &mut f, expected)?;
            }
        } else {
            let name = path.display().to_string();
            let mut f = std::fs::File::open(path).map_err(|error| InputError::Io { path: name.clone(), error })?;
            let expected = regular_len(&f);
            read(&mut input, name, &mut f, expected)?;
        }
    }
    Ok(input)
}

/// Reads one file of at most `max_bytes` bytes, refusing a non-regular file
/// (a FIFO, a device, a socket; links are followed): what a folder watcher
/// needs, where a FIFO would block and `/dev/zero` would never end.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<Source, InputError> {
    let name = path.display().to_string();
    let io = |error| InputError::Io { path: name.clone(), error };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let error = std::io::Error::new(std::io::ErrorKind::InvalidInput, walk::not_regular(&meta));
        return Err(InputError::Io { path: name, error });
    }
    let mut f = std::fs::File::open(path).map_err(io)?;
    let text = read_text(&mut f, &name, max_bytes, meta.len())?;
    Ok(Source::new(name, text))
}

/// The length of an open regular file; 0 for anything else (a FIFO, a device).
fn regular_len(f: &std::fs::File) -> u64 {
    f.metadata().ok().filter(|m| m.is_file()).map_or(0, |m| m.len())
}

/// Reads at most `limit` bytes of UTF-8 text: stops at the first byte over the
/// limit and at the first byte that cannot be UTF-8. `expected` is the size the
/// caller knows of (a regular file's length; 0 when unknown): the buffer is
/// allocated once at that size instead of doubling past it (a 600 MB file
/// would otherwise hold 1 GiB).
pub fn read_text(reader: &mut dyn Read, name: &str, limit: u64, expected: u64) -> Result<String, InputError> {
    const BLOCK: u64 = 64 * 1024;
    let too_large = || InputError::TooLarge { path: name.to_string(), limit, which: "per file" };
    let mut buf: Vec<u8> = Vec::with_capacity(usize::try_from(expected.min(limit)).unwrap_or(0));
    let mut checked = 0usize;
    loop {
        let n = loop {
            match (&mut *reader).take(BLOCK).read_to_end(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(InputError::Io { path: name.to_string(), error }),
            }
        };
        if n == 0 {
            break;
        }
        if buf.len() as u64 > limit {
            return Err(too_large());
        }
        match std::str::from_utf8(&buf[checked..]) {
            Ok(_) => checked = buf.len(),
            Err(e) if e.error_len().is_some() => return Err(InputError::NotUtf8 { path: name.to_string() }),
            Err(e) => checked += e.valid_up_to(),
        }
    }
    String::from_utf8(buf).map_err(|_| InputError::NotUtf8 { path: name.to_string() })
}

#[cfg(test)]
mod tests;

//! Writing results: stdout that tolerates a closed pipe, and the exit-code contract.

use std::io::Write;
use std::process::ExitCode;

/// What a command concluded, mapped to the documented exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0: clean, allowed, no disagreement.
    Clean,
    /// Exit 1: findings, denied, disagreement.
    Findings,
}

/// Writes `text` to stdout; a closed pipe is not an error.
pub fn print(text: &str) -> anyhow::Result<()> {
    stream(|out| out.write_all(text.as_bytes()))
}

/// Writes to stdout with `write`, then flushes; a closed pipe is [`BrokenPipe`].
pub fn stream(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(BrokenPipe.into()),
        Err(e) => Err(e.into()),
    }
}

/// Writes `text` to stderr, ignoring failures (diagnostics are best effort).
pub fn eprint(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[derive(Debug, thiserror::Error)]
#[error("broken pipe")]
struct BrokenPipe;

pub fn finish(result: anyhow::Result<Outcome>) -> ExitCode {
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) if e.is::<BrokenPipe>() => ExitCode::SUCCESS,
        Err(e) => {
            eprint(&format!("error: {e:#}\n"));
            ExitCode::from(2)
        }
    }
}

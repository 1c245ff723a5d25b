//! Running Graphviz: `dot -Tsvg`, DOT on its stdin, SVG on its stdout.

use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::Context as _;

/// The SVG Graphviz's `dot` (found on PATH) draws from `dot_text`.
pub fn svg(dot_text: &str) -> anyhow::Result<String> {
    let mut child = match Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "drawing SVG needs Graphviz's `dot`, which is not on PATH: install Graphviz (apt-get install graphviz), \
             or print DOT with -o dot"
        ),
        Err(e) => return Err(e).context("running Graphviz's `dot`"),
    };
    let mut stdin = child.stdin.take().expect("piped stdin");
    // Written from a thread: `dot` may fill its stdout before it has read all of its input.
    let input = dot_text.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().context("running Graphviz's `dot`")?;
    let written = writer.join().expect("the writer thread does not panic");
    if !out.status.success() {
        anyhow::bail!(
            "Graphviz's `dot -Tsvg` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    written.context("writing DOT to Graphviz's `dot`")?;
    String::from_utf8(out.stdout).context("Graphviz's `dot` wrote SVG that is not UTF-8")
}

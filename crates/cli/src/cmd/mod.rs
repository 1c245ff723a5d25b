//! One module per subcommand: `Args` (clap) and `run(Args) -> Result<Outcome>`,
//! plus the input handling every command shares.

use std::path::PathBuf;

use anyhow::Context as _;
use netpol_input::ReadOptions;
use netpol_manifest::{LoadOptions, Loaded, Severity};
use netpol_model::Cluster;

use crate::output::eprint;
use crate::progress::Progress;

pub mod agent;
pub mod check;
pub mod describe;
pub mod explain;
pub mod lab;
pub mod matrix;
pub mod render;
pub mod synth;
pub mod validate;

/// `-f PATH` (repeatable) and `--lenient`: what every command that reads manifests takes.
#[derive(clap::Args, Clone, Debug)]
pub struct InputArgs {
    /// Manifest file, folder (recursive: .yaml, .yml, .json) or `-` for stdin. Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
    /// Evaluate what the API server would store with field validation off: unknown
    /// fields become warnings and are dropped (objects the API server rejects stay out).
    #[arg(long)]
    pub lenient: bool,
    /// Refuse a file, stdin, or all input together, larger than this many bytes
    /// (default 1 GiB per file and 4 GiB in all; this sets both).
    #[arg(long, value_name = "BYTES")]
    pub max_input_bytes: Option<u64>,
}

/// Reads and validates the input without judging it (for `validate`).
pub fn read(input: &InputArgs) -> anyhow::Result<Loaded> {
    let limits = input.max_input_bytes.map_or_else(ReadOptions::default, ReadOptions::with_max_bytes);
    let read = netpol_input::read_inputs(&input.files, &limits).context("reading manifests")?;
    eprint(&read.notes.iter().map(|n| format!("note: {n}\n")).collect::<String>());
    let sources = read.sources;
    let options = LoadOptions { lenient: input.lenient };
    Ok(netpol_manifest::load(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())), &options))
}

/// Loads the cluster for a command that evaluates it: prints every diagnostic on
/// stderr; in strict mode, refuses input with errors.
pub fn load(input: &InputArgs) -> anyhow::Result<Cluster> {
    let progress = Progress::start("loading manifests");
    let loaded = read(input);
    progress.finish();
    let loaded = loaded?;
    print_diagnostics(&loaded);
    let errors = loaded.errors().count();
    if errors > 0 && !input.lenient {
        anyhow::bail!(
            "the input has {errors} error{}; fix {} (see `netpol validate`), or rerun with --lenient to \
             evaluate what the API server would store with validation off",
            plural(errors),
            if errors == 1 { "it" } else { "them" }
        );
    }
    // Under --lenient too: a NetworkPolicy left out would show the pairs it denies as allowed.
    if let Some(first) = loaded.refused.first() {
        let n = loaded.refused.len();
        let more = if n > 1 { format!(" and {} more", n - 1) } else { String::new() };
        anyhow::bail!(
            "{first}{more} could not be loaded (see the errors above): evaluating without {} would report \
             the connections {} denies as allowed; fix {}",
            if n == 1 { "it" } else { "them" },
            if n == 1 { "it" } else { "they" },
            if n == 1 { "it" } else { "them" },
        );
    }
    Ok(loaded.cluster)
}

/// Prints every diagnostic on stderr, in input order.
pub fn print_diagnostics(loaded: &Loaded) {
    let mut text = String::new();
    for d in &loaded.diagnostics {
        text.push_str(&d.to_string());
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    eprint(&text);
}

/// Counts of (errors, warnings) in a load.
pub fn counts(loaded: &Loaded) -> (usize, usize) {
    let errors = loaded.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = loaded.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
    (errors, warnings)
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

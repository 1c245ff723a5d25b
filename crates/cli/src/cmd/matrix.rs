//! `netpol matrix`: all-pairs reachability, from the compiled form (`netpol-matrix`),
//! printed by `netpol-print`.
//!
//! With `--port`: one truth table per (port, protocol). Without: for each pair,
//! every allowed connection over the whole port space. `--summary`: counts only,
//! for clusters too big to print. The JSON shapes are documented in docs/matrix.md.

use netpol_matrix::{Compiled, Options};
use netpol_model::Protocol;
use netpol_print::{MatrixView, Summary};

use crate::cmd::check::parse_protocol;
use crate::cmd::{load, InputArgs};
use crate::output::{print, Outcome};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Ports, comma-separated (`80,443`): one truth table per (port, protocol).
    /// Without it: every allowed connection of each pair, over the whole port space.
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..))]
    port: Vec<u16>,
    /// Protocols of the `--port` tables, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "TCP", value_parser = parse_protocol)]
    protocol: Vec<Protocol>,
    /// `table` (truth tables like the upstream e2e tests), `json`, `csv` or `md`.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    output: Format,
    /// Print counts only: pods, classes, and allowed ordered pairs per table (needs `--port`).
    #[arg(long)]
    summary: bool,
    /// Do not let ipBlock peers match pod IPs (as Cilium does); see `netpol check`.
    #[arg(long)]
    ipblock_ignores_pods: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Csv,
    Md,
}

impl From<Format> for netpol_print::Format {
    fn from(format: Format) -> Self {
        match format {
            Format::Table => netpol_print::Format::Table,
            Format::Json => netpol_print::Format::Json,
            Format::Csv => netpol_print::Format::Csv,
            Format::Md => netpol_print::Format::Md,
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if args.summary && args.port.is_empty() {
        anyhow::bail!("--summary counts allowed pairs per (port, protocol): give the ports with --port");
    }
    let cluster = load(&args.input)?;
    let progress =
        Progress::start(&format!("compiling {} pods, {} policies", cluster.pods.len(), cluster.policies.len()));
    let options = Options { ipblock_matches_pods: !args.ipblock_ignores_pods };
    let compiled = Compiled::build(&cluster, options);
    drop(cluster);
    let probes: Vec<(Protocol, u16)> =
        args.port.iter().flat_map(|&port| dedup(&args.protocol).into_iter().map(move |p| (p, port))).collect();
    let format = args.output.into();
    if args.summary {
        // Counted tile by tile: no table of classes x classes is built.
        progress.message(format!("counting allowed pairs over {} classes", compiled.classes()));
        let text = Summary::new(&compiled, &probes).print(format);
        progress.finish();
        print(&text)?;
        return Ok(Outcome::Clean);
    }
    if probes.is_empty() {
        // N x (N - 1) lines: written as they are computed, never held whole.
        progress.finish();
        let view = MatrixView::new(&compiled);
        crate::output::stream(|out| netpol_print::write_connections(&view, format, out))?;
        return Ok(Outcome::Clean);
    }
    let mut tables = Vec::new();
    for &(protocol, port) in &probes {
        progress.message(format!("computing {port}/{protocol} over {} classes", compiled.classes()));
        tables.push(compiled.port_table(protocol, port));
    }
    progress.finish();
    let text = netpol_print::truth_tables(&MatrixView::new(&compiled), &tables, format, terminal_width());
    print(&text)?;
    Ok(Outcome::Clean)
}

fn dedup(protocols: &[Protocol]) -> Vec<Protocol> {
    let mut out: Vec<Protocol> = Vec::new();
    for p in protocols {
        if !out.contains(p) {
            out.push(*p);
        }
    }
    out
}

/// `COLUMNS`, else the terminal's width, else 120.
fn terminal_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return cols;
    }
    console::Term::stdout().size_checked().map(|(_, cols)| usize::from(cols)).unwrap_or(120)
}

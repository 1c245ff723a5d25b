//! `netpol lint`: what a reviewer wants to know beyond validation (selectors
//! that match nothing, policies and rules that change nothing, exposure,
//! plugin-dependent ipBlocks, ...). The checks are `netpol_lint::lint`; the
//! printing `netpol_print::findings`. Exit 0 clean, 1 on an error (or on a
//! warning with `--strict`), 2 could not run.

use netpol_lint::{Input, Locate, NoPositions, Options, LOADER_CODES};
use netpol_manifest::api::Live;
use netpol_manifest::overlay::overlay;
use netpol_manifest::{Diagnostic, LoadOptions, Locator, Severity};
use netpol_model::Cluster;
use netpol_print::{FindingsFormat, Tool};

use crate::cmd::{load_input, read_sources, refuse, wants_cluster, InputArgs};
use crate::output::{eprint, print, Outcome};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// `text` (file:line:col: warning[NPxxxx]: message), `json` (a list of
    /// {code, severity, file, line, column, message, help}) or `sarif` (SARIF 2.1.0).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Format,
    /// Exit 1 on warnings too (not on notes).
    #[arg(long)]
    strict: bool,
    /// Do not let ipBlock peers match pod IPs (as Cilium does); see `netpol check`.
    #[arg(long)]
    ipblock_ignores_pods: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
    Sarif,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let options = Options { ipblock_matches_pods: !args.ipblock_ignores_pods };
    let findings = if args.input.files.is_empty() || wants_cluster(&args.input) {
        // A live cluster (with the files applied on top): no text to point into.
        let cluster = load_input(&args.input)?.cluster;
        crate::cmd::v1_only(&cluster, "lint")?;
        run_lint(&cluster, &[], &NoPositions, options)
    } else {
        let sources = read_sources(&args.input)?;
        let sources: Vec<(&str, &str)> = sources.iter().map(|s| (s.name.as_str(), s.text.as_str())).collect();
        let progress = Progress::start("loading manifests");
        let loaded = netpol_manifest::load(
            sources.iter().copied(),
            &LoadOptions { lenient: args.input.lenient, ..LoadOptions::default() },
        );
        progress.finish();
        // What lint does not report itself goes to stderr, as every command prints it.
        let rest: String =
            loaded.diagnostics.iter().filter(|d| !LOADER_CODES.contains(&d.code)).map(|d| format!("{d}\n")).collect();
        eprint(&rest);
        refuse(&loaded, args.input.lenient)?;
        let live = Live { owners: vec![None; loaded.cluster.pods.len()], cluster: loaded.cluster, notes: Vec::new() };
        let cluster = overlay(live, Cluster::default(), &args.input.without)?;
        run_lint(&cluster, &loaded.diagnostics, &Locator::new(sources.iter().copied()), options)
    };
    let format = match args.output {
        Format::Text => FindingsFormat::Text,
        Format::Json => FindingsFormat::Json,
        Format::Sarif => FindingsFormat::Sarif,
    };
    let rules: Vec<_> = netpol_manifest::codes()
        .iter()
        .filter(|c| LOADER_CODES.contains(&c.code))
        .chain(netpol_lint::codes())
        .copied()
        .collect();
    let tool = Tool { name: "netpol", version: env!("CARGO_PKG_VERSION"), docs: "docs/lint.md" };
    print(&netpol_print::findings(&findings, &rules, &tool, format))?;
    let fails =
        findings.iter().any(|d| d.severity == Severity::Error || (args.strict && d.severity == Severity::Warning));
    Ok(if fails { Outcome::Findings } else { Outcome::Clean })
}

fn run_lint(cluster: &Cluster, loaded: &[Diagnostic], locate: &dyn Locate, options: Options) -> Vec<Diagnostic> {
    if cluster.pods.is_empty() {
        eprint("note: the input has no pods: the checks that need pods (NP0101-NP0106, NP0108-NP0110, NP0114) were skipped\n");
    }
    let progress =
        Progress::start(&format!("linting {} policies over {} pods", cluster.policies.len(), cluster.pods.len()));
    let findings = netpol_lint::lint(&Input { cluster, loaded, locate, options });
    progress.finish();
    findings.into_iter().map(|f| f.diagnostic).collect()
}

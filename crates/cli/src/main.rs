//! `netpol`: the command line. Argument parsing and output only; every answer
//! comes from the library crates.
//!
//! Exit codes (a contract): 0 clean/allowed, 1 findings/denied/disagreement,
//! 2 could not run. A closed stdout (broken pipe) exits 0.
//!
//! Also a kubectl plugin: installed (or symlinked) as `kubectl-netpol` on PATH,
//! `kubectl netpol ...` runs it, and its usage text says `kubectl netpol`.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

mod cmd;
mod graphviz;
mod logs;
mod output;
mod progress;

#[derive(Parser)]
#[command(name = "netpol", version, about = "Kubernetes NetworkPolicy: validate, explain, compute and enforce")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate manifests like the API server and `kubectl apply --validate=strict`.
    Validate(cmd::validate::Args),
    /// Can A reach B on this port, and why?
    Check(cmd::check::Args),
    /// All-pairs reachability as a truth table.
    Matrix(cmd::matrix::Args),
    /// Findings for a reviewer: selectors that match nothing, rules that change nothing, exposure.
    Lint(cmd::lint::Args),
    /// Which pairs gain or lose connections between OLD and NEW (or live and -f), and why.
    Diff(cmd::diff::Args),
    /// What could reach a pod (or what it could reach) beyond the pods that exist: as selectors.
    Exposure(cmd::exposure::Args),
    /// Draw who may connect to whom: DOT, SVG, Mermaid, or an HTML page with explanations.
    Graph(cmd::graph::Args),
    /// `kubectl describe networkpolicy`, plus the pods each selector matches now.
    Describe(cmd::describe::Args),
    /// `kubectl get networkpolicies`, with `-o wide` the pods each one selects.
    Get(cmd::get::Args),
    /// Create an object: `create networkpolicy NAME --pod-selector k=v --policy-types Ingress,Egress`.
    Create(cmd::create::Args),
    /// `kubectl explain` for NetworkPolicy fields, offline (networking.k8s.io/v1).
    Explain(cmd::explain::Args),
    /// Print Calico policies (v1 `calicoctl` files or v3) as the projectcalico.org/v3 objects netpol reads.
    Convert(cmd::convert::Args),
    /// Generate a seeded, realistic synthetic cluster as manifests (for benchmarks).
    Synth(cmd::synth::Args),
    /// Print the nftables script that enforces the policies on a node.
    Render(cmd::render::Args),
    /// Watch a folder of manifests and enforce it with nftables.
    Agent(cmd::agent::Args),
    /// A local lab: pods as network namespaces, real connections.
    Lab(cmd::lab::Args),
    /// Print a shell completion script (bash, zsh, fish, ...).
    Completions(cmd::completions::Args),
}

/// The name to show in usage text: `kubectl netpol` when run as a kubectl
/// plugin (argv[0] is `kubectl-netpol`), else clap's default (argv[0]'s file name).
fn bin_name() -> Option<&'static str> {
    let argv0 = std::env::args_os().next()?;
    let file = std::path::Path::new(&argv0).file_name()?.to_str()?;
    let stem = file.strip_suffix(".exe").unwrap_or(file);
    (stem == "kubectl-netpol").then_some("kubectl netpol")
}

fn parse() -> Cli {
    let mut command = Cli::command();
    if let Some(name) = bin_name() {
        command = command.bin_name(name);
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// Loading builds millions of small trees and strings: mimalloc is about a
/// quarter faster at it than the system allocator (benches/RESULTS.md, issue 12).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = parse();
    let result = match cli.command {
        Command::Create(args) => cmd::create::run(args),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Matrix(args) => cmd::matrix::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Exposure(args) => cmd::exposure::run(args),
        Command::Graph(args) => cmd::graph::run(args),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Describe(args) => cmd::describe::run(args),
        Command::Get(args) => cmd::get::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Convert(args) => cmd::convert::run(args),
        Command::Synth(args) => cmd::synth::run(args),
        Command::Render(args) => cmd::render::run(args),
        Command::Agent(args) => cmd::agent::run(args),
        Command::Lab(args) => cmd::lab::run(args),
        Command::Completions(args) => cmd::completions::run(args),
    };
    output::finish(result)
}

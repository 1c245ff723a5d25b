//! `netpol`: the command line. Argument parsing and output only; every answer
//! comes from the library crates.
//!
//! Exit codes (a contract): 0 clean/allowed, 1 findings/denied/disagreement,
//! 2 could not run. A closed stdout (broken pipe) exits 0.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
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
    /// `kubectl describe networkpolicy`, plus the pods each selector matches now.
    Describe(cmd::describe::Args),
    /// `kubectl explain` for NetworkPolicy fields, offline (networking.k8s.io/v1).
    Explain(cmd::explain::Args),
    /// Generate a seeded, realistic synthetic cluster as manifests (for benchmarks).
    Synth(cmd::synth::Args),
    /// Print the nftables script that enforces the policies on a node.
    Render(cmd::render::Args),
    /// Watch a folder of manifests and enforce it with nftables.
    Agent(cmd::agent::Args),
    /// A local lab: pods as network namespaces, real connections.
    Lab(cmd::lab::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => cmd::validate::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Matrix(args) => cmd::matrix::run(args),
        Command::Describe(args) => cmd::describe::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Synth(args) => cmd::synth::run(args),
        Command::Render(args) => cmd::render::run(args),
        Command::Agent(args) => cmd::agent::run(args),
        Command::Lab(args) => cmd::lab::run(args),
    };
    output::finish(result)
}

//! `netpol completions SHELL`: the shell completion script (clap_complete), on stdout.

use clap::CommandFactory as _;

use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut command = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "netpol", &mut script);
    print(&String::from_utf8(script)?)?;
    Ok(Outcome::Clean)
}

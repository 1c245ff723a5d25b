//! `netpol render`: print the nftables script that enforces the policies on a
//! node (every pod when no node is given). Applying it is `netpol agent`'s job
//! (or `netpol render ... | nft -f -`).

use ipnet::IpNet;
use netpol_nft::RenderOptions;

use crate::cmd::{load, InputArgs};
use crate::output::{eprint, print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Only the pods scheduled on this node (`spec.nodeName`); default: every pod.
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// This node's pod address range (repeatable): an address inside it that is no
    /// known pod is dropped (fail closed). Default: none, unknown addresses pass.
    #[arg(long = "pod-cidr", value_name = "CIDR")]
    pod_cidrs: Vec<IpNet>,
    /// Do not filter pods' egress to the node itself (the `input` hook).
    #[arg(long)]
    no_input_hook: bool,
    /// Print the ruleset's size (chains, rules, sets, elements) on stderr.
    #[arg(long)]
    stats: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let cluster = load(&args.input)?;
    let options = RenderOptions { node: args.node, pod_cidrs: args.pod_cidrs, filter_to_node: !args.no_input_hook };
    let ruleset = netpol_nft::render(&cluster, &options);
    for warning in &ruleset.warnings {
        eprint(&format!("warning: {warning}\n"));
    }
    let script = ruleset.script();
    if args.stats {
        eprint(&format!("{}, {} bytes\n", ruleset.stats(), script.len()));
    }
    print(&script)?;
    Ok(Outcome::Clean)
}

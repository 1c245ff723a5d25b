//! `netpol describe`: the text `kubectl describe networkpolicy` prints, then the
//! pods each selector matches now (printed by `netpol_print::describe_policies`).

use netpol_model::{Cluster, NetworkPolicy};

use crate::cmd::{load, InputArgs};
use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// NAMESPACE/NAME, or NAME in namespace `default`; every policy when omitted.
    policy: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let cluster = load(&args.input)?;
    let wanted: Vec<&NetworkPolicy> = match &args.policy {
        None => cluster.policies.iter().collect(),
        Some(spec) => {
            let (ns, name) = spec.split_once('/').unwrap_or(("default", spec.as_str()));
            match cluster.policy(ns, name) {
                Some(p) => vec![p],
                None => anyhow::bail!(
                    "networkpolicy {ns}/{name} not found in the input (policies: {})",
                    policy_names(&cluster)
                ),
            }
        }
    };
    print(&netpol_print::describe_policies(&cluster, &wanted))?;
    Ok(Outcome::Clean)
}

fn policy_names(cluster: &Cluster) -> String {
    let names: Vec<String> = cluster.policies.iter().map(NetworkPolicy::key).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

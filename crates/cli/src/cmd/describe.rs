//! `netpol describe`: the text `kubectl describe networkpolicy` prints, then the
//! pods each selector matches now (printed by `netpol_print::describe_policies`).

use netpol_model::{Cluster, NetworkPolicy};

use crate::cmd::{is_network_policy_resource, load_input, InputArgs, ScopeArgs};
use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    scope: ScopeArgs,
    /// `[networkpolicy] [NAME|NAMESPACE/NAME]`, as kubectl takes them (the
    /// resource word is optional: networkpolicy, networkpolicies, netpol). NAME
    /// is in the namespace of -n, or the context's, else `default`; every
    /// policy in scope when omitted.
    #[arg(value_name = "[RESOURCE] [NAME]", num_args = 0..=2)]
    targets: Vec<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let input = load_input(&args.input)?;
    let cluster = input.cluster;
    let scope = args.scope.namespace(input.context_namespace.as_deref());
    let mut targets = args.targets.as_slice();
    if targets.len() == 2 || targets.first().is_some_and(|t| is_network_policy_resource(t)) {
        if !is_network_policy_resource(&targets[0]) {
            anyhow::bail!("netpol describes networkpolicies (networkpolicy, netpol), not `{}`", targets[0]);
        }
        targets = &targets[1..];
    }
    let wanted: Vec<&NetworkPolicy> = match targets.first() {
        None => cluster.policies.iter().filter(|p| scope.is_none_or(|ns| p.namespace == ns)).collect(),
        Some(spec) => {
            let (ns, name) = spec.split_once('/').unwrap_or((scope.unwrap_or("default"), spec.as_str()));
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

//! Rules open to the whole cluster or to any address (NP0111-NP0113), and
//! ipBlocks that contain pod or node addresses (NP0114), whose effect depends
//! on the network plugin (`ipblock_matches_pods`, docs/semantics.md "ipBlock").

use netpol_model::{Direction, IpBlock, NetworkPolicy, Peer, Rule};

use crate::codes::{EGRESS_TO_EVERYONE, IPBLOCK_COVERS_PODS, OPEN_TO_CLUSTER, OPEN_TO_EVERYONE};
use crate::context::{rule_name, rule_target, some_of, Context};
use crate::Finding;

pub(crate) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for policy in &cx.cluster.policies {
        for (direction, index, rule) in Context::rules(policy) {
            open(cx, policy, direction, index, rule, out);
            for (j, peer) in rule.peers.iter().enumerate() {
                if let Peer::IpBlock(block) = peer {
                    covers_pods(cx, policy, direction, index, j, block, out);
                }
            }
        }
    }
}

fn ports_text(rule: &Rule) -> String {
    if rule.ports.is_empty() {
        "on every port".to_string()
    } else {
        let ports: Vec<String> = rule.ports.iter().map(ToString::to_string).collect();
        format!("on {}", ports.join(", "))
    }
}

fn open(
    cx: &Context<'_>,
    policy: &NetworkPolicy,
    direction: Direction,
    index: usize,
    rule: &Rule,
    out: &mut Vec<Finding>,
) {
    let name = rule_name(policy, direction, index);
    let ports = ports_text(rule);
    let target = || rule_target(policy, direction, index);
    let (key, code_all, code_cluster) = match direction {
        Direction::Ingress => ("from", OPEN_TO_EVERYONE, OPEN_TO_CLUSTER),
        Direction::Egress => ("to", EGRESS_TO_EVERYONE, EGRESS_TO_EVERYONE),
    };
    let (verb, whom) = match direction {
        Direction::Ingress => ("admits connections", "from"),
        Direction::Egress => ("allows egress", "to"),
    };
    if rule.peers.is_empty() {
        let message = format!(
            "{name} {verb} {whom} any address, every pod of every namespace and the internet, {ports} (`{key}` is missing or empty)"
        );
        let help = format!("list in `{key}:` the peers that need it: a rule without `{key}` matches everyone");
        out.push(cx.finding(code_all, cx.rule_field_at(policy, direction, index, ""), message, help, target()));
        return;
    }
    for (j, peer) in rule.peers.iter().enumerate() {
        let at = cx.rule_field_at(policy, direction, index, &format!("{key}[{j}]"));
        match peer {
            Peer::IpBlock(block) if block.cidr.prefix_len() == 0 => {
                let except = if block.except.is_empty() { String::new() } else { " but the except blocks".into() };
                let message = format!(
                    "{name} {verb} {whom} every address{except} (ipBlock {block}), {ports}: the internet included"
                );
                let help = "narrow the ipBlock to the addresses that need it (and `except:` the cluster's pod and node CIDRs to keep the rule outside the cluster)";
                out.push(cx.finding(code_all, at, message, help, target()));
            }
            Peer::Pods { pod_selector, namespace_selector: Some(ns) }
                if ns.is_empty() && pod_selector.as_ref().is_none_or(|p| p.is_empty()) =>
            {
                let message =
                    format!("{name} {verb} {whom} every pod of every namespace (namespaceSelector {{}}), {ports}");
                let help = "select the namespaces that need it (e.g. `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: NAME}}`) and the pods (`podSelector`)";
                out.push(cx.finding(code_cluster, at, message, help, target()));
            }
            _ => {}
        }
    }
}

fn covers_pods(
    cx: &Context<'_>,
    policy: &NetworkPolicy,
    direction: Direction,
    index: usize,
    j: usize,
    block: &IpBlock,
    out: &mut Vec<Finding>,
) {
    let mut pods = Vec::new();
    let mut nodes = Vec::new();
    for pod in &cx.cluster.pods {
        for ip in pod.ips.iter().filter(|ip| block.contains(**ip)) {
            let entry = format!("{} ({ip})", pod.key());
            if pod.host_network {
                nodes.push(entry);
            } else {
                pods.push(entry);
            }
        }
    }
    if pods.is_empty() && nodes.is_empty() {
        return;
    }
    let mut parts = Vec::new();
    if !pods.is_empty() {
        let effect = if cx.options.ipblock_matches_pods {
            "with `ipblock_matches_pods` on (netpol's default, as the upstream e2e tests expect) it matches them whatever their labels; plugins that ignore pod IPs in ipBlocks (Cilium; `--ipblock-ignores-pods`) do not"
        } else {
            "with `--ipblock-ignores-pods` (`ipblock_matches_pods` off, as Cilium) it does not match them; plugins that match pod IPs (netpol's default, the upstream e2e tests) do"
        };
        parts.push(format!("the IPs of pods {}: {effect}", some_of(&pods)));
    }
    if !nodes.is_empty() {
        parts.push(format!(
            "the node addresses of hostNetwork pods {}: node traffic, which it matches under either setting",
            some_of(&nodes)
        ));
    }
    let message =
        format!("ipBlock {block} in {} contains {}", rule_name(policy, direction, index), parts.join("; and "));
    let help = "select pods with podSelector/namespaceSelector, and keep ipBlocks to addresses outside the cluster (`except:` the pod and node CIDRs)";
    let at = cx.rule_field_at(policy, direction, index, &format!("{}[{j}].ipBlock", direction.peers_key()));
    out.push(cx.finding(IPBLOCK_COVERS_PODS, at, message, help, rule_target(policy, direction, index)));
}

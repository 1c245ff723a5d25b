//! "Which pods does this selector match now?" — the part of `describe` that
//! kubectl cannot print because it does not look at pods.

use std::fmt::Write as _;

use netpol_engine::{Engine, Options};
use netpol_model::{Cluster, Direction, NetworkPolicy, PodKey};

/// The pods each selector of `policy` matches in `cluster`, as an indented block.
pub fn describe_matches(cluster: &Cluster, policy: &NetworkPolicy) -> String {
    let engine = Engine::new(cluster, Options::default());
    let mut out = String::from("Matches now (netpol):\n");
    let _ = writeln!(out, "  PodSelector ({}): {}", policy.pod_selector, list(engine.subjects(policy)));
    for direction in Direction::ALL {
        for (r, rule) in policy.rules(direction).iter().enumerate() {
            if rule.peers.is_empty() {
                let _ = writeln!(out, "  {}[{r}] {}: <any>", direction.rules_key(), direction.peers_key());
            }
            for (p, peer) in rule.peers.iter().enumerate() {
                let pods = engine.peer_pods(policy, peer);
                let _ =
                    writeln!(out, "  {}[{r}] {}[{p}]: {}", direction.rules_key(), direction.peers_key(), list(pods));
            }
        }
    }
    out
}

fn list(pods: Vec<PodKey>) -> String {
    if pods.is_empty() {
        return "<no pods>".to_string();
    }
    pods.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

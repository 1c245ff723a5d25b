//! `netpol describe`: the text `kubectl describe networkpolicy` prints (from
//! kubectl's `describeNetworkPolicy`), then the pods each selector matches now,
//! which kubectl cannot print because it does not look at pods.

use std::fmt::Write as _;

use netpol_engine::{Engine, Options};
use netpol_model::{Cluster, Direction, NetworkPolicy, Peer, PodKey, Rule};

/// Each of `policies` described (kubectl's text, then [`matches`]), separated by
/// a blank line; a note when there is none.
pub fn describe_policies(cluster: &Cluster, policies: &[&NetworkPolicy]) -> String {
    let mut out = String::new();
    for (i, policy) in policies.iter().enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        out.push_str(&describe(policy));
        out.push_str(&matches(cluster, policy));
    }
    if policies.is_empty() {
        out.push_str("No resources found: the input declares no NetworkPolicy.\n");
    }
    out
}

/// The pods each selector of `policy` matches in `cluster`, as an indented block.
pub fn matches(cluster: &Cluster, policy: &NetworkPolicy) -> String {
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

/// kubectl's text for one policy.
pub fn describe(policy: &NetworkPolicy) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "Name:\t{}", policy.name);
    let _ = writeln!(head, "Namespace:\t{}", policy.namespace);
    let created = policy.meta.creation_timestamp.as_deref().map_or_else(|| "<unset>".to_string(), go_time);
    let _ = writeln!(head, "Created on:\t{created}");
    multiline(&mut head, "Labels", policy.meta.labels.iter().map(|(k, v)| format!("{k}={v}")));
    multiline(
        &mut head,
        "Annotations",
        policy
            .meta
            .annotations
            .iter()
            .filter(|(k, _)| *k != "kubectl.kubernetes.io/last-applied-configuration")
            .map(|(k, v)| format!("{k}: {v}")),
    );
    let mut out = tabwrite(&head);
    out.push_str("Spec:\n");
    out.push_str("  PodSelector: ");
    if policy.pod_selector.is_empty() {
        out.push_str("    <none> (Allowing the specific traffic to all pods in this namespace)\n");
    } else {
        let _ = writeln!(out, "    {}", policy.pod_selector);
    }
    for direction in Direction::ALL {
        let (verb, what) = match direction {
            Direction::Ingress => ("ingress", "From"),
            Direction::Egress => ("egress", "To"),
        };
        if policy.affects(direction) {
            let _ = writeln!(out, "  Allowing {verb} traffic:");
            rules(&mut out, policy.rules(direction), direction, what);
        } else {
            let _ = writeln!(out, "  Not affecting {verb} traffic");
        }
    }
    let types: Vec<&str> = policy.policy_types.iter().map(|d| d.as_str()).collect();
    let _ = writeln!(out, "  Policy Types: {}", types.join(", "));
    out
}

fn rules(out: &mut String, rules: &[Rule], direction: Direction, what: &str) {
    const INDENT: &str = "    ";
    if rules.is_empty() {
        let _ = writeln!(out, "{INDENT}<none> (Selected pods are isolated for {} connectivity)", direction.rules_key());
        return;
    }
    for (i, rule) in rules.iter().enumerate() {
        if rule.ports.is_empty() {
            let _ = writeln!(out, "{INDENT}To Port: <any> (traffic allowed to all ports)");
        }
        for port in &rule.ports {
            let number = port.port.as_ref().map_or_else(|| "<nil>".to_string(), ToString::to_string);
            match port.end_port {
                Some(end) => {
                    let _ = writeln!(out, "{INDENT}To Port: {number}-{end}/{}", port.protocol);
                }
                None => {
                    let _ = writeln!(out, "{INDENT}To Port: {number}/{}", port.protocol);
                }
            }
        }
        if rule.peers.is_empty() {
            let not_restricted = match direction {
                Direction::Ingress => "source",
                Direction::Egress => "destination",
            };
            let _ = writeln!(out, "{INDENT}{what}: <any> (traffic not restricted by {not_restricted})");
        }
        for peer in &rule.peers {
            let _ = writeln!(out, "{INDENT}{what}:");
            match peer {
                Peer::Pods { pod_selector, namespace_selector } => {
                    if let Some(ns) = namespace_selector {
                        let _ = writeln!(out, "{INDENT}  NamespaceSelector: {ns}");
                    }
                    if let Some(pods) = pod_selector {
                        let _ = writeln!(out, "{INDENT}  PodSelector: {pods}");
                    }
                }
                Peer::IpBlock(block) => {
                    let except: Vec<String> = block.except.iter().map(ToString::to_string).collect();
                    let _ = writeln!(out, "{INDENT}  IPBlock:");
                    let _ = writeln!(out, "{INDENT}    CIDR: {}", block.cidr);
                    let _ = writeln!(out, "{INDENT}    Except: {}", except.join(", "));
                }
            }
        }
        if i + 1 != rules.len() {
            let _ = writeln!(out, "{INDENT}----------");
        }
    }
}

/// kubectl's `printLabelsMultiline`: `Title:\t<none>` or one `key=value` per line.
fn multiline(out: &mut String, title: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        let _ = writeln!(out, "{title}:\t<none>");
        return;
    }
    for (i, item) in items.iter().enumerate() {
        if i == 0 {
            let _ = writeln!(out, "{title}:\t{item}");
        } else {
            let _ = writeln!(out, "\t{item}");
        }
    }
}

/// Go's `text/tabwriter` as kubectl configures it (padding 2, spaces) for one column:
/// consecutive lines holding a tab have their first cell padded to a common width.
fn tabwrite(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].contains('\t') {
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
            continue;
        }
        let end = (i..lines.len()).find(|&j| !lines[j].contains('\t')).unwrap_or(lines.len());
        let width = lines[i..end].iter().map(|l| l.split('\t').next().unwrap_or("").chars().count()).max().unwrap_or(0);
        for line in &lines[i..end] {
            let (cell, rest) = line.split_once('\t').unwrap_or((line, ""));
            let _ = writeln!(out, "{cell:<w$}{rest}", w = width + 2);
        }
        i = end;
    }
    out
}

/// RFC 3339 (`2026-01-07T21:16:54Z`) as Go's `time.Time.String()` prints it in UTC.
fn go_time(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z').and_then(|t| t.split_once('T')) {
        Some((date, time)) => format!("{date} {time} +0000 UTC"),
        None => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabwriter_aligns_first_column() {
        let got = tabwrite("Name:\ta\nAnnotations:\tb\n\tc\nSpec:\n");
        assert_eq!(got, "Name:         a\nAnnotations:  b\n              c\nSpec:\n");
    }

    #[test]
    fn go_time_formats_utc() {
        assert_eq!(go_time("2026-01-07T21:16:54Z"), "2026-01-07 21:16:54 +0000 UTC");
    }
}

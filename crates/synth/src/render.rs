//! Model -> Kubernetes YAML, as `kubectl get -o yaml` would show the objects
//! (only the fields netpol reads, plus what the API server requires).

use std::fmt::Write as _;

use netpol_model::{
    Direction, IpBlock, LabelSelector, Labels, Namespace, NetworkPolicy, Operator, Peer, Pod, PolicyPort, PortRef,
    WorkloadKind, METADATA_NAME_LABEL,
};

/// A YAML scalar, quoted when YAML would read it as something else than this string.
pub(crate) fn scalar(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
        && !s.starts_with(['-', '.'])
        && s.parse::<f64>().is_err()
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
        );
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn labels(out: &mut String, indent: usize, key: &str, labels: &Labels) {
    let pad = " ".repeat(indent);
    if labels.is_empty() {
        let _ = writeln!(out, "{pad}{key}: {{}}");
        return;
    }
    let _ = writeln!(out, "{pad}{key}:");
    for (k, v) in labels.iter() {
        let _ = writeln!(out, "{pad}  {}: {}", scalar(k), scalar(v));
    }
}

pub(crate) fn selector(out: &mut String, indent: usize, key: &str, sel: &LabelSelector) {
    let pad = " ".repeat(indent);
    if sel.is_empty() {
        let _ = writeln!(out, "{pad}{key}: {{}}");
        return;
    }
    let _ = writeln!(out, "{pad}{key}:");
    if !sel.match_labels.is_empty() {
        labels(out, indent + 2, "matchLabels", &sel.match_labels);
    }
    if !sel.match_expressions.is_empty() {
        let _ = writeln!(out, "{pad}  matchExpressions:");
        for r in &sel.match_expressions {
            let _ = writeln!(out, "{pad}  - key: {}", scalar(&r.key));
            let _ = writeln!(out, "{pad}    operator: {}", r.operator.as_str());
            if matches!(r.operator, Operator::In | Operator::NotIn) {
                let values: Vec<String> = r.values.iter().map(|v| scalar(v)).collect();
                let _ = writeln!(out, "{pad}    values: [{}]", values.join(", "));
            }
        }
    }
}

/// A `Namespace` document (without the leading `---`).
pub fn namespace(ns: &Namespace) -> String {
    let mut out = String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n");
    let _ = writeln!(out, "  name: {}", scalar(&ns.name));
    let mut own = ns.labels.clone();
    own.remove(METADATA_NAME_LABEL); // the API server sets it
    if !own.is_empty() {
        labels(&mut out, 2, "labels", &own);
    }
    out
}

/// A `Pod` document (labels, container ports, hostNetwork, node and IPs), or for
/// a workload endpoint, the workload with that pod template.
pub fn pod(pod: &Pod) -> String {
    if pod.kind != WorkloadKind::Pod {
        return workload(pod);
    }
    let mut out = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n");
    let _ = writeln!(out, "  name: {}", scalar(&pod.name));
    let _ = writeln!(out, "  namespace: {}", scalar(&pod.namespace));
    if !pod.labels.is_empty() {
        labels(&mut out, 2, "labels", &pod.labels);
    }
    out.push_str("spec:\n");
    pod_spec(&mut out, 2, pod);
    if let Some(first) = pod.ips.first() {
        let _ = writeln!(out, "status:\n  podIP: {first}\n  podIPs:");
        for ip in &pod.ips {
            let _ = writeln!(out, "  - ip: {ip}");
        }
    }
    out
}

fn pod_spec(out: &mut String, indent: usize, pod: &Pod) {
    let pad = " ".repeat(indent);
    if let Some(node) = &pod.node {
        let _ = writeln!(out, "{pad}nodeName: {}", scalar(node));
    }
    if pod.host_network {
        let _ = writeln!(out, "{pad}hostNetwork: true");
    }
    let _ = writeln!(out, "{pad}containers:\n{pad}- name: main\n{pad}  image: registry.example/app:1.0");
    if !pod.ports.is_empty() {
        let _ = writeln!(out, "{pad}  ports:");
        for p in &pod.ports {
            let _ = writeln!(out, "{pad}  - containerPort: {}", p.port);
            if let Some(name) = &p.name {
                let _ = writeln!(out, "{pad}    name: {}", scalar(name));
            }
            let _ = writeln!(out, "{pad}    protocol: {}", p.protocol);
        }
    }
}

/// A Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob whose pod template is `pod`.
fn workload(pod: &Pod) -> String {
    let api = match pod.kind {
        WorkloadKind::Job | WorkloadKind::CronJob => "batch/v1",
        _ => "apps/v1",
    };
    let mut out = format!("apiVersion: {api}\nkind: {}\nmetadata:\n", pod.kind.as_str());
    let _ = writeln!(out, "  name: {}", scalar(&pod.name));
    let _ = writeln!(out, "  namespace: {}", scalar(&pod.namespace));
    out.push_str("spec:\n");
    let mut indent = 2;
    if pod.kind == WorkloadKind::CronJob {
        out.push_str("  schedule: \"0 * * * *\"\n  jobTemplate:\n    spec:\n");
        indent = 6;
    }
    let pad = " ".repeat(indent);
    if !matches!(pod.kind, WorkloadKind::Job | WorkloadKind::CronJob) {
        let sel = LabelSelector { match_labels: pod.labels.clone(), match_expressions: Vec::new() };
        selector(&mut out, indent, "selector", &sel);
    }
    if pod.kind == WorkloadKind::StatefulSet {
        let _ = writeln!(out, "{pad}serviceName: {}", scalar(&pod.name));
    }
    let _ = writeln!(out, "{pad}template:\n{pad}  metadata:");
    labels(&mut out, indent + 4, "labels", &pod.labels);
    let _ = writeln!(out, "{pad}  spec:");
    if matches!(pod.kind, WorkloadKind::Job | WorkloadKind::CronJob) {
        let _ = writeln!(out, "{pad}    restartPolicy: Never");
    }
    pod_spec(&mut out, indent + 4, pod);
    out
}

fn ip_block(out: &mut String, pad: &str, block: &IpBlock) {
    let _ = writeln!(out, "{pad}- ipBlock:\n{pad}    cidr: {}", block.cidr);
    if !block.except.is_empty() {
        let _ = writeln!(out, "{pad}    except:");
        for e in &block.except {
            let _ = writeln!(out, "{pad}    - {e}");
        }
    }
}

fn port(out: &mut String, pad: &str, p: &PolicyPort) {
    let _ = writeln!(out, "{pad}- protocol: {}", p.protocol);
    match &p.port {
        Some(PortRef::Number(n)) => {
            let _ = writeln!(out, "{pad}  port: {n}");
        }
        Some(PortRef::Name(name)) => {
            let _ = writeln!(out, "{pad}  port: {}", scalar(name));
        }
        None => {}
    }
    if let Some(end) = p.end_port {
        let _ = writeln!(out, "{pad}  endPort: {end}");
    }
}

/// A `networking.k8s.io/v1` `NetworkPolicy` document, `policyTypes` always explicit.
pub fn policy(policy: &NetworkPolicy) -> String {
    let mut out = String::from("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n");
    let _ = writeln!(out, "  name: {}", scalar(&policy.name));
    let _ = writeln!(out, "  namespace: {}", scalar(&policy.namespace));
    out.push_str("spec:\n");
    selector(&mut out, 2, "podSelector", &policy.pod_selector);
    out.push_str("  policyTypes:\n");
    for d in &policy.policy_types {
        let _ = writeln!(out, "  - {d}");
    }
    for direction in Direction::ALL {
        let rules = policy.rules(direction);
        if rules.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {}:", direction.rules_key());
        for rule in rules {
            let mut first = true;
            let mut lead = |out: &mut String| {
                out.push_str(if first { "  - " } else { "    " });
                first = false;
            };
            if rule.peers.is_empty() && rule.ports.is_empty() {
                out.push_str("  - {}\n");
                continue;
            }
            if !rule.peers.is_empty() {
                lead(&mut out);
                let _ = writeln!(out, "{}:", direction.peers_key());
                for peer in &rule.peers {
                    match peer {
                        Peer::IpBlock(block) => ip_block(&mut out, "    ", block),
                        Peer::Pods { pod_selector, namespace_selector } => {
                            let mut key = "- ";
                            if let Some(ns) = namespace_selector {
                                let mut s = String::new();
                                selector(&mut s, 6, "namespaceSelector", ns);
                                out.push_str("    - ");
                                out.push_str(s.trim_start());
                                key = "  ";
                            }
                            if let Some(ps) = pod_selector {
                                let mut s = String::new();
                                selector(&mut s, 6, "podSelector", ps);
                                out.push_str("    ");
                                out.push_str(key);
                                out.push_str(s.trim_start());
                            }
                        }
                    }
                }
            }
            if !rule.ports.is_empty() {
                lead(&mut out);
                out.push_str("ports:\n");
                for p in &rule.ports {
                    port(&mut out, "    ", p);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_that_yaml_would_misread_are_quoted() {
        let cases = [("web", "web"), ("true", "\"true\""), ("80", "\"80\""), ("", "\"\""), ("a b", "\"a b\"")];
        for (given, want) in cases {
            assert_eq!(scalar(given), want, "{given}");
        }
    }
}

//! Matching one `from`/`to` peer of a rule against the other end of a flow.

use netpol_model::{LabelSelector, NetworkPolicy, Peer, Pod, WorkloadKind};

use crate::evaluate::Side;
use crate::Engine;

/// A selector as explanations print it: `{}` when empty (matches everything).
pub(crate) fn selector_text(s: &LabelSelector) -> String {
    if s.is_empty() {
        "{}".to_string()
    } else {
        s.to_string()
    }
}

/// The peer as written: `podSelector run=frontend`, `namespaceSelector ns=y and podSelector pod=b`,
/// `ipBlock 10.0.0.0/8 except 10.0.1.0/24`.
pub(crate) fn peer_spec(peer: &Peer) -> String {
    match peer {
        Peer::Pods { pod_selector: Some(p), namespace_selector: None } => format!("podSelector {}", selector_text(p)),
        Peer::Pods { pod_selector: None, namespace_selector: Some(n) } => {
            format!("namespaceSelector {}", selector_text(n))
        }
        Peer::Pods { pod_selector: Some(p), namespace_selector: Some(n) } => {
            format!("namespaceSelector {} and podSelector {}", selector_text(n), selector_text(p))
        }
        // Validation never lets this through; treat it like the API server's empty peer would be.
        Peer::Pods { pod_selector: None, namespace_selector: None } => "empty peer".to_string(),
        Peer::IpBlock(b) => format!("ipBlock {b}"),
    }
}

pub(crate) struct PeerOutcome {
    pub matched: bool,
    pub reason: String,
    /// An implementation-defined choice that decided this match (see docs/semantics.md).
    pub note: Option<String>,
}

fn outcome(matched: bool, reason: String) -> PeerOutcome {
    PeerOutcome { matched, reason, note: None }
}

fn pod_desc(pod: &Pod) -> String {
    format!("{}/{} (labels {})", pod.namespace, pod.name, pod.labels)
}

impl Engine<'_> {
    /// Does `peer`, written in `policy`, match the endpoint `other`?
    pub(crate) fn check_peer(&self, policy: &NetworkPolicy, peer: &Peer, other: &Side) -> PeerOutcome {
        let spec = peer_spec(peer);
        match peer {
            Peer::Pods { pod_selector, namespace_selector } => {
                let Some(pod) = other.pod else {
                    return outcome(false, format!("{spec} matches only pods; {} is not a pod's IP", other.endpoint));
                };
                if pod.host_network {
                    return PeerOutcome {
                        matched: false,
                        reason: format!(
                            "{spec} never matches {}/{}: a hostNetwork pod is node traffic",
                            pod.namespace, pod.name
                        ),
                        note: Some(
                            "hostNetwork pods are node traffic: pod and namespace selectors never match them"
                                .to_string(),
                        ),
                    };
                }
                self.check_pod_peer(policy, pod_selector.as_ref(), namespace_selector.as_ref(), pod)
            }
            Peer::IpBlock(block) => {
                let Some(addr) = other.addr else {
                    let why = match other.pod {
                        Some(pod) if pod.kind != WorkloadKind::Pod => format!(
                            "{spec} cannot match {}/{}: a {} has no known pod IPs",
                            pod.namespace,
                            pod.name,
                            pod.kind.as_str()
                        ),
                        Some(pod) if !pod.ips.is_empty() => format!(
                            "{spec} cannot match {}/{}: it has no IP address of the flow's family",
                            pod.namespace, pod.name
                        ),
                        Some(pod) => format!(
                            "{spec} cannot match {}/{}: its IP is not known (no status.podIP)",
                            pod.namespace, pod.name
                        ),
                        None => format!("{spec} cannot match {}: no address", other.endpoint),
                    };
                    return outcome(false, why);
                };
                let is_pod_ip = other.pod.is_some_and(|p| !p.host_network);
                let owner = match other.pod {
                    Some(p) if p.host_network => format!(" (the IP of hostNetwork pod {}/{})", p.namespace, p.name),
                    Some(p) => format!(" (the IP of {}/{})", p.namespace, p.name),
                    None => String::new(),
                };
                if is_pod_ip && !self.options.ipblock_matches_pods {
                    let would = if block.contains(addr) { "contains" } else { "does not contain" };
                    return PeerOutcome {
                        matched: false,
                        reason: format!(
                            "{spec} is not applied to pod IPs (ipblock_matches_pods is off); it {would} {addr}{owner}"
                        ),
                        note: Some(
                            "ipBlock peers are not matched against pod IPs (ipblock_matches_pods off, as Cilium does)"
                                .to_string(),
                        ),
                    };
                }
                if let Some(except) = block.excluded_by(addr).filter(|_| block.cidr.contains(&addr)) {
                    let which = if block.except.len() > 1 { format!(" (in {except})") } else { String::new() };
                    return outcome(false, format!("{spec} excludes {addr}{owner}{which}"));
                }
                if !block.contains(addr) {
                    return outcome(false, format!("{spec} does not contain {addr}{owner}"));
                }
                PeerOutcome {
                    matched: true,
                    reason: format!("{spec} contains {addr}{owner}"),
                    note: is_pod_ip.then(|| {
                        "ipBlock peers match pod IPs too (ipblock_matches_pods on, as the upstream e2e tests expect)"
                            .to_string()
                    }),
                }
            }
        }
    }

    fn check_pod_peer(
        &self,
        policy: &NetworkPolicy,
        pod_selector: Option<&LabelSelector>,
        namespace_selector: Option<&LabelSelector>,
        pod: &Pod,
    ) -> PeerOutcome {
        let key = format!("{}/{}", pod.namespace, pod.name);
        let mut ns_part = String::new();
        match namespace_selector {
            None => {
                if pod.namespace != policy.namespace {
                    let sel = pod_selector.map(selector_text).unwrap_or_default();
                    return outcome(
                        false,
                        format!(
                            "podSelector {sel} selects pods of the policy's namespace {} only; {key} is in namespace {}",
                            policy.namespace, pod.namespace
                        ),
                    );
                }
            }
            Some(ns_sel) => {
                let ns = self.namespace(&pod.namespace);
                let sel = selector_text(ns_sel);
                if !ns_sel.matches(&ns.labels) {
                    let mut reason =
                        format!("namespaceSelector {sel} does not match namespace {} (labels {})", ns.name, ns.labels);
                    if !ns.declared {
                        reason.push_str(&format!(
                            " — namespace {} was never declared, so it has only that label",
                            ns.name
                        ));
                    }
                    return outcome(false, reason);
                }
                ns_part = format!("namespaceSelector {sel} matches namespace {} (labels {})", ns.name, ns.labels);
            }
        }
        let Some(pod_sel) = pod_selector else {
            // namespaceSelector alone: every pod of the matching namespaces.
            return outcome(true, format!("{ns_part}, which includes {key}"));
        };
        let sel = selector_text(pod_sel);
        let joint = if ns_part.is_empty() { String::new() } else { format!("{ns_part}, but ") };
        if !pod_sel.matches(&pod.labels) {
            return outcome(false, format!("{joint}podSelector {sel} does not match {}", pod_desc(pod)));
        }
        let joint = if ns_part.is_empty() { String::new() } else { format!("{ns_part} and ") };
        outcome(true, format!("{joint}podSelector {sel} matches {}", pod_desc(pod)))
    }
}

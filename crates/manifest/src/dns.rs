//! The DNS trap (seed 000): a namespace whose pods are isolated for egress while
//! no egress rule there allows port 53 to anything that could be a DNS server.
//! Service names then stop resolving, although connections by IP still work.

use std::collections::BTreeMap;

use netpol_model::{Cluster, Direction, NetworkPolicy, Origin, Peer, PortRef, Protocol, Rule};

pub(crate) struct DnsFinding {
    pub namespace: String,
    pub origin: Origin,
    pub message: String,
    pub help: String,
}

/// True when `rule` may allow DNS: its ports admit 53 (a named port might be DNS)
/// and its peers may include a DNS server (anyone, an ipBlock, other namespaces,
/// or any pod when the policy lives in kube-system).
fn may_allow_dns(rule: &Rule, policy: &NetworkPolicy) -> bool {
    let port_ok = rule.ports.is_empty()
        || rule.ports.iter().any(|p| {
            matches!(p.protocol, Protocol::Udp | Protocol::Tcp)
                && match (&p.port, p.end_port) {
                    (None, _) | (Some(PortRef::Name(_)), _) => true,
                    (Some(PortRef::Number(n)), None) => *n == 53,
                    (Some(PortRef::Number(n)), Some(end)) => (*n..=end).contains(&53),
                }
        });
    let peer_ok = rule.peers.is_empty()
        || policy.namespace == "kube-system"
        || rule.peers.iter().any(|peer| match peer {
            Peer::IpBlock(_) => true,
            Peer::Pods { namespace_selector, .. } => namespace_selector.is_some(),
        });
    port_ok && peer_ok
}

pub(crate) fn check(cluster: &Cluster) -> Vec<DnsFinding> {
    let mut by_namespace: BTreeMap<&str, Vec<&NetworkPolicy>> = BTreeMap::new();
    for p in cluster.policies.iter().filter(|p| p.affects(Direction::Egress)) {
        by_namespace.entry(&p.namespace).or_default().push(p);
    }
    let mut out = Vec::new();
    for (namespace, policies) in by_namespace {
        if policies.iter().any(|p| p.egress.iter().any(|r| may_allow_dns(r, p))) {
            continue;
        }
        // The first policy that isolates an existing pod of this namespace.
        let isolating = policies.iter().find(|p| cluster.pods.iter().any(|pod| p.selects(pod)));
        let Some(policy) = isolating else { continue };
        let Some(origin) = policy.origin.clone() else { continue };
        out.push(DnsFinding {
            namespace: namespace.to_string(),
            origin,
            message: format!(
                "`{}` isolates pods for egress and no egress rule in namespace `{namespace}` allows DNS (port 53): service names will not resolve",
                policy.key()
            ),
            help: "connections by IP still work; to allow DNS add an egress rule with `ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]` \
                   (and `to:` the kube-dns pods, e.g. `namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}`)"
                .to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use netpol_model::{LabelSelector, Labels, Pod, WorkloadKind};

    use super::*;

    fn pod(namespace: &str, name: &str, host_network: bool) -> Pod {
        Pod {
            namespace: namespace.into(),
            name: name.into(),
            kind: WorkloadKind::Pod,
            labels: Labels::from_iter([("app", "web")]),
            ips: vec![],
            ports: vec![],
            host_network,
            node: None,
            origin: None,
            service_account: Default::default(),
        }
    }

    /// The lint warns only about namespaces where the policy selects a pod, by
    /// the model's selection predicate: its own namespace, never a hostNetwork pod.
    #[test]
    fn warns_only_where_the_policy_selects_a_pod() {
        let deny = NetworkPolicy {
            namespace: "x".into(),
            name: "deny".into(),
            pod_selector: LabelSelector::from_labels([("app", "web")]),
            policy_types: vec![Direction::Egress],
            policy_types_defaulted: false,
            ingress: vec![],
            egress: vec![],
            meta: Default::default(),
            origin: Some(Origin::new("deny.yaml", 1, 1)),
        };
        let cases = [
            ("a selected pod", vec![pod("x", "a", false)], 1),
            ("a pod of another namespace", vec![pod("y", "a", false)], 0),
            ("only a hostNetwork pod", vec![pod("x", "a", true)], 0),
        ];
        for (name, pods, want) in cases {
            let cluster = Cluster { pods, policies: vec![deny.clone()], ..Cluster::default() };
            assert_eq!(check(&cluster).len(), want, "{name}");
        }
    }
}

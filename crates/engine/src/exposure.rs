//! Exposure: what could reach a pod (or what it could reach) beyond the pods
//! that exist now, stated as selectors, exactly.
//!
//! For a subject pod S and a direction, [`Engine::exposure`] returns:
//! - the **grants**: each (peer, ports) of each rule of the policies that
//!   isolate S in that direction, as written (a `podSelector` in a namespace,
//!   any pod in namespaces matching a `namespaceSelector`, an address range),
//!   or, when nothing isolates S, one grant of everything on every port;
//! - the **other side**: for each namespace holding policies of the opposite
//!   direction (egress policies of the sources, for ingress exposure), which
//!   pods they select there and what each lets through towards S.
//!
//! A hypothetical pod P (a namespace and its labels, P's labels, address and
//! declared ports) gets exactly: the union of the ports of the grants whose peer
//! matches P, intersected with, when some policy of P's namespace on the other
//! side selects P, the union of what those policies let through towards S
//! ([`Exposure::allowed_for`]). Named ports resolve on the destination: on S
//! for ingress exposure (numbers), on P for egress exposure (kept as names).
//! This is the engine's own semantics restated over selectors, and a
//! property test holds it to [`Engine::allowed_connections`] for pods added to
//! random clusters.
//!
//! Not covered, as not about a new pod: a hostNetwork pod on S's node (node
//! traffic, always admitted by S's ingress) and S talking to itself.

use std::net::IpAddr;

use netpol_model::{
    ContainerPort, Direction, IpBlock, LabelSelector, Labels, NetworkPolicy, Origin, Peer, PeerEnd, Pod, PodKey,
    PodView, PolicyPort, PortRange, PortRef, PortSet, Protocol,
};
use serde::Serialize;

use crate::evaluate::{Engine, Side};
use crate::port::port_set;

/// What could reach `subject` (ingress) or what it could reach (egress).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub subject: PodKey,
    pub direction: Direction,
    /// The policies that isolate the subject in this direction; empty when none
    /// does (then the one grant is [`Reach::Everything`] on every port).
    pub isolated_by: Vec<PolicyOf>,
    pub grants: Vec<Grant>,
    /// Per namespace, the policies of the opposite direction there (the peers'
    /// own): a pod they select gets no more than they let through.
    pub other_side: Vec<OtherSide>,
    /// For egress exposure of a hostNetwork subject: pods on this node are
    /// reached as node traffic, which their ingress policies never block.
    pub own_node: Option<String>,
    /// Whether address ranges (ipBlocks) match pod IPs (the engine's option).
    pub ipblock_matches_pods: bool,
}

/// A policy, by `namespace/name`, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyOf {
    pub policy: String,
    pub origin: Option<Origin>,
}

/// One peer of one rule (or everything, when nothing isolates the subject).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub reach: Reach,
    pub ports: Ports,
    /// The rule: `None` when the subject is not isolated.
    pub via: Option<RuleOf>,
}

/// A rule of a policy: 0-based index among the policy's rules of the direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleOf {
    pub policy: String,
    pub rule: usize,
    pub origin: Option<Origin>,
}

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Reach {
    /// Every pod of every namespace (those to come too) and every address.
    Everything,
    /// Pods matching `pods` in `namespaces`.
    Pods { namespaces: NamespaceScope, pods: LabelSelector },
    /// Addresses in the block (pod IPs too when ipBlocks match pods).
    Addresses { block: IpBlock },
}

/// The namespaces a [`Reach::Pods`] reaches into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NamespaceScope {
    /// One namespace, by name (a peer without `namespaceSelector`).
    Named { name: String },
    /// Every namespace, present or future, whose labels match (`{}`: all of them);
    /// `now` lists the namespaces that match in the input.
    Matching { selector: LabelSelector, now: Vec<String> },
}

/// Port numbers, and port names that resolve on the destination pod.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ports {
    pub numbers: PortSet,
    /// `(protocol, name)`: every number the destination pod declares for it.
    pub named: Vec<(Protocol, String)>,
}

impl Ports {
    pub fn all() -> Self {
        Ports { numbers: PortSet::all(), named: Vec::new() }
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty() && self.named.is_empty()
    }

    /// The numbers, with the names resolved on a destination that declares `declared`.
    pub fn resolve(&self, declared: &[ContainerPort]) -> PortSet {
        let mut set = self.numbers.clone();
        for (protocol, name) in &self.named {
            for c in declared.iter().filter(|c| c.protocol == *protocol && c.name.as_deref() == Some(name)) {
                set.insert(*protocol, PortRange::single(c.port));
            }
        }
        set
    }

    fn union_with(&mut self, other: &Ports) {
        self.numbers.union_with(&other.numbers);
        for n in &other.named {
            if !self.named.contains(n) {
                self.named.push(n.clone());
            }
        }
        self.named.sort();
    }
}

/// The policies of one namespace on the other side of the connection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OtherSide {
    pub namespace: String,
    pub policies: Vec<Limit>,
}

/// One policy on the other side: the pods it selects get, from it, `ports`
/// towards (or from) the subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Limit {
    pub policy: PolicyOf,
    pub selects: LabelSelector,
    pub ports: Ports,
}

/// A pod that does not exist (yet): what [`Exposure::allowed_for`] judges.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    pub namespace: &'a str,
    pub namespace_labels: &'a Labels,
    pub labels: &'a Labels,
    pub addr: Option<IpAddr>,
    pub ports: &'a [ContainerPort],
    pub node: Option<&'a str>,
}

impl Exposure {
    /// Every (protocol, port) the pod `c` would get with the subject, in this
    /// exposure's direction, computed from the grants and the other side alone.
    pub fn allowed_for(&self, c: &Candidate<'_>) -> PortSet {
        // Named ports resolve on the destination: the subject (already numbers) or the candidate.
        let granted = self.grants.iter().filter(|g| g.reach.matches(c, self.ipblock_matches_pods)).fold(
            PortSet::none(),
            |mut acc, g| {
                acc.union_with(&g.ports.resolve(c.ports));
                acc
            },
        );
        if self.own_node.is_some() && self.own_node.as_deref() == c.node {
            return granted;
        }
        let limits: Vec<&Limit> = self
            .other_side
            .iter()
            .filter(|o| o.namespace == c.namespace)
            .flat_map(|o| &o.policies)
            .filter(|l| l.selects.matches(c.labels))
            .collect();
        if limits.is_empty() {
            return granted;
        }
        let limit = limits.iter().fold(PortSet::none(), |mut acc, l| {
            acc.union_with(&l.ports.resolve(c.ports));
            acc
        });
        granted.intersection(&limit)
    }
}

impl Reach {
    /// Whether the candidate pod is one this reach names.
    pub fn matches(&self, c: &Candidate<'_>, ipblock_matches_pods: bool) -> bool {
        match self {
            Reach::Everything => true,
            Reach::Pods { namespaces, pods } => {
                let ns = match namespaces {
                    NamespaceScope::Named { name } => name == c.namespace,
                    NamespaceScope::Matching { selector, .. } => selector.matches(c.namespace_labels),
                };
                ns && pods.matches(c.labels)
            }
            Reach::Addresses { block } => c.addr.is_some_and(|a| block.matches_addr(a, true, ipblock_matches_pods)),
        }
    }
}

impl<'c> Engine<'c> {
    /// What could reach `subject` (`Ingress`) or what it could reach (`Egress`),
    /// beyond the pods that exist: see the module documentation.
    pub fn exposure(&self, subject: &Pod, direction: Direction) -> Exposure {
        let side = Side {
            endpoint: crate::Endpoint::Pod(subject.key()),
            pod: Some(subject),
            addr: subject.ips.first().copied(),
        };
        let isolating: Vec<&NetworkPolicy> = if subject.host_network {
            Vec::new()
        } else {
            self.selecting_policies(subject).into_iter().filter(|p| p.affects(direction)).collect()
        };
        let mut grants = Vec::new();
        if isolating.is_empty() {
            grants.push(Grant { reach: Reach::Everything, ports: Ports::all(), via: None });
        }
        for policy in &isolating {
            for (i, rule) in policy.rules(direction).iter().enumerate() {
                let ports = self.rule_ports(&rule.ports, direction, &side);
                let via = RuleOf { policy: policy.key(), rule: i, origin: rule.origin.clone() };
                if rule.peers.is_empty() {
                    grants.push(Grant { reach: Reach::Everything, ports: ports.clone(), via: Some(via.clone()) });
                }
                for peer in &rule.peers {
                    let reach = self.reach(policy, peer);
                    grants.push(Grant { reach, ports: ports.clone(), via: Some(via.clone()) });
                }
            }
        }
        let own_node = if direction == Direction::Egress && subject.host_network { subject.node.clone() } else { None };
        Exposure {
            subject: subject.key(),
            direction,
            isolated_by: isolating.iter().map(|p| PolicyOf { policy: p.key(), origin: p.origin.clone() }).collect(),
            grants,
            other_side: self.other_side(subject, direction, &side),
            own_node,
            ipblock_matches_pods: self.options.ipblock_matches_pods,
        }
    }

    fn reach(&self, policy: &NetworkPolicy, peer: &Peer) -> Reach {
        match peer {
            Peer::IpBlock(block) => Reach::Addresses { block: block.clone() },
            Peer::Pods { pod_selector, namespace_selector } => {
                let namespaces = match namespace_selector {
                    None => NamespaceScope::Named { name: policy.namespace.clone() },
                    Some(selector) => {
                        let mut now: Vec<String> = self
                            .namespace_names()
                            .into_iter()
                            .filter(|n| selector.matches(&self.namespace(n).labels))
                            .collect();
                        now.sort();
                        NamespaceScope::Matching { selector: selector.clone(), now }
                    }
                };
                Reach::Pods { namespaces, pods: pod_selector.clone().unwrap_or_default() }
            }
        }
    }

    /// The ports a rule's `ports` allow: numbers, and names that resolve on the
    /// destination (the subject for ingress: numbers; the peer for egress: kept as names).
    fn rule_ports(&self, ports: &[PolicyPort], direction: Direction, subject: &Side) -> Ports {
        if ports.is_empty() {
            return Ports::all();
        }
        let mut out = Ports::default();
        for p in ports {
            match (&p.port, direction) {
                (Some(PortRef::Name(name)), Direction::Egress) => {
                    out.union_with(&Ports { numbers: PortSet::none(), named: vec![(p.protocol, name.clone())] })
                }
                _ => {
                    // A named port the subject does not declare allows nothing.
                    if let Ok(set) = port_set(p, subject) {
                        out.numbers.union_with(&set);
                    }
                }
            }
        }
        out
    }

    /// For every namespace with policies of the opposite direction: what each
    /// lets its pods exchange with the subject.
    fn other_side(&self, subject: &Pod, direction: Direction, side: &Side) -> Vec<OtherSide> {
        let opposite = match direction {
            Direction::Ingress => Direction::Egress,
            Direction::Egress => Direction::Ingress,
        };
        let ns = self.namespace(&subject.namespace);
        let end = PeerEnd::pod(PodView::from(subject), &ns.labels, side.addr);
        let ipblock = self.options.ipblock_matches_pods;
        let mut names = self.namespace_names();
        names.sort();
        let mut out = Vec::new();
        for name in names {
            let policies: Vec<Limit> = self
                .policies_in(&name)
                .iter()
                .filter(|p| p.affects(opposite))
                .map(|policy| {
                    let mut ports = Ports::default();
                    for rule in policy.rules(opposite) {
                        if rule.peers.is_empty()
                            || rule.peers.iter().any(|p| p.matches(&policy.namespace, &end, ipblock))
                        {
                            // Towards the subject (ingress exposure) names resolve on the subject;
                            // towards the candidate (egress exposure) on the candidate.
                            ports.union_with(&self.rule_ports(&rule.ports, direction, side));
                        }
                    }
                    Limit {
                        policy: PolicyOf { policy: policy.key(), origin: policy.origin.clone() },
                        selects: policy.pod_selector.clone(),
                        ports,
                    }
                })
                .collect();
            if !policies.is_empty() {
                out.push(OtherSide { namespace: name, policies });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_resolve_names_on_the_destination() {
        let mut p = Ports::default();
        p.numbers.insert(Protocol::Tcp, PortRange::single(80));
        p.named.push((Protocol::Tcp, "http".into()));
        let declared = [
            ContainerPort { name: Some("http".into()), port: 8080, protocol: Protocol::Tcp },
            ContainerPort { name: Some("http".into()), port: 9090, protocol: Protocol::Udp },
        ];
        assert_eq!(p.resolve(&declared).to_string(), "TCP 80,8080");
        assert_eq!(p.resolve(&[]).to_string(), "TCP 80");
    }
}

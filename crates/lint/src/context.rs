//! What every check reads: the cluster, positions, and the questions asked of
//! it (which pods a policy selects, which pods a peer matches), answered with
//! the model's one selection predicate.

use netpol_manifest::{CodeInfo, Diagnostic};
use netpol_model::{
    Cluster, Direction, Labels, Namespace, NetworkPolicy, Origin, Peer, PeerEnd, Pod, PodView, PolicyPort, PortRef,
    Rule,
};

use crate::{Finding, Input, Locate, Options, Target};

pub(crate) struct Context<'a> {
    pub cluster: &'a Cluster,
    pub options: Options,
    locate: &'a dyn Locate,
    /// Labels of namespaces used but not in `cluster.namespaces` (never, after a load).
    implicit: Vec<Namespace>,
    empty: Labels,
}

impl<'a> Context<'a> {
    pub fn new(input: &Input<'a>) -> Self {
        let mut implicit = Vec::new();
        for pod in &input.cluster.pods {
            if !input.cluster.namespaces.contains_key(&pod.namespace)
                && !implicit.iter().any(|n: &Namespace| n.name == pod.namespace)
            {
                implicit.push(Namespace::implicit(pod.namespace.clone()));
            }
        }
        Context { cluster: input.cluster, options: input.options, locate: input.locate, implicit, empty: Labels::new() }
    }

    pub fn namespace_labels(&self, name: &str) -> &Labels {
        match self.cluster.namespaces.get(name) {
            Some(ns) => &ns.labels,
            None => self.implicit.iter().find(|n| n.name == name).map_or(&self.empty, |n| &n.labels),
        }
    }

    /// Every namespace: declared, implicit, and those only pods use.
    pub fn namespaces(&self) -> impl Iterator<Item = &Namespace> {
        self.cluster.namespaces.values().chain(&self.implicit)
    }

    /// The pods `policy` selects (its subjects).
    pub fn subjects(&self, policy: &NetworkPolicy) -> Vec<&'a Pod> {
        self.cluster.pods.iter().filter(|p| policy.selects(*p)).collect()
    }

    /// Whether `peer`, in `policy`, matches `pod` (ipBlocks by the pod's IPs).
    pub fn peer_matches(&self, policy: &NetworkPolicy, peer: &Peer, pod: &Pod) -> bool {
        let labels = self.namespace_labels(&pod.namespace);
        let view = PodView::from(pod);
        let ends: Vec<PeerEnd<'_>> = if pod.ips.is_empty() {
            vec![PeerEnd::pod(view, labels, None)]
        } else {
            pod.ips.iter().map(|ip| PeerEnd::pod(view, labels, Some(*ip))).collect()
        };
        ends.iter().any(|end| peer.matches(&policy.namespace, end, self.options.ipblock_matches_pods))
    }

    /// The pods a rule's peers match (every pod when it has no peers).
    pub fn rule_pods(&self, policy: &NetworkPolicy, rule: &Rule) -> Vec<&'a Pod> {
        self.cluster
            .pods
            .iter()
            .filter(|pod| rule.peers.is_empty() || rule.peers.iter().any(|peer| self.peer_matches(policy, peer, pod)))
            .collect()
    }

    /// The pods a rule's ports are resolved on: the subjects for ingress, the
    /// peers for egress; hostNetwork pods have no port names and are left out.
    pub fn destinations(&self, policy: &NetworkPolicy, direction: Direction, rule: &Rule) -> Vec<&'a Pod> {
        let pods = match direction {
            Direction::Ingress => self.subjects(policy),
            Direction::Egress => self.rule_pods(policy, rule),
        };
        pods.into_iter().filter(|p| !p.host_network).collect()
    }

    /// The affected directions' rules of `policy`, with their directions and indices.
    pub fn rules(policy: &'a NetworkPolicy) -> impl Iterator<Item = (Direction, usize, &'a Rule)> {
        policy.policy_types.iter().flat_map(move |&d| policy.rules(d).iter().enumerate().map(move |(i, r)| (d, i, r)))
    }

    /// Where the policy starts.
    pub fn policy_at(&self, policy: &NetworkPolicy) -> Origin {
        policy.origin.clone().unwrap_or_else(|| Origin::new(format!("networkpolicy {}", policy.key()), 0, 0))
    }

    /// Where `path` is in the policy; else where the policy starts.
    pub fn field_at(&self, policy: &NetworkPolicy, path: &str) -> Origin {
        let object = self.policy_at(policy);
        self.locate.at(&object, path).unwrap_or(object)
    }

    /// Where `path` (below the rule: `from[0]`, `ports[1].port`) is; else the rule; else the policy.
    pub fn rule_field_at(&self, policy: &NetworkPolicy, direction: Direction, index: usize, path: &str) -> Origin {
        let rule = format!("spec.{}[{index}]", direction.rules_key());
        let object = self.policy_at(policy);
        let full = if path.is_empty() { rule.clone() } else { format!("{rule}.{path}") };
        if let Some(at) = self.locate.at(&object, &full) {
            return at;
        }
        match policy.rules(direction).get(index).and_then(|r| r.origin.clone()) {
            Some(at) => at,
            None => object,
        }
    }

    pub fn finding(
        &self,
        code: CodeInfo,
        at: Origin,
        message: String,
        help: impl Into<String>,
        target: Target,
    ) -> Finding {
        Finding {
            diagnostic: Diagnostic {
                code: code.code,
                severity: code.severity,
                file: at.file.to_string(),
                line: at.line,
                column: at.column,
                message,
                help: Some(help.into()),
            },
            target,
        }
    }
}

/// `ns/name ingress[1]`: a rule as messages name it.
pub(crate) fn rule_name(policy: &NetworkPolicy, direction: Direction, index: usize) -> String {
    format!("`{}` {}[{index}]", policy.key(), direction.rules_key())
}

pub(crate) fn policy_target(policy: &NetworkPolicy) -> Target {
    Target::Policy { namespace: policy.namespace.clone(), name: policy.name.clone() }
}

pub(crate) fn rule_target(policy: &NetworkPolicy, direction: Direction, index: usize) -> Target {
    Target::Rule { namespace: policy.namespace.clone(), name: policy.name.clone(), direction, index }
}

/// Up to three names, then `and N more`.
pub(crate) fn some_of<T: AsRef<str>>(items: &[T]) -> String {
    let shown: Vec<&str> = items.iter().take(3).map(AsRef::as_ref).collect();
    let mut out = shown.join(", ");
    if items.len() > 3 {
        out.push_str(&format!(" and {} more", items.len() - 3));
    }
    out
}

pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A selector as messages print it: `{}` when empty.
pub(crate) fn selector_text(s: &netpol_model::LabelSelector) -> String {
    if s.is_empty() {
        "{}".to_string()
    } else {
        s.to_string()
    }
}

/// A named port, if `port` is one.
pub(crate) fn port_name(port: &PolicyPort) -> Option<&str> {
    match &port.port {
        Some(PortRef::Name(name)) => Some(name),
        _ => None,
    }
}

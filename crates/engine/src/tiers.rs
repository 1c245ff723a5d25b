//! Ordered policies: the chain of tiers a direction goes through before and
//! after NetworkPolicy v1 (docs/semantics.md, "Ordered policies").
//!
//! Per direction, at the endpoint where it is enforced: tiers in order; in a
//! tier, the policies that apply to the endpoint (select it, and their types
//! include the direction) in order then name; in a policy, its rules in order.
//! The first rule that matches decides: Allow and Deny end the evaluation, Pass
//! skips the rest of the tier, Log goes on. NetworkPolicy v1 is a block of the
//! `default` tier at order 1000: when it isolates the endpoint it allows what
//! its rules allow (their union) and otherwise decides nothing. A tier that
//! applied and decided nothing applies its default action (Deny, or Pass to the
//! next tier). After the last tier, traffic is allowed.
//!
//! [`Engine::tier_chain`] explains one (protocol, port); [`Engine::tiers_ports`]
//! computes the same for every port at once, as port-set algebra. A test holds
//! them equal.

use std::collections::HashSet;
use std::net::IpAddr;

use netpol_model::{
    Action, Cluster, ContainerPort, Direction, Labels, Node, Peer, PeerEnd, PodServiceAccount, PodView, Protocol,
    RuleProtocol, Tier, TierDefault, TieredEnd, TieredPeer, TieredPolicy, TieredRule, WorkloadKind,
    CALICO_SERVICE_ACCOUNT_LABEL, CALICO_SERVICE_ACCOUNT_PREFIX, DEFAULT_TIER, V1_POLICY_ORDER,
};
use serde::Serialize;

use crate::evaluate::Side;
use crate::port::port_set;
use crate::{Endpoint, Engine, PortSet};

/// What a verdict towards an address depends on besides the address: see
/// [`Engine::peer_key`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeerKey<'c> {
    #[allow(clippy::type_complexity)]
    pod: Option<(&'c str, Vec<(&'c str, &'c str)>, &'c [ContainerPort], bool, WorkloadKind)>,
    /// The pod's ServiceAccount, when some Calico selector reads one of its labels.
    service_account: Option<&'c PodServiceAccount>,
    node: Option<&'c str>,
}

/// What one step of the chain did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    Allow,
    Deny,
    Pass,
    Log,
    /// NetworkPolicy v1 isolates the endpoint and a rule allows the flow.
    V1Allowed,
    /// NetworkPolicy v1 isolates the endpoint and no rule allows the flow: the
    /// tier goes on (its default action decides at its end).
    V1NoMatch,
    /// The tier applied, decided nothing, and its default action is Deny.
    TierDeny,
    /// The tier applied, decided nothing, and its default action is Pass.
    TierPass,
}

/// One step of a direction's chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TierStep {
    pub tier: String,
    /// `admin`, `v1`, `baseline`, or the tier's name: what explanations print in brackets.
    pub label: String,
    pub action: StepAction,
    /// The deciding policy (`Kind/name`), or the v1 policies isolating the endpoint.
    pub policy: Option<String>,
    pub rule: Option<usize>,
    pub rule_name: Option<String>,
    pub origin: Option<netpol_model::Origin>,
}

impl TierStep {
    /// `[admin] Pass by AdminNetworkPolicy/dev rule 'pass-81'`.
    pub fn describe(&self) -> String {
        let rule = match (&self.rule_name, self.rule) {
            (Some(name), _) => format!(" rule '{name}'"),
            (None, Some(i)) => format!(" rule [{i}]"),
            (None, None) => String::new(),
        };
        let by = self.policy.as_deref().unwrap_or("");
        match self.action {
            StepAction::Allow | StepAction::Deny | StepAction::Pass | StepAction::Log => {
                format!("[{}] {} by {by}{rule}", self.label, step_word(self.action))
            }
            StepAction::V1Allowed => format!("[v1] allowed: isolated by {by}, a rule allows it"),
            StepAction::V1NoMatch => format!("[v1] no rule allows it (isolated by {by})"),
            StepAction::TierDeny => {
                format!("[{}] denied: {by} applies and no rule decided (the tier's default action is Deny)", self.label)
            }
            StepAction::TierPass => {
                format!("[{}] no rule of {by} decided: the tier passes it on", self.label)
            }
        }
    }
}

fn step_word(action: StepAction) -> &'static str {
    match action {
        StepAction::Allow => "Allow",
        StepAction::Deny => "Deny",
        StepAction::Pass => "Pass",
        _ => "Log",
    }
}

/// The chain of one direction and its verdict (`None`: no tier decided, so allowed).
pub(crate) struct Chain {
    pub steps: Vec<TierStep>,
    pub verdict: Option<bool>,
}

/// What NetworkPolicy v1 says for the direction, as the chain needs it.
pub(crate) struct V1 {
    /// The isolating policies, when any.
    pub isolated_by: Vec<String>,
    pub allowed: bool,
    pub ports: PortSet,
}

/// The policies of one tier, in order, with the v1 block in its place.
pub(crate) enum Entry<'c> {
    Policy(&'c TieredPolicy),
    V1,
}

impl<'c> Engine<'c> {
    /// Every tier in order with its policies that apply to `subject` for `direction`.
    pub(crate) fn tiers_for(&self, direction: Direction, subject: &Side) -> Vec<(Tier, Vec<Entry<'c>>)> {
        let pod = subject.pod.expect("the caller checked the subject is a pod");
        let ns = self.namespace(&pod.namespace);
        let view = PodView::from(pod);
        let mut out = Vec::new();
        for tier in self.cluster().ordered_tiers() {
            let mut policies: Vec<&TieredPolicy> = self
                .cluster()
                .tiered
                .iter()
                .filter(|p| p.tier == tier.name && p.affects(direction) && p.subject.selects(view, &ns.labels))
                .collect();
            policies.sort_by(|a, b| netpol_model::compare_order((a.order, &a.name), (b.order, &b.name)));
            let mut entries: Vec<Entry> = Vec::new();
            let mut v1_placed = tier.name != DEFAULT_TIER;
            for p in policies {
                // Calico policies at order 1000 come after the v1 block (docs/semantics.md).
                if !v1_placed && p.order.is_none_or(|o| o >= V1_POLICY_ORDER) {
                    entries.push(Entry::V1);
                    v1_placed = true;
                }
                entries.push(Entry::Policy(p));
            }
            if !v1_placed {
                entries.push(Entry::V1);
            }
            out.push((tier, entries));
        }
        out
    }

    /// Everything about the endpoint at `peer` that [`Engine::direction_connections`]
    /// reads, but the address itself: the pod there (its namespace, the labels
    /// whose keys some peer selector reads, declared ports, hostNetwork, kind,
    /// and its ServiceAccount when a selector reads `projectcalico.org/serviceaccount`
    /// or a `pcsa.` key; not its name, node or other labels) and the Node it is. Two addresses
    /// with equal keys that no CIDR of any policy tells apart get equal port
    /// sets for the same direction and subject: what lets the nft renderer ask
    /// once per key instead of once per address.
    pub fn peer_key(&self, peer: IpAddr) -> PeerKey<'c> {
        let pod = self.resolve(&Endpoint::Ip(peer)).ok().and_then(|(pod, _)| pod);
        let side = Side { endpoint: Endpoint::Ip(peer), pod, addr: Some(peer) };
        let (keys, reads_service_accounts) = self.peer_label_keys.get_or_init(|| peer_label_keys(self.cluster()));
        let reads_service_accounts = *reads_service_accounts;
        PeerKey {
            pod: pod.map(|p| {
                let labels = p.labels.iter().filter(|(k, _)| keys.contains(*k)).collect();
                (p.namespace.as_str(), labels, p.ports.as_slice(), p.host_network, p.kind)
            }),
            service_account: pod.filter(|_| reads_service_accounts).map(|p| &p.service_account),
            node: self.node_of(&side).map(|n| n.name.as_str()),
        }
    }

    /// The other side as an ordered policy's peer sees it.
    fn tiered_end<'a>(&'a self, peer: &'a Side<'c>, ns_labels: Option<&'a Labels>) -> TieredEnd<'a> {
        let end = PeerEnd { pod: peer.pod.zip(ns_labels).map(|(p, ns)| (PodView::from(p), ns)), addr: peer.addr };
        let node = self.node_of(peer).map(|n| &n.labels);
        TieredEnd { end, node }
    }

    /// The node whose address `side` is: a hostNetwork pod's node, or a node with that address.
    fn node_of(&self, side: &Side) -> Option<&'c Node> {
        let nodes = &self.cluster().nodes;
        if let Some(pod) = side.pod.filter(|p| p.host_network) {
            if let Some(n) = pod.node.as_deref().and_then(|name| nodes.iter().find(|n| n.name == name)) {
                return Some(n);
            }
        }
        side.addr.and_then(|a| self.cluster().node_by_ip(a))
    }

    /// Whether `rule` matches the flow apart from its ports.
    fn rule_matches_sides(&self, rule: &TieredRule, subject: &Side, peer: &Side) -> bool {
        let peer_ns = peer.pod.map(|p| self.namespace(&p.namespace));
        let end = self.tiered_end(peer, peer_ns.as_deref().map(|n| &n.labels));
        if !rule.peers.is_empty() && !rule.peers.iter().any(|p| p.matches(&end)) {
            return false;
        }
        if let Some(local) = &rule.local {
            let pod = subject.pod.expect("a subject is a pod");
            let ns = self.namespace(&pod.namespace);
            let me = PeerEnd::pod(PodView::from(pod), &ns.labels, subject.addr);
            if !local.matches(&me) {
                return false;
            }
        }
        true
    }

    /// Every (protocol, port) towards `dst` the rule's port fields match.
    fn tiered_rule_ports(rule: &TieredRule, dst: &Side) -> PortSet {
        let mut set = match &rule.protocol {
            None => PortSet::all(),
            Some(RuleProtocol::Is(p)) => PortSet::all_of(*p),
            Some(RuleProtocol::Other(_)) => PortSet::none(),
        };
        if !rule.ports.is_empty() {
            let mut any = PortSet::none();
            for p in &rule.ports {
                if let Ok(s) = port_set(p, dst) {
                    any.union_with(&s);
                }
            }
            set = set.intersection(&any);
        }
        for p in &rule.not_ports {
            if let Ok(s) = port_set(p, dst) {
                set = set.difference(&s);
            }
        }
        if let Some(RuleProtocol::Is(p)) = &rule.not_protocol {
            set = set.difference(&PortSet::all_of(*p));
        }
        set
    }

    /// The chain for one (protocol, port), step by step.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn tier_chain(
        &self,
        direction: Direction,
        subject: &Side,
        peer: &Side,
        dst: &Side,
        protocol: Protocol,
        port: u16,
        v1: &V1,
    ) -> Chain {
        let mut steps = Vec::new();
        for (tier, entries) in self.tiers_for(direction, subject) {
            let label = tier.label().to_string();
            let mut applied: Vec<String> = Vec::new();
            let mut passed = false;
            'tier: for entry in &entries {
                match entry {
                    Entry::V1 => {
                        if v1.isolated_by.is_empty() {
                            continue;
                        }
                        applied.push("NetworkPolicy v1".to_string());
                        let action = if v1.allowed { StepAction::V1Allowed } else { StepAction::V1NoMatch };
                        steps.push(v1_step(&tier, action, v1));
                        if v1.allowed {
                            return Chain { steps, verdict: Some(true) };
                        }
                    }
                    Entry::Policy(policy) => {
                        applied.push(policy.key());
                        for (i, rule) in policy.rules(direction).iter().enumerate() {
                            if !self.rule_matches_sides(rule, subject, peer)
                                || !Self::tiered_rule_ports(rule, dst).contains(protocol, port)
                            {
                                continue;
                            }
                            let action = match rule.action {
                                Action::Allow => StepAction::Allow,
                                Action::Deny => StepAction::Deny,
                                Action::Pass => StepAction::Pass,
                                Action::Log => StepAction::Log,
                            };
                            steps.push(TierStep {
                                tier: tier.name.clone(),
                                label: label.clone(),
                                action,
                                policy: Some(policy.key()),
                                rule: Some(i),
                                rule_name: rule.name.clone(),
                                origin: rule.origin.clone().or_else(|| policy.origin.clone()),
                            });
                            match rule.action {
                                Action::Allow => return Chain { steps, verdict: Some(true) },
                                Action::Deny => return Chain { steps, verdict: Some(false) },
                                Action::Pass => {
                                    passed = true;
                                    break 'tier;
                                }
                                Action::Log => {}
                            }
                        }
                    }
                }
            }
            if !applied.is_empty() && !passed {
                let deny = tier.default_action == TierDefault::Deny;
                let action = if deny { StepAction::TierDeny } else { StepAction::TierPass };
                steps.push(TierStep {
                    tier: tier.name.clone(),
                    label: label.clone(),
                    action,
                    policy: Some(applied.join(", ")),
                    rule: None,
                    rule_name: None,
                    origin: tier.origin.clone(),
                });
                if deny {
                    return Chain { steps, verdict: Some(false) };
                }
            }
        }
        Chain { steps, verdict: None }
    }

    /// The same chain for every port at once: what the direction allows, given
    /// the tiers that apply to the subject ([`Engine::tiers_for`]).
    pub(crate) fn tiers_ports(
        &self,
        tiers: &[(Tier, Vec<Entry<'c>>)],
        direction: Direction,
        subject: &Side,
        peer: &Side,
        dst: &Side,
        v1: &V1,
    ) -> PortSet {
        let mut undecided = PortSet::all();
        let mut allowed = PortSet::none();
        for (tier, entries) in tiers {
            let mut applied = false;
            let mut passed = PortSet::none();
            for entry in entries {
                match entry {
                    Entry::V1 => {
                        if v1.isolated_by.is_empty() {
                            continue;
                        }
                        applied = true;
                        allowed.union_with(&v1.ports.intersection(&undecided));
                        undecided = undecided.difference(&v1.ports);
                    }
                    Entry::Policy(policy) => {
                        applied = true;
                        for rule in policy.rules(direction) {
                            if rule.action == Action::Log || !self.rule_matches_sides(rule, subject, peer) {
                                continue;
                            }
                            let hit = Self::tiered_rule_ports(rule, dst).intersection(&undecided);
                            undecided = undecided.difference(&hit);
                            match rule.action {
                                Action::Allow => allowed.union_with(&hit),
                                Action::Pass => passed.union_with(&hit),
                                Action::Deny | Action::Log => {}
                            }
                        }
                    }
                }
            }
            if applied && tier.default_action == TierDefault::Deny {
                undecided = PortSet::none();
            }
            undecided.union_with(&passed);
        }
        allowed.union(&undecided)
    }
}

fn v1_step(tier: &Tier, action: StepAction, v1: &V1) -> TierStep {
    TierStep {
        tier: tier.name.clone(),
        label: "v1".to_string(),
        action,
        policy: Some(v1.isolated_by.join(", ")),
        rule: None,
        rule_name: None,
        origin: None,
    }
}

/// The pod label keys a peer-side selector reads: v1 rule peers' pod
/// selectors, and ordered rules' pod and Calico peer selectors. (Subject-side
/// selectors judge the subject, which a peer key does not describe.) And
/// whether one of them is a ServiceAccount's (`projectcalico.org/serviceaccount`, `pcsa.`).
fn peer_label_keys(cluster: &Cluster) -> (HashSet<String>, bool) {
    let mut keys = HashSet::new();
    for p in &cluster.policies {
        for rule in p.ingress.iter().chain(&p.egress) {
            for peer in &rule.peers {
                if let Peer::Pods { pod_selector: Some(s), .. } = peer {
                    keys.extend(s.keys().map(str::to_string));
                }
            }
        }
    }
    for p in &cluster.tiered {
        for rule in p.ingress.iter().chain(&p.egress) {
            for peer in &rule.peers {
                match peer {
                    TieredPeer::Pods { pods, .. } => keys.extend(pods.keys().map(str::to_string)),
                    TieredPeer::Calico(e) => {
                        for s in e.selector.iter().chain(&e.not_selector) {
                            keys.extend(s.keys().into_iter().map(str::to_string));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let service_accounts =
        keys.iter().any(|k| k == CALICO_SERVICE_ACCOUNT_LABEL || k.starts_with(CALICO_SERVICE_ACCOUNT_PREFIX));
    (keys, service_accounts)
}

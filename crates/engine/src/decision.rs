//! What [`crate::Engine::evaluate`] returns: a verdict with every step that led to it.
//!
//! The serde shape of these types is the `netpol check -o json` format,
//! documented in docs/semantics.md ("JSON output"). Field names are stable.

use std::net::IpAddr;

use netpol_model::{Direction, Origin};
use serde::Serialize;

use crate::{Endpoint, Flow, TierStep};

/// The verdict on a flow and the reasoning of each direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub flow: Flow,
    pub verdict: Verdict,
    /// What the source endpoint resolved to.
    pub src: EndpointInfo,
    /// What the destination endpoint resolved to.
    pub dst: EndpointInfo,
    /// Egress, enforced at the source.
    pub egress: DirectionDecision,
    /// Ingress, enforced at the destination.
    pub ingress: DirectionDecision,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.verdict == Verdict::Allowed
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allowed,
    Denied,
}

impl Verdict {
    pub fn from_allowed(allowed: bool) -> Self {
        if allowed {
            Verdict::Allowed
        } else {
            Verdict::Denied
        }
    }

    /// `ALLOWED` / `DENIED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "ALLOWED",
            Verdict::Denied => "DENIED",
        }
    }
}

/// What one end of the flow is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EndpointInfo {
    /// As given in the flow.
    pub endpoint: Endpoint,
    pub kind: EndpointKind,
    /// `namespace/name` when the endpoint is a pod, workload or hostNetwork pod.
    pub pod: Option<String>,
    /// The address used to match ipBlock peers, when known.
    pub address: Option<IpAddr>,
    /// A human note about the resolution, e.g. "10.44.0.2 is the IP of default/backend".
    pub note: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndpointKind {
    /// A Pod (possibly named through its IP).
    Pod,
    /// A workload's pod template (Deployment, ...): a pod without known IPs.
    Workload,
    /// A hostNetwork pod: node traffic, never a policy subject.
    HostNetworkPod,
    /// An IP that is no pod's IP: outside the cluster's pod network.
    External,
}

/// How a direction was decided at its endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The source and destination are the same pod: always allowed.
    SelfTraffic,
    /// The endpoint is not a pod (an external IP): no policy is enforced here.
    NotAPod,
    /// The endpoint is a hostNetwork pod: policies never select it.
    HostNetwork,
    /// Ingress from a hostNetwork pod on the destination's own node: node traffic,
    /// which upstream says pods cannot block.
    OwnNode,
    /// No policy isolates the endpoint for this direction: allowed.
    NotIsolated,
    /// At least one policy isolates the endpoint: allowed iff some rule matches.
    Isolated,
    /// Decided in the chain of ordered policies (AdminNetworkPolicy, Calico
    /// tiers, BaselineAdminNetworkPolicy...): see `tiers`.
    Ordered,
}

/// One direction's reasoning (egress at the source, or ingress at the destination).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DirectionDecision {
    pub direction: Direction,
    /// The end where this direction is enforced (the source for egress).
    pub endpoint: Endpoint,
    pub status: Status,
    pub allowed: bool,
    /// One line: why this direction is allowed or denied.
    pub summary: String,
    /// Every policy of the endpoint's namespace whose podSelector selects it, for any direction.
    pub selected_by: Vec<PolicyRef>,
    /// The policies (`namespace/name`) that isolate the endpoint for this direction
    /// (those of `selected_by` whose policyTypes include it).
    pub isolated_by: Vec<String>,
    /// Every (policy, rule, peer, port) that allows the flow; empty when denied.
    pub allowed_by: Vec<RuleMatch>,
    /// For each isolating policy, how each of its rules for this direction was evaluated.
    pub policies: Vec<PolicyCheck>,
    /// Implementation-defined choices that applied (see docs/semantics.md).
    pub notes: Vec<String>,
    /// The chain of ordered policies, step by step (absent when the cluster has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<TierStep>,
}

/// A policy, by `namespace/name`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyRef {
    pub policy: String,
    pub policy_types: Vec<Direction>,
    pub origin: Option<Origin>,
}

/// One (policy, rule, peer, port) that allows a flow. `peer`/`port` are `None`
/// when the rule has no peers (every peer) or no ports (every port).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleMatch {
    pub policy: String,
    pub direction: Direction,
    pub rule: usize,
    pub peer: Option<usize>,
    pub port: Option<usize>,
    /// The rule's position when known, else the policy's.
    pub origin: Option<Origin>,
    /// Why the peer matched, e.g. "podSelector run=frontend matches default/frontend (labels run=frontend)".
    pub peer_reason: String,
    /// Why the port matched, e.g. "80/TCP matches 80/TCP".
    pub port_reason: String,
}

/// How one isolating policy's rules for a direction were evaluated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyCheck {
    pub policy: String,
    pub origin: Option<Origin>,
    /// Empty when the policy has no rules for this direction (it allows nothing).
    pub rules: Vec<RuleCheck>,
}

/// One rule: each peer and port checked, and the resulting reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCheck {
    pub index: usize,
    pub origin: Option<Origin>,
    pub allowed: bool,
    /// Empty when the rule has no `from`/`to` (every peer matches).
    pub peers: Vec<Check>,
    /// Empty when the rule has no `ports` (every port matches).
    pub ports: Vec<Check>,
    /// Why the rule did not allow the flow (empty when it did).
    pub reasons: Vec<String>,
}

/// One peer or port of a rule, checked against the flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    pub index: usize,
    /// The peer or port as written, e.g. "podSelector run=frontend" or "53/UDP".
    pub spec: String,
    pub matched: bool,
    pub reason: String,
}

//! Ordered policies with deny: AdminNetworkPolicy and BaselineAdminNetworkPolicy
//! (`policy.networking.k8s.io/v1alpha1`), ClusterNetworkPolicy (`v1alpha2`), and
//! Calico's `projectcalico.org/v3` NetworkPolicy, GlobalNetworkPolicy and Tier
//! (and its v1 `policy`, read as Calico's own conversion reads it).
//!
//! They share one model because they share one evaluation (docs/semantics.md,
//! "Ordered policies"): tiers in `order`; in a tier, policies in `order` then
//! name; in a policy, rules in order, the first match deciding (Allow ends with
//! allow, Deny with deny, Pass skips the rest of the tier, Log goes on); a tier
//! that applies to the endpoint and decides nothing applies its default action.
//! NetworkPolicy v1 sits in the `default` tier at order 1000, as Calico places
//! it; AdminNetworkPolicy and ClusterNetworkPolicy's Admin tier are the
//! `kube-admin` tier, BaselineAdminNetworkPolicy and the Baseline tier the
//! `kube-baseline` tier, with Calico's orders for them.

use std::cmp::Ordering;
use std::fmt;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::{CalicoSelector, Direction, LabelSelector, ObjectMeta, Origin, PolicyPort, Protocol};

/// The tier of AdminNetworkPolicy and ClusterNetworkPolicy `tier: Admin`.
pub const KUBE_ADMIN_TIER: &str = "kube-admin";
/// The tier of NetworkPolicy v1 and of Calico policies that name no tier.
pub const DEFAULT_TIER: &str = "default";
/// The tier of BaselineAdminNetworkPolicy and ClusterNetworkPolicy `tier: Baseline`.
pub const KUBE_BASELINE_TIER: &str = "kube-baseline";
/// Where NetworkPolicy v1 sits in the `default` tier (Calico's order for Kubernetes policies).
pub const V1_POLICY_ORDER: Order = Order(1000.0);

/// What a tier does to traffic that a policy of it applied to but no rule decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TierDefault {
    Deny,
    Pass,
}

impl TierDefault {
    pub fn as_str(self) -> &'static str {
        match self {
            TierDefault::Deny => "Deny",
            TierDefault::Pass => "Pass",
        }
    }
}

/// A tier: a Calico `Tier` object, or one of the three every cluster has.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    pub name: String,
    /// `None`: applied last ("infinite" order).
    pub order: Option<Order>,
    pub default_action: TierDefault,
    /// False for the built-in tiers nobody declared.
    pub declared: bool,
    pub origin: Option<Origin>,
}

impl Tier {
    /// `kube-admin` (1,000, Pass), `default` (1,000,000, Deny), `kube-baseline` (10,000,000, Pass).
    pub fn builtin() -> [Tier; 3] {
        let tier = |name: &str, order: f64, default_action| Tier {
            name: name.to_string(),
            order: Some(Order(order)),
            default_action,
            declared: false,
            origin: None,
        };
        [
            tier(KUBE_ADMIN_TIER, 1_000.0, TierDefault::Pass),
            tier(DEFAULT_TIER, 1_000_000.0, TierDefault::Deny),
            tier(KUBE_BASELINE_TIER, 10_000_000.0, TierDefault::Pass),
        ]
    }

    /// The short label explanations print: `admin`, `baseline`, or the tier's name.
    pub fn label(&self) -> &str {
        match self.name.as_str() {
            KUBE_ADMIN_TIER => "admin",
            KUBE_BASELINE_TIER => "baseline",
            name => name,
        }
    }
}

/// A tier's or policy's `order` (ANP and CNP `priority`): lower first. Calico
/// writes it as a float; equal as numbers are equal here.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Order(pub f64);

impl PartialEq for Order {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Order {}

impl PartialOrd for Order {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Order {
    fn cmp(&self, other: &Self) -> Ordering {
        // 0.0 and -0.0 are the same order.
        (self.0 + 0.0).total_cmp(&(other.0 + 0.0))
    }
}

impl std::hash::Hash for Order {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        (self.0 + 0.0).to_bits().hash(state)
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Orders `None` ("infinite") after every number, ties by name.
pub fn compare_order(a: (Option<Order>, &str), b: (Option<Order>, &str)) -> Ordering {
    match (a.0, b.0) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.1.cmp(b.1))
}

/// Which API an ordered policy came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TieredKind {
    AdminNetworkPolicy,
    BaselineAdminNetworkPolicy,
    ClusterNetworkPolicy,
    /// `projectcalico.org/v3` NetworkPolicy (namespaced).
    CalicoNetworkPolicy,
    /// `projectcalico.org/v3` GlobalNetworkPolicy (also Calico v1 `policy`, converted).
    GlobalNetworkPolicy,
}

impl TieredKind {
    /// The name explanations use, e.g. `AdminNetworkPolicy`.
    pub fn as_str(self) -> &'static str {
        match self {
            TieredKind::AdminNetworkPolicy => "AdminNetworkPolicy",
            TieredKind::BaselineAdminNetworkPolicy => "BaselineAdminNetworkPolicy",
            TieredKind::ClusterNetworkPolicy => "ClusterNetworkPolicy",
            TieredKind::CalicoNetworkPolicy => "projectcalico.org/NetworkPolicy",
            TieredKind::GlobalNetworkPolicy => "GlobalNetworkPolicy",
        }
    }

    /// Whether the kind's rule actions are Calico's (Allow/Deny/Pass/Log).
    pub fn is_calico(self) -> bool {
        matches!(self, TieredKind::CalicoNetworkPolicy | TieredKind::GlobalNetworkPolicy)
    }
}

/// A validated, defaulted ordered policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TieredPolicy {
    pub kind: TieredKind,
    /// Set for Calico's namespaced NetworkPolicy only.
    pub namespace: Option<String>,
    pub name: String,
    pub tier: String,
    /// ANP/CNP `priority`, Calico `order`; `None`: applied last in its tier.
    pub order: Option<Order>,
    pub subject: Subject,
    /// The directions it applies to (ANP: those it has rules for; Calico: `types`, defaulted).
    pub types: Vec<Direction>,
    pub ingress: Vec<TieredRule>,
    pub egress: Vec<TieredRule>,
    pub meta: ObjectMeta,
    pub origin: Option<Origin>,
}

impl TieredPolicy {
    /// `Kind/name` or `Kind/namespace/name`, as explanations name it.
    pub fn key(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind.as_str(), self.name),
            None => format!("{}/{}", self.kind.as_str(), self.name),
        }
    }

    pub fn rules(&self, direction: Direction) -> &[TieredRule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    pub fn affects(&self, direction: Direction) -> bool {
        self.types.contains(&direction)
    }

    /// Every Calico selector of the policy: its subject's `selector` and
    /// `namespaceSelector`, and each rule entity's `selector`, `notSelector`
    /// and `namespaceSelector` (peers and the subject side).
    pub fn calico_selectors(&self) -> impl Iterator<Item = &CalicoSelector> {
        let subject: Vec<&CalicoSelector> = match &self.subject {
            Subject::Calico { selector, namespace_selector, .. } => {
                std::iter::once(selector).chain(namespace_selector).collect()
            }
            _ => Vec::new(),
        };
        let entities = self.ingress.iter().chain(&self.egress).flat_map(|r| {
            let peers = r.peers.iter().filter_map(|p| match p {
                TieredPeer::Calico(e) => Some(e),
                _ => None,
            });
            peers.chain(&r.local)
        });
        subject
            .into_iter()
            .chain(entities.flat_map(|e| e.selector.iter().chain(&e.not_selector).chain(&e.namespace_selector)))
    }

    /// Calico's defaulting of `types` when absent: Ingress unless there are egress
    /// rules only (Egress) or both (both).
    pub fn default_calico_types(has_ingress: bool, has_egress: bool) -> Vec<Direction> {
        match (has_ingress, has_egress) {
            (_, false) => vec![Direction::Ingress],
            (false, true) => vec![Direction::Egress],
            (true, true) => vec![Direction::Ingress, Direction::Egress],
        }
    }
}

/// Which pods a policy applies to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Subject {
    /// `subject.namespaces`: every pod of the matching namespaces.
    Namespaces(LabelSelector),
    /// `subject.pods`: matching pods in matching namespaces.
    Pods { namespaces: LabelSelector, pods: LabelSelector },
    /// Calico `selector` (confined to `namespace` for a namespaced policy) and,
    /// for a GlobalNetworkPolicy, `namespaceSelector`.
    Calico { namespace: Option<String>, selector: CalicoSelector, namespace_selector: Option<CalicoSelector> },
}

/// What a rule does when it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// ANP `Allow`, CNP `Accept`, Calico `Allow`.
    Allow,
    Deny,
    /// Skips the rest of the tier.
    Pass,
    /// Calico `Log`: records and goes on.
    Log,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "Allow",
            Action::Deny => "Deny",
            Action::Pass => "Pass",
            Action::Log => "Log",
        }
    }
}

/// A protocol a Calico rule names: one netpol's flows use, or another (ICMP,
/// a number) that no TCP, UDP or SCTP flow has.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RuleProtocol {
    Is(Protocol),
    Other(String),
}

impl RuleProtocol {
    pub fn matches(&self, protocol: Protocol) -> bool {
        matches!(self, RuleProtocol::Is(p) if *p == protocol)
    }
}

impl fmt::Display for RuleProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleProtocol::Is(p) => write!(f, "{p}"),
            RuleProtocol::Other(s) => f.write_str(s),
        }
    }
}

/// One rule of an ordered policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TieredRule {
    pub name: Option<String>,
    pub action: Action,
    /// The other side matches any of these; empty: every endpoint.
    pub peers: Vec<TieredPeer>,
    /// Calico only: what the subject side must be (an egress rule's `source`, an
    /// ingress rule's `destination`, without its ports); `None`: anything.
    pub local: Option<CalicoEntity>,
    pub protocol: Option<RuleProtocol>,
    pub not_protocol: Option<RuleProtocol>,
    /// Destination ports, any of which matches; empty: every port (of `protocol`).
    pub ports: Vec<PolicyPort>,
    /// Destination ports that never match.
    pub not_ports: Vec<PolicyPort>,
    pub origin: Option<Origin>,
}

impl TieredRule {
    /// `'name'` or `[index]`, as explanations name a rule.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(name) => format!("'{name}'"),
            None => format!("[{index}]"),
        }
    }
}

/// One peer of an upstream rule, or a Calico rule's other side.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TieredPeer {
    /// Every pod of the matching namespaces.
    Namespaces(LabelSelector),
    /// Matching pods in matching namespaces.
    Pods {
        namespaces: LabelSelector,
        pods: LabelSelector,
    },
    /// The addresses of matching nodes (`status.addresses`).
    Nodes(LabelSelector),
    /// Any address in these CIDRs, pods' included.
    Networks(Vec<IpNet>),
    /// Cannot be decided offline: matches no address (docs/semantics.md).
    DomainNames(Vec<String>),
    Calico(CalicoEntity),
}

/// A Calico `EntityRule` without its ports: every field set must match (AND).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CalicoEntity {
    pub nets: Vec<IpNet>,
    pub not_nets: Vec<IpNet>,
    /// Matches Calico endpoints (pods) only.
    pub selector: Option<CalicoSelector>,
    /// Matches whatever is not a pod matching it (external addresses included).
    pub not_selector: Option<CalicoSelector>,
    pub namespace_selector: Option<CalicoSelector>,
    /// The namespace of a namespaced policy: a `selector` without
    /// `namespaceSelector` is confined to it.
    pub namespace: Option<String>,
}

impl CalicoEntity {
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
            && self.not_nets.is_empty()
            && self.selector.is_none()
            && self.not_selector.is_none()
            && self.namespace_selector.is_none()
    }
}

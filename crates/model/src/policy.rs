use serde::{Deserialize, Serialize};

use crate::{Direction, IpBlock, LabelSelector, Labels, Origin, PolicyPort};

/// A validated, defaulted `networking.k8s.io/v1` NetworkPolicy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkPolicy {
    pub namespace: String,
    pub name: String,
    /// Selects the *subjects* (pods of `namespace`) the policy applies to.
    pub pod_selector: LabelSelector,
    /// After API-server defaulting, in the order written (or `Ingress[, Egress]` when defaulted).
    pub policy_types: Vec<Direction>,
    /// True when `spec.policyTypes` was absent and the defaulting rule filled it.
    pub policy_types_defaulted: bool,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    /// Labels, annotations and creation time, for `describe`.
    pub meta: ObjectMeta,
    pub origin: Option<Origin>,
}

/// The parts of `metadata` that `kubectl describe` prints.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub labels: Labels,
    pub annotations: Labels,
    /// `metadata.creationTimestamp` as written (RFC 3339), when present.
    pub creation_timestamp: Option<String>,
}

impl NetworkPolicy {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether this policy isolates its subjects for `direction`.
    pub fn affects(&self, direction: Direction) -> bool {
        self.policy_types.contains(&direction)
    }

    pub fn rules(&self, direction: Direction) -> &[Rule] {
        match direction {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }

    /// The API server's defaulting of `policyTypes` when the field is absent:
    /// `Ingress` always, plus `Egress` when the policy has egress rules.
    pub fn default_policy_types(has_egress_rules: bool) -> Vec<Direction> {
        if has_egress_rules {
            vec![Direction::Ingress, Direction::Egress]
        } else {
            vec![Direction::Ingress]
        }
    }
}

/// One ingress or egress rule. Empty `peers` means every peer (a missing or
/// empty `from`/`to`); empty `ports` means every port and protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub peers: Vec<Peer>,
    pub ports: Vec<PolicyPort>,
    pub origin: Option<Origin>,
}

/// One entry of `from`/`to`, as written (validation guarantees the shape).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Peer {
    /// At least one of the two is `Some`. `pod_selector` alone: pods of the
    /// policy's namespace; `namespace_selector` alone: every pod of the matching
    /// namespaces; both: pods matching `pod_selector` in matching namespaces.
    Pods {
        pod_selector: Option<LabelSelector>,
        namespace_selector: Option<LabelSelector>,
    },
    IpBlock(IpBlock),
}

//! The kinds the agent watches and [`crate::Connection::read`] lists, and
//! where the API serves each.
//!
//! Required and optional, decided once:
//! - Namespaces, Pods and NetworkPolicies (`networking.k8s.io/v1`) are
//!   required: without any of them netpol would enforce a part of what the
//!   cluster asks for, so nothing is applied (and a read fails) until each
//!   was listed whole.
//! - Nodes, ServiceAccounts and the ordered kinds (AdminNetworkPolicy,
//!   BaselineAdminNetworkPolicy, ClusterNetworkPolicy; Calico's
//!   `projectcalico.org/v3` Tier, GlobalNetworkPolicy and NetworkPolicy) are
//!   optional: most clusters serve no such CRD, and an agent must still
//!   enforce v1 there. ServiceAccounts only lend their labels to the pods
//!   that run as them, for Calico's `serviceAccountSelector`: without them
//!   (RBAC refuses them) pods carry no ServiceAccount labels, and such
//!   selectors are evaluated as if they were absent, which the note says. A kind the server
//!   does not serve (404: its CRD is not installed) or RBAC refuses (403)
//!   counts as known and empty, with one note; the watcher keeps retrying
//!   with backoff, so a CRD installed (or a grant given) later is picked up,
//!   and its first whole list replaces the empty set. Calico's
//!   `crd.projectcalico.org/v1` storage CRDs (served when Calico's API server
//!   is not installed) are not read.

use netpol_model::TieredKind;

/// The kinds the agent watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespaces,
    Pods,
    NetworkPolicies,
    Nodes,
    ServiceAccounts,
    AdminNetworkPolicies,
    BaselineAdminNetworkPolicies,
    ClusterNetworkPolicies,
    Tiers,
    GlobalNetworkPolicies,
    /// Calico's `projectcalico.org/v3` NetworkPolicy.
    CalicoNetworkPolicies,
}

/// How many kinds there are.
pub const KINDS: usize = 11;

/// Where the API serves a kind: group, version, Kubernetes kind, plural.
struct Served {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
}

const fn served(group: &'static str, version: &'static str, kind: &'static str, plural: &'static str) -> Served {
    Served { group, version, kind, plural }
}

const POLICY: &str = "policy.networking.k8s.io";
const CALICO: &str = "projectcalico.org";

impl Kind {
    pub const ALL: [Kind; KINDS] = [
        Kind::Namespaces,
        Kind::Pods,
        Kind::NetworkPolicies,
        Kind::Nodes,
        Kind::ServiceAccounts,
        Kind::AdminNetworkPolicies,
        Kind::BaselineAdminNetworkPolicies,
        Kind::ClusterNetworkPolicies,
        Kind::Tiers,
        Kind::GlobalNetworkPolicies,
        Kind::CalicoNetworkPolicies,
    ];

    /// The custom resources, read as dynamic objects.
    pub const ORDERED: [Kind; 6] = [
        Kind::AdminNetworkPolicies,
        Kind::BaselineAdminNetworkPolicies,
        Kind::ClusterNetworkPolicies,
        Kind::Tiers,
        Kind::GlobalNetworkPolicies,
        Kind::CalicoNetworkPolicies,
    ];

    fn served(self) -> Served {
        match self {
            Kind::Namespaces => served("", "v1", "Namespace", "namespaces"),
            Kind::Pods => served("", "v1", "Pod", "pods"),
            Kind::NetworkPolicies => served("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies"),
            Kind::Nodes => served("", "v1", "Node", "nodes"),
            Kind::ServiceAccounts => served("", "v1", "ServiceAccount", "serviceaccounts"),
            Kind::AdminNetworkPolicies => served(POLICY, "v1alpha1", "AdminNetworkPolicy", "adminnetworkpolicies"),
            Kind::BaselineAdminNetworkPolicies => {
                served(POLICY, "v1alpha1", "BaselineAdminNetworkPolicy", "baselineadminnetworkpolicies")
            }
            Kind::ClusterNetworkPolicies => {
                served(POLICY, "v1alpha2", "ClusterNetworkPolicy", "clusternetworkpolicies")
            }
            Kind::Tiers => served(CALICO, "v3", "Tier", "tiers"),
            Kind::GlobalNetworkPolicies => served(CALICO, "v3", "GlobalNetworkPolicy", "globalnetworkpolicies"),
            Kind::CalicoNetworkPolicies => served(CALICO, "v3", "NetworkPolicy", "networkpolicies"),
        }
    }

    /// The resource as kubectl and RBAC name it: its plural, qualified by
    /// its group where the plural alone is another kind's
    /// (`networkpolicies.projectcalico.org`).
    pub fn resource(self) -> &'static str {
        match self {
            Kind::CalicoNetworkPolicies => "networkpolicies.projectcalico.org",
            kind => kind.served().plural,
        }
    }

    /// The API group (empty for the core group) and version serving the kind.
    pub fn group_version(self) -> (&'static str, &'static str) {
        let s = self.served();
        (s.group, s.version)
    }

    /// The kind's name, as the metrics label objects (`netpol_objects{kind}`):
    /// the Kubernetes kind, or for Calico's NetworkPolicy
    /// `projectcalico.org/NetworkPolicy`.
    pub fn name(self) -> &'static str {
        match self.tiered() {
            Some(kind) => kind.as_str(),
            None => self.served().kind,
        }
    }

    /// Required kinds hold back readiness until listed; optional ones count
    /// as empty while not served or refused (module documentation).
    pub fn required(self) -> bool {
        matches!(self, Kind::Namespaces | Kind::Pods | Kind::NetworkPolicies)
    }

    /// What going without the kind means, where that is not just "none of
    /// them" (for the notes on a kind not served or refused).
    pub fn absent_means(self) -> Option<&'static str> {
        match self {
            Kind::ServiceAccounts => Some(
                "pods carry no ServiceAccount labels: Calico selectors on them see none (serviceAccountSelector \
                 `team == 'a'` selects no pod, `!has(team)` every pod)",
            ),
            _ => None,
        }
    }

    /// The model's kind of an ordered-policy kind.
    pub fn tiered(self) -> Option<TieredKind> {
        Some(match self {
            Kind::AdminNetworkPolicies => TieredKind::AdminNetworkPolicy,
            Kind::BaselineAdminNetworkPolicies => TieredKind::BaselineAdminNetworkPolicy,
            Kind::ClusterNetworkPolicies => TieredKind::ClusterNetworkPolicy,
            Kind::GlobalNetworkPolicies => TieredKind::GlobalNetworkPolicy,
            Kind::CalicoNetworkPolicies => TieredKind::CalicoNetworkPolicy,
            _ => return None,
        })
    }

    /// The kind of the API that holds the model's ordered-policy kind.
    pub fn of_tiered(kind: TieredKind) -> Kind {
        match kind {
            TieredKind::AdminNetworkPolicy => Kind::AdminNetworkPolicies,
            TieredKind::BaselineAdminNetworkPolicy => Kind::BaselineAdminNetworkPolicies,
            TieredKind::ClusterNetworkPolicy => Kind::ClusterNetworkPolicies,
            TieredKind::GlobalNetworkPolicy => Kind::GlobalNetworkPolicies,
            TieredKind::CalicoNetworkPolicy => Kind::CalicoNetworkPolicies,
        }
    }

    /// kube-rs's description of the resource, for a dynamic `Api`.
    pub fn api_resource(self) -> kube::core::ApiResource {
        let s = self.served();
        let api_version = if s.group.is_empty() { s.version.to_string() } else { format!("{}/{}", s.group, s.version) };
        kube::core::ApiResource {
            group: s.group.to_string(),
            version: s.version.to_string(),
            api_version,
            kind: s.kind.to_string(),
            plural: s.plural.to_string(),
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_once_in_order_and_named_apart() {
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i, "{kind:?}");
        }
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        let mut resources: Vec<&str> = Kind::ALL.iter().map(|k| k.resource()).collect();
        names.sort_unstable();
        names.dedup();
        resources.sort_unstable();
        resources.dedup();
        assert_eq!((names.len(), resources.len()), (KINDS, KINDS));
        assert!(!Kind::ServiceAccounts.required(), "a missing grant must not stop the agent");
        for kind in Kind::ORDERED {
            assert!(!kind.required(), "{kind:?}");
            if let Some(tiered) = kind.tiered() {
                assert_eq!(Kind::of_tiered(tiered), kind);
            }
        }
    }

    #[test]
    fn api_resources_are_where_the_apis_serve_them() {
        let cases = [
            (Kind::Nodes, "v1", "Node", "nodes"),
            (Kind::ServiceAccounts, "v1", "ServiceAccount", "serviceaccounts"),
            (
                Kind::AdminNetworkPolicies,
                "policy.networking.k8s.io/v1alpha1",
                "AdminNetworkPolicy",
                "adminnetworkpolicies",
            ),
            (
                Kind::ClusterNetworkPolicies,
                "policy.networking.k8s.io/v1alpha2",
                "ClusterNetworkPolicy",
                "clusternetworkpolicies",
            ),
            (Kind::CalicoNetworkPolicies, "projectcalico.org/v3", "NetworkPolicy", "networkpolicies"),
            (Kind::Tiers, "projectcalico.org/v3", "Tier", "tiers"),
        ];
        for (kind, api_version, name, plural) in cases {
            let r = kind.api_resource();
            assert_eq!((r.api_version.as_str(), r.kind.as_str(), r.plural.as_str()), (api_version, name, plural));
        }
    }
}

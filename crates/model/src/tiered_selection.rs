//! Which pods an ordered policy applies to and which endpoints its peers match:
//! the one definition for AdminNetworkPolicy, BaselineAdminNetworkPolicy,
//! ClusterNetworkPolicy and Calico policies, as [`crate::selection`] is for v1.
//!
//! The rules (docs/semantics.md, "Ordered policies"):
//! - hostNetwork pods are node traffic: never subjects, never matched by a pod,
//!   namespace or Calico selector; their address (the node's) is matched by
//!   `networks`, `nets` and `nodes`;
//! - `networks` matches any address in it, pods' own included (the API says so);
//! - `nodes` matches the addresses of the matching nodes (`status.addresses`);
//! - `domainNames` cannot be decided offline and matches no address;
//! - a Calico endpoint carries its pod's labels plus `projectcalico.org/namespace`,
//!   `projectcalico.org/orchestrator: k8s` and `projectcalico.org/serviceaccount`
//!   (the ServiceAccount's name), and inherits, unless the pod has a label of the
//!   same key, `pcns.K: V` for each label of its namespace plus
//!   `pcns.projectcalico.org/name`, and, when its ServiceAccount exists,
//!   `pcsa.K: V` for each label of the ServiceAccount plus
//!   `pcsa.projectcalico.org/name` (Calico's namespace and ServiceAccount
//!   profiles); a namespace carries its labels plus `projectcalico.org/name`;
//! - `serviceAccountSelector` and `serviceAccounts` are read as Calico's rule
//!   conversion reads them: selectors over the `pcsa.` labels and
//!   `projectcalico.org/serviceaccount in {names}`, ANDed into `selector`;
//! - Calico `selector` matches pods only, `notSelector` everything that is not a
//!   matching pod; in a namespaced policy any selector field (`notSelector`
//!   included) without `namespaceSelector` confines the entity to pods of the
//!   policy's namespace;
//! - an endpoint without an address matches neither `nets` nor `notNets`.

use std::net::IpAddr;

use crate::tiered::{CalicoEntity, Subject, TieredPeer};
use crate::{LabelSelector, Labels, PeerEnd, PodView};

/// The label Calico gives every pod: its namespace.
pub const CALICO_NAMESPACE_LABEL: &str = "projectcalico.org/namespace";
/// The label Calico gives every pod: the orchestrator (`k8s`).
pub const CALICO_ORCHESTRATOR_LABEL: &str = "projectcalico.org/orchestrator";
/// The label Calico gives every namespace and ServiceAccount profile: its name.
pub const CALICO_NAME_LABEL: &str = "projectcalico.org/name";
/// The label Calico gives every pod: the name of its ServiceAccount.
pub const CALICO_SERVICE_ACCOUNT_LABEL: &str = "projectcalico.org/serviceaccount";
/// The prefix of the namespace labels a pod inherits from its namespace's profile.
pub const CALICO_NAMESPACE_PREFIX: &str = "pcns.";
/// The prefix of the ServiceAccount labels a pod inherits from its ServiceAccount's profile.
pub const CALICO_SERVICE_ACCOUNT_PREFIX: &str = "pcsa.";

/// The labels a Calico selector sees on a pod whose namespace has `namespace_labels`.
pub fn calico_pod_labels(pod: PodView<'_>, namespace_labels: &Labels) -> Labels {
    let mut labels = pod.labels.clone();
    labels.insert(CALICO_NAMESPACE_LABEL, pod.namespace);
    labels.insert(CALICO_ORCHESTRATOR_LABEL, "k8s");
    let sa = pod.service_account;
    labels.insert(CALICO_SERVICE_ACCOUNT_LABEL, sa.name());
    // Profile labels: the endpoint's own labels win over inherited ones.
    let mut inherit = |prefix: &str, key: &str, value: &str| {
        let key = format!("{prefix}{key}");
        if labels.get(&key).is_none() {
            labels.insert(key, value);
        }
    };
    for (k, v) in namespace_labels.iter() {
        inherit(CALICO_NAMESPACE_PREFIX, k, v);
    }
    inherit(CALICO_NAMESPACE_PREFIX, CALICO_NAME_LABEL, pod.namespace);
    if let Some(sa_labels) = &sa.labels {
        for (k, v) in sa_labels.iter() {
            inherit(CALICO_SERVICE_ACCOUNT_PREFIX, k, v);
        }
        inherit(CALICO_SERVICE_ACCOUNT_PREFIX, CALICO_NAME_LABEL, sa.name());
    }
    labels
}

/// The labels a Calico `namespaceSelector` sees on a namespace.
pub fn calico_namespace_labels(name: &str, labels: &Labels) -> Labels {
    let mut labels = labels.clone();
    labels.insert(CALICO_NAME_LABEL, name);
    labels
}

/// The other end of a flow as an ordered policy's peer sees it: a v1 [`PeerEnd`]
/// and, when its address is a node's, that node's labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TieredEnd<'a> {
    pub end: PeerEnd<'a>,
    pub node: Option<&'a Labels>,
}

impl Subject {
    /// Whether this subject selects `pod`, whose namespace has `namespace_labels`.
    pub fn selects(&self, pod: PodView<'_>, namespace_labels: &Labels) -> bool {
        if pod.host_network {
            return false;
        }
        match self {
            Subject::Namespaces(ns) => ns.matches(namespace_labels),
            Subject::Pods { namespaces, pods } => namespaces.matches(namespace_labels) && pods.matches(pod.labels),
            Subject::Calico { namespace, selector, namespace_selector } => {
                namespace.as_deref().is_none_or(|ns| ns == pod.namespace)
                    && namespace_selector
                        .as_ref()
                        .is_none_or(|s| s.matches_labels(&calico_namespace_labels(pod.namespace, namespace_labels)))
                    && selector.matches_labels(&calico_pod_labels(pod, namespace_labels))
            }
        }
    }
}

fn pod_in(end: &PeerEnd<'_>, namespaces: &LabelSelector, pods: &LabelSelector) -> bool {
    end.pod.is_some_and(|(pod, ns)| !pod.host_network && namespaces.matches(ns) && pods.matches(pod.labels))
}

fn in_any(nets: &[ipnet::IpNet], addr: IpAddr) -> bool {
    nets.iter().any(|n| n.contains(&addr))
}

impl TieredPeer {
    pub fn matches(&self, end: &TieredEnd<'_>) -> bool {
        match self {
            TieredPeer::Namespaces(ns) => pod_in(&end.end, ns, &LabelSelector::default()),
            TieredPeer::Pods { namespaces, pods } => pod_in(&end.end, namespaces, pods),
            TieredPeer::Nodes(selector) => end.node.is_some_and(|labels| selector.matches(labels)),
            TieredPeer::Networks(nets) => end.end.addr.is_some_and(|a| in_any(nets, a)),
            TieredPeer::DomainNames(_) => false,
            TieredPeer::Calico(entity) => entity.matches(&end.end),
        }
    }
}

impl CalicoEntity {
    /// Whether `end` meets every field set.
    pub fn matches(&self, end: &PeerEnd<'_>) -> bool {
        if !self.nets.is_empty() && !end.addr.is_some_and(|a| in_any(&self.nets, a)) {
            return false;
        }
        if !self.not_nets.is_empty() && end.addr.is_none_or(|a| in_any(&self.not_nets, a)) {
            return false;
        }
        let pod = end.pod.filter(|(p, _)| !p.host_network);
        // Calico scopes an entity to pods as soon as any selector field is used in
        // a namespaced policy, `notSelector` included (libcalico-go
        // `updateprocessors/rules.go`); in a global one `notSelector` alone also
        // matches what is no pod.
        let scoped = self.selector.is_some()
            || self.namespace_selector.is_some()
            || (self.not_selector.is_some() && self.namespace.is_some());
        if scoped {
            let Some((pod, ns_labels)) = pod else { return false };
            let in_scope = match &self.namespace_selector {
                Some(s) => s.matches_labels(&calico_namespace_labels(pod.namespace, ns_labels)),
                None => self.namespace.as_deref().is_none_or(|ns| ns == pod.namespace),
            };
            if !in_scope || !self.selector.as_ref().is_none_or(|s| s.matches_labels(&calico_pod_labels(pod, ns_labels)))
            {
                return false;
            }
        }
        if let Some(not) = &self.not_selector {
            if pod.is_some_and(|(p, ns)| not.matches_labels(&calico_pod_labels(p, ns))) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CalicoSelector;

    /// `notSelector` alone: confined to the policy's namespace in a namespaced
    /// policy (Calico's rule conversion), anything not matching in a global one.
    #[test]
    fn not_selector_scope_table() {
        let bad = Labels::from_iter([("role", "bad")]);
        let good = Labels::from_iter([("role", "good")]);
        let ns = Labels::new();
        let pod = |namespace: &'static str, labels: &'static Labels| PodView::new(namespace, labels, false);
        let (bad, good): (&'static Labels, &'static Labels) = (Box::leak(Box::new(bad)), Box::leak(Box::new(good)));
        let entity = |namespace: Option<&str>| CalicoEntity {
            not_selector: Some(CalicoSelector::parse("role == 'bad'").unwrap()),
            namespace: namespace.map(str::to_string),
            ..CalicoEntity::default()
        };
        let ext = PeerEnd::external("1.2.3.4".parse().unwrap());
        let cases: Vec<(&str, Option<&str>, PeerEnd, bool)> = vec![
            ("namespaced: good pod of its namespace", Some("shop"), PeerEnd::pod(pod("shop", good), &ns, None), true),
            ("namespaced: bad pod of its namespace", Some("shop"), PeerEnd::pod(pod("shop", bad), &ns, None), false),
            ("namespaced: good pod elsewhere", Some("shop"), PeerEnd::pod(pod("other", good), &ns, None), false),
            ("namespaced: an external address", Some("shop"), ext, false),
            ("global: good pod anywhere", None, PeerEnd::pod(pod("other", good), &ns, None), true),
            ("global: bad pod", None, PeerEnd::pod(pod("other", bad), &ns, None), false),
            ("global: an external address", None, ext, true),
        ];
        for (name, namespace, end, want) in cases {
            assert_eq!(entity(namespace).matches(&end), want, "{name}");
        }
    }
}

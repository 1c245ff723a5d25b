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
use crate::{CalicoSelector, LabelSelector, Labels, PeerEnd, PodView};

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

/// The value of label `key` that a Calico selector sees on a pod whose
/// namespace has `namespace_labels`, as libcalico-go builds a workload
/// endpoint (`podToDefaultWorkloadEndpoint`) and felix resolves a label
/// (`labelindex`: the endpoint's own labels, then its profiles'):
/// - the pod's labels, with `projectcalico.org/namespace`,
///   `projectcalico.org/orchestrator: k8s` and, when the pod has a
///   ServiceAccount whose name is shorter than 63 characters,
///   `projectcalico.org/serviceaccount` set over them;
/// - else, from the namespace's profile: `pcns.K` for each namespace label
///   `K`, and `pcns.projectcalico.org/name` (the namespace's name, over a
///   namespace label of that key);
/// - else, from the ServiceAccount's profile (when the ServiceAccount exists):
///   `pcsa.K` for each of its labels, and `pcsa.projectcalico.org/name`.
pub fn calico_pod_label<'a>(pod: PodView<'a>, namespace_labels: &'a Labels, key: &str) -> Option<&'a str> {
    let sa = pod.service_account;
    match key {
        CALICO_NAMESPACE_LABEL => return Some(pod.namespace),
        CALICO_ORCHESTRATOR_LABEL => return Some("k8s"),
        CALICO_SERVICE_ACCOUNT_LABEL => {
            if let Some(name) = sa.name().filter(|n| n.len() < 63) {
                return Some(name);
            }
        }
        _ => {}
    }
    if let Some(value) = pod.labels.get(key) {
        return Some(value);
    }
    if let Some(k) = key.strip_prefix(CALICO_NAMESPACE_PREFIX) {
        return if k == CALICO_NAME_LABEL { Some(pod.namespace) } else { namespace_labels.get(k) };
    }
    if let Some(k) = key.strip_prefix(CALICO_SERVICE_ACCOUNT_PREFIX) {
        let labels = sa.labels.as_ref()?;
        return if k == CALICO_NAME_LABEL { sa.name() } else { labels.get(k) };
    }
    None
}

/// Whether `selector` matches `pod` as Calico sees it ([`calico_pod_label`]).
fn calico_matches(selector: &CalicoSelector, pod: PodView<'_>, namespace_labels: &Labels) -> bool {
    selector.matches(&|key| calico_pod_label(pod, namespace_labels, key))
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
                    && calico_matches(selector, pod, namespace_labels)
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
            if !in_scope || !self.selector.as_ref().is_none_or(|s| calico_matches(s, pod, ns_labels)) {
                return false;
            }
        }
        if let Some(not) = &self.not_selector {
            if pod.is_some_and(|(p, ns)| calico_matches(not, p, ns)) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a Calico selector sees on a pod (libcalico-go's workload endpoint
    /// and profiles): the labels Calico sets over the pod's own, the pod's own
    /// over the inherited `pcns.`/`pcsa.` ones, the profiles' names over a
    /// namespace or ServiceAccount label of that key, no ServiceAccount label
    /// for a pod without one or a name of 63 characters or more.
    #[test]
    fn calico_pod_label_table() {
        use crate::PodServiceAccount;
        let own = Labels::from_iter([
            ("app", "web"),
            ("projectcalico.org/namespace", "spoofed"),
            ("pcsa.team", "own"),
            ("projectcalico.org/serviceaccount", "own-sa"),
        ]);
        let ns = Labels::from_iter([("team", "red"), ("projectcalico.org/name", "kube-system")]);
        let sa = |name: Option<&str>, labels: Option<&[(&str, &str)]>| PodServiceAccount {
            name: name.map(str::to_string),
            labels: labels.map(|l| Labels::from_iter(l.iter().copied())),
        };
        let long = "x".repeat(63);
        let cases: Vec<(&str, PodServiceAccount, &str, Option<&str>)> = vec![
            ("own label", sa(None, None), "app", Some("web")),
            ("namespace set over the pod's", sa(None, None), "projectcalico.org/namespace", Some("shop")),
            ("orchestrator", sa(None, None), "projectcalico.org/orchestrator", Some("k8s")),
            (
                "no ServiceAccount: the pod's own label stays",
                sa(None, None),
                "projectcalico.org/serviceaccount",
                Some("own-sa"),
            ),
            ("ServiceAccount name set over it", sa(Some("api"), None), "projectcalico.org/serviceaccount", Some("api")),
            ("63 characters: not set", sa(Some(&long), None), "projectcalico.org/serviceaccount", Some("own-sa")),
            ("namespace label inherited", sa(None, None), "pcns.team", Some("red")),
            ("namespace profile name over the label", sa(None, None), "pcns.projectcalico.org/name", Some("shop")),
            (
                "ServiceAccount label: the pod's own wins",
                sa(Some("api"), Some(&[("team", "a")])),
                "pcsa.team",
                Some("own"),
            ),
            ("ServiceAccount label inherited", sa(Some("api"), Some(&[("tier", "x")])), "pcsa.tier", Some("x")),
            (
                "ServiceAccount profile name over the label",
                sa(Some("api"), Some(&[("projectcalico.org/name", "admin")])),
                "pcsa.projectcalico.org/name",
                Some("api"),
            ),
            ("no ServiceAccount object: no profile", sa(Some("api"), None), "pcsa.projectcalico.org/name", None),
            ("long names still have a profile", sa(Some(&long), Some(&[])), "pcsa.projectcalico.org/name", Some(&long)),
            ("unknown key", sa(Some("api"), Some(&[])), "pcsa.nope", None),
        ];
        for (name, account, key, want) in &cases {
            let view = PodView { namespace: "shop", labels: &own, host_network: false, service_account: account };
            assert_eq!(calico_pod_label(view, &ns, key), *want, "{name}");
        }
    }

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

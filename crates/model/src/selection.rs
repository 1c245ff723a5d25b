//! Which pods a policy selects and which endpoints a rule's peer matches: the
//! one definition of NetworkPolicy selection. The engine, the matrix, the nft
//! renderer and the manifest lints all decide "does this selector pick this
//! pod" and "does this peer match this endpoint" here; they may keep indexes
//! (by namespace, by class, by address range) for speed, but the decision is
//! this module's.
//!
//! The rules (docs/semantics.md, "Pod and namespace selectors", "ipBlock",
//! "hostNetwork pods"):
//! - a policy's `podSelector` selects pods of the policy's own namespace;
//! - a peer with `podSelector` alone matches pods of the policy's namespace,
//!   `namespaceSelector` alone every pod of the matching namespaces, both the
//!   matching pods in the matching namespaces (AND); an absent `podSelector`
//!   next to a `namespaceSelector` is `{}`;
//! - hostNetwork pods are node traffic: never subjects, never matched by pod or
//!   namespace selectors;
//! - a namespace nobody declared has only `kubernetes.io/metadata.name` (the
//!   caller passes those labels, see [`crate::Namespace::implicit`]);
//! - an ipBlock matches an address inside `cidr` and outside every `except`; a
//!   pod's own IP only when ipBlocks match pod IPs (an option, default on); a
//!   hostNetwork pod's IP (the node's) always; an endpoint without an address never.
//!
//! ```
//! use netpol_model::{LabelSelector, Labels, Peer, PeerEnd, PodView};
//! let labels = Labels::from_iter([("app", "web")]);
//! let ns_labels = Labels::from_iter([("kubernetes.io/metadata.name", "shop")]);
//! let pod = PodView::new("shop", &labels, false);
//! let peer = Peer::Pods { pod_selector: Some(LabelSelector::from_labels([("app", "web")])), namespace_selector: None };
//! assert!(peer.matches("shop", &PeerEnd::pod(pod, &ns_labels, None), true));
//! assert!(!peer.matches("other", &PeerEnd::pod(pod, &ns_labels, None), true));
//! ```

use std::borrow::Cow;
use std::net::IpAddr;

use crate::{IpBlock, LabelSelector, Labels, NetworkPolicy, Peer, Pod, PodServiceAccount};

/// What selection reads of a pod: its namespace, its labels, whether it is a
/// hostNetwork pod, and (for Calico selectors only) its ServiceAccount. A class
/// of pods that no selector can tell apart has one view for all its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodView<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub host_network: bool,
    pub service_account: &'a PodServiceAccount,
}

impl<'a> PodView<'a> {
    /// A pod running as the `default` ServiceAccount, not found.
    pub fn new(namespace: &'a str, labels: &'a Labels, host_network: bool) -> Self {
        static UNSET: PodServiceAccount = PodServiceAccount::UNSET;
        PodView { namespace, labels, host_network, service_account: &UNSET }
    }
}

impl<'a> From<&'a Pod> for PodView<'a> {
    fn from(pod: &'a Pod) -> Self {
        PodView {
            namespace: &pod.namespace,
            labels: &pod.labels,
            host_network: pod.host_network,
            service_account: &pod.service_account,
        }
    }
}

/// The namespaces a [`PodSelection`] reaches into.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Namespaces<'a> {
    /// One namespace, by name: the policy's own.
    Named(Cow<'a, str>),
    /// Every namespace whose labels match.
    Matching(Cow<'a, LabelSelector>),
}

/// A set of pods named by selectors: the subjects of a policy, or the pods a
/// `from`/`to` peer matches. Borrowed from the policy, or owned
/// ([`PodSelection::into_owned`]) by an index that outlives it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PodSelection<'a> {
    pub namespaces: Namespaces<'a>,
    /// The pods picked in those namespaces (`{}`: every pod).
    pub pods: Cow<'a, LabelSelector>,
}

impl<'a> PodSelection<'a> {
    /// The one namespace this selection is confined to, if it is.
    pub fn namespace(&self) -> Option<&str> {
        match &self.namespaces {
            Namespaces::Named(name) => Some(name),
            Namespaces::Matching(_) => None,
        }
    }

    /// Whether the namespace `name` (with `labels`) is one this selection reaches into.
    pub fn matches_namespace(&self, name: &str, labels: &Labels) -> bool {
        match &self.namespaces {
            Namespaces::Named(own) => own == name,
            Namespaces::Matching(selector) => selector.matches(labels),
        }
    }

    /// Whether `pod`, in a namespace [`Self::matches_namespace`] accepted, is picked.
    /// (Indexes that test the namespace once per namespace call the two halves.)
    pub fn matches_pod(&self, pod: PodView<'_>) -> bool {
        !pod.host_network && self.pods.matches(pod.labels)
    }

    /// Whether `pod`, whose namespace has `namespace_labels`, is in this selection.
    pub fn matches(&self, pod: PodView<'_>, namespace_labels: &Labels) -> bool {
        self.matches_namespace(pod.namespace, namespace_labels) && self.matches_pod(pod)
    }

    pub fn into_owned(self) -> PodSelection<'static> {
        let namespaces = match self.namespaces {
            Namespaces::Named(name) => Namespaces::Named(Cow::Owned(name.into_owned())),
            Namespaces::Matching(selector) => Namespaces::Matching(Cow::Owned(selector.into_owned())),
        };
        PodSelection { namespaces, pods: Cow::Owned(self.pods.into_owned()) }
    }
}

impl NetworkPolicy {
    /// The pods this policy applies to: its `podSelector` in its own namespace.
    pub fn subjects(&self) -> PodSelection<'_> {
        PodSelection {
            namespaces: Namespaces::Named(Cow::Borrowed(&self.namespace)),
            pods: Cow::Borrowed(&self.pod_selector),
        }
    }

    /// Whether this policy selects `pod` as a subject (hostNetwork pods never are).
    pub fn selects<'p>(&self, pod: impl Into<PodView<'p>>) -> bool {
        let pod = pod.into();
        // Confined to the policy's namespace: its labels are never read.
        pod.namespace == self.namespace && self.subjects().matches_pod(pod)
    }
}

/// The other end of a flow, as a peer sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerEnd<'a> {
    /// The pod (or workload, or hostNetwork pod) there and the labels of its
    /// namespace; `None` for an address that is no pod's.
    pub pod: Option<(PodView<'a>, &'a Labels)>,
    /// The address ipBlocks are matched against; `None` when unknown (a pod
    /// without `status.podIP`, a workload, no IP of the flow's family).
    pub addr: Option<IpAddr>,
}

impl<'a> PeerEnd<'a> {
    pub fn pod(pod: PodView<'a>, namespace_labels: &'a Labels, addr: Option<IpAddr>) -> Self {
        PeerEnd { pod: Some((pod, namespace_labels)), addr }
    }

    /// An address that belongs to no pod.
    pub fn external(addr: IpAddr) -> Self {
        PeerEnd { pod: None, addr: Some(addr) }
    }

    /// Whether `addr` is a pod's own IP (not a hostNetwork pod's, which is its node's).
    pub fn is_pod_ip(&self) -> bool {
        self.pod.is_some_and(|(p, _)| !p.host_network)
    }
}

impl IpBlock {
    /// Whether this ipBlock, as a peer, matches `addr`; `pod_ip` says whether
    /// the address is a (non-hostNetwork) pod's own IP, which counts only when
    /// `ipblock_matches_pods`.
    pub fn matches_addr(&self, addr: IpAddr, pod_ip: bool, ipblock_matches_pods: bool) -> bool {
        IpBlock::sees(pod_ip, ipblock_matches_pods) && self.contains(addr)
    }

    /// Whether ipBlocks look at an address at all: every address except a
    /// pod's own IP when ipBlocks do not match pod IPs. (An index that tells
    /// pods apart by the ipBlocks their IPs fall in needs their IPs only then.)
    pub fn sees(pod_ip: bool, ipblock_matches_pods: bool) -> bool {
        ipblock_matches_pods || !pod_ip
    }
}

impl Peer {
    /// The pods a `Pods` peer written in a policy of `policy_namespace` matches;
    /// `None` for an ipBlock.
    pub fn selection<'a>(&'a self, policy_namespace: &'a str) -> Option<PodSelection<'a>> {
        let Peer::Pods { pod_selector, namespace_selector } = self else { return None };
        let namespaces = match namespace_selector {
            Some(selector) => Namespaces::Matching(Cow::Borrowed(selector)),
            None => Namespaces::Named(Cow::Borrowed(policy_namespace)),
        };
        let pods = match pod_selector {
            Some(selector) => Cow::Borrowed(selector),
            None => Cow::Owned(LabelSelector::default()),
        };
        Some(PodSelection { namespaces, pods })
    }

    /// Whether this peer, written in a policy of `policy_namespace`, matches `end`.
    pub fn matches(&self, policy_namespace: &str, end: &PeerEnd<'_>, ipblock_matches_pods: bool) -> bool {
        match self {
            Peer::IpBlock(block) => {
                end.addr.is_some_and(|a| block.matches_addr(a, end.is_pod_ip(), ipblock_matches_pods))
            }
            Peer::Pods { .. } => match (end.pod, self.selection(policy_namespace)) {
                (Some((pod, namespace_labels)), Some(selection)) => selection.matches(pod, namespace_labels),
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Namespace;

    fn view<'a>(namespace: &'a str, labels: &'a Labels, host_network: bool) -> PodView<'a> {
        PodView::new(namespace, labels, host_network)
    }

    #[test]
    fn peer_table() {
        let web = Labels::from_iter([("app", "web")]);
        let none = Labels::new();
        let team = Labels::from_iter([("team", "red"), ("kubernetes.io/metadata.name", "y")]);
        let implicit = Namespace::implicit("z").labels;
        let app = || Some(LabelSelector::from_labels([("app", "web")]));
        let red = || Some(LabelSelector::from_labels([("team", "red")]));
        let ip = "10.0.0.1".parse().unwrap();
        let block = Peer::IpBlock(IpBlock::new("10.0.0.0/24".parse().unwrap(), vec!["10.0.0.128/25".parse().unwrap()]));
        let cases: Vec<(&str, Peer, PeerEnd, bool, bool)> = vec![
            (
                "podSelector in the policy's namespace",
                Peer::Pods { pod_selector: app(), namespace_selector: None },
                PeerEnd::pod(view("x", &web, false), &team, None),
                true,
                true,
            ),
            (
                "podSelector in another namespace",
                Peer::Pods { pod_selector: app(), namespace_selector: None },
                PeerEnd::pod(view("y", &web, false), &team, None),
                true,
                false,
            ),
            (
                "namespaceSelector alone: every pod there",
                Peer::Pods { pod_selector: None, namespace_selector: red() },
                PeerEnd::pod(view("y", &none, false), &team, None),
                true,
                true,
            ),
            (
                "namespaceSelector on an undeclared namespace",
                Peer::Pods { pod_selector: None, namespace_selector: red() },
                PeerEnd::pod(view("z", &web, false), &implicit, None),
                true,
                false,
            ),
            (
                "both: AND",
                Peer::Pods { pod_selector: app(), namespace_selector: red() },
                PeerEnd::pod(view("y", &none, false), &team, None),
                true,
                false,
            ),
            (
                "hostNetwork pod never matches selectors",
                Peer::Pods { pod_selector: Some(LabelSelector::default()), namespace_selector: None },
                PeerEnd::pod(view("x", &web, true), &team, None),
                true,
                false,
            ),
            (
                "selectors never match an external address",
                Peer::Pods { pod_selector: None, namespace_selector: Some(LabelSelector::default()) },
                PeerEnd::external(ip),
                true,
                false,
            ),
            ("ipBlock contains an external address", block.clone(), PeerEnd::external(ip), false, true),
            ("ipBlock except", block.clone(), PeerEnd::external("10.0.0.200".parse().unwrap()), true, false),
            (
                "ipBlock and a pod IP, option on",
                block.clone(),
                PeerEnd::pod(view("x", &web, false), &team, Some(ip)),
                true,
                true,
            ),
            (
                "ipBlock and a pod IP, option off",
                block.clone(),
                PeerEnd::pod(view("x", &web, false), &team, Some(ip)),
                false,
                false,
            ),
            (
                "ipBlock and a hostNetwork IP, option off",
                block.clone(),
                PeerEnd::pod(view("x", &web, true), &team, Some(ip)),
                false,
                true,
            ),
            (
                "ipBlock and a pod without address",
                block,
                PeerEnd::pod(view("x", &web, false), &team, None),
                true,
                false,
            ),
        ];
        for (name, peer, end, ipblock_matches_pods, want) in cases {
            assert_eq!(peer.matches("x", &end, ipblock_matches_pods), want, "{name}");
        }
    }

    #[test]
    fn subjects_are_pods_of_the_policy_namespace_and_never_host_network() {
        let web = Labels::from_iter([("app", "web")]);
        let policy = NetworkPolicy {
            namespace: "x".into(),
            name: "p".into(),
            pod_selector: LabelSelector::from_labels([("app", "web")]),
            policy_types: vec![crate::Direction::Ingress],
            policy_types_defaulted: false,
            ingress: vec![],
            egress: vec![],
            meta: Default::default(),
            origin: None,
        };
        assert!(policy.selects(view("x", &web, false)));
        assert!(!policy.selects(view("y", &web, false)));
        assert!(!policy.selects(view("x", &web, true)));
        assert!(!policy.selects(view("x", &Labels::new(), false)));
        assert_eq!(policy.subjects().namespace(), Some("x"));
    }
}

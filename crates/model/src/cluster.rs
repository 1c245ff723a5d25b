use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Labels, NetworkPolicy, Origin, PortRef, Protocol, Tier, TieredPolicy, METADATA_NAME_LABEL};

/// A namespace and its labels (which `namespaceSelector`s read).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    pub name: String,
    /// Includes `kubernetes.io/metadata.name`, as the API server sets it.
    pub labels: Labels,
    /// False when no manifest declared it and it was created implicitly
    /// (with only the `kubernetes.io/metadata.name` label).
    pub declared: bool,
    pub origin: Option<Origin>,
}

impl Namespace {
    /// A namespace as the API server would create it: labelled with its name.
    pub fn new(name: impl Into<String>, labels: Labels) -> Self {
        let name = name.into();
        let mut labels = labels;
        labels.insert(METADATA_NAME_LABEL, name.clone());
        Namespace { name, labels, declared: true, origin: None }
    }

    /// A namespace nobody declared: only the `kubernetes.io/metadata.name` label.
    pub fn implicit(name: impl Into<String>) -> Self {
        let mut ns = Namespace::new(name, Labels::new());
        ns.declared = false;
        ns
    }
}

/// `namespace/name` of a pod or workload endpoint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PodKey {
    pub namespace: String,
    pub name: String,
}

impl PodKey {
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        PodKey { namespace: namespace.into(), name: name.into() }
    }
}

impl fmt::Display for PodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not NAMESPACE/NAME")]
pub struct PodKeyError(pub String);

impl FromStr for PodKey {
    type Err = PodKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.split_once('/') {
            Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => Ok(PodKey::new(ns, name)),
            _ => Err(PodKeyError(s.to_string())),
        }
    }
}

/// What declared an endpoint: a Pod, or a workload whose pod template stands for its pods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WorkloadKind {
    #[default]
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub fn parse(kind: &str) -> Option<WorkloadKind> {
        Some(match kind {
            "Pod" => WorkloadKind::Pod,
            "Deployment" => WorkloadKind::Deployment,
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "ReplicaSet" => WorkloadKind::ReplicaSet,
            "Job" => WorkloadKind::Job,
            "CronJob" => WorkloadKind::CronJob,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
        }
    }
}

/// A declared container port (`spec.containers[*].ports[*]`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub port: u16,
    pub protocol: Protocol,
}

/// A pod, or a workload's pod template standing for its pods (then `ips` is empty).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    pub namespace: String,
    pub name: String,
    pub kind: WorkloadKind,
    pub labels: Labels,
    /// `status.podIPs` (or `status.podIP`); empty when unknown.
    pub ips: Vec<IpAddr>,
    /// Container ports of every container, in declaration order.
    pub ports: Vec<ContainerPort>,
    /// A hostNetwork pod shares the node's network: policies never select it and
    /// its traffic is node traffic.
    pub host_network: bool,
    pub node: Option<String>,
    /// The ServiceAccount the pod runs as, which Calico's `serviceAccountSelector`
    /// and `serviceAccounts` read.
    #[serde(default, skip_serializing_if = "PodServiceAccount::is_unset")]
    pub service_account: PodServiceAccount,
    pub origin: Option<Origin>,
}

/// A pod's ServiceAccount as Calico sees it: its name, and the labels of the
/// ServiceAccount object (docs/semantics.md, "Service accounts").
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PodServiceAccount {
    /// `spec.serviceAccountName` (or the deprecated `spec.serviceAccount`).
    /// The file loader reads an unset one as `default`, as the API server's
    /// ServiceAccount admission sets it; `None` is a pod the API returned
    /// without one (a mirror pod, a cluster without that admission), which
    /// Calico gives no ServiceAccount label and no ServiceAccount profile.
    pub name: Option<String>,
    /// The labels of that ServiceAccount, copied by
    /// [`Cluster::link_service_accounts`]; `None` while the cluster has no
    /// ServiceAccount of that name in the pod's namespace.
    pub labels: Option<Labels>,
}

impl PodServiceAccount {
    /// No ServiceAccount.
    pub const UNSET: PodServiceAccount = PodServiceAccount { name: None, labels: None };

    /// The name the pod runs as, if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn is_unset(&self) -> bool {
        self.name.is_none() && self.labels.is_none()
    }
}

/// A ServiceAccount: kept for its labels, which Calico selectors read through
/// the pods that run as it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    pub origin: Option<Origin>,
}

impl Pod {
    pub fn key(&self) -> PodKey {
        PodKey::new(&self.namespace, &self.name)
    }

    /// Every number this pod declares for the port `name` with `protocol`.
    ///
    /// Port names are unique only within one container, so several containers may
    /// declare the same name with different numbers; a NetworkPolicy named port
    /// matches all of them (as kube-network-policies and Calico do).
    pub fn named_ports<'a>(&'a self, name: &'a str, protocol: Protocol) -> impl Iterator<Item = u16> + 'a {
        self.ports.iter().filter(move |p| p.protocol == protocol && p.name.as_deref() == Some(name)).map(|p| p.port)
    }

    /// The first number declared for the port `name` with `protocol` (how a Service's
    /// `targetPort` resolves, and how `netpol check --port NAME` picks a port).
    pub fn resolve_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        self.ports.iter().find(|p| p.protocol == protocol && p.name.as_deref() == Some(name)).map(|p| p.port)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: u16,
    pub target_port: PortRef,
    pub protocol: Protocol,
}

/// A Service: kept for explanations (names users type) and DNS in the lab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub namespace: String,
    pub name: String,
    /// `None` for a Service without selector.
    pub selector: Option<Labels>,
    pub ports: Vec<ServicePort>,
    pub cluster_ips: Vec<IpAddr>,
    pub origin: Option<Origin>,
}

/// A node: its labels (which `nodes` peers of ordered policies read) and its
/// addresses (`status.addresses` of type InternalIP or ExternalIP).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub labels: Labels,
    pub addresses: Vec<IpAddr>,
    pub origin: Option<Origin>,
}

/// Everything loaded: the state of a cluster as the manifests declare it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub namespaces: BTreeMap<String, Namespace>,
    pub pods: Vec<Pod>,
    pub services: Vec<Service>,
    pub policies: Vec<NetworkPolicy>,
    pub nodes: Vec<Node>,
    /// Declared Calico `Tier` objects (the built-in tiers are [`Tier::builtin`]).
    pub tiers: Vec<Tier>,
    /// Ordered policies: AdminNetworkPolicy, BaselineAdminNetworkPolicy,
    /// ClusterNetworkPolicy, Calico NetworkPolicy and GlobalNetworkPolicy.
    pub tiered: Vec<TieredPolicy>,
    /// ServiceAccounts (their labels reach pods through [`Cluster::link_service_accounts`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_accounts: Vec<ServiceAccount>,
}

impl Cluster {
    /// Copies each ServiceAccount's labels onto the pods that run as it (and
    /// clears them where the ServiceAccount is gone); true when a pod changed.
    /// Whoever changes `pods` or `service_accounts` calls it before evaluating.
    pub fn link_service_accounts(&mut self) -> bool {
        let index: std::collections::HashMap<(&str, &str), &Labels> =
            self.service_accounts.iter().map(|sa| ((sa.namespace.as_str(), sa.name.as_str()), &sa.labels)).collect();
        let mut changed = false;
        for pod in &mut self.pods {
            let want = pod.service_account.name().and_then(|name| index.get(&(pod.namespace.as_str(), name)).copied());
            if pod.service_account.labels.as_ref() != want {
                pod.service_account.labels = want.cloned();
                changed = true;
            }
        }
        changed
    }

    pub fn namespace_labels(&self, namespace: &str) -> Option<&Labels> {
        self.namespaces.get(namespace).map(|n| &n.labels)
    }

    pub fn pod(&self, key: &PodKey) -> Option<&Pod> {
        self.pods.iter().find(|p| p.namespace == key.namespace && p.name == key.name)
    }

    pub fn pod_by_ip(&self, ip: IpAddr) -> Option<&Pod> {
        self.pods.iter().find(|p| !p.host_network && p.ips.contains(&ip))
    }

    pub fn policy(&self, namespace: &str, name: &str) -> Option<&NetworkPolicy> {
        self.policies.iter().find(|p| p.namespace == namespace && p.name == name)
    }

    /// Every tier in evaluation order: the declared ones and the built-in ones
    /// they do not redefine.
    pub fn ordered_tiers(&self) -> Vec<Tier> {
        let mut tiers = self.tiers.clone();
        for builtin in Tier::builtin() {
            if !tiers.iter().any(|t| t.name == builtin.name) {
                tiers.push(builtin);
            }
        }
        tiers.sort_by(|a, b| crate::compare_order((a.order, &a.name), (b.order, &b.name)));
        tiers
    }

    /// The node a pod or address is on, by address.
    pub fn node_by_ip(&self, ip: IpAddr) -> Option<&Node> {
        self.nodes.iter().find(|n| n.addresses.contains(&ip))
    }

    /// Creates every namespace that a pod or policy uses but nobody declared,
    /// and returns the names created (callers warn about them).
    pub fn add_implicit_namespaces(&mut self) -> Vec<String> {
        let used = self
            .pods
            .iter()
            .map(|p| p.namespace.clone())
            .chain(self.policies.iter().map(|p| p.namespace.clone()))
            .chain(self.tiered.iter().filter_map(|p| p.namespace.clone()))
            .chain(self.services.iter().map(|s| s.namespace.clone()));
        let mut created = Vec::new();
        for ns in used {
            if !self.namespaces.contains_key(&ns) {
                self.namespaces.insert(ns.clone(), Namespace::implicit(ns.clone()));
                created.push(ns);
            }
        }
        created
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_key_parses() {
        assert_eq!("default/web".parse::<PodKey>().unwrap(), PodKey::new("default", "web"));
        for bad in ["web", "/web", "default/", "a/b/c"] {
            assert!(bad.parse::<PodKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn implicit_namespace_has_only_name_label() {
        let ns = Namespace::implicit("db");
        assert_eq!(ns.labels.to_string(), "kubernetes.io/metadata.name=db");
        assert!(!ns.declared);
    }
}

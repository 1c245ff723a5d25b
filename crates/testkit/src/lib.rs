//! netpol-testkit: fluent builders for `netpol_model` values, for tests.
//!
//! Where it sits: a dev-dependency of every crate that needs a cluster in a
//! test (engine, matrix, nft, lab, cli). It builds *post-defaulting* model
//! values, exactly what `manifest` would produce after validation:
//! `policy_types` defaults like the API server when [`PolicyBuilder::types`]
//! is not called, and [`ClusterBuilder::build`] creates the namespaces that
//! pods and policies use but nobody declared (with only the
//! `kubernetes.io/metadata.name` label).
//!
//! Builders panic on malformed literals (a bad IP or CIDR string): they are
//! for tests, where a typo should fail loudly.
//!
//! ```
//! use netpol_model::{Direction, Protocol};
//! use netpol_testkit::*;
//!
//! let c = cluster()
//!     .namespace(namespace("x").label("ns", "x"))
//!     .pod(pod("x", "a").label("pod", "a").ip("10.0.0.1").port("http", 80, Protocol::Tcp))
//!     .pod(pod("y", "b").label("pod", "b").ip("10.0.0.2"))
//!     .policy(
//!         policy("x", "allow-b")
//!             .select(sel!("pod" => "a"))
//!             .ingress(rule().from(pods_in_namespaces(sel!(), sel!("pod" => "b"))).port(tcp(80))),
//!     )
//!     .build();
//! assert!(!c.namespaces["y"].declared); // created implicitly
//! assert_eq!(c.policies[0].policy_types, vec![Direction::Ingress]); // defaulted
//! ```
//!
//! It also holds the one gate every privileged test goes through
//! ([`require_privileged!`], module [`privileged`]), the network namespace
//! guard those tests share ([`Netns`]), and a real Kubernetes control plane
//! (etcd + kube-apiserver) for tests ([`ControlPlane`], from the crate
//! `netpol-controlplane` re-exported as [`control_plane`] with its test-only
//! faults, gated by [`require_control_plane!`]; helm, for the
//! chart's tests, by [`require_helm!`]), with [`spans`] to find the lines of
//! a field an API server names, [`http`], a plain HTTP/1.0 client for the
//! agent's endpoints, [`proxy`], a TCP proxy a test can cut,
//! [`scenarios`], the seed 000 walkthrough and the policy churn as data that
//! several tests replay through their own paths, [`network_policy_api`], the
//! upstream network-policy-api conformance suite's pokes and manifests (replayed
//! by the engine's tests and the lab's), and for the benchmarks
//! [`latency`]: the kernel's nftables commits heard in a namespace, and
//! percentiles.

use std::net::IpAddr;

use netpol_model::{
    Cluster, ContainerPort, Direction, IpBlock, LabelSelector, Labels, Namespace, NetworkPolicy, ObjectMeta, Origin,
    Peer, Pod, PolicyPort, Protocol, Rule, Service, WorkloadKind,
};

/// A [`LabelSelector`] from `matchLabels` pairs: `sel!("app" => "web", "tier" => "db")`.
/// `sel!()` is the empty selector `{}`, which matches everything.
/// Add `matchExpressions` with `.with_expression(Requirement::new(..))`.
#[macro_export]
macro_rules! sel {
    () => {
        $crate::__model::LabelSelector::default()
    };
    ($($k:expr => $v:expr),+ $(,)?) => {
        $crate::__model::LabelSelector::from_labels([$(($k, $v)),+])
    };
}

#[doc(hidden)]
pub use netpol_model as __model;

/// The control plane (crate `netpol-controlplane`, with its `faults` feature), under
/// the name tests have always used.
pub use netpol_controlplane as control_plane;
pub use netpol_controlplane::http;
pub mod latency;
pub mod network_policy_api;
pub mod privileged;
pub mod proxy;
pub mod random;
pub mod scenarios;
pub mod spans;
pub use control_plane::ControlPlane;
pub use privileged::{Netns, Privileged};

fn origin(file: &str, line: u32, column: u32) -> Option<Origin> {
    Some(Origin::new(file, line, column))
}

// ---------------------------------------------------------------- namespaces

/// Writes `dir/name` as editors and kubectl-like tools do: a hidden
/// temporary file, then a rename, so a watcher never reads half a file.
pub fn write_renamed(dir: &std::path::Path, name: &str, text: impl AsRef<[u8]>) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    std::fs::rename(&tmp, dir.join(name)).unwrap_or_else(|e| panic!("rename {} to {name}: {e}", tmp.display()));
}

/// Starts a declared namespace (labelled `kubernetes.io/metadata.name=<name>`).
pub fn namespace(name: &str) -> NamespaceBuilder {
    NamespaceBuilder { name: name.to_string(), labels: Labels::new(), origin: None }
}

#[derive(Clone, Debug)]
pub struct NamespaceBuilder {
    name: String,
    labels: Labels,
    origin: Option<Origin>,
}

impl NamespaceBuilder {
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key, value);
        self
    }

    pub fn origin(mut self, file: &str, line: u32, column: u32) -> Self {
        self.origin = origin(file, line, column);
        self
    }

    pub fn build(self) -> Namespace {
        let mut ns = Namespace::new(self.name, self.labels);
        ns.origin = self.origin;
        ns
    }
}

impl From<NamespaceBuilder> for Namespace {
    fn from(b: NamespaceBuilder) -> Namespace {
        b.build()
    }
}

// ---------------------------------------------------------------------- pods

/// Starts a Pod `ns/name` with no labels, IPs or ports.
pub fn pod(namespace: &str, name: &str) -> PodBuilder {
    PodBuilder {
        pod: Pod {
            namespace: namespace.to_string(),
            name: name.to_string(),
            kind: WorkloadKind::Pod,
            labels: Labels::new(),
            ips: Vec::new(),
            ports: Vec::new(),
            host_network: false,
            node: None,
            service_account: Default::default(),
            origin: None,
        },
    }
}

#[derive(Clone, Debug)]
pub struct PodBuilder {
    pod: Pod,
}

impl PodBuilder {
    /// `spec.serviceAccountName` (the labels come from the cluster's
    /// ServiceAccount objects: [`Cluster::link_service_accounts`](netpol_model::Cluster::link_service_accounts)).
    pub fn service_account(mut self, name: &str) -> Self {
        self.pod.service_account.name = Some(name.to_string());
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.pod.labels.insert(key, value);
        self
    }

    /// Adds an IP (call twice for dual-stack). Panics on a malformed literal.
    pub fn ip(mut self, ip: &str) -> Self {
        let ip: IpAddr = ip.parse().unwrap_or_else(|e| panic!("testkit: bad IP `{ip}`: {e}"));
        self.pod.ips.push(ip);
        self
    }

    /// Declares a named container port.
    pub fn port(mut self, name: &str, port: u16, protocol: Protocol) -> Self {
        self.pod.ports.push(ContainerPort { name: Some(name.to_string()), port, protocol });
        self
    }

    /// Declares a container port without a name.
    pub fn unnamed_port(mut self, port: u16, protocol: Protocol) -> Self {
        self.pod.ports.push(ContainerPort { name: None, port, protocol });
        self
    }

    pub fn host_network(mut self) -> Self {
        self.pod.host_network = true;
        self
    }

    pub fn node(mut self, node: &str) -> Self {
        self.pod.node = Some(node.to_string());
        self
    }

    /// Makes this a workload endpoint (e.g. a Deployment's pod template).
    /// Workload endpoints have no IPs; do not combine with [`PodBuilder::ip`].
    pub fn workload(mut self, kind: WorkloadKind) -> Self {
        self.pod.kind = kind;
        self
    }

    pub fn origin(mut self, file: &str, line: u32, column: u32) -> Self {
        self.pod.origin = origin(file, line, column);
        self
    }

    pub fn build(self) -> Pod {
        self.pod
    }
}

impl From<PodBuilder> for Pod {
    fn from(b: PodBuilder) -> Pod {
        b.build()
    }
}

// ------------------------------------------------------------------ policies

/// Starts a NetworkPolicy `ns/name` selecting every pod of `ns` (`podSelector: {}`).
pub fn policy(namespace: &str, name: &str) -> PolicyBuilder {
    PolicyBuilder {
        namespace: namespace.to_string(),
        name: name.to_string(),
        pod_selector: LabelSelector::default(),
        types: None,
        ingress: Vec::new(),
        egress: Vec::new(),
        origin: None,
    }
}

#[derive(Clone, Debug)]
pub struct PolicyBuilder {
    namespace: String,
    name: String,
    pod_selector: LabelSelector,
    types: Option<Vec<Direction>>,
    ingress: Vec<Rule>,
    egress: Vec<Rule>,
    origin: Option<Origin>,
}

impl PolicyBuilder {
    /// Sets `spec.podSelector` (the subjects).
    pub fn select(mut self, selector: LabelSelector) -> Self {
        self.pod_selector = selector;
        self
    }

    pub fn ingress(mut self, rule: impl Into<Rule>) -> Self {
        self.ingress.push(rule.into());
        self
    }

    pub fn egress(mut self, rule: impl Into<Rule>) -> Self {
        self.egress.push(rule.into());
        self
    }

    /// Sets `spec.policyTypes` explicitly. When never called, the API server's
    /// defaulting applies: `Ingress`, plus `Egress` when egress rules exist.
    pub fn types(mut self, types: impl IntoIterator<Item = Direction>) -> Self {
        self.types = Some(types.into_iter().collect());
        self
    }

    pub fn origin(mut self, file: &str, line: u32, column: u32) -> Self {
        self.origin = origin(file, line, column);
        self
    }

    pub fn build(self) -> NetworkPolicy {
        let defaulted = self.types.is_none();
        let policy_types = self.types.unwrap_or_else(|| NetworkPolicy::default_policy_types(!self.egress.is_empty()));
        NetworkPolicy {
            namespace: self.namespace,
            name: self.name,
            pod_selector: self.pod_selector,
            policy_types,
            policy_types_defaulted: defaulted,
            ingress: self.ingress,
            egress: self.egress,
            meta: ObjectMeta::default(),
            origin: self.origin,
        }
    }
}

impl From<PolicyBuilder> for NetworkPolicy {
    fn from(b: PolicyBuilder) -> NetworkPolicy {
        b.build()
    }
}

// --------------------------------------------------------------------- rules

/// Starts a rule with no peers and no ports: `{}`, which allows everything.
pub fn rule() -> RuleBuilder {
    RuleBuilder { rule: Rule::default() }
}

#[derive(Clone, Debug)]
pub struct RuleBuilder {
    rule: Rule,
}

impl RuleBuilder {
    /// Adds a peer to `from` (ingress rules). Same as [`RuleBuilder::to`].
    pub fn from(mut self, peer: Peer) -> Self {
        self.rule.peers.push(peer);
        self
    }

    /// Adds a peer to `to` (egress rules). Same as [`RuleBuilder::from`].
    pub fn to(self, peer: Peer) -> Self {
        self.from(peer)
    }

    /// Adds an entry to `ports` (see [`tcp`], [`udp`], [`port_range`], [`named_port`]).
    pub fn port(mut self, port: PolicyPort) -> Self {
        self.rule.ports.push(port);
        self
    }

    pub fn origin(mut self, file: &str, line: u32, column: u32) -> Self {
        self.rule.origin = origin(file, line, column);
        self
    }

    pub fn build(self) -> Rule {
        self.rule
    }
}

impl From<RuleBuilder> for Rule {
    fn from(b: RuleBuilder) -> Rule {
        b.build()
    }
}

// --------------------------------------------------------------------- peers

/// `- podSelector: ...` alone: matching pods of the policy's own namespace.
pub fn pods(pod_selector: LabelSelector) -> Peer {
    Peer::Pods { pod_selector: Some(pod_selector), namespace_selector: None }
}

/// `- namespaceSelector: ...` alone: every pod of the matching namespaces.
pub fn namespaces(namespace_selector: LabelSelector) -> Peer {
    Peer::Pods { pod_selector: None, namespace_selector: Some(namespace_selector) }
}

/// Both selectors in one peer: matching pods in matching namespaces (AND).
pub fn pods_in_namespaces(namespace_selector: LabelSelector, pod_selector: LabelSelector) -> Peer {
    Peer::Pods { pod_selector: Some(pod_selector), namespace_selector: Some(namespace_selector) }
}

/// `- ipBlock: {cidr, except}`. Panics on a malformed CIDR literal.
pub fn ip_block(cidr: &str, except: &[&str]) -> Peer {
    let parse = |s: &str| s.parse().unwrap_or_else(|e| panic!("testkit: bad CIDR `{s}`: {e}"));
    Peer::IpBlock(IpBlock::new(parse(cidr), except.iter().map(|s| parse(s)).collect()))
}

// --------------------------------------------------------------------- ports

/// `{protocol: TCP, port: N}`.
pub fn tcp(port: u16) -> PolicyPort {
    PolicyPort::number(Protocol::Tcp, port)
}

/// `{protocol: UDP, port: N}`.
pub fn udp(port: u16) -> PolicyPort {
    PolicyPort::number(Protocol::Udp, port)
}

/// `{protocol: SCTP, port: N}`.
pub fn sctp(port: u16) -> PolicyPort {
    PolicyPort::number(Protocol::Sctp, port)
}

/// `{protocol, port: start, endPort: end}`.
pub fn port_range(protocol: Protocol, start: u16, end: u16) -> PolicyPort {
    PolicyPort::range(protocol, start, end)
}

/// `{protocol, port: "name"}`, resolved against the destination pod.
pub fn named_port(name: &str, protocol: Protocol) -> PolicyPort {
    PolicyPort::named(protocol, name)
}

/// `{protocol}` with no port: every port of that protocol.
pub fn all_ports(protocol: Protocol) -> PolicyPort {
    PolicyPort::all(protocol)
}

// ------------------------------------------------------------------- cluster

/// Starts an empty cluster.
pub fn cluster() -> ClusterBuilder {
    ClusterBuilder { cluster: Cluster::default() }
}

#[derive(Clone, Debug)]
pub struct ClusterBuilder {
    cluster: Cluster,
}

impl ClusterBuilder {
    /// Declares a namespace (replacing an earlier one of the same name).
    pub fn namespace(mut self, ns: impl Into<Namespace>) -> Self {
        let ns = ns.into();
        self.cluster.namespaces.insert(ns.name.clone(), ns);
        self
    }

    pub fn pod(mut self, pod: impl Into<Pod>) -> Self {
        self.cluster.pods.push(pod.into());
        self
    }

    pub fn policy(mut self, policy: impl Into<NetworkPolicy>) -> Self {
        self.cluster.policies.push(policy.into());
        self
    }

    pub fn service(mut self, service: Service) -> Self {
        self.cluster.services.push(service);
        self
    }

    /// Finishes the cluster, creating undeclared namespaces implicitly.
    pub fn build(mut self) -> Cluster {
        self.cluster.add_implicit_namespaces();
        self.cluster
    }
}

impl From<ClusterBuilder> for Cluster {
    fn from(b: ClusterBuilder) -> Cluster {
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol_model::{PortRef, METADATA_NAME_LABEL};

    #[test]
    fn policy_types_default_like_the_api_server() {
        let cases = [
            ("no rules", policy("x", "p").build(), vec![Direction::Ingress], true),
            ("ingress only", policy("x", "p").ingress(rule()).build(), vec![Direction::Ingress], true),
            (
                "egress rules add Egress",
                policy("x", "p").egress(rule()).build(),
                vec![Direction::Ingress, Direction::Egress],
                true,
            ),
            ("explicit", policy("x", "p").types([Direction::Egress]).build(), vec![Direction::Egress], false),
        ];
        for (name, got, want, defaulted) in cases {
            assert_eq!(got.policy_types, want, "{name}");
            assert_eq!(got.policy_types_defaulted, defaulted, "{name}");
        }
    }

    #[test]
    fn cluster_creates_implicit_namespaces() {
        let c =
            cluster().namespace(namespace("x").label("ns", "x")).pod(pod("y", "a")).policy(policy("z", "p")).build();
        assert!(c.namespaces["x"].declared);
        assert_eq!(c.namespaces["x"].labels.get("ns"), Some("x"));
        assert_eq!(c.namespaces["x"].labels.get(METADATA_NAME_LABEL), Some("x"));
        assert!(!c.namespaces["y"].declared);
        assert!(!c.namespaces["z"].declared);
    }

    #[test]
    fn builders_produce_model_values() {
        let p = pod("x", "a").label("pod", "a").ip("10.0.0.1").ip("fd00::1").port("http", 80, Protocol::Tcp).build();
        assert_eq!(p.ips.len(), 2);
        assert_eq!(p.resolve_port("http", Protocol::Tcp), Some(80));
        assert_eq!(p.resolve_port("http", Protocol::Udp), None);
        let r = rule().from(ip_block("10.0.0.0/8", &["10.1.0.0/16"])).port(named_port("http", Protocol::Tcp)).build();
        assert_eq!(r.ports[0].port, Some(PortRef::Name("http".into())));
        match &r.peers[0] {
            Peer::IpBlock(b) => assert_eq!(b.to_string(), "10.0.0.0/8 except 10.1.0.0/16"),
            other => panic!("unexpected peer {other:?}"),
        }
        assert_eq!(sel!("a" => "1", "b" => "2").to_string(), "a=1,b=2");
        assert!(sel!().is_empty());
    }
}

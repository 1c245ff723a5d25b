//! netpol-synth: seeded, realistic synthetic clusters, for benchmarks anyone can reproduce.
//!
//! Where it sits: beside the pipeline, feeding it. `generate` builds a
//! `model::Cluster` directly (what the matrix benchmarks compile), and
//! `documents` renders the same cluster as Kubernetes YAML manifests (what
//! `netpol synth` writes and the whole-process benchmarks load back through
//! `netpol-manifest`, strictly).
//!
//! What "realistic" means here: namespaces owned by teams with `team`/`env`
//! labels (a few common values, many rare ones); apps as groups of replicas
//! sharing `app`/`tier`/`version` labels plus per-replica-set
//! `pod-template-hash` and per-pod StatefulSet labels that no selector reads;
//! tiers declare named container ports (`http`, `grpc`, `metrics`, `postgres`,
//! `redis`); a kube-system DNS pod and hostNetwork node agents; pod IPs from a
//! pod CIDR, a /24 per node. Policies mix default-deny (ingress, and egress with
//! a DNS exception), same-namespace allows by `podSelector`, cross-namespace
//! allows by `namespaceSelector` (often with `matchExpressions`), monitoring
//! scrapes on a named port, internet egress as ipBlocks with `except`, and
//! `endPort` ranges.
//!
//! ```
//! let spec = netpol_synth::Spec { namespaces: 4, pods: 40, policies: 12, seed: 7 };
//! let cluster = netpol_synth::generate(&spec);
//! assert_eq!(cluster.pods.len(), 40);
//! assert_eq!(cluster.policies.len(), 12);
//! assert_eq!(cluster, netpol_synth::generate(&spec)); // seeded: same spec, same cluster
//! let docs = netpol_synth::documents(&cluster);
//! assert!(docs.iter().any(|d| d.text.contains("kind: NetworkPolicy")));
//! ```

mod admin;
mod render;
mod rng;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use netpol_model::{
    Cluster, ContainerPort, Direction, IpBlock, LabelSelector, Labels, Namespace, NetworkPolicy, Operator, Peer, Pod,
    PodServiceAccount, PolicyPort, Protocol, Requirement, Rule, WorkloadKind,
};

pub use admin::{add_admin_policies, render_admin};
pub use render::{namespace as render_namespace, pod as render_pod, policy as render_policy};
use rng::Rng;

/// How big a cluster to make, and from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    pub namespaces: usize,
    pub pods: usize,
    pub policies: usize,
    pub seed: u64,
}

/// How the cluster is laid out beyond its size. The default is the shape the
/// benchmarks in benches/RESULTS.md were first measured on; [`Shape::realistic`]
/// is the shape a scheduler leaves a real cluster in (issue 12): every workload
/// 20 replicas (each on a random node, a /24 per node, 100 pods a node), and a
/// few hundred distinct ipBlocks (external ranges, /20s of the pod range with an
/// `except`, single nodes' /24s) in the policies' CIDR rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Replicas of every workload; `None`: about 10, skewed (1-20).
    pub replicas: Option<usize>,
    /// Distinct ipBlocks the CIDR rules draw from; 0: the three fixed ones.
    pub ip_blocks: usize,
    /// AdminNetworkPolicies to add ([`add_admin_policies`]).
    pub admin_policies: usize,
    /// Add the BaselineAdminNetworkPolicy.
    pub baseline: bool,
}

impl Shape {
    pub fn realistic() -> Self {
        Shape { replicas: Some(20), ip_blocks: 300, ..Shape::default() }
    }
}

/// One manifest file: a relative path and its multi-document YAML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub path: String,
    pub text: String,
}

const TIERS: [&str; 5] = ["web", "api", "worker", "db", "cache"];
const ENVS: [&str; 3] = ["prod", "staging", "dev"];
const APP_WORDS: [&str; 16] = [
    "cart",
    "checkout",
    "search",
    "auth",
    "billing",
    "catalog",
    "inventory",
    "orders",
    "payments",
    "profile",
    "ratings",
    "reports",
    "shipping",
    "users",
    "notify",
    "media",
];
/// Pods per node, and the pod CIDR nodes take their /24 from.
const PODS_PER_NODE: usize = 100;
const POD_CIDR_BASE: u32 = 10 << 24;

struct App {
    namespace: usize,
    name: String,
    tier: &'static str,
    version: &'static str,
    hash: String,
}

fn tier_ports(tier: &str) -> Vec<ContainerPort> {
    let p = |name: &str, port: u16, protocol: Protocol| ContainerPort { name: Some(name.into()), port, protocol };
    match tier {
        "web" => vec![p("http", 8080, Protocol::Tcp), p("metrics", 9090, Protocol::Tcp)],
        "api" => {
            vec![p("grpc", 50051, Protocol::Tcp), p("http", 8080, Protocol::Tcp), p("metrics", 9090, Protocol::Tcp)]
        }
        "worker" => vec![p("metrics", 9091, Protocol::Tcp)],
        "db" => vec![p("postgres", 5432, Protocol::Tcp), p("metrics", 9187, Protocol::Tcp)],
        _ => vec![p("redis", 6379, Protocol::Tcp), p("gossip", 7946, Protocol::Udp)],
    }
}

fn ns_name(i: usize) -> String {
    match i {
        0 => "kube-system".into(),
        1 => "monitoring".into(),
        _ => format!("team-{:04}", i - 2),
    }
}

fn ipv4(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(n))
}

/// Generates a cluster: exactly `spec.pods` pods and `spec.policies` policies in
/// `max(spec.namespaces, 1)` namespaces (`kube-system`, `monitoring`, then teams).
pub fn generate(spec: &Spec) -> Cluster {
    generate_shaped(spec, &Shape::default())
}

/// [`generate`] in another [`Shape`]; the default shape gives the same cluster.
pub fn generate_shaped(spec: &Spec, shape: &Shape) -> Cluster {
    let mut rng = Rng::new(spec.seed);
    let n_ns = spec.namespaces.max(1);
    let teams = (n_ns / 4).max(1);
    let mut cluster = Cluster::default();
    for i in 0..n_ns {
        let mut labels = Labels::new();
        if i >= 2 || n_ns < 3 {
            labels.insert("team", format!("t{}", rng.skewed(teams)));
            labels.insert("env", *rng.pick(&ENVS));
        } else {
            labels.insert("role", if i == 0 { "system" } else { "monitoring" });
        }
        if rng.chance(30) {
            labels.insert("compliance", if rng.chance(50) { "pci" } else { "none" });
        }
        let ns = Namespace::new(ns_name(i), labels);
        cluster.namespaces.insert(ns.name.clone(), ns);
    }
    let app_ns = |rng: &mut Rng| if n_ns > 2 { 2 + rng.below(n_ns - 2) } else { rng.below(n_ns) };

    // Apps of about 10 replicas (skewed), then system pods.
    let nodes = spec.pods.div_ceil(PODS_PER_NODE).max(1);
    let mut next_on_node = vec![0u32; nodes];
    let mut pods = Vec::with_capacity(spec.pods);
    let mut ip_for = |rng: &mut Rng| {
        let node = rng.below(nodes);
        next_on_node[node] += 1;
        // Each node's /24; a node that fills up spills into a second range.
        let slot = next_on_node[node];
        (node, POD_CIDR_BASE + ((node as u32) << 8) + (slot % 250) + 2 + ((slot / 250) << 20))
    };
    if spec.pods > 0 {
        let dns = Pod {
            namespace: ns_name(0),
            name: "coredns-0".into(),
            kind: WorkloadKind::Pod,
            labels: Labels::from_iter([("k8s-app", "kube-dns")]),
            ips: vec![ipv4(POD_CIDR_BASE + 2)],
            ports: vec![
                ContainerPort { name: Some("dns".into()), port: 53, protocol: Protocol::Udp },
                ContainerPort { name: Some("dns-tcp".into()), port: 53, protocol: Protocol::Tcp },
            ],
            host_network: false,
            node: Some("node-0".into()),
            origin: None,
            service_account: PodServiceAccount { name: Some("default".into()), labels: None },
        };
        pods.push(dns);
    }
    // One hostNetwork node agent per 20 nodes (their IPs are node IPs).
    let agents = (nodes / 20).min(spec.pods.saturating_sub(pods.len()));
    for a in 0..agents {
        pods.push(Pod {
            namespace: ns_name(1.min(n_ns - 1)),
            name: format!("node-exporter-{a}"),
            kind: WorkloadKind::Pod,
            labels: Labels::from_iter([("app", "node-exporter")]),
            ips: vec![ipv4((172 << 24) | (20 << 16) | (a as u32 * 20 + 1))],
            ports: vec![ContainerPort { name: Some("metrics".into()), port: 9100, protocol: Protocol::Tcp }],
            host_network: true,
            node: Some(format!("node-{}", a * 20)),
            origin: None,
            service_account: PodServiceAccount { name: Some("default".into()), labels: None },
        });
    }
    let mut apps: Vec<App> = Vec::new();
    while pods.len() < spec.pods {
        let namespace = app_ns(&mut rng);
        let tier = *rng.pick(&TIERS);
        let name = format!("{}-{}", rng.pick(&APP_WORDS), apps.len());
        let version = if rng.chance(80) { "v1" } else { "v2" };
        let hash = format!("{:08x}", rng.next_u64() as u32);
        let replicas = shape.replicas.unwrap_or_else(|| 1 + rng.skewed(20)).max(1).min(spec.pods - pods.len());
        for r in 0..replicas {
            let (node, ip) = ip_for(&mut rng);
            let mut labels = Labels::from_iter([("app", name.as_str()), ("tier", tier), ("version", version)]);
            let pod_name = if tier == "db" {
                let n = format!("{name}-{r}");
                labels.insert("statefulset.kubernetes.io/pod-name", n.clone());
                n
            } else {
                labels.insert("pod-template-hash", hash.clone());
                format!("{name}-{hash}-{r:03}")
            };
            pods.push(Pod {
                namespace: ns_name(namespace),
                name: pod_name,
                kind: WorkloadKind::Pod,
                labels,
                ips: vec![ipv4(ip)],
                ports: tier_ports(tier),
                host_network: false,
                node: Some(format!("node-{node}")),
                origin: None,
                service_account: PodServiceAccount { name: Some("default".into()), labels: None },
            });
        }
        apps.push(App { namespace, name, tier, version, hash });
    }
    cluster.pods = pods;
    let pool = ip_block_pool(shape.ip_blocks, nodes);

    // Policies: default-deny first in some namespaces, then allows per app.
    let mut names = BTreeSet::new();
    let mut k = 0usize;
    while cluster.policies.len() < spec.policies {
        let ns =
            if apps.is_empty() || rng.chance(15) { app_ns(&mut rng) } else { apps[rng.below(apps.len())].namespace };
        let app = apps.iter().filter(|a| a.namespace == ns).nth(rng.below(4));
        let mut p = policy_for(&mut rng, ns, app, n_ns, teams, &pool);
        k += 1;
        p.name = format!("{}-{k}", p.name);
        if names.insert((p.namespace.clone(), p.name.clone())) {
            cluster.policies.push(p);
        }
    }
    if shape.admin_policies > 0 || shape.baseline {
        add_admin_policies(&mut cluster, spec.seed, shape.admin_policies, shape.baseline);
    }
    cluster
}

fn empty_policy(ns: usize, name: &str, subject: LabelSelector, types: &[Direction]) -> NetworkPolicy {
    NetworkPolicy {
        namespace: ns_name(ns),
        name: name.into(),
        pod_selector: subject,
        policy_types: types.to_vec(),
        policy_types_defaulted: false,
        ingress: Vec::new(),
        egress: Vec::new(),
        meta: Default::default(),
        origin: None,
    }
}

fn pods_peer(pods: Option<LabelSelector>, namespaces: Option<LabelSelector>) -> Peer {
    Peer::Pods { pod_selector: pods, namespace_selector: namespaces }
}

fn dns_rule() -> Rule {
    Rule {
        peers: vec![pods_peer(
            Some(LabelSelector::from_labels([("k8s-app", "kube-dns")])),
            Some(LabelSelector::from_labels([("kubernetes.io/metadata.name", "kube-system")])),
        )],
        ports: vec![PolicyPort::number(Protocol::Udp, 53), PolicyPort::number(Protocol::Tcp, 53)],
        origin: None,
    }
}

fn net(s: &str) -> ipnet::IpNet {
    s.parse().expect("literal CIDR")
}

/// `n` distinct ipBlocks: 60% external /24s, 25% /20s of the pod range with one
/// /24 excepted, 15% single nodes' /24s (in that rotation).
fn ip_block_pool(n: usize, nodes: usize) -> Vec<IpBlock> {
    let v4 = |a: u32, prefix: u8| ipnet::IpNet::V4(ipnet::Ipv4Net::new(Ipv4Addr::from(a), prefix).expect("prefix"));
    (0..n)
        .map(|k| {
            let k32 = k as u32;
            match k % 20 {
                0..=11 => IpBlock::new(v4((198 << 24) | (18 << 16) | (k32 << 8), 24), vec![]),
                12..=16 => {
                    let base = POD_CIDR_BASE + (k32 << 12);
                    IpBlock::new(v4(base, 20), vec![v4(base + ((k32 % 16) << 8), 24)])
                }
                _ => IpBlock::new(v4(POD_CIDR_BASE + (((k * 7 % nodes) as u32) << 8), 24), vec![]),
            }
        })
        .collect()
}

fn policy_for(
    rng: &mut Rng,
    ns: usize,
    app: Option<&App>,
    n_ns: usize,
    teams: usize,
    pool: &[IpBlock],
) -> NetworkPolicy {
    let ingress_egress = [Direction::Ingress, Direction::Egress];
    let Some(app) = app.filter(|_| !rng.chance(12)) else {
        // Namespace-wide defaults.
        return if rng.chance(50) {
            empty_policy(ns, "default-deny-ingress", LabelSelector::default(), &[Direction::Ingress])
        } else {
            let mut p = empty_policy(ns, "default-deny-all", LabelSelector::default(), &ingress_egress);
            p.egress.push(dns_rule());
            p
        };
    };
    let subject = if rng.chance(70) {
        LabelSelector::from_labels([("app", app.name.as_str())])
    } else {
        LabelSelector::from_labels([("tier", app.tier)]).with_expression(Requirement::new(
            "version",
            Operator::In,
            [app.version],
        ))
    };
    let main_port = match app.tier {
        "web" | "api" => PolicyPort::named(Protocol::Tcp, "http"),
        "db" => PolicyPort::number(Protocol::Tcp, 5432),
        "cache" => PolicyPort::number(Protocol::Tcp, 6379),
        _ => PolicyPort::named(Protocol::Tcp, "metrics"),
    };
    let _ = &app.hash;
    match rng.below(8) {
        0 | 1 => {
            // Same-namespace callers by tier.
            let mut p = empty_policy(ns, &format!("{}-from-callers", app.name), subject, &[Direction::Ingress]);
            let callers = LabelSelector::default().with_expression(Requirement::new(
                "tier",
                Operator::In,
                [*rng.pick(&TIERS), *rng.pick(&TIERS)],
            ));
            p.ingress.push(Rule { peers: vec![pods_peer(Some(callers), None)], ports: vec![main_port], origin: None });
            p
        }
        2 | 3 => {
            // Other teams' namespaces, often only some tiers.
            let mut p = empty_policy(ns, &format!("{}-from-team", app.name), subject, &[Direction::Ingress]);
            let mut namespaces = LabelSelector::from_labels([("team", format!("t{}", rng.skewed(teams)))]);
            if rng.chance(40) {
                namespaces = namespaces.with_expression(Requirement::new("env", Operator::NotIn, ["dev"]));
            }
            let pods = rng.chance(60).then(|| {
                LabelSelector::default().with_expression(Requirement::new("tier", Operator::In, ["web", "api"]))
            });
            p.ingress.push(Rule {
                peers: vec![pods_peer(pods, Some(namespaces))],
                ports: vec![main_port],
                origin: None,
            });
            p
        }
        4 => {
            // Monitoring scrapes the metrics port.
            let mut p = empty_policy(ns, &format!("{}-metrics", app.name), subject, &[Direction::Ingress]);
            let mon = LabelSelector::from_labels([("kubernetes.io/metadata.name", ns_name(1.min(n_ns - 1)))]);
            let scraper = LabelSelector::default().with_expression(Requirement::new(
                "app",
                Operator::Exists,
                Vec::<String>::new(),
            ));
            p.ingress.push(Rule {
                peers: vec![pods_peer(Some(scraper), Some(mon))],
                ports: vec![PolicyPort::named(Protocol::Tcp, "metrics")],
                origin: None,
            });
            p
        }
        5 => {
            // Internet egress (no private ranges) plus DNS.
            let mut p = empty_policy(ns, &format!("{}-egress-internet", app.name), subject, &[Direction::Egress]);
            let block = if pool.is_empty() {
                IpBlock::new(net("0.0.0.0/0"), vec![net("10.0.0.0/8"), net("172.16.0.0/12"), net("192.168.0.0/16")])
            } else {
                pool[rng.below(pool.len())].clone()
            };
            p.egress.push(Rule {
                peers: vec![Peer::IpBlock(block)],
                ports: vec![PolicyPort::number(Protocol::Tcp, 443), PolicyPort::range(Protocol::Tcp, 8000, 8100)],
                origin: None,
            });
            p.egress.push(dns_rule());
            p
        }
        6 => {
            // Egress to same-namespace backends, by ports and an endPort range.
            let mut p = empty_policy(ns, &format!("{}-egress-backends", app.name), subject, &[Direction::Egress]);
            let backends = LabelSelector::default()
                .with_expression(Requirement::new("tier", Operator::In, ["db", "cache", "api"]))
                .with_expression(Requirement::new("canary", Operator::DoesNotExist, Vec::<String>::new()));
            p.egress.push(Rule {
                peers: vec![pods_peer(Some(backends), None)],
                ports: vec![
                    PolicyPort::number(Protocol::Tcp, 5432),
                    PolicyPort::number(Protocol::Tcp, 6379),
                    PolicyPort::named(Protocol::Tcp, "grpc"),
                    PolicyPort::range(Protocol::Tcp, 30000, 32767),
                ],
                origin: None,
            });
            p.egress.push(dns_rule());
            p
        }
        _ => {
            // Ingress from the node range and from the pod CIDR outside one team's block.
            let mut p = empty_policy(ns, &format!("{}-from-cidr", app.name), subject, &[Direction::Ingress]);
            let pod_cidr = if pool.is_empty() {
                IpBlock::new(net("10.0.0.0/8"), vec![net("10.255.0.0/16")])
            } else {
                pool[rng.below(pool.len())].clone()
            };
            let nodes = IpBlock::new(net("172.20.0.0/16"), vec![]);
            p.ingress.push(Rule {
                peers: vec![Peer::IpBlock(pod_cidr), Peer::IpBlock(nodes)],
                ports: vec![main_port, PolicyPort::number(Protocol::Udp, 7946)],
                origin: None,
            });
            p
        }
    }
}

/// The cluster as manifest files: `namespaces.yaml` (declared namespaces), then
/// `pods/<ns>.yaml` and `policies/<ns>.yaml` for each namespace that has any
/// (sorted by path). Namespaces used but not declared stay undeclared.
pub fn documents(cluster: &Cluster) -> Vec<Document> {
    let mut docs = vec![Document {
        path: "namespaces.yaml".into(),
        text: join(cluster.namespaces.values().map(render::namespace)),
    }];
    let used: BTreeSet<&String> = cluster
        .namespaces
        .keys()
        .chain(cluster.pods.iter().map(|p| &p.namespace))
        .chain(cluster.policies.iter().map(|p| &p.namespace))
        .collect();
    for ns in used {
        let pods = join(cluster.pods.iter().filter(|p| &p.namespace == ns).map(render::pod));
        if !pods.is_empty() {
            docs.push(Document { path: format!("pods/{ns}.yaml"), text: pods });
        }
        let policies = join(cluster.policies.iter().filter(|p| &p.namespace == ns).map(render::policy));
        if !policies.is_empty() {
            docs.push(Document { path: format!("policies/{ns}.yaml"), text: policies });
        }
    }
    if !cluster.tiered.is_empty() {
        docs.push(Document { path: "admin.yaml".into(), text: join(cluster.tiered.iter().map(render_admin)) });
    }
    docs.sort_by(|a, b| a.path.cmp(&b.path));
    docs
}

/// The whole cluster as one multi-document YAML stream.
pub fn stream(cluster: &Cluster) -> String {
    documents(cluster).into_iter().map(|d| d.text).collect()
}

fn join(docs: impl Iterator<Item = String>) -> String {
    let mut out = String::new();
    for d in docs {
        out.push_str("---\n");
        out.push_str(&d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_counts_and_unique_names() {
        for (n, p, k) in [(1, 1, 1), (3, 50, 20), (10, 500, 100), (2, 0, 5)] {
            let c = generate(&Spec { namespaces: n, pods: p, policies: k, seed: 1 });
            assert_eq!((c.namespaces.len(), c.pods.len(), c.policies.len()), (n, p, k), "{n}/{p}/{k}");
            let keys: BTreeSet<_> = c.pods.iter().map(|p| p.key()).collect();
            assert_eq!(keys.len(), p, "pod names unique");
            let ips: BTreeSet<_> = c.pods.iter().flat_map(|p| p.ips.clone()).collect();
            assert_eq!(ips.len(), p, "pod IPs unique");
        }
    }

    #[test]
    fn seeds_differ() {
        let a = generate(&Spec { namespaces: 5, pods: 100, policies: 30, seed: 1 });
        let b = generate(&Spec { namespaces: 5, pods: 100, policies: 30, seed: 2 });
        assert_ne!(a, b);
    }

    #[test]
    fn mix_covers_every_feature() {
        let c = generate(&Spec { namespaces: 20, pods: 2000, policies: 400, seed: 3 });
        let text = stream(&c);
        for needle in [
            "namespaceSelector",
            "matchExpressions",
            "ipBlock",
            "except",
            "endPort",
            "port: http",
            "hostNetwork: true",
            "- Egress",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
    }
}

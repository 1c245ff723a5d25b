//! Shared by the differential tests: random small clusters with colliding
//! labels, and the comparison of a compiled form against the engine.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::net::IpAddr;

use netpol_engine::{Endpoint, Engine, Flow};
use netpol_matrix::{Compiled, Options};
use netpol_model::{
    Cluster, ContainerPort, Direction, IpBlock, LabelSelector, Labels, Namespace, NetworkPolicy, Operator, Peer, Pod,
    PolicyPort, PortRef, Protocol, Requirement, Rule, WorkloadKind,
};
use proptest::prelude::*;
use proptest::sample::select;

pub const NAMESPACES: [&str; 3] = ["x", "y", "z"];

fn labels_strategy(keys: &'static [&'static str]) -> impl Strategy<Value = Labels> {
    proptest::collection::vec((select(keys), select(&["a", "b"][..])), 0..3).prop_map(Labels::from_iter)
}

fn selector_strategy(keys: &'static [&'static str]) -> impl Strategy<Value = LabelSelector> {
    let requirement = (select(keys), 0..4usize, proptest::collection::btree_set(select(&["a", "b"][..]), 1..3))
        .prop_map(|(key, op, values)| {
            let operator = [Operator::In, Operator::NotIn, Operator::Exists, Operator::DoesNotExist][op];
            let values: BTreeSet<String> = match operator {
                Operator::In | Operator::NotIn => values.into_iter().map(str::to_string).collect(),
                _ => BTreeSet::new(),
            };
            Requirement { key: key.to_string(), operator, values }
        });
    (
        proptest::collection::btree_map(
            select(keys).prop_map(str::to_string),
            select(&["a", "b"][..]).prop_map(str::to_string),
            0..2,
        ),
        proptest::collection::vec(requirement, 0..2),
    )
        .prop_map(|(match_labels, match_expressions)| LabelSelector {
            match_labels: match_labels.into(),
            match_expressions,
        })
}

// Pairs in different intervals between ipBlock ends but inside the same ranges
// (10.0.0.4 and 10.0.0.6; 192.168.0.1 and 10.2.0.1), and an IPv6 address below
// every IPv6 range (::1), so classes that merge such pods are tested.
const IPS: [&str; 13] = [
    "10.0.0.4",
    "10.2.0.1",
    "::1",
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.5",
    "10.0.0.6",
    "10.0.1.1",
    "192.168.0.1",
    "fd00::1",
    "fd00::5",
    "fd00::1:1",
    "10.0.0.9",
];

fn ips_strategy() -> impl Strategy<Value = Vec<IpAddr>> {
    prop_oneof![
        3 => select(&IPS[..]).prop_map(|ip| vec![ip.parse().unwrap()]),
        1 => Just(vec![]),
        1 => (select(&IPS[..]), select(&IPS[..])).prop_map(|(a, b)| {
            let mut v: Vec<IpAddr> = vec![a.parse().unwrap()];
            let b: IpAddr = b.parse().unwrap();
            if b != v[0] { v.push(b); }
            v
        }),
    ]
}

fn ports_strategy() -> impl Strategy<Value = Vec<ContainerPort>> {
    let port = (select(&["http", "dns", "metrics"][..]), select(&[53u16, 80, 81, 8080][..]), protocol_strategy())
        .prop_map(|(name, port, protocol)| ContainerPort { name: Some(name.to_string()), port, protocol });
    proptest::collection::vec(port, 0..3)
}

fn protocol_strategy() -> impl Strategy<Value = Protocol> {
    prop_oneof![4 => Just(Protocol::Tcp), 2 => Just(Protocol::Udp), 1 => Just(Protocol::Sctp)]
}

fn pod_strategy() -> impl Strategy<Value = Pod> {
    (
        select(&NAMESPACES[..]),
        labels_strategy(&["app", "tier"]),
        ips_strategy(),
        ports_strategy(),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.1),
        proptest::option::of(select(&["n1", "n2", "n3", "n4"][..])),
        proptest::option::of(0u32..1000),
    )
        .prop_map(|(ns, mut labels, ips, ports, host_network, workload, node, unique)| Pod {
            namespace: ns.to_string(),
            name: String::new(),
            kind: if workload { WorkloadKind::Deployment } else { WorkloadKind::Pod },
            labels: {
                // Per-pod labels no selector reads (a StatefulSet's pod name, a ReplicaSet's hash).
                if let Some(n) = unique {
                    labels.insert("statefulset.kubernetes.io/pod-name", format!("web-{n}"));
                    labels.insert("pod-template-hash", format!("{n:x}"));
                }
                labels
            },
            ips: if workload { vec![] } else { ips },
            ports,
            host_network: host_network && !workload,
            node: node.map(str::to_string),
            origin: None,
            service_account: Default::default(),
        })
}

const CIDRS: [(&str, &[&str]); 6] = [
    ("10.0.0.0/29", &["10.0.0.4/30"]),
    ("10.0.0.0/16", &[]),
    ("0.0.0.0/0", &["10.0.1.0/24"]),
    ("fd00::/120", &["fd00::4/126"]),
    ("fd00::/64", &[]),
    ("10.0.0.5/32", &[]),
];

fn peer_strategy() -> impl Strategy<Value = Peer> {
    prop_oneof![
        2 => (proptest::option::of(selector_strategy(&["app", "tier"])), proptest::option::of(selector_strategy(&["ns", "kubernetes.io/metadata.name"])))
            .prop_map(|(pod_selector, namespace_selector)| {
                let pod_selector = if pod_selector.is_none() && namespace_selector.is_none() { Some(LabelSelector::default()) } else { pod_selector };
                Peer::Pods { pod_selector, namespace_selector }
            }),
        1 => select(&CIDRS[..]).prop_map(|(cidr, except)| Peer::IpBlock(IpBlock::new(
            cidr.parse().unwrap(),
            except.iter().map(|e| e.parse().unwrap()).collect(),
        ))),
    ]
}

fn policy_port_strategy() -> impl Strategy<Value = PolicyPort> {
    (protocol_strategy(), 0..5usize, select(&[53u16, 80, 81][..]), select(&["http", "dns", "metrics"][..])).prop_map(
        |(protocol, kind, n, name)| match kind {
            0 | 1 => PolicyPort::number(protocol, n),
            2 => PolicyPort::range(protocol, n, n + 9),
            3 => PolicyPort::named(protocol, name),
            _ => PolicyPort::all(protocol),
        },
    )
}

fn rule_strategy() -> impl Strategy<Value = Rule> {
    (proptest::collection::vec(peer_strategy(), 0..3), proptest::collection::vec(policy_port_strategy(), 0..3))
        .prop_map(|(peers, ports)| Rule { peers, ports, origin: None })
}

pub fn policy_strategy() -> impl Strategy<Value = NetworkPolicy> {
    (
        select(&NAMESPACES[..]),
        selector_strategy(&["app", "tier"]),
        0..3usize,
        proptest::collection::vec(rule_strategy(), 0..3),
        proptest::collection::vec(rule_strategy(), 0..3),
    )
        .prop_map(|(ns, pod_selector, types, ingress, egress)| {
            let policy_types = match types {
                0 => vec![Direction::Ingress],
                1 => vec![Direction::Egress],
                _ => vec![Direction::Ingress, Direction::Egress],
            };
            NetworkPolicy {
                namespace: ns.to_string(),
                name: String::new(),
                pod_selector,
                ingress: if policy_types.contains(&Direction::Ingress) { ingress } else { vec![] },
                egress: if policy_types.contains(&Direction::Egress) { egress } else { vec![] },
                policy_types,
                policy_types_defaulted: false,
                meta: Default::default(),
                origin: None,
            }
        })
}

pub fn namespace_strategy() -> impl Strategy<Value = Namespace> {
    (select(&NAMESPACES[..]), labels_strategy(&["ns"])).prop_map(|(name, labels)| Namespace::new(name, labels))
}

pub fn pod_with_name() -> impl Strategy<Value = Pod> {
    (pod_strategy(), 0..6usize).prop_map(|(mut p, i)| {
        p.name = format!("p{i}");
        p
    })
}

pub fn policy_with_name() -> impl Strategy<Value = NetworkPolicy> {
    (policy_strategy(), 0..4usize).prop_map(|(mut p, i)| {
        p.name = format!("np{i}");
        p
    })
}

/// A small cluster: up to 3 namespaces (some undeclared), up to 6 pods, up to 4 policies.
pub fn cluster_strategy() -> impl Strategy<Value = Cluster> {
    (
        proptest::collection::vec(namespace_strategy(), 0..3),
        proptest::collection::vec(pod_strategy(), 1..7),
        proptest::collection::vec(policy_strategy(), 0..5),
    )
        .prop_map(|(namespaces, pods, policies)| {
            let mut c = Cluster::default();
            for ns in namespaces {
                c.namespaces.insert(ns.name.clone(), ns);
            }
            c.pods = pods
                .into_iter()
                .enumerate()
                .map(|(i, mut p)| {
                    p.name = format!("p{i}");
                    p
                })
                .collect();
            c.policies = policies
                .into_iter()
                .enumerate()
                .map(|(i, mut p)| {
                    p.name = format!("np{i}");
                    p
                })
                .collect();
            c
        })
}

/// Ports worth probing: every boundary the policies and pods mention, and its neighbours.
pub fn probe_ports(cluster: &Cluster) -> Vec<u16> {
    let mut ports: BTreeSet<u16> = [1, 52, 53, 54, 79, 80, 81, 82, 89, 90, 91, 8080, 65535].into_iter().collect();
    for p in &cluster.pods {
        ports.extend(p.ports.iter().map(|c| c.port));
    }
    let v1 = cluster.policies.iter().flat_map(|np| np.ingress.iter().chain(&np.egress)).map(|r| &r.ports);
    let ordered =
        cluster.tiered.iter().flat_map(|p| p.ingress.iter().chain(&p.egress)).flat_map(|r| [&r.ports, &r.not_ports]);
    for rule_ports in v1.chain(ordered) {
        {
            for pp in rule_ports {
                if let Some(PortRef::Number(n)) = pp.port {
                    for q in [n, n.saturating_sub(1), n.saturating_add(1)] {
                        ports.insert(q);
                    }
                }
                if let Some(e) = pp.end_port {
                    for q in [e, e.saturating_sub(1), e.saturating_add(1)] {
                        ports.insert(q);
                    }
                }
            }
        }
    }
    ports.remove(&0);
    ports.into_iter().collect()
}

/// Compares `compiled` with the engine on `cluster`, pair by pair; `Err` names the first difference.
pub fn compare_with_engine(cluster: &Cluster, compiled: &Compiled, options: Options) -> Result<(), String> {
    let engine = Engine::new(cluster, netpol_engine::Options { ipblock_matches_pods: options.ipblock_matches_pods });
    let ports = probe_ports(cluster);
    let keys: Vec<_> = cluster.pods.iter().map(Pod::key).collect();
    for protocol in Protocol::ALL {
        for &port in &ports {
            let mut engine_pairs = 0u64;
            for a in &keys {
                for b in &keys {
                    let flow = Flow::new(Endpoint::Pod(a.clone()), Endpoint::Pod(b.clone()), protocol, port);
                    let want = match engine.evaluate(&flow) {
                        Ok(d) => d.allowed(),
                        Err(netpol_engine::EngineError::MixedFamilies { .. }) => continue,
                        Err(e) => return Err(format!("engine error on {a} -> {b}: {e}")),
                    };
                    let (ia, ib) = (compiled.pod_id(a).ok_or("missing pod")?, compiled.pod_id(b).ok_or("missing pod")?);
                    let got = compiled.allowed(ia, ib, protocol, port);
                    if got != want {
                        return Err(format!("{a} -> {b} {port}/{protocol}: engine {want}, compiled {got}"));
                    }
                    if a != b && want {
                        engine_pairs += 1;
                    }
                }
            }
            let pairs = compiled.allowed_pairs(protocol, port);
            if pairs != engine_pairs {
                return Err(format!("{port}/{protocol}: engine allows {engine_pairs} pairs, compiled probe {pairs}"));
            }
        }
    }
    for a in &keys {
        for b in &keys {
            let want = engine
                .allowed_connections(&Endpoint::Pod(a.clone()), &Endpoint::Pod(b.clone()))
                .map_err(|e| format!("engine error on {a} -> {b}: {e}"))?;
            let got = compiled.connections(compiled.pod_id(a).ok_or("missing")?, compiled.pod_id(b).ok_or("missing")?);
            for protocol in Protocol::ALL {
                if got.ranges(protocol) != want.ranges(protocol) {
                    return Err(format!("{a} -> {b} connections: engine {want}, compiled {got}"));
                }
            }
        }
    }
    Ok(())
}

/// Compares two compiled forms of the same cluster pod by pair, on every probe port.
pub fn compare_compiled(cluster: &Cluster, a: &Compiled, b: &Compiled) -> Result<(), String> {
    if a.classes() != b.classes() {
        return Err(format!("classes: incremental {} vs rebuild {}", a.classes(), b.classes()));
    }
    let keys: Vec<_> = cluster.pods.iter().map(Pod::key).collect();
    if a.pod_count() != keys.len() || b.pod_count() != keys.len() {
        return Err(format!(
            "pods: incremental {} vs rebuild {} vs cluster {}",
            a.pod_count(),
            b.pod_count(),
            keys.len()
        ));
    }
    for protocol in Protocol::ALL {
        for port in probe_ports(cluster) {
            if a.allowed_pairs(protocol, port) != b.allowed_pairs(protocol, port) {
                return Err(format!("{port}/{protocol}: allowed pairs differ"));
            }
        }
    }
    for x in &keys {
        for y in &keys {
            let (ax, ay) = (a.pod_id(x).ok_or("missing")?, a.pod_id(y).ok_or("missing")?);
            let (bx, by) = (b.pod_id(x).ok_or("missing")?, b.pod_id(y).ok_or("missing")?);
            if a.connections(ax, ay) != b.connections(bx, by) {
                return Err(format!(
                    "{x} -> {y}: incremental {} vs rebuild {}",
                    a.connections(ax, ay),
                    b.connections(bx, by)
                ));
            }
        }
    }
    Ok(())
}

//! Differential property test: on random small clusters, the exact port sets of
//! `allowed_connections` agree with `evaluate` on every probed port (rule
//! boundaries included), for every ordered pair of pods and every protocol.

use netpol_engine::{Endpoint, Engine, Flow, Options, Status};
use netpol_model::{
    Cluster, Direction, LabelSelector, Operator, Peer, Pod, PolicyPort, PortRef, Protocol, Requirement, WorkloadKind,
};
use netpol_testkit::*;
use proptest::prelude::*;

/// Draws from a fixed list of random numbers, deterministically.
struct Dice(Vec<u32>, usize);

impl Dice {
    fn roll(&mut self, n: u32) -> u32 {
        let v = self.0[self.1 % self.0.len()];
        self.1 += 1;
        v % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.roll(items.len() as u32) as usize]
    }
}

fn selector(d: &mut Dice) -> LabelSelector {
    match d.roll(5) {
        0 => sel!(),
        1 => sel!("pod" => d.pick(&["a", "b"])),
        2 => sel!().with_expression(Requirement::new("tier", Operator::NotIn, [d.pick(&["x", "y"])])),
        3 => sel!().with_expression(Requirement::new("tier", Operator::Exists, Vec::<String>::new())),
        _ => sel!("team" => d.pick(&["red", "blue"])),
    }
}

fn peer(d: &mut Dice) -> Peer {
    match d.roll(4) {
        0 => pods(selector(d)),
        1 => namespaces(selector(d)),
        2 => pods_in_namespaces(selector(d), selector(d)),
        _ => match d.roll(3) {
            0 => ip_block("10.0.0.0/29", &["10.0.0.4/30"]),
            1 => ip_block("10.0.0.0/30", &[]),
            _ => ip_block("0.0.0.0/0", &["10.0.0.0/8"]),
        },
    }
}

fn port(d: &mut Dice) -> PolicyPort {
    match d.roll(6) {
        0 => tcp(80),
        1 => udp(53),
        2 => port_range(Protocol::Tcp, 79, 81),
        3 => named_port("http", d.pick(&[Protocol::Tcp, Protocol::Udp])),
        4 => all_ports(Protocol::Udp),
        _ => sctp(9),
    }
}

fn random_cluster(d: &mut Dice) -> Cluster {
    let mut c = cluster()
        .namespace(namespace("n1").label("team", d.pick(&["red", "blue"])))
        .namespace(namespace("n2").label("team", d.pick(&["red", "blue"])));
    for i in 0..4 {
        let ns = d.pick(&["n1", "n2", "n3"]);
        let mut p = pod(ns, &format!("p{i}")).label("pod", d.pick(&["a", "b"]));
        if d.roll(2) == 0 {
            p = p.label("tier", d.pick(&["x", "y"]));
        }
        if d.roll(4) != 0 {
            p = p.ip(&format!("10.0.0.{}", i * 2 + d.roll(2)));
        } else if d.roll(2) == 0 {
            // A workload endpoint: its pods, without IPs.
            p = p.workload(WorkloadKind::Deployment);
        }
        if d.roll(2) == 0 {
            p = p.port("http", d.pick(&[80, 8080, 53]), d.pick(&[Protocol::Tcp, Protocol::Udp]));
            if d.roll(3) == 0 {
                // A second container declaring the same name (names are unique per container only).
                p = p.port("http", d.pick(&[81, 8080]), d.pick(&[Protocol::Tcp, Protocol::Udp]));
            }
        }
        if d.roll(8) == 0 {
            p = p.host_network();
        }
        if d.roll(2) == 0 {
            p = p.node(d.pick(&["n1", "n2"]));
        }
        c = c.pod(p);
    }
    for i in 0..d.roll(4) {
        let ns = d.pick(&["n1", "n2", "n3"]);
        let mut pb = policy(ns, &format!("np{i}")).select(selector(d));
        for _ in 0..d.roll(3) {
            let mut r = rule();
            for _ in 0..d.roll(3) {
                r = r.from(peer(d));
            }
            for _ in 0..d.roll(3) {
                r = r.port(port(d));
            }
            pb = if d.roll(2) == 0 { pb.ingress(r) } else { pb.egress(r) };
        }
        pb = match d.roll(4) {
            0 => pb.types([Direction::Ingress]),
            1 => pb.types([Direction::Egress]),
            2 => pb.types([Direction::Ingress, Direction::Egress]),
            _ => pb, // defaulted
        };
        c = c.policy(pb);
    }
    c.build()
}

/// A naive reference evaluator for pod-to-pod flows, written straight from the
/// API documentation, sharing no code with the engine.
fn oracle(c: &Cluster, ipblock_matches_pods: bool, s: &Pod, t: &Pod, protocol: Protocol, port: u16) -> bool {
    let direction_ok = |dir: Direction, subject: &Pod, other: &Pod| {
        if subject.host_network {
            return true;
        }
        // Pods cannot block access from their resident node (a hostNetwork pod is node traffic).
        if dir == Direction::Ingress && other.host_network && subject.node.is_some() && subject.node == other.node {
            return true;
        }
        let isolating: Vec<_> = c
            .policies
            .iter()
            .filter(|p| p.namespace == subject.namespace && p.pod_selector.matches(&subject.labels))
            .filter(|p| p.policy_types.contains(&dir))
            .collect();
        isolating.is_empty()
            || isolating.iter().any(|pol| {
                pol.rules(dir).iter().any(|r| {
                    let peer_ok = |peer: &Peer| match peer {
                        Peer::Pods { pod_selector, namespace_selector } => {
                            !other.host_network
                                && match namespace_selector {
                                    None => other.namespace == pol.namespace,
                                    Some(n) => n.matches(&c.namespaces[&other.namespace].labels),
                                }
                                && pod_selector.as_ref().is_none_or(|p| p.matches(&other.labels))
                        }
                        Peer::IpBlock(b) => {
                            (ipblock_matches_pods || other.host_network)
                                && other.ips.first().is_some_and(|ip| b.contains(*ip))
                        }
                    };
                    let port_ok = |p: &PolicyPort| {
                        p.protocol == protocol
                            && match &p.port {
                                None => true,
                                Some(PortRef::Number(n)) => match p.end_port {
                                    None => port == *n,
                                    Some(e) => *n <= port && port <= e,
                                },
                                // Every container's declaration counts; a hostNetwork pod's ports have no names.
                                Some(PortRef::Name(name)) => {
                                    !t.host_network
                                        && t.ports.iter().any(|c| {
                                            c.name.as_deref() == Some(name.as_str())
                                                && c.protocol == p.protocol
                                                && c.port == port
                                        })
                                }
                            }
                    };
                    (r.peers.is_empty() || r.peers.iter().any(peer_ok))
                        && (r.ports.is_empty() || r.ports.iter().any(port_ok))
                })
            })
    };
    (s.key() == t.key() && s.kind == WorkloadKind::Pod)
        || (direction_ok(Direction::Egress, s, t) && direction_ok(Direction::Ingress, t, s))
}

const PROBES: [u16; 14] = [1, 8, 9, 10, 52, 53, 54, 78, 79, 80, 81, 82, 8080, 65535];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn port_sets_agree_with_single_evaluations(seeds in prop::collection::vec(any::<u32>(), 64), ipblock in any::<bool>()) {
        let c = random_cluster(&mut Dice(seeds, 0));
        let engine = Engine::new(&c, Options { ipblock_matches_pods: ipblock });
        let mut endpoints: Vec<Endpoint> = c.pods.iter().map(|p| Endpoint::Pod(p.key())).collect();
        endpoints.push("10.0.0.1".parse().unwrap());
        endpoints.push("192.0.2.1".parse().unwrap());
        for src in &endpoints {
            for dst in &endpoints {
                let set = engine.allowed_connections(src, dst).unwrap();
                for protocol in Protocol::ALL {
                    for port in PROBES {
                        let flow = Flow { src: src.clone(), dst: dst.clone(), protocol, port };
                        let d = engine.evaluate(&flow).unwrap();
                        prop_assert_eq!(d.allowed(), d.egress.allowed && d.ingress.allowed);
                        for dir in [&d.egress, &d.ingress] {
                            if dir.status == Status::Isolated {
                                prop_assert_eq!(dir.allowed, !dir.allowed_by.is_empty());
                            } else {
                                prop_assert!(dir.allowed && dir.allowed_by.is_empty());
                            }
                        }
                        prop_assert_eq!(
                            set.contains(protocol, port), d.allowed(),
                            "{} on {}/{}: set {}\n{}", flow, port, protocol, set, netpol_engine::explain(&d)
                        );
                        if let (Endpoint::Pod(a), Endpoint::Pod(b)) = (src, dst) {
                            let (a, b) = (c.pod(a).unwrap(), c.pod(b).unwrap());
                            prop_assert_eq!(
                                oracle(&c, ipblock, a, b, protocol, port), d.allowed(),
                                "oracle disagrees on {}\n{}", flow, netpol_engine::explain(&d)
                            );
                        }
                    }
                }
            }
        }
    }
}

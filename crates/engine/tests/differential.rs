//! Differential property test: on random small clusters, the exact port sets of
//! `allowed_connections` agree with `evaluate` on every probed port (rule
//! boundaries included), for every ordered pair of pods and every protocol.

use netpol_engine::{Endpoint, Engine, Flow, Options, Status};
use netpol_model::{Cluster, Direction, Peer, Pod, PolicyPort, PortRef, Protocol, WorkloadKind};
use netpol_testkit::random::{random_cluster, Dice};
use proptest::prelude::*;

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

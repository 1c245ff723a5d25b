//! Differential property test for ordered policies: on random small clusters
//! with AdminNetworkPolicies (colliding priorities), a baseline, Calico tiers
//! and Allow/Deny/Pass/Log rules, three answers agree on every pair, protocol
//! and probed port: a naive oracle written from docs/semantics.md ("Ordered
//! policies") that walks the chain port by port, `Engine::evaluate`, and the
//! port sets of `Engine::allowed_connections`.

use netpol_engine::{Endpoint, Engine, Flow, Options};
use netpol_model::{
    Action, Cluster, Direction, PeerEnd, Pod, PodView, PortRef, Protocol, RuleProtocol, TierDefault, TieredEnd,
    TieredPolicy, TieredRule, DEFAULT_TIER,
};
use netpol_testkit::random::{random_cluster, random_tiered, Dice};
use proptest::prelude::*;

const PORTS: [u16; 8] = [1, 9, 53, 79, 80, 81, 8080, 65535];

/// Whether `rule`'s port fields admit `port` towards `dst`.
fn port_ok(rule: &TieredRule, dst: &Pod, protocol: Protocol, port: u16) -> bool {
    if let Some(p) = &rule.protocol {
        if !p.matches(protocol) {
            return false;
        }
    }
    if matches!(&rule.not_protocol, Some(RuleProtocol::Is(p)) if *p == protocol) {
        return false;
    }
    let hits = |p: &netpol_model::PolicyPort| {
        p.protocol == protocol
            && match (&p.port, p.end_port) {
                (None, _) => true,
                (Some(PortRef::Number(n)), None) => *n == port,
                (Some(PortRef::Number(n)), Some(e)) => *n <= port && port <= e,
                (Some(PortRef::Name(name)), _) => {
                    !dst.host_network
                        && dst
                            .ports
                            .iter()
                            .any(|c| c.name.as_deref() == Some(name) && c.protocol == protocol && c.port == port)
                }
            }
    };
    (rule.ports.is_empty() || rule.ports.iter().any(hits)) && !rule.not_ports.iter().any(hits)
}

/// The chain for one direction at `subject`, the other end being `other` (at
/// `addr`, its address of the flow's family), port by port.
#[allow(clippy::too_many_arguments)]
fn chain(
    c: &Cluster,
    v1: (bool, bool),
    dir: Direction,
    subject: &Pod,
    other: &Pod,
    addr: Option<std::net::IpAddr>,
    dst: &Pod,
    protocol: Protocol,
    port: u16,
) -> bool {
    let (v1_isolated, v1_allowed) = v1;
    let ns = |name: &str| c.namespaces.get(name).map(|n| n.labels.clone()).unwrap_or_default();
    let subject_ns = ns(&subject.namespace);
    let other_ns = ns(&other.namespace);
    // A node's address: a hostNetwork pod's own node, or any address a Node has.
    let node = |p: &Pod| {
        let own = p.node.as_deref().filter(|_| p.host_network).and_then(|n| c.nodes.iter().find(|x| x.name == n));
        own.or_else(|| addr.and_then(|a| c.nodes.iter().find(|n| n.addresses.contains(&a)))).map(|n| &n.labels)
    };
    let end = TieredEnd { end: PeerEnd { pod: Some((PodView::from(other), &other_ns)), addr }, node: node(other) };
    for tier in c.ordered_tiers() {
        let mut policies: Vec<&TieredPolicy> = c
            .tiered
            .iter()
            .filter(|p| {
                p.tier == tier.name && p.types.contains(&dir) && p.subject.selects(PodView::from(subject), &subject_ns)
            })
            .collect();
        policies.sort_by(|a, b| {
            let key = |p: &TieredPolicy| p.order.map_or(f64::INFINITY, |o| o.0);
            key(a).total_cmp(&key(b)).then(a.name.cmp(&b.name))
        });
        let mut applied = false;
        let mut v1_done = tier.name != DEFAULT_TIER;
        let mut outcome: Option<Option<bool>> = None; // Some(Some(v)): decided; Some(None): passed
        let run_v1 = |applied: &mut bool| -> Option<bool> {
            if v1_isolated {
                *applied = true;
                if v1_allowed {
                    return Some(true);
                }
            }
            None
        };
        for p in &policies {
            if outcome.is_some() {
                break;
            }
            if !v1_done && p.order.is_none_or(|o| o.0 >= 1000.0) {
                v1_done = true;
                if let Some(v) = run_v1(&mut applied) {
                    return v;
                }
            }
            applied = true;
            for r in p.rules(dir) {
                let peer = r.peers.is_empty() || r.peers.iter().any(|x| x.matches(&end));
                if !peer || !port_ok(r, dst, protocol, port) {
                    continue;
                }
                match r.action {
                    Action::Allow => return true,
                    Action::Deny => return false,
                    Action::Pass => {
                        outcome = Some(None);
                        break;
                    }
                    Action::Log => {}
                }
            }
        }
        if outcome.is_none() && !v1_done {
            if let Some(v) = run_v1(&mut applied) {
                return v;
            }
        }
        if outcome.is_none() && applied && tier.default_action == TierDefault::Deny {
            return false;
        }
    }
    true
}

fn oracle(c: &Cluster, v1_engine: &Engine, s: &Pod, t: &Pod, protocol: Protocol, port: u16) -> bool {
    let flow = Flow::new(Endpoint::Pod(s.key()), Endpoint::Pod(t.key()), protocol, port);
    let v1 = v1_engine.evaluate(&flow).unwrap();
    if std::ptr::eq(s, t) && s.kind == netpol_model::WorkloadKind::Pod {
        return true;
    }
    let own_node = s.host_network && !t.host_network && s.node.is_some() && s.node == t.node;
    let side = |d: &netpol_engine::DirectionDecision| (!d.isolated_by.is_empty(), d.allowed);
    // The flow's family: the destination's first IP's, else the source's; each end uses its IP of it.
    let v4 = t.ips.first().or(s.ips.first()).map(|ip| ip.is_ipv4());
    let at = |p: &Pod| p.ips.iter().find(|ip| Some(ip.is_ipv4()) == v4).copied();
    let egress = s.host_network || chain(c, side(&v1.egress), Direction::Egress, s, t, at(t), t, protocol, port);
    let ingress =
        own_node || t.host_network || chain(c, side(&v1.ingress), Direction::Ingress, t, s, at(s), t, protocol, port);
    egress && ingress
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn oracle_evaluate_and_port_sets_agree(seed in proptest::collection::vec(any::<u32>(), 64)) {
        let mut d = Dice(seed, 0);
        let mut c = random_cluster(&mut d);
        random_tiered(&mut d, &mut c);
        let v1_only = Cluster { tiered: vec![], tiers: vec![], ..c.clone() };
        let v1_engine = Engine::new(&v1_only, Options::default());
        let engine = Engine::new(&c, Options::default());
        for s in &c.pods {
            for t in &c.pods {
                let (src, dst) = (Endpoint::Pod(s.key()), Endpoint::Pod(t.key()));
                let Ok(ports) = engine.allowed_connections(&src, &dst) else { continue };
                for protocol in Protocol::ALL {
                    for port in PORTS {
                        let Ok(decision) = engine.evaluate(&Flow::new(src.clone(), dst.clone(), protocol, port)) else { continue };
                        let want = oracle(&c, &v1_engine, s, t, protocol, port);
                        prop_assert_eq!(decision.allowed(), want, "{} -> {} {}/{}: {}", s.key(), t.key(), port, protocol, netpol_engine::explain(&decision));
                        prop_assert_eq!(ports.contains(protocol, port), want, "{} -> {} {}/{}: port set {}", s.key(), t.key(), port, protocol, ports);
                    }
                }
            }
        }
    }
}

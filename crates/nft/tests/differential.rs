//! The strongest check of the renderer: on random small clusters, what the
//! rendered ruleset does with every packet (the IR evaluator, i.e. what the
//! kernel would do) equals the engine's verdict, for every pair of addresses,
//! TCP/UDP/SCTP and boundary ports. Shrunk failures are kept below as
//! regression cases.

use std::net::IpAddr;

use netpol_engine::{Endpoint, Engine, Flow, Options};
use netpol_model::{Cluster, Direction, IpBlock, LabelSelector, Peer, PolicyPort, Protocol};
use netpol_nft::{render, Element, Hook, Packet, RenderOptions, Ruleset};
use netpol_testkit::*;
use proptest::prelude::*;

const EXTERNAL: [&str; 4] = ["10.0.0.200", "192.168.1.1", "fd00::99", "2001:db8::1"];

fn selector() -> impl Strategy<Value = LabelSelector> {
    prop_oneof![
        Just(sel!()),
        Just(sel!("app" => "a")),
        Just(sel!("app" => "b")),
        Just(sel!("tier" => "t")),
        Just(sel!("app" => "a", "tier" => "t")),
        Just(sel!().with_expression(netpol_model::Requirement::new("app", netpol_model::Operator::NotIn, ["a"]))),
    ]
}

fn ns_selector() -> impl Strategy<Value = LabelSelector> {
    prop_oneof![Just(sel!()), Just(sel!("team" => "x")), Just(sel!("team" => "y")), Just(sel!("env" => "prod"))]
}

fn peer() -> impl Strategy<Value = Peer> {
    prop_oneof![
        selector().prop_map(pods),
        ns_selector().prop_map(namespaces),
        (ns_selector(), selector()).prop_map(|(n, p)| pods_in_namespaces(n, p)),
        prop_oneof![
            Just(("10.0.0.0/24", vec![])),
            Just(("10.0.0.0/24", vec!["10.0.0.2/31"])),
            Just(("10.0.0.0/29", vec!["10.0.0.4/32"])),
            Just(("0.0.0.0/0", vec!["10.0.0.0/8"])),
            Just(("fd00::/64", vec!["fd00::2/127"])),
            Just(("::/0", vec![])),
        ]
        .prop_map(|(cidr, except): (&str, Vec<&str>)| Peer::IpBlock(IpBlock::new(
            cidr.parse().unwrap(),
            except.iter().map(|e| e.parse().unwrap()).collect()
        ))),
    ]
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp), Just(Protocol::Sctp)]
}

fn policy_port() -> impl Strategy<Value = PolicyPort> {
    prop_oneof![
        (protocol(), prop_oneof![Just(53u16), Just(80), Just(81)]).prop_map(|(p, n)| PolicyPort::number(p, n)),
        (protocol(), prop_oneof![Just((80u16, 81u16)), Just((1, 80)), Just((8000, 65535))])
            .prop_map(|(p, (a, b))| PolicyPort::range(p, a, b)),
        (protocol(), prop_oneof![Just("http"), Just("dns")]).prop_map(|(p, n)| PolicyPort::named(p, n)),
        protocol().prop_map(PolicyPort::all),
    ]
}

fn rule_strategy() -> impl Strategy<Value = netpol_model::Rule> {
    (proptest::collection::vec(peer(), 0..3), proptest::collection::vec(policy_port(), 0..3))
        .prop_map(|(peers, ports)| netpol_model::Rule { peers, ports, origin: None })
}

fn policy_strategy() -> impl Strategy<Value = netpol_model::NetworkPolicy> {
    (
        prop_oneof![Just("x"), Just("y")],
        selector(),
        prop_oneof![
            Just(vec![Direction::Ingress]),
            Just(vec![Direction::Egress]),
            Just(vec![Direction::Ingress, Direction::Egress])
        ],
        proptest::collection::vec(rule_strategy(), 0..3),
        proptest::collection::vec(rule_strategy(), 0..3),
    )
        .prop_map(|(ns, selector, types, ingress, egress)| {
            let mut p = policy(ns, "p").select(selector).types(types);
            for r in ingress {
                p = p.ingress(r);
            }
            for r in egress {
                p = p.egress(r);
            }
            p.build()
        })
}

/// (namespace, app label, tier label, dual stack, named ports choice)
type PodSpec = (&'static str, Option<&'static str>, bool, bool, u8);

fn pod_spec() -> impl Strategy<Value = PodSpec> {
    (
        prop_oneof![Just("x"), Just("y")],
        prop_oneof![Just(None), Just(Some("a")), Just(Some("b"))],
        any::<bool>(),
        any::<bool>(),
        0u8..6,
    )
}

fn build(pods: Vec<PodSpec>, policies: Vec<netpol_model::NetworkPolicy>, x_team: bool) -> Cluster {
    let mut c = cluster()
        .namespace(if x_team { namespace("x").label("team", "x").label("env", "prod") } else { namespace("x") })
        .namespace(namespace("y").label("team", "y"));
    for (i, (ns, app, tier, dual, ports)) in pods.into_iter().enumerate() {
        let n = i + 1;
        let node = if n % 2 == 0 { "n2" } else { "n1" };
        let mut p = pod(ns, &format!("p{n}")).ip(&format!("10.0.0.{n}")).node(node);
        if dual {
            p = p.ip(&format!("fd00::{n}"));
        }
        if let Some(app) = app {
            p = p.label("app", app);
        }
        if tier {
            p = p.label("tier", "t");
        }
        p = match ports {
            0 => p,
            1 => p.port("http", 80, Protocol::Tcp),
            2 => p.port("http", 81, Protocol::Tcp).port("dns", 53, Protocol::Udp),
            3 => p.port("http", 8080, Protocol::Sctp).port("dns", 53, Protocol::Tcp),
            // Two containers declaring the same name: a named port matches every number.
            4 => p.port("http", 80, Protocol::Tcp).port("http", 8080, Protocol::Tcp),
            _ => p.port("http", 81, Protocol::Tcp).port("dns", 53, Protocol::Udp).port("dns", 54, Protocol::Udp),
        };
        c = c.pod(p);
    }
    for (i, mut policy) in policies.into_iter().enumerate() {
        policy.name = format!("p{i}");
        c = c.policy(policy);
    }
    c.build()
}

const PORTS: [u16; 10] = [1, 52, 53, 54, 55, 80, 81, 8000, 8080, 65535];

/// Overlapping elements of one interval set: the kernel refuses them.
fn overlaps(ruleset: &Ruleset) -> Vec<String> {
    let mut out = Vec::new();
    for set in &ruleset.sets {
        for (i, a) in set.elements.iter().enumerate() {
            for b in &set.elements[i + 1..] {
                let clash = match (a, b) {
                    (Element::Addr(x), Element::Addr(y)) => x.start <= y.end && y.start <= x.end,
                    (Element::AddrProtoPort(x, p, xp), Element::AddrProtoPort(y, q, yp)) => {
                        p == q && x.start <= y.end && y.start <= x.end && xp.start <= yp.end && yp.start <= xp.end
                    }
                    _ => false,
                };
                if clash {
                    out.push(format!("{}: {a:?} overlaps {b:?}", set.name));
                }
            }
        }
        if !set.comments.is_empty() && set.comments.len() != set.elements.len() {
            out.push(format!("{}: {} comments for {} elements", set.name, set.comments.len(), set.elements.len()));
        }
    }
    out
}

/// Every disagreement between the engine and the rendered ruleset.
fn disagreements(cluster: &Cluster) -> Vec<String> {
    let engine = Engine::new(cluster, Options::default());
    let ruleset = render(cluster, &RenderOptions::default());
    let on = |node: &str| render(cluster, &RenderOptions { node: Some(node.into()), ..RenderOptions::default() });
    let nodes = [("n1", on("n1")), ("n2", on("n2"))];
    let mut out = overlaps(&ruleset);
    for (_, r) in &nodes {
        out.extend(overlaps(r));
    }
    let node_of = |ip: IpAddr| cluster.pod_by_ip(ip).and_then(|p| p.node.clone());
    let mut addrs: Vec<IpAddr> = cluster.pods.iter().flat_map(|p| p.ips.iter().copied()).collect();
    addrs.extend(EXTERNAL.iter().map(|a| a.parse::<IpAddr>().unwrap()));
    for &src in &addrs {
        for &dst in &addrs {
            if src.is_ipv4() != dst.is_ipv4() {
                continue;
            }
            for protocol in Protocol::ALL {
                for port in PORTS {
                    let flow = Flow::new(Endpoint::Ip(src), Endpoint::Ip(dst), protocol, port);
                    let want = engine.evaluate(&flow).expect("engine evaluates").allowed();
                    let got = ruleset.evaluate(Hook::Forward, &Packet { src, dst, protocol, port });
                    if got.allowed != want {
                        out.push(format!("{flow}: engine {want}, nft {} ({:?})", got.allowed, got.because));
                    }
                    // Per-node rulesets: the packet crosses the source's node, then the destination's.
                    let packet = Packet { src, dst, protocol, port };
                    let mut crossed: Vec<String> = [node_of(src), node_of(dst)].into_iter().flatten().collect();
                    crossed.dedup();
                    let per_node = crossed.iter().all(|n| {
                        nodes
                            .iter()
                            .find(|(name, _)| name == n)
                            .is_some_and(|(_, r)| r.evaluate(Hook::Forward, &packet).allowed)
                    });
                    if per_node != want {
                        out.push(format!("{flow}: engine {want}, per-node rulesets {per_node} (nodes {crossed:?})"));
                    }
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn rendered_ruleset_agrees_with_engine(
        pods in proptest::collection::vec(pod_spec(), 1..5),
        policies in proptest::collection::vec(policy_strategy(), 0..4),
        x_team in any::<bool>(),
    ) {
        let cluster = build(pods, policies, x_team);
        let bad = disagreements(&cluster);
        prop_assert!(bad.is_empty(), "{} disagreements, first: {}", bad.len(), bad[0]);
    }
}

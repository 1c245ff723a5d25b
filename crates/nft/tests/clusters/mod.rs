//! Random small clusters for the renderer's property tests: a few pods in two
//! namespaces (some dual stack, some hostNetwork, with named ports), policies
//! drawn from selectors, ipBlocks and ports that overlap on purpose.

#![allow(dead_code)]

use netpol_model::{Cluster, Direction, IpBlock, LabelSelector, Peer, PolicyPort, Protocol};
use netpol_testkit::*;
use proptest::prelude::*;

pub fn selector() -> impl Strategy<Value = LabelSelector> {
    prop_oneof![
        Just(sel!()),
        Just(sel!("app" => "a")),
        Just(sel!("app" => "b")),
        Just(sel!("tier" => "t")),
        Just(sel!("app" => "a", "tier" => "t")),
        Just(sel!().with_expression(netpol_model::Requirement::new("app", netpol_model::Operator::NotIn, ["a"]))),
    ]
}

pub fn ns_selector() -> impl Strategy<Value = LabelSelector> {
    prop_oneof![Just(sel!()), Just(sel!("team" => "x")), Just(sel!("team" => "y")), Just(sel!("env" => "prod"))]
}

pub fn peer() -> impl Strategy<Value = Peer> {
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

pub fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp), Just(Protocol::Sctp)]
}

pub fn policy_port() -> impl Strategy<Value = PolicyPort> {
    prop_oneof![
        (protocol(), prop_oneof![Just(53u16), Just(80), Just(81)]).prop_map(|(p, n)| PolicyPort::number(p, n)),
        (protocol(), prop_oneof![Just((80u16, 81u16)), Just((1, 80)), Just((8000, 65535))])
            .prop_map(|(p, (a, b))| PolicyPort::range(p, a, b)),
        (protocol(), prop_oneof![Just("http"), Just("dns")]).prop_map(|(p, n)| PolicyPort::named(p, n)),
        protocol().prop_map(PolicyPort::all),
    ]
}

pub fn rule_strategy() -> impl Strategy<Value = netpol_model::Rule> {
    (proptest::collection::vec(peer(), 0..3), proptest::collection::vec(policy_port(), 0..3))
        .prop_map(|(peers, ports)| netpol_model::Rule { peers, ports, origin: None })
}

pub fn policy_strategy() -> impl Strategy<Value = netpol_model::NetworkPolicy> {
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
pub type PodSpec = (&'static str, Option<&'static str>, bool, bool, u8);

pub fn pod_spec() -> impl Strategy<Value = PodSpec> {
    (
        prop_oneof![Just("x"), Just("y")],
        prop_oneof![Just(None), Just(Some("a")), Just(Some("b"))],
        any::<bool>(),
        any::<bool>(),
        0u8..6,
    )
}

/// A hostNetwork pod: (namespace, app label, node: 0 = n1, 1 = n2, 2 = unknown,
/// dual stack when its node is unknown, declares `http` 80/TCP and `dns` 53/UDP).
pub type HostSpec = (&'static str, Option<&'static str>, u8, bool, bool);

pub fn host_spec() -> impl Strategy<Value = HostSpec> {
    (
        prop_oneof![Just("x"), Just("y")],
        prop_oneof![Just(None), Just(Some("a")), Just(Some("b"))],
        0u8..3,
        any::<bool>(),
        any::<bool>(),
    )
}

/// The node's addresses of a hostNetwork pod: n1 is dual stack inside the pod
/// ranges' ipBlocks (10.0.0.0/24, fd00::/64), n2 is IPv4 only and outside 10/8,
/// a pod with no known node gets an address of its own.
pub fn host_ips(node: u8, dual: bool, i: usize) -> (Option<&'static str>, Vec<String>) {
    match node {
        0 => (Some("n1"), vec!["10.0.0.101".into(), "fd00::101".into()]),
        1 => (Some("n2"), vec!["172.16.0.2".into()]),
        _ => {
            let n = 110 + i;
            let mut ips = vec![format!("10.0.0.{n}")];
            if dual {
                ips.push(format!("fd00::{n}"));
            }
            (None, ips)
        }
    }
}

pub fn build(
    pods: Vec<PodSpec>,
    hosts: Vec<HostSpec>,
    policies: Vec<netpol_model::NetworkPolicy>,
    x_team: bool,
) -> Cluster {
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
    for (i, (ns, app, node, dual, ports)) in hosts.into_iter().enumerate() {
        let (node, ips) = host_ips(node, dual, i);
        // Labels and named ports that selectors and named port rules would match
        // if hostNetwork pods were treated as pods.
        let mut p = pod(ns, &format!("h{}", i + 1)).host_network().label("tier", "t");
        for ip in &ips {
            p = p.ip(ip);
        }
        if let Some(node) = node {
            p = p.node(node);
        }
        if let Some(app) = app {
            p = p.label("app", app);
        }
        if ports {
            p = p.port("http", 80, Protocol::Tcp).port("dns", 53, Protocol::Udp);
        }
        c = c.pod(p);
    }
    for (i, mut policy) in policies.into_iter().enumerate() {
        policy.name = format!("p{i}");
        c = c.policy(policy);
    }
    c.build()
}

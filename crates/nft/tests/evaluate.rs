//! Table-driven checks of the rendered ruleset, through the IR evaluator:
//! each case is a cluster, a packet and the verdict Kubernetes semantics give.

use netpol_model::{Cluster, Direction, Protocol};
use netpol_nft::{render, Hook, Packet, RenderOptions};
use netpol_testkit::*;

/// Namespaces x (ns=x) and y (ns=y); pods x/a, x/b, y/c (a is dual-stack).
fn base() -> ClusterBuilder {
    cluster()
        .namespace(namespace("x").label("ns", "x"))
        .namespace(namespace("y").label("ns", "y"))
        .pod(
            pod("x", "a")
                .label("app", "a")
                .ip("10.0.0.1")
                .ip("fd00::1")
                .port("http", 80, Protocol::Tcp)
                .port("dns", 53, Protocol::Udp)
                .node("n1"),
        )
        .pod(pod("x", "b").label("app", "b").ip("10.0.0.2").port("http", 8080, Protocol::Tcp).node("n1"))
        .pod(pod("y", "c").label("app", "c").ip("10.0.1.3").ip("fd00::3").node("n2"))
}

struct Case {
    name: &'static str,
    given: Cluster,
    options: RenderOptions,
    packet: (&'static str, &'static str, Protocol, u16),
    want: bool,
}

fn case(
    name: &'static str,
    given: ClusterBuilder,
    packet: (&'static str, &'static str, Protocol, u16),
    want: bool,
) -> Case {
    Case { name, given: given.build(), options: RenderOptions::default(), packet, want }
}

const TCP: Protocol = Protocol::Tcp;
const UDP: Protocol = Protocol::Udp;
const SCTP: Protocol = Protocol::Sctp;

fn deny_ingress_x() -> PolicyBuilder {
    policy("x", "deny").types([Direction::Ingress])
}

#[test]
fn verdicts_table() {
    let fail_closed = RenderOptions { pod_cidrs: vec!["10.0.0.0/24".parse().unwrap()], ..RenderOptions::default() };
    let on_n1 = RenderOptions { node: Some("n1".into()), ..RenderOptions::default() };
    let cases = vec![
        case("no policy: everything passes", base(), ("10.0.1.3", "10.0.0.1", TCP, 80), true),
        case("no policy: outside to pod", base(), ("192.168.9.9", "10.0.0.2", UDP, 9), true),
        case("default deny ingress", base().policy(deny_ingress_x()), ("10.0.1.3", "10.0.0.1", TCP, 80), false),
        case(
            "default deny ingress: egress not isolated",
            base().policy(deny_ingress_x()),
            ("10.0.0.1", "10.0.1.3", TCP, 80),
            true,
        ),
        case("a pod reaching itself", base().policy(deny_ingress_x()), ("10.0.0.1", "10.0.0.1", TCP, 80), true),
        case("a pod reaching itself v6", base().policy(deny_ingress_x()), ("fd00::1", "fd00::1", TCP, 80), true),
        case(
            "allow from app=b on 80: hit",
            base().policy(
                policy("x", "p")
                    .select(sel!("app" => "a"))
                    .ingress(rule().from(pods(sel!("app" => "b"))).port(tcp(80))),
            ),
            ("10.0.0.2", "10.0.0.1", TCP, 80),
            true,
        ),
        case(
            "allow from app=b on 80: other port",
            base().policy(
                policy("x", "p")
                    .select(sel!("app" => "a"))
                    .ingress(rule().from(pods(sel!("app" => "b"))).port(tcp(80))),
            ),
            ("10.0.0.2", "10.0.0.1", TCP, 81),
            false,
        ),
        case(
            "allow from app=b on 80: other protocol",
            base().policy(
                policy("x", "p")
                    .select(sel!("app" => "a"))
                    .ingress(rule().from(pods(sel!("app" => "b"))).port(tcp(80))),
            ),
            ("10.0.0.2", "10.0.0.1", UDP, 80),
            false,
        ),
        case(
            "podSelector peer is the policy's namespace only",
            base().policy(policy("x", "p").select(sel!("app" => "a")).ingress(rule().from(pods(sel!())))),
            ("10.0.1.3", "10.0.0.1", TCP, 80),
            false,
        ),
        case(
            "named port resolved on the destination (ingress)",
            base().policy(policy("x", "p").ingress(rule().port(named_port("http", TCP)))),
            ("10.0.1.3", "10.0.0.2", TCP, 8080),
            true,
        ),
        case(
            "named port: the other pod's number does not count",
            base().policy(policy("x", "p").ingress(rule().port(named_port("http", TCP)))),
            ("10.0.1.3", "10.0.0.2", TCP, 80),
            false,
        ),
        case(
            "named port with a peer",
            base().policy(
                policy("x", "p").ingress(rule().from(namespaces(sel!("ns" => "y"))).port(named_port("http", TCP))),
            ),
            ("fd00::3", "fd00::1", TCP, 80),
            true,
        ),
        case(
            "named port undeclared by the destination",
            base().policy(policy("x", "p").ingress(rule().port(named_port("dns", UDP)))),
            ("10.0.1.3", "10.0.0.2", UDP, 53),
            false,
        ),
        case(
            "egress named port resolved on the destination pod",
            base().policy(
                policy("y", "p")
                    .types([Direction::Egress])
                    .egress(rule().to(namespaces(sel!("ns" => "x"))).port(named_port("http", TCP))),
            ),
            ("10.0.1.3", "10.0.0.2", TCP, 8080),
            true,
        ),
        case(
            "egress named port: wrong number",
            base().policy(
                policy("y", "p")
                    .types([Direction::Egress])
                    .egress(rule().to(namespaces(sel!("ns" => "x"))).port(named_port("http", TCP))),
            ),
            ("10.0.1.3", "10.0.0.2", TCP, 80),
            false,
        ),
        case(
            "egress named port never matches outside",
            base().policy(policy("y", "p").types([Direction::Egress]).egress(rule().port(named_port("http", TCP)))),
            ("10.0.1.3", "8.8.8.8", TCP, 80),
            false,
        ),
        case(
            "egress named port to an ipBlock holding the pod",
            base().policy(
                policy("y", "p")
                    .types([Direction::Egress])
                    .egress(rule().to(ip_block("10.0.0.0/30", &[])).port(named_port("http", TCP))),
            ),
            ("10.0.1.3", "10.0.0.1", TCP, 80),
            true,
        ),
        case(
            "endPort range: inside",
            base().policy(policy("x", "p").ingress(rule().port(port_range(TCP, 8000, 8080)))),
            ("10.0.1.3", "10.0.0.2", TCP, 8080),
            true,
        ),
        case(
            "endPort range: below",
            base().policy(policy("x", "p").ingress(rule().port(port_range(TCP, 8000, 8080)))),
            ("10.0.1.3", "10.0.0.2", TCP, 7999),
            false,
        ),
        case(
            "ipBlock with except: inside",
            base().policy(policy("x", "p").ingress(rule().from(ip_block("10.0.0.0/16", &["10.0.1.0/24"])))),
            ("10.0.5.5", "10.0.0.1", TCP, 1),
            true,
        ),
        case(
            "ipBlock with except: in the except",
            base().policy(policy("x", "p").ingress(rule().from(ip_block("10.0.0.0/16", &["10.0.1.0/24"])))),
            ("10.0.1.3", "10.0.0.1", TCP, 1),
            false,
        ),
        case(
            "ipBlock v4 does not match v6",
            base().policy(policy("x", "p").ingress(rule().from(ip_block("0.0.0.0/0", &[])))),
            ("fd00::3", "fd00::1", TCP, 1),
            false,
        ),
        case(
            "ipBlock v6",
            base().policy(
                policy("x", "p").ingress(rule().from(ip_block("fd00::/64", &["fd00::2/127"])).port(all_ports(UDP))),
            ),
            ("fd00::3", "fd00::1", UDP, 65535),
            false,
        ),
        case(
            "ipBlock v6 outside the except",
            base().policy(
                policy("x", "p").ingress(rule().from(ip_block("fd00::/64", &["fd00::2/128"])).port(all_ports(UDP))),
            ),
            ("fd00::3", "fd00::1", UDP, 65535),
            true,
        ),
        case(
            "egress denied at the source even when ingress allows",
            base()
                .policy(policy("x", "deny-egress").select(sel!("app" => "b")).types([Direction::Egress]))
                .policy(policy("x", "allow").ingress(rule())),
            ("10.0.0.2", "10.0.0.1", TCP, 80),
            false,
        ),
        case(
            "namespaceSelector AND podSelector",
            base().policy(
                policy("x", "p").ingress(rule().from(pods_in_namespaces(sel!("ns" => "y"), sel!("app" => "b")))),
            ),
            ("10.0.1.3", "10.0.0.1", TCP, 80),
            false,
        ),
        case(
            "union of policies",
            base()
                .policy(policy("x", "p1").ingress(rule().port(udp(53))))
                .policy(policy("x", "p2").ingress(rule().port(sctp(9)))),
            ("10.0.1.3", "10.0.0.1", SCTP, 9),
            true,
        ),
        Case {
            name: "unknown address in a pod CIDR is dropped (fail closed)",
            given: base().build(),
            options: fail_closed.clone(),
            packet: ("10.0.0.99", "10.0.0.1", TCP, 80),
            want: false,
        },
        Case {
            name: "unknown destination in a pod CIDR is dropped",
            given: base().build(),
            options: fail_closed.clone(),
            packet: ("10.0.0.1", "10.0.0.99", TCP, 80),
            want: false,
        },
        Case {
            name: "outside the pod CIDRs passes",
            given: base().build(),
            options: fail_closed,
            packet: ("10.0.0.1", "10.9.0.9", TCP, 80),
            want: true,
        },
        Case {
            name: "node n1 does not enforce y/c's ingress",
            given: base().policy(policy("y", "deny").types([Direction::Ingress])).build(),
            options: on_n1.clone(),
            packet: ("10.0.0.1", "10.0.1.3", TCP, 80),
            want: true,
        },
        Case {
            name: "node n1 enforces its own pods",
            given: base().policy(policy("x", "deny").types([Direction::Ingress])).build(),
            options: on_n1,
            packet: ("10.0.1.3", "10.0.0.1", TCP, 80),
            want: false,
        },
    ];
    for c in cases {
        let ruleset = render(&c.given, &c.options);
        let (src, dst, protocol, port) = c.packet;
        let packet = Packet { src: src.parse().unwrap(), dst: dst.parse().unwrap(), protocol, port };
        let got = ruleset.evaluate(Hook::Forward, &packet);
        assert_eq!(got.allowed, c.want, "{}: {packet}: {:?}", c.name, got.because);
    }
}

#[test]
fn the_deciding_rule_is_named() {
    let c = base()
        .policy(
            policy("x", "allow-b")
                .select(sel!("app" => "a"))
                .ingress(rule().from(pods(sel!("app" => "b"))).port(tcp(80)).port(tcp(443))),
        )
        .build();
    let ruleset = render(&c, &RenderOptions::default());
    let packet =
        |port| Packet { src: "10.0.0.2".parse().unwrap(), dst: "10.0.0.1".parse().unwrap(), protocol: TCP, port };
    let allowed = ruleset.evaluate(Hook::Forward, &packet(443));
    assert_eq!(
        allowed.because,
        vec!["x/b: a known pod, not isolated here".to_string(), "x/allow-b ingress[0] peer[0] port[1]".to_string()]
    );
    let denied = ruleset.evaluate(Hook::Forward, &packet(22));
    assert!(!denied.allowed);
    assert_eq!(denied.because.last().unwrap(), "ingress isolated by x/allow-b: no rule allowed");
}

#[test]
fn egress_to_the_node_goes_through_input() {
    let c = base().policy(policy("x", "deny").types([Direction::Egress])).build();
    let packet =
        Packet { src: "10.0.0.1".parse().unwrap(), dst: "10.0.0.254".parse().unwrap(), protocol: TCP, port: 10250 };
    let ruleset = render(&c, &RenderOptions::default());
    assert!(!ruleset.evaluate(Hook::Input, &packet).allowed);
    let ruleset = render(&c, &RenderOptions { filter_to_node: false, ..RenderOptions::default() });
    assert!(ruleset.evaluate(Hook::Input, &packet).allowed, "no input chain, nothing filtered");
}

#[test]
fn pod_ip_churn_changes_elements_not_chains() {
    let policies = |b: ClusterBuilder| {
        b.policy(
            policy("x", "p")
                .select(sel!("app" => "a"))
                .ingress(rule().from(namespaces(sel!("ns" => "y"))).port(named_port("http", TCP))),
        )
        .policy(
            policy("y", "q")
                .types([Direction::Egress])
                .egress(rule().to(pods_in_namespaces(sel!(), sel!("app" => "a")))),
        )
    };
    let before = render(&policies(base()).build(), &RenderOptions::default());
    let moved = cluster()
        .namespace(namespace("x").label("ns", "x"))
        .namespace(namespace("y").label("ns", "y"))
        .pod(pod("x", "a").label("app", "a").ip("10.0.0.77").port("http", 80, TCP).port("dns", 53, UDP).node("n1"))
        .pod(pod("x", "b").label("app", "b").ip("10.0.0.78").port("http", 8080, TCP).node("n1"))
        .pod(pod("y", "c").label("app", "c").ip("10.0.1.79").node("n2"));
    let after = render(&policies(moved).build(), &RenderOptions::default());
    assert_ne!(before, after, "the addresses changed");
    assert_eq!(before.structure(), after.structure(), "chains, rules and set names stay");
}

#[test]
fn rendering_is_deterministic_whatever_the_input_order() {
    let a = base()
        .policy(policy("x", "p1").ingress(rule().from(pods(sel!("app" => "b")))))
        .policy(policy("y", "p2").types([Direction::Egress]).egress(rule().port(udp(53))))
        .build();
    let mut b = a.clone();
    b.pods.reverse();
    b.policies.reverse();
    let options = RenderOptions::default();
    assert_eq!(render(&a, &options).script(), render(&b, &options).script());
}

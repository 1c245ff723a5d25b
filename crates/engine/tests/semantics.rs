//! Table-driven tests, one table per rule of NetworkPolicy v1 semantics
//! (docs/semantics.md has one section per table).

mod table;

use netpol_engine::{Engine, Flow, Options};
use netpol_model::{Direction, Operator, Protocol, Requirement};
use netpol_testkit::*;
use table::*;

use Protocol::{Sctp, Tcp, Udp};

#[test]
fn isolation_is_per_direction() {
    run(vec![
        case("no policy allows everything", base(), ("x/a", "y/b", Tcp, 80), true, "not isolated for egress"),
        case(
            "ingress-only policy isolates ingress",
            base().policy(deny_ingress("y")),
            ("x/a", "y/b", Tcp, 80),
            false,
            "isolated for ingress by y/deny-ingress",
        ),
        case(
            "ingress-only policy leaves egress of its subjects open",
            base().policy(deny_ingress("x")),
            ("x/a", "y/b", Tcp, 80),
            true,
            "whose policyTypes omit Egress",
        ),
        case(
            "egress-only policy isolates egress",
            base().policy(deny_egress("x")),
            ("x/a", "y/b", Tcp, 80),
            false,
            "isolated for egress by x/deny-egress",
        ),
        case(
            "egress-only policy leaves ingress open",
            base().policy(deny_egress("y")),
            ("x/a", "y/b", Tcp, 80),
            true,
            "not isolated for ingress: no policy in y selects y/b for Ingress",
        ),
        case(
            "policy selecting another pod does not isolate",
            base().policy(deny_ingress("y").select(sel!("pod" => "a"))),
            ("x/a", "y/b", Tcp, 80),
            true,
            "not isolated for ingress",
        ),
        case(
            "policy in another namespace does not isolate",
            base().policy(deny_ingress("x")),
            ("y/a", "y/b", Tcp, 80),
            true,
            "no policy in y selects y/b",
        ),
        case(
            "ingress rules are ignored when policyTypes is Egress only",
            base().policy(policy("y", "p").types([Direction::Egress]).ingress(rule()).egress(rule())),
            ("x/a", "y/b", Tcp, 80),
            true,
            "not isolated for ingress",
        ),
        case(
            "defaulted policyTypes: egress rules make it isolate egress",
            base().policy(policy("x", "p").egress(rule().to(pods(sel!("pod" => "b"))))),
            ("x/a", "y/a", Tcp, 80),
            false,
            "isolated for egress by x/p",
        ),
    ]);
}

#[test]
fn union_of_policies_and_both_directions() {
    let two = || {
        base()
            .policy(
                policy("x", "from-y-a").ingress(rule().from(namespaces(sel!("ns" => "y")))).select(sel!("pod" => "a")),
            )
            .policy(policy("x", "from-x-b").ingress(rule().from(pods(sel!("pod" => "b")))).select(sel!("pod" => "a")))
    };
    run(vec![
        case("first policy allows", two(), ("y/a", "x/a", Tcp, 80), true, "allowed by x/from-y-a ingress[0] peer[0]"),
        case("second policy allows", two(), ("x/b", "x/a", Tcp, 80), true, "allowed by x/from-x-b ingress[0] peer[0]"),
        case(
            "neither allows: both listed",
            two().pod(pod("x", "c").label("pod", "c")),
            ("x/c", "x/a", Tcp, 80),
            false,
            "isolated for ingress by x/from-y-a, x/from-x-b",
        ),
        case(
            "egress denied at source although ingress is open",
            base().policy(deny_egress("x")),
            ("x/a", "x/b", Tcp, 80),
            false,
            "egress at source x/a: DENIED",
        ),
        case(
            "ingress denied at destination although egress allows",
            base().policy(policy("x", "out").egress(rule())).policy(deny_ingress("y")),
            ("x/a", "y/a", Tcp, 80),
            false,
            "ingress at destination y/a: DENIED",
        ),
        case(
            "both allowed: every match listed",
            base()
                .policy(policy("x", "out").types([Direction::Egress]).egress(rule()).egress(rule().port(tcp(80))))
                .policy(deny_ingress("y").ingress(rule().from(namespaces(sel!("ns" => "x"))))),
            ("x/a", "y/a", Tcp, 80),
            true,
            "allowed by x/out egress[1] (any peer) port[0]",
        ),
    ]);
}

#[test]
fn empty_rules_peers_and_ports() {
    run(vec![
        case(
            "rule {} allows every peer and port",
            base().policy(deny_ingress("x").ingress(rule())),
            ("y/b", "x/a", Udp, 9999),
            true,
            "rule has no `from`: every peer matches",
        ),
        case(
            "rule {} allows external IPs too",
            base().policy(deny_ingress("x").ingress(rule())),
            ("192.168.9.9", "x/a", Tcp, 80),
            true,
            "allowed by x/deny-ingress ingress[0] (any peer) (any port)",
        ),
        case(
            "missing from with ports: every peer on that port",
            base().policy(deny_ingress("x").ingress(rule().port(tcp(80)))),
            ("y/b", "x/a", Tcp, 80),
            true,
            "(any peer) port[0]",
        ),
        case(
            "missing from with ports: other port denied",
            base().policy(deny_ingress("x").ingress(rule().port(tcp(80)))),
            ("y/b", "x/a", Tcp, 81),
            false,
            "peer matched but port: rule allows 80/TCP; flow is 81/TCP",
        ),
        case(
            "missing ports: every port and protocol",
            base().policy(deny_ingress("x").ingress(rule().from(pods(sel!("pod" => "b"))))),
            ("x/b", "x/a", Sctp, 12345),
            true,
            "rule has no `ports`: every port matches",
        ),
        case(
            "no rules at all: default deny",
            base().policy(deny_ingress("x")),
            ("x/b", "x/a", Tcp, 80),
            false,
            "has no ingress rules, so it allows no ingress",
        ),
    ]);
}

#[test]
fn pod_and_namespace_selectors() {
    let with = |peer| base().policy(deny_ingress("x").select(sel!("pod" => "a")).ingress(rule().from(peer)));
    run(vec![
        case(
            "podSelector alone: same namespace",
            with(pods(sel!("pod" => "b"))),
            ("x/b", "x/a", Tcp, 80),
            true,
            "podSelector pod=b matches x/b (labels pod=b)",
        ),
        case(
            "podSelector alone: same labels in another namespace do not match",
            with(pods(sel!("pod" => "b"))),
            ("y/b", "x/a", Tcp, 80),
            false,
            "selects pods of the policy's namespace x only; y/b is in namespace y",
        ),
        case(
            "podSelector alone: wrong labels",
            with(pods(sel!("pod" => "b"))).pod(pod("x", "c").label("pod", "c")),
            ("x/c", "x/a", Tcp, 80),
            false,
            "podSelector pod=b does not match x/c (labels pod=c)",
        ),
        case(
            "podSelector {} alone: every pod of the policy's namespace only",
            with(pods(sel!())),
            ("y/a", "x/a", Tcp, 80),
            false,
            "y/a is in namespace y",
        ),
        case(
            "namespaceSelector alone: every pod of matching namespaces",
            with(namespaces(sel!("ns" => "y"))),
            ("y/b", "x/a", Tcp, 80),
            true,
            "namespaceSelector ns=y matches namespace y",
        ),
        case(
            "namespaceSelector alone: not the policy's own namespace unless it matches",
            with(namespaces(sel!("ns" => "y"))),
            ("x/b", "x/a", Tcp, 80),
            false,
            "namespaceSelector ns=y does not match namespace x (labels kubernetes.io/metadata.name=x,ns=x)",
        ),
        case(
            "namespaceSelector {}: every namespace",
            with(namespaces(sel!())),
            ("y/b", "x/a", Tcp, 80),
            true,
            "namespaceSelector {} matches namespace y",
        ),
        case(
            "both selectors in one peer: AND, both hold",
            with(pods_in_namespaces(sel!("ns" => "y"), sel!("pod" => "b"))),
            ("y/b", "x/a", Tcp, 80),
            true,
            "namespaceSelector ns=y matches namespace y (labels kubernetes.io/metadata.name=y,ns=y) and podSelector pod=b matches y/b",
        ),
        case(
            "both selectors in one peer: AND, pod labels fail",
            with(pods_in_namespaces(sel!("ns" => "y"), sel!("pod" => "b"))),
            ("y/a", "x/a", Tcp, 80),
            false,
            "but podSelector pod=b does not match y/a (labels pod=a)",
        ),
        case(
            "both selectors in one peer: AND, namespace fails",
            with(pods_in_namespaces(sel!("ns" => "y"), sel!("pod" => "b"))),
            ("x/b", "x/a", Tcp, 80),
            false,
            "namespaceSelector ns=y does not match namespace x",
        ),
        case(
            "two peers: OR",
            base().policy(
                deny_ingress("x")
                    .select(sel!("pod" => "a"))
                    .ingress(rule().from(namespaces(sel!("ns" => "y"))).from(pods(sel!("pod" => "b")))),
            ),
            ("x/b", "x/a", Tcp, 80),
            true,
            "ingress[0] peer[1]",
        ),
        case(
            "undeclared namespace has only its name label",
            with(namespaces(sel!("ns" => "z"))).pod(pod("z", "a").label("pod", "a")),
            ("z/a", "x/a", Tcp, 80),
            false,
            "namespace z was never declared, so it has only that label",
        ),
        case(
            "kubernetes.io/metadata.name selects an undeclared namespace",
            with(namespaces(sel!("kubernetes.io/metadata.name" => "z"))).pod(pod("z", "a").label("pod", "a")),
            ("z/a", "x/a", Tcp, 80),
            true,
            "matches namespace z",
        ),
    ]);
}

#[test]
fn match_expressions() {
    let with = |ns_sel: netpol_model::LabelSelector, pod_sel: netpol_model::LabelSelector| {
        base().policy(
            deny_ingress("x").select(sel!("pod" => "a")).ingress(rule().from(pods_in_namespaces(ns_sel, pod_sel))),
        )
    };
    let req = |k: &str, op, v: &[&str]| Requirement::new(k, op, v.iter().copied());
    run(vec![
        case(
            "In matches",
            with(sel!(), sel!().with_expression(req("pod", Operator::In, &["b", "c"]))),
            ("y/b", "x/a", Tcp, 80),
            true,
            "pod in (b,c) matches y/b",
        ),
        case(
            "NotIn excludes",
            with(sel!(), sel!().with_expression(req("pod", Operator::NotIn, &["b"]))),
            ("y/b", "x/a", Tcp, 80),
            false,
            "pod notin (b) does not match y/b",
        ),
        case(
            "NotIn on the namespace",
            with(sel!().with_expression(req("ns", Operator::NotIn, &["x"])), sel!()),
            ("y/a", "x/a", Tcp, 80),
            true,
            "namespaceSelector ns notin (x) matches namespace y",
        ),
        case(
            "Exists",
            with(sel!(), sel!().with_expression(req("pod", Operator::Exists, &[]))),
            ("y/a", "x/a", Tcp, 80),
            true,
            "podSelector pod matches",
        ),
        case(
            "DoesNotExist",
            with(sel!(), sel!().with_expression(req("pod", Operator::DoesNotExist, &[]))),
            ("y/a", "x/a", Tcp, 80),
            false,
            "podSelector !pod does not match",
        ),
        case(
            "matchLabels AND matchExpressions: both hold",
            with(sel!(), sel!("pod" => "b").with_expression(req("pod", Operator::In, &["b"]))),
            ("y/b", "x/a", Tcp, 80),
            true,
            "matches y/b",
        ),
        case(
            "matchLabels AND matchExpressions: expression fails",
            with(sel!(), sel!("pod" => "b").with_expression(req("pod", Operator::NotIn, &["b"]))),
            ("y/b", "x/a", Tcp, 80),
            false,
            "does not match y/b",
        ),
        case(
            "subject selector with expressions",
            base().policy(deny_ingress("x").select(sel!().with_expression(req("pod", Operator::In, &["b"])))),
            ("x/a", "x/b", Tcp, 80),
            false,
            "isolated for ingress by x/deny-ingress",
        ),
    ]);
}

#[test]
fn ip_blocks() {
    let ingress_from = |peer| base().policy(deny_ingress("x").ingress(rule().from(peer)));
    let v6 = || {
        cluster()
            .pod(pod("x", "a").label("pod", "a").ip("fd00::1"))
            .pod(pod("x", "b").label("pod", "b").ip("10.0.0.2").ip("fd00::2"))
    };
    run(vec![
        case(
            "cidr contains an external source",
            ingress_from(ip_block("192.168.0.0/16", &[])),
            ("192.168.3.4", "x/a", Tcp, 80),
            true,
            "ipBlock 192.168.0.0/16 contains 192.168.3.4",
        ),
        case(
            "except excludes",
            ingress_from(ip_block("10.0.0.0/8", &["10.0.1.0/24"])),
            ("10.0.1.5", "x/a", Tcp, 80),
            false,
            "ipBlock 10.0.0.0/8 except 10.0.1.0/24 excludes 10.0.1.5",
        ),
        case(
            "outside the cidr",
            ingress_from(ip_block("10.0.0.0/8", &[])),
            ("172.16.0.1", "x/a", Tcp, 80),
            false,
            "ipBlock 10.0.0.0/8 does not contain 172.16.0.1",
        ),
        case(
            "matches pod IPs by default",
            ingress_from(ip_block("10.0.1.0/24", &[])),
            ("y/a", "x/a", Tcp, 80),
            true,
            "ipBlock 10.0.1.0/24 contains 10.0.1.1 (the IP of y/a)",
        ),
        case(
            "except excludes a pod",
            ingress_from(ip_block("10.0.0.0/16", &["10.0.1.2/32"])),
            ("y/b", "x/a", Tcp, 80),
            false,
            "excludes 10.0.1.2 (the IP of y/b)",
        ),
        case(
            "a pod named by its IP is that pod",
            ingress_from(pods(sel!("pod" => "b"))),
            ("10.0.0.2", "x/a", Tcp, 80),
            true,
            "10.0.0.2 is the IP of x/b",
        ),
        case(
            "egress ipBlock to an external destination",
            base().policy(deny_egress("x").egress(rule().to(ip_block("0.0.0.0/0", &["10.0.0.0/8"])))),
            ("x/a", "8.8.8.8", Udp, 53),
            true,
            "contains 8.8.8.8",
        ),
        case(
            "external destination: no ingress enforcement",
            base().policy(deny_egress("x").egress(rule().to(ip_block("0.0.0.0/0", &[])))),
            ("x/a", "8.8.8.8", Tcp, 443),
            true,
            "not enforced here: 8.8.8.8 is not a pod",
        ),
        case(
            "IPv6 cidr matches an IPv6 pod",
            v6().policy(deny_ingress("x").ingress(rule().from(ip_block("fd00::/64", &["fd00::1/128"])))),
            ("x/b", "x/a", Tcp, 80),
            true,
            "ipBlock fd00::/64 except fd00::1/128 contains fd00::2 (the IP of x/b)",
        ),
        case(
            "IPv6 except",
            v6().policy(deny_ingress("x").ingress(rule().from(ip_block("fd00::/64", &["fd00::2/128"])))),
            ("x/b", "x/a", Tcp, 80),
            false,
            "excludes fd00::2",
        ),
        case(
            "IPv4 block does not match an IPv6 flow",
            v6().policy(deny_ingress("x").ingress(rule().from(ip_block("10.0.0.0/8", &[])))),
            ("x/b", "x/a", Tcp, 80),
            false,
            "does not contain fd00::2",
        ),
        case(
            "a workload has no IPs: ipBlock cannot match it",
            ingress_from(ip_block("0.0.0.0/0", &[]))
                .pod(pod("y", "web").label("app", "web").workload(netpol_model::WorkloadKind::Deployment)),
            ("y/web", "x/a", Tcp, 80),
            false,
            "cannot match y/web: a Deployment has no known pod IPs",
        ),
        case(
            "a pod without IP: ipBlock cannot match it",
            ingress_from(ip_block("0.0.0.0/0", &[])).pod(pod("y", "noip")),
            ("y/noip", "x/a", Tcp, 80),
            false,
            "its IP is not known",
        ),
    ]);
}

#[test]
fn ip_blocks_ignoring_pods() {
    let ingress_from = |peer| base().policy(deny_ingress("x").ingress(rule().from(peer)));
    run_with(
        vec![
            case(
                "pod IP not matched when the option is off",
                ingress_from(ip_block("10.0.0.0/8", &[])),
                ("y/a", "x/a", Tcp, 80),
                false,
                "is not applied to pod IPs (ipblock_matches_pods is off); it contains 10.0.1.1",
            ),
            case(
                "external IP still matched",
                ingress_from(ip_block("192.168.0.0/16", &[])),
                ("192.168.0.1", "x/a", Tcp, 80),
                true,
                "contains 192.168.0.1",
            ),
        ],
        Options { ipblock_matches_pods: false },
    );
}

#[test]
fn ports_protocols_named_ports_and_ranges() {
    let ingress_ports = |ports: Vec<netpol_model::PolicyPort>| {
        let mut r = rule();
        for p in ports {
            r = r.port(p);
        }
        base().policy(deny_ingress("x").ingress(r))
    };
    let egress_ports = |port| base().policy(deny_egress("x").egress(rule().port(port)));
    run(vec![
        case("TCP port matches", ingress_ports(vec![tcp(80)]), ("y/a", "x/a", Tcp, 80), true, "80/TCP matches 80/TCP"),
        case(
            "TCP rule does not match UDP on the same port",
            ingress_ports(vec![tcp(80)]),
            ("y/a", "x/a", Udp, 80),
            false,
            "rule allows 80/TCP; flow is 80/UDP",
        ),
        case(
            "rule lists several ports",
            ingress_ports(vec![udp(53), tcp(53)]),
            ("y/a", "x/a", Tcp, 80),
            false,
            "peer matched but port: rule allows 53/UDP, 53/TCP; flow is 80/TCP",
        ),
        case("SCTP port", ingress_ports(vec![sctp(9)]), ("y/a", "x/a", Sctp, 9), true, "9/SCTP matches 9/SCTP"),
        case(
            "protocol-only entry allows every port of it",
            ingress_ports(vec![all_ports(Udp)]),
            ("y/a", "x/a", Udp, 4000),
            true,
            "all UDP ports matches 4000/UDP",
        ),
        case(
            "endPort: start",
            ingress_ports(vec![port_range(Tcp, 8000, 8080)]),
            ("y/a", "x/a", Tcp, 8000),
            true,
            "8000-8080/TCP matches",
        ),
        case(
            "endPort: end inclusive",
            ingress_ports(vec![port_range(Tcp, 8000, 8080)]),
            ("y/a", "x/a", Tcp, 8080),
            true,
            "8000-8080/TCP matches 8080/TCP",
        ),
        case(
            "endPort: past the end",
            ingress_ports(vec![port_range(Tcp, 8000, 8080)]),
            ("y/a", "x/a", Tcp, 8081),
            false,
            "rule allows 8000-8080/TCP; flow is 8081/TCP",
        ),
        case(
            "endPort: before the start",
            ingress_ports(vec![port_range(Tcp, 8000, 8080)]),
            ("y/a", "x/a", Tcp, 7999),
            false,
            "flow is 7999/TCP",
        ),
        case(
            "ingress named port resolves against the destination (the subject)",
            ingress_ports(vec![named_port("http", Tcp)]),
            ("y/a", "x/a", Tcp, 80),
            true,
            "named port `http`/TCP is 80 on x/a matches 80/TCP",
        ),
        case(
            "ingress named port: another pod's number does not count",
            ingress_ports(vec![named_port("http", Tcp)]),
            ("y/a", "x/b", Tcp, 80),
            false,
            "rule allows named port `http`/TCP (8080 on x/b); flow is 80/TCP",
        ),
        case(
            "named port needs the protocol to match",
            ingress_ports(vec![named_port("dns", Tcp)]),
            ("y/a", "x/a", Tcp, 53),
            false,
            "named port `dns` is declared by the destination x/a for UDP only, not TCP",
        ),
        case(
            "named port the destination does not declare",
            ingress_ports(vec![named_port("metrics", Tcp)]),
            ("y/a", "x/a", Tcp, 9090),
            false,
            "named port `metrics` is not declared by the destination x/a",
        ),
        case(
            "egress named port resolves against the destination (the peer), not the source",
            egress_ports(named_port("http", Tcp)),
            ("x/a", "x/b", Tcp, 8080),
            true,
            "named port `http`/TCP is 8080 on x/b",
        ),
        case(
            "egress named port: the source's own number does not count",
            egress_ports(named_port("http", Tcp)),
            ("x/a", "x/b", Tcp, 80),
            false,
            "(8080 on x/b); flow is 80/TCP",
        ),
        case(
            "egress named port towards an external IP never matches",
            egress_ports(named_port("http", Tcp)),
            ("x/a", "1.1.1.1", Tcp, 80),
            false,
            "named port `http` never matches an external destination (1.1.1.1 is not a pod)",
        ),
    ]);
}

#[test]
fn host_network_self_and_external() {
    let host = || {
        base()
            .pod(pod("x", "node-agent").label("pod", "a").ip("192.168.0.10").host_network())
            .policy(deny_ingress("x").ingress(rule().from(pods(sel!()))))
    };
    run(vec![
        case(
            "hostNetwork pod is never a subject",
            host().policy(deny_egress("x")),
            ("x/node-agent", "y/a", Tcp, 80),
            true,
            "not enforced here: x/node-agent is a hostNetwork pod",
        ),
        case(
            "hostNetwork destination is not enforced",
            host(),
            ("y/a", "x/node-agent", Tcp, 80),
            true,
            "x/node-agent is a hostNetwork pod",
        ),
        case(
            "podSelector peer does not match a hostNetwork pod",
            host(),
            ("x/node-agent", "x/a", Tcp, 80),
            false,
            "podSelector {} never matches x/node-agent: a hostNetwork pod is node traffic",
        ),
        case(
            "ipBlock peer may match a hostNetwork pod by its IP",
            host().policy(policy("x", "nodes").ingress(rule().from(ip_block("192.168.0.0/24", &[])))),
            ("x/node-agent", "x/a", Tcp, 80),
            true,
            "contains 192.168.0.10 (the IP of hostNetwork pod x/node-agent)",
        ),
        case(
            "a hostNetwork pod's IP resolves to it",
            host(),
            ("192.168.0.10", "x/a", Tcp, 80),
            false,
            "192.168.0.10 is the IP of hostNetwork pod x/node-agent",
        ),
        case(
            "a pod can always reach itself",
            base().policy(deny_ingress("x")).policy(deny_egress("x")),
            ("x/a", "x/a", Tcp, 80),
            true,
            "a pod can always reach itself",
        ),
        case(
            "itself through its own IP",
            base().policy(deny_ingress("x")).policy(deny_egress("x")),
            ("x/a", "10.0.0.1", Tcp, 80),
            true,
            "x/a is connecting to itself",
        ),
        case(
            "external source into an isolated pod with a podSelector peer",
            base().policy(deny_ingress("x").ingress(rule().from(pods(sel!())))),
            ("203.0.113.7", "x/a", Tcp, 80),
            false,
            "podSelector {} matches only pods; 203.0.113.7 is not a pod's IP",
        ),
        case(
            "external to external: nothing enforced",
            base().policy(deny_ingress("x")),
            ("203.0.113.7", "198.51.100.1", Tcp, 80),
            true,
            "not enforced here: 203.0.113.7 is not a pod",
        ),
    ]);
}

#[test]
fn errors_are_data_not_panics() {
    let c = base().build();
    let engine = Engine::new(&c, Options::default());
    let err = engine
        .evaluate(&Flow::new(
            "x/aa".parse::<netpol_model::PodKey>().unwrap(),
            "10.0.0.1".parse::<std::net::IpAddr>().unwrap(),
            Tcp,
            80,
        ))
        .unwrap_err();
    assert_eq!(err.to_string(), "unknown pod or workload `x/aa` (did you mean `x/a`?)");
    let err = engine
        .evaluate(&Flow::new(
            "z/a".parse::<netpol_model::PodKey>().unwrap(),
            "10.0.0.1".parse::<std::net::IpAddr>().unwrap(),
            Tcp,
            80,
        ))
        .unwrap_err();
    assert_eq!(err.to_string(), "unknown pod or workload `z/a` (did you mean one of `x/a`, `y/a`?)");
    let flow = |s: &str, d: &str, port| Flow { src: s.parse().unwrap(), dst: d.parse().unwrap(), protocol: Tcp, port };
    assert_eq!(
        engine.evaluate(&flow("x/a", "x/b", 0)).unwrap_err().to_string(),
        "port 0 is not a destination port (ports are 1-65535)"
    );
    assert!(engine.evaluate(&flow("10.0.0.1", "fd00::1", 80)).is_err());
    assert!(engine.allowed_connections(&"x/zzz".parse().unwrap(), &"x/a".parse().unwrap()).is_err());
}

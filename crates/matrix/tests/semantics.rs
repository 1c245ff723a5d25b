//! Table-driven cases for the compiled form, one rule of the semantics each,
//! built with the testkit builders. (The differential tests cover the rest.)

use netpol_matrix::{Change, Compiled, Options};
use netpol_model::{Cluster, PodKey, Protocol, WorkloadKind};
use netpol_testkit::*;

struct Case {
    name: &'static str,
    given: Cluster,
    /// (from, to, protocol, port, allowed)
    want: Vec<(&'static str, &'static str, Protocol, u16, bool)>,
}

fn key(s: &str) -> PodKey {
    s.parse().expect("ns/name")
}

fn base() -> ClusterBuilder {
    cluster()
        .namespace(namespace("x").label("ns", "x"))
        .namespace(namespace("y").label("ns", "y"))
        .pod(pod("x", "a").label("app", "a").ip("10.0.0.1").port("http", 8080, Protocol::Tcp))
        .pod(pod("x", "b").label("app", "b").ip("10.0.0.2").port("http", 9090, Protocol::Tcp))
        .pod(pod("y", "c").label("app", "a").ip("10.0.1.1"))
}

#[test]
fn semantics_table() {
    let cases = vec![
        Case {
            name: "no policies: everything allowed",
            given: base().build(),
            want: vec![("x/a", "x/b", Protocol::Udp, 53, true), ("y/c", "x/a", Protocol::Sctp, 1, true)],
        },
        Case {
            name: "default deny ingress isolates, self stays allowed",
            given: base().policy(policy("x", "deny").select(sel!())).build(),
            want: vec![
                ("x/a", "x/b", Protocol::Tcp, 80, false),
                ("y/c", "x/a", Protocol::Tcp, 80, false),
                ("x/a", "x/a", Protocol::Tcp, 80, true),
                ("x/a", "y/c", Protocol::Tcp, 80, true),
            ],
        },
        Case {
            name: "named port resolves on the destination",
            given: base()
                .policy(policy("x", "http").select(sel!()).ingress(rule().port(named_port("http", Protocol::Tcp))))
                .build(),
            want: vec![
                ("y/c", "x/a", Protocol::Tcp, 8080, true),
                ("y/c", "x/a", Protocol::Tcp, 9090, false),
                ("y/c", "x/b", Protocol::Tcp, 9090, true),
                ("y/c", "x/b", Protocol::Udp, 9090, false),
            ],
        },
        Case {
            name: "egress named port resolves on the destination too",
            given: base()
                .policy(
                    policy("y", "out")
                        .select(sel!())
                        .types([netpol_model::Direction::Egress])
                        .egress(rule().to(namespaces(sel!("ns" => "x"))).port(named_port("http", Protocol::Tcp))),
                )
                .build(),
            want: vec![
                ("y/c", "x/a", Protocol::Tcp, 8080, true),
                ("y/c", "x/a", Protocol::Tcp, 9090, false),
                ("y/c", "x/b", Protocol::Tcp, 9090, true),
            ],
        },
        Case {
            name: "endPort range boundaries",
            given: base()
                .policy(policy("x", "range").select(sel!()).ingress(rule().port(port_range(Protocol::Tcp, 8000, 8100))))
                .build(),
            want: vec![
                ("y/c", "x/a", Protocol::Tcp, 7999, false),
                ("y/c", "x/a", Protocol::Tcp, 8000, true),
                ("y/c", "x/a", Protocol::Tcp, 8100, true),
                ("y/c", "x/a", Protocol::Tcp, 8101, false),
            ],
        },
        Case {
            name: "ipBlock except matches pod IPs",
            given: base()
                .policy(
                    policy("x", "cidr").select(sel!()).ingress(rule().from(ip_block("10.0.0.0/16", &["10.0.1.0/24"]))),
                )
                .build(),
            want: vec![("x/b", "x/a", Protocol::Tcp, 80, true), ("y/c", "x/a", Protocol::Tcp, 80, false)],
        },
        Case {
            name: "namespaceSelector and podSelector in one peer are ANDed",
            given: base()
                .policy(
                    policy("x", "and")
                        .select(sel!("app" => "b"))
                        .ingress(rule().from(pods_in_namespaces(sel!("ns" => "y"), sel!("app" => "a")))),
                )
                .build(),
            want: vec![("y/c", "x/b", Protocol::Tcp, 80, true), ("x/a", "x/b", Protocol::Tcp, 80, false)],
        },
        Case {
            name: "hostNetwork pods are never subjects nor selector peers",
            given: base()
                .pod(pod("x", "h").label("app", "a").ip("192.168.0.9").host_network())
                .policy(policy("x", "deny").select(sel!()))
                .policy(policy("x", "from-a").select(sel!("app" => "b")).ingress(rule().from(pods(sel!("app" => "a")))))
                .build(),
            want: vec![
                ("x/a", "x/h", Protocol::Tcp, 80, true),
                ("x/h", "x/b", Protocol::Tcp, 80, false),
                ("x/a", "x/b", Protocol::Tcp, 80, true),
            ],
        },
        Case {
            name: "workloads have no IPs: ipBlocks never match them",
            given: base()
                .pod(pod("x", "w").label("app", "w").workload(WorkloadKind::Deployment))
                .policy(policy("x", "cidr").select(sel!("app" => "a")).ingress(rule().from(ip_block("0.0.0.0/0", &[]))))
                .build(),
            want: vec![("x/w", "x/a", Protocol::Tcp, 80, false), ("x/b", "x/a", Protocol::Tcp, 80, true)],
        },
    ];
    for case in cases {
        let m = Compiled::build(&case.given, Options::default());
        for (from, to, protocol, port, want) in &case.want {
            let (s, d) = (m.pod_id(&key(from)).unwrap(), m.pod_id(&key(to)).unwrap());
            assert_eq!(m.allowed(s, d, *protocol, *port), *want, "{}: {from} -> {to} {port}/{protocol}", case.name);
            let probe = m.port_table(*protocol, *port);
            let by_class = s == d || probe.class_allowed(m.class_of(s).unwrap(), m.class_of(d).unwrap());
            assert_eq!(by_class, *want, "{}: probe {from} -> {to}", case.name);
            assert_eq!(
                m.connections(s, d).contains(*protocol, *port),
                *want,
                "{}: connections {from} -> {to}",
                case.name
            );
        }
    }
}

#[test]
fn classes_group_pods_that_no_selector_tells_apart() {
    let c = cluster()
        .pod(pod("x", "a1").label("app", "a").label("pod-template-hash", "1").ip("10.0.0.1"))
        .pod(pod("x", "a2").label("app", "a").label("pod-template-hash", "2").ip("10.0.0.2"))
        .pod(pod("x", "b").label("app", "b").ip("10.0.0.3"))
        .policy(policy("x", "p").select(sel!("app" => "a")))
        .build();
    let mut m = Compiled::build(&c, Options::default());
    assert_eq!(m.classes(), 2, "a1 and a2 differ only in an unread label");
    // A policy reading the hash label splits them; removing it merges them back.
    let split = policy("x", "hash").select(sel!("pod-template-hash" => "1")).build();
    m.apply(Change::UpsertPolicy(split)).unwrap();
    assert_eq!(m.classes(), 3);
    m.apply(Change::RemovePolicy { namespace: "x".into(), name: "hash".into() }).unwrap();
    assert_eq!(m.classes(), 2);
}

#[test]
fn allowed_pairs_counts_ordered_distinct_pairs() {
    let c = base().build();
    let m = Compiled::build(&c, Options::default());
    assert_eq!(m.allowed_pairs(Protocol::Tcp, 80), 6);
    let c = base().policy(policy("x", "deny").select(sel!())).build();
    let m = Compiled::build(&c, Options::default());
    // Only traffic into y/c: from x/a and x/b.
    assert_eq!(m.allowed_pairs(Protocol::Tcp, 80), 2);
}

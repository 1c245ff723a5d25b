//! The upstream e2e model (namespaces x, y, z labelled ns=<name>; pods a, b, c
//! labelled pod=<name>, serving 80 and 81 on TCP, UDP and SCTP with named ports
//! `serve-<port>-<proto>`) under the policies of the upstream NetworkPolicy e2e
//! tests (as the engine's truth-table tests state them): in a real lab, with
//! the rendered ruleset enforcing, every observed TCP and UDP verdict on 80 and
//! 81 equals the engine's prediction. Each case gets a fresh lab.

mod labkit;

use netpol_model::{Cluster, Direction, Operator, Protocol, Requirement};
use netpol_testkit::*;

use Protocol::{Sctp, Tcp, Udp};

fn model() -> ClusterBuilder {
    let mut c = cluster();
    for (i, ns) in ["x", "y", "z"].iter().enumerate() {
        c = c.namespace(namespace(ns).label("ns", ns));
        for (j, name) in ["a", "b", "c"].iter().enumerate() {
            let mut p = pod(ns, name).label("pod", name).ip(&format!("10.244.1.{}{}", i + 1, j + 1));
            for port in [80u16, 81] {
                for proto in Protocol::ALL {
                    p = p.port(&format!("serve-{port}-{}", proto.as_str().to_lowercase()), port, proto);
                }
            }
            c = c.pod(p);
        }
    }
    c
}

struct Case {
    name: &'static str,
    given: Cluster,
}

fn cases_one() -> Vec<Case> {
    vec![
        Case { name: "no policies", given: model().build() },
        Case {
            name: "default-deny-ingress",
            given: model().policy(policy("x", "deny-ingress").types([Direction::Ingress])).build(),
        },
        Case {
            name: "default-deny-all",
            given: model().policy(policy("x", "deny-all").types([Direction::Ingress, Direction::Egress])).build(),
        },
        Case {
            name: "allow-same-namespace",
            given: model().policy(policy("x", "allow-same-ns").ingress(rule().from(pods(sel!())))).build(),
        },
    ]
}

fn cases_two() -> Vec<Case> {
    let ns_not_x = || sel!().with_expression(Requirement::new("ns", Operator::NotIn, ["x"]));
    vec![
        Case {
            name: "pod-b-to-pod-a",
            given: model()
                .policy(
                    policy("x", "x-a-allows-x-b")
                        .select(sel!("pod" => "a"))
                        .ingress(rule().from(pods(sel!("pod" => "b")))),
                )
                .build(),
        },
        Case {
            name: "allow-ns-y",
            given: model()
                .policy(
                    policy("x", "allow-ns-y")
                        .select(sel!("pod" => "a"))
                        .ingress(rule().from(namespaces(sel!("ns" => "y")))),
                )
                .build(),
        },
        Case {
            name: "podSelector AND namespaceSelector",
            given: model()
                .policy(
                    policy("x", "and")
                        .select(sel!("pod" => "a"))
                        .ingress(rule().from(pods_in_namespaces(ns_not_x(), sel!("pod" => "b")))),
                )
                .build(),
        },
        Case {
            name: "podSelector OR namespaceSelector",
            given: model()
                .policy(
                    policy("x", "or")
                        .select(sel!("pod" => "a"))
                        .ingress(rule().from(namespaces(ns_not_x())).from(pods(sel!("pod" => "b")))),
                )
                .build(),
        },
    ]
}

fn cases_three() -> Vec<Case> {
    vec![
        Case {
            name: "egress to b on 80/TCP",
            given: model()
                .policy(
                    policy("x", "egress-b-80")
                        .select(sel!("pod" => "a"))
                        .types([Direction::Egress])
                        .egress(rule().to(pods(sel!("pod" => "b"))).port(tcp(80))),
                )
                .build(),
        },
        Case {
            name: "ipBlock except",
            given: model()
                .policy(
                    policy("x", "cidr-except")
                        .select(sel!("pod" => "a"))
                        .types([Direction::Egress])
                        .egress(rule().to(ip_block("10.244.1.0/24", &["10.244.1.22/32"]))),
                )
                .build(),
        },
        Case {
            name: "named port ingress",
            given: model()
                .policy(policy("x", "named-81").ingress(rule().port(named_port("serve-81-tcp", Tcp))))
                .build(),
        },
        Case {
            name: "named port egress, UDP",
            given: model()
                .policy(
                    policy("x", "named-80")
                        .types([Direction::Egress])
                        .egress(rule().port(named_port("serve-80-udp", Udp))),
                )
                .build(),
        },
        Case {
            name: "endPort range",
            given: model()
                .policy(
                    policy("x", "range")
                        .select(sel!("pod" => "a"))
                        .ingress(rule().from(namespaces(sel!())).port(port_range(Tcp, 81, 82))),
                )
                .build(),
        },
        Case {
            name: "SCTP-only rule: TCP and UDP stay denied",
            given: model().policy(policy("y", "sctp").ingress(rule().port(sctp(80)))).build(),
        },
    ]
}

fn run(test: &str, prefix: &str, cases: Vec<Case>) {
    if netpol_testkit::privileged::gate(test, &[]).is_none() {
        return;
    }
    let targets = [(80, Tcp), (81, Tcp), (80, Udp), (81, Udp), (80, Sctp)];
    let mut failures = Vec::new();
    for case in cases {
        let lab = labkit::up(prefix, &case.given);
        let report =
            lab.probe(&targets, labkit::TIMEOUT, labkit::PARALLEL).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(report.observed.tables.len(), 4, "{}: SCTP is skipped, the rest probed", case.name);
        assert_eq!(report.observed.skipped.len(), 1, "{}", case.name);
        assert_eq!(report.observed.pods.len(), 10, "{}: 9 pods and the added kube-dns", case.name);
        if !report.disagreements.is_empty() {
            failures.push(format!("== {}\n{}", case.name, report.text()));
        }
        lab.down().unwrap_or_else(|e| panic!("{}: down: {e}", case.name));
    }
    assert!(failures.is_empty(), "lab and engine disagree:\n{}", failures.join("\n"));
}

#[test]
fn upstream_truth_tables_basic_isolation() {
    run("upstream_truth_tables_basic_isolation", "ua", cases_one());
}

#[test]
fn upstream_truth_tables_selectors() {
    run("upstream_truth_tables_selectors", "ub", cases_two());
}

#[test]
fn upstream_truth_tables_ports_and_blocks() {
    run("upstream_truth_tables_ports_and_blocks", "uc", cases_three());
}

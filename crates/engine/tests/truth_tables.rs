//! The upstream e2e / cyclonus model: namespaces x, y, z (label ns=<name>), pods
//! a, b, c in each (label pod=<name>), each serving 80 and 81 on TCP, UDP and
//! SCTP with named ports `serve-80-tcp` etc. Each case is an upstream e2e
//! NetworkPolicy test (test/e2e/network/netpol/network_policy.go) with its
//! expected truth table written out by hand from the test's `reachability.Expect*`
//! calls ('.' = allowed, 'X' = denied; rows are sources, columns destinations).
//! A pod reaching itself is always allowed, as the upstream probes treat loopback.

use netpol_engine::{Endpoint, Engine, Flow, Options};
use netpol_model::{Cluster, Direction, Operator, PodKey, Protocol, Requirement};
use netpol_testkit::*;

use Protocol::{Tcp, Udp};

const NAMESPACES: [&str; 3] = ["x", "y", "z"];
const PODS: [&str; 3] = ["a", "b", "c"];

/// All nine pods in one /24 (as on the single-node clusters the e2e tests run on):
/// x/a 10.244.1.11, x/b .12, x/c .13, y/a .21, ..., z/c .33.
fn model() -> ClusterBuilder {
    let mut c = cluster();
    for (i, ns) in NAMESPACES.iter().enumerate() {
        c = c.namespace(namespace(ns).label("ns", ns));
        for (j, name) in PODS.iter().enumerate() {
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

fn keys() -> Vec<PodKey> {
    NAMESPACES.iter().flat_map(|ns| PODS.iter().map(move |p| PodKey::new(*ns, *p))).collect()
}

/// Parses a table: one line per source, `x/a  . . X ...` in the order of [`keys`].
fn parse(table: &str) -> Vec<Vec<bool>> {
    table
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("x/a x/b"))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .map(|t| match t {
                    "." => true,
                    "X" => false,
                    other => panic!("bad cell {other:?} in {l:?}"),
                })
                .collect()
        })
        .collect()
}

fn render(cells: &[Vec<bool>]) -> String {
    let ks = keys();
    let mut out = String::from("     x/a x/b x/c y/a y/b y/c z/a z/b z/c\n");
    for (i, row) in cells.iter().enumerate() {
        out.push_str(&format!("{}  ", ks[i]));
        for &c in row {
            out.push_str(if c { " .  " } else { " X  " });
        }
        out.push('\n');
    }
    out
}

fn check(name: &str, given: &Cluster, probes: &[(u16, Protocol, &str)]) {
    let engine = Engine::new(given, Options::default());
    let ks = keys();
    for (port, protocol, table) in probes {
        let want = parse(table);
        assert_eq!(want.len(), 9, "{name}: table needs 9 rows");
        let mut got = vec![vec![false; 9]; 9];
        for (i, src) in ks.iter().enumerate() {
            for (j, dst) in ks.iter().enumerate() {
                let flow = Flow::new(src.clone(), dst.clone(), *protocol, *port);
                got[i][j] = engine.evaluate(&flow).unwrap().allowed();
                // The exact port set must agree with the single probe.
                let set = engine.allowed_connections(&Endpoint::Pod(src.clone()), &Endpoint::Pod(dst.clone())).unwrap();
                assert_eq!(set.contains(*protocol, *port), got[i][j], "{name}: {src} -> {dst} {set}");
            }
        }
        assert!(got == want, "{name} on {port}/{protocol}:\nwant:\n{}\ngot:\n{}", render(&want), render(&got));
    }
}

const ALL_ALLOWED: &str = "
    x/a . . . . . . . . .
    x/b . . . . . . . . .
    x/c . . . . . . . . .
    y/a . . . . . . . . .
    y/b . . . . . . . . .
    y/c . . . . . . . . .
    z/a . . . . . . . . .
    z/b . . . . . . . . .
    z/c . . . . . . . . .";

/// ExpectPeer(&Peer{}, &Peer{Namespace: x}, false): nothing reaches x.
const NOTHING_INTO_X: &str = "
    x/a . X X . . . . . .
    x/b X . X . . . . . .
    x/c X X . . . . . . .
    y/a X X X . . . . . .
    y/b X X X . . . . . .
    y/c X X X . . . . . .
    z/a X X X . . . . . .
    z/b X X X . . . . . .
    z/c X X X . . . . . .";

#[test]
fn no_policies() {
    check("no policies", &model().build(), &[(80, Tcp, ALL_ALLOWED), (81, Udp, ALL_ALLOWED)]);
}

#[test]
fn default_deny_ingress() {
    // "should support a 'default-deny-ingress' policy"
    let c = model().policy(policy("x", "deny-ingress").types([Direction::Ingress])).build();
    check("default-deny-ingress", &c, &[(80, Tcp, NOTHING_INTO_X), (81, Udp, NOTHING_INTO_X)]);
}

#[test]
fn default_deny_all() {
    // "should support a 'default-deny-all' policy": nothing into x, nothing out of x.
    let c = model().policy(policy("x", "deny-all").types([Direction::Ingress, Direction::Egress])).build();
    let want = "
        x/a . X X X X X X X X
        x/b X . X X X X X X X
        x/c X X . X X X X X X
        y/a X X X . . . . . .
        y/b X X X . . . . . .
        y/c X X X . . . . . .
        z/a X X X . . . . . .
        z/b X X X . . . . . .
        z/c X X X . . . . . .";
    check("default-deny-all", &c, &[(80, Tcp, want)]);
}

#[test]
fn allow_from_same_namespace() {
    // "should enforce policy to allow traffic from pods within server namespace based on PodSelector {}"
    let c = model().policy(policy("x", "allow-same-ns").ingress(rule().from(pods(sel!())))).build();
    let want = "
        x/a . . . . . . . . .
        x/b . . . . . . . . .
        x/c . . . . . . . . .
        y/a X X X . . . . . .
        y/b X X X . . . . . .
        y/c X X X . . . . . .
        z/a X X X . . . . . .
        z/b X X X . . . . . .
        z/c X X X . . . . . .";
    check("allow-same-namespace", &c, &[(80, Tcp, want)]);
}

#[test]
fn allow_pod_b_to_pod_a() {
    // "should enforce policy to allow traffic from pods within server namespace based on PodSelector":
    // ExpectPeer(&Peer{}, &Peer{x, a}, false); Expect(x/b, x/a, true).
    let c = model()
        .policy(policy("x", "x-a-allows-x-b").select(sel!("pod" => "a")).ingress(rule().from(pods(sel!("pod" => "b")))))
        .build();
    let want = "
        x/a . . . . . . . . .
        x/b . . . . . . . . .
        x/c X . . . . . . . .
        y/a X . . . . . . . .
        y/b X . . . . . . . .
        y/c X . . . . . . . .
        z/a X . . . . . . . .
        z/b X . . . . . . . .
        z/c X . . . . . . . .";
    check("pod-b-to-pod-a", &c, &[(80, Tcp, want), (81, Udp, want)]);
}

#[test]
fn allow_from_namespace_y_by_namespace_selector() {
    // "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector":
    // ExpectPeer(&Peer{Namespace: x}, &Peer{x, a}, false); ExpectPeer(&Peer{Namespace: z}, &Peer{x, a}, false).
    let c = model()
        .policy(
            policy("x", "allow-ns-y").select(sel!("pod" => "a")).ingress(rule().from(namespaces(sel!("ns" => "y")))),
        )
        .build();
    let want = "
        x/a . . . . . . . . .
        x/b X . . . . . . . .
        x/c X . . . . . . . .
        y/a . . . . . . . . .
        y/b . . . . . . . . .
        y/c . . . . . . . . .
        z/a X . . . . . . . .
        z/b X . . . . . . . .
        z/c X . . . . . . . .";
    check("allow-ns-y", &c, &[(80, Tcp, want)]);
}

#[test]
fn pod_selector_and_namespace_selector_in_one_peer() {
    // "should enforce policy based on PodSelector and NamespaceSelector":
    // from {namespaceSelector: ns NotIn [x], podSelector: pod=b}.
    // ExpectPeer(&Peer{}, &Peer{x, a}, false); Expect(y/b, x/a, true); Expect(z/b, x/a, true).
    let ns_not_x = sel!().with_expression(Requirement::new("ns", Operator::NotIn, ["x"]));
    let c = model()
        .policy(
            policy("x", "and")
                .select(sel!("pod" => "a"))
                .ingress(rule().from(pods_in_namespaces(ns_not_x, sel!("pod" => "b")))),
        )
        .build();
    let want = "
        x/a . . . . . . . . .
        x/b X . . . . . . . .
        x/c X . . . . . . . .
        y/a X . . . . . . . .
        y/b . . . . . . . . .
        y/c X . . . . . . . .
        z/a X . . . . . . . .
        z/b . . . . . . . . .
        z/c X . . . . . . . .";
    check("podSelector AND namespaceSelector", &c, &[(80, Tcp, want)]);
}

#[test]
fn pod_selector_or_namespace_selector_in_two_peers() {
    // "should enforce policy based on PodSelector or NamespaceSelector": the same two
    // selectors as separate peers are ORed: every pod of y and z, plus x/b.
    let ns_not_x = sel!().with_expression(Requirement::new("ns", Operator::NotIn, ["x"]));
    let c = model()
        .policy(
            policy("x", "or")
                .select(sel!("pod" => "a"))
                .ingress(rule().from(namespaces(ns_not_x)).from(pods(sel!("pod" => "b")))),
        )
        .build();
    let want = "
        x/a . . . . . . . . .
        x/b . . . . . . . . .
        x/c X . . . . . . . .
        y/a . . . . . . . . .
        y/b . . . . . . . . .
        y/c . . . . . . . . .
        z/a . . . . . . . . .
        z/b . . . . . . . . .
        z/c . . . . . . . . .";
    check("podSelector OR namespaceSelector", &c, &[(80, Tcp, want)]);
}

#[test]
fn egress_to_pod_b_on_port_80_only() {
    // "should enforce egress policy allowing traffic to a server in a different namespace based on
    // PodSelector and NamespaceSelector" narrowed to one pod and port: x/a may only reach
    // pods b (of its own namespace) on 80/TCP.
    let c = model()
        .policy(
            policy("x", "egress-b-80")
                .select(sel!("pod" => "a"))
                .types([Direction::Egress])
                .egress(rule().to(pods(sel!("pod" => "b"))).port(tcp(80))),
        )
        .build();
    let port80 = "
        x/a . . X X X X X X X
        x/b . . . . . . . . .
        x/c . . . . . . . . .
        y/a . . . . . . . . .
        y/b . . . . . . . . .
        y/c . . . . . . . . .
        z/a . . . . . . . . .
        z/b . . . . . . . . .
        z/c . . . . . . . . .";
    let port81 = "
        x/a . X X X X X X X X
        x/b . . . . . . . . .
        x/c . . . . . . . . .
        y/a . . . . . . . . .
        y/b . . . . . . . . .
        y/c . . . . . . . . .
        z/a . . . . . . . . .
        z/b . . . . . . . . .
        z/c . . . . . . . . .";
    check("egress to b on 80", &c, &[(80, Tcp, port80), (81, Tcp, port81), (80, Udp, port81)]);
}

#[test]
fn ip_block_with_except() {
    // "should enforce except clause while egress access to server in CIDR block":
    // x/a egress to the /24 of all pods except y/b's /32; Expect(x/a, y/b, false).
    let c = model()
        .policy(
            policy("x", "cidr-except")
                .select(sel!("pod" => "a"))
                .types([Direction::Egress])
                .egress(rule().to(ip_block("10.244.1.0/24", &["10.244.1.22/32"]))),
        )
        .build();
    let want = "
        x/a . . . . X . . . .
        x/b . . . . . . . . .
        x/c . . . . . . . . .
        y/a . . . . . . . . .
        y/b . . . . . . . . .
        y/c . . . . . . . . .
        z/a . . . . . . . . .
        z/b . . . . . . . . .
        z/c . . . . . . . . .";
    check("ipBlock except", &c, &[(80, Tcp, want), (81, Udp, want)]);
}

#[test]
fn ingress_on_one_named_port() {
    // "should allow ingress access on one named port": every pod of x, from anywhere, on serve-81-tcp.
    // Port 81 all allowed; port 80: ExpectPeer(&Peer{}, &Peer{Namespace: x}, false).
    let c = model().policy(policy("x", "named-81").ingress(rule().port(named_port("serve-81-tcp", Tcp)))).build();
    check("named port ingress", &c, &[(81, Tcp, ALL_ALLOWED), (80, Tcp, NOTHING_INTO_X), (81, Udp, NOTHING_INTO_X)]);
}

#[test]
fn egress_on_one_named_port() {
    // "should allow egress access on one named port": x egress to anywhere on serve-80-tcp only.
    let c = model()
        .policy(policy("x", "named-80").types([Direction::Egress]).egress(rule().port(named_port("serve-80-tcp", Tcp))))
        .build();
    let out_of_x_denied = "
        x/a . X X X X X X X X
        x/b X . X X X X X X X
        x/c X X . X X X X X X
        y/a . . . . . . . . .
        y/b . . . . . . . . .
        y/c . . . . . . . . .
        z/a . . . . . . . . .
        z/b . . . . . . . . .
        z/c . . . . . . . . .";
    check("named port egress", &c, &[(80, Tcp, ALL_ALLOWED), (81, Tcp, out_of_x_denied)]);
}

#[test]
fn end_port_range() {
    // "should enforce policy to allow ingress traffic from pods in all namespaces with port range":
    // x/a from namespaceSelector {} on 81-82/TCP (endPort): 80 denied, 81 and 82 allowed.
    let c = model()
        .policy(
            policy("x", "range")
                .select(sel!("pod" => "a"))
                .ingress(rule().from(namespaces(sel!())).port(port_range(Tcp, 81, 82))),
        )
        .build();
    let x_a_closed = "
        x/a . . . . . . . . .
        x/b X . . . . . . . .
        x/c X . . . . . . . .
        y/a X . . . . . . . .
        y/b X . . . . . . . .
        y/c X . . . . . . . .
        z/a X . . . . . . . .
        z/b X . . . . . . . .
        z/c X . . . . . . . .";
    check(
        "endPort",
        &c,
        &[
            (80, Tcp, x_a_closed),
            (81, Tcp, ALL_ALLOWED),
            (82, Tcp, ALL_ALLOWED),
            (83, Tcp, x_a_closed),
            (81, Udp, x_a_closed),
        ],
    );
}

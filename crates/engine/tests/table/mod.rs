//! The table harness shared by `semantics.rs` and `issue2.rs`: cases
//! `{ name, given, flow, want, why }` over a small two-namespace cluster.

#![allow(dead_code)] // each test file uses part of it

use netpol_engine::{explain, Engine, Flow, Options};
use netpol_model::{Cluster, Direction, Protocol};
use netpol_testkit::*;

use Protocol::{Tcp, Udp};

pub struct Case {
    pub name: &'static str,
    pub given: Cluster,
    pub flow: (&'static str, &'static str, Protocol, u16),
    pub want: bool,
    /// A substring the explanation must contain.
    pub why: &'static str,
}

pub fn case(
    name: &'static str,
    given: ClusterBuilder,
    flow: (&'static str, &'static str, Protocol, u16),
    want: bool,
    why: &'static str,
) -> Case {
    Case { name, given: given.build(), flow, want, why }
}

/// Namespaces x (ns=x) and y (ns=y), pods a and b in each (label pod=a/b), one IP each.
pub fn base() -> ClusterBuilder {
    cluster()
        .namespace(namespace("x").label("ns", "x"))
        .namespace(namespace("y").label("ns", "y"))
        .pod(pod("x", "a").label("pod", "a").ip("10.0.0.1").port("http", 80, Tcp).port("dns", 53, Udp))
        .pod(pod("x", "b").label("pod", "b").ip("10.0.0.2").port("http", 8080, Tcp))
        .pod(pod("y", "a").label("pod", "a").ip("10.0.1.1").port("http", 80, Tcp))
        .pod(pod("y", "b").label("pod", "b").ip("10.0.1.2"))
}

pub fn deny_ingress(ns: &str) -> PolicyBuilder {
    policy(ns, "deny-ingress").types([Direction::Ingress])
}

pub fn deny_egress(ns: &str) -> PolicyBuilder {
    policy(ns, "deny-egress").types([Direction::Egress])
}

pub fn run(cases: Vec<Case>) {
    run_with(cases, Options::default());
}

pub fn run_with(cases: Vec<Case>, options: Options) {
    let mut failures = Vec::new();
    for c in cases {
        let engine = Engine::new(&c.given, options.clone());
        let (src, dst, protocol, port) = c.flow;
        let flow = Flow { src: src.parse().unwrap(), dst: dst.parse().unwrap(), protocol, port };
        let decision = match engine.evaluate(&flow) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: error {e}", c.name));
                continue;
            }
        };
        let text = explain(&decision);
        if decision.allowed() != c.want {
            failures.push(format!("{}: want allowed={}, got:\n{text}", c.name, c.want));
        } else if !text.contains(c.why) {
            failures.push(format!("{}: explanation lacks {:?}:\n{text}", c.name, c.why));
        }
        // allowed_connections must agree with evaluate on the probed port.
        let ports = engine.allowed_connections(&flow.src, &flow.dst).unwrap();
        if ports.contains(protocol, port) != c.want {
            failures.push(format!("{}: allowed_connections {ports} disagrees with evaluate", c.name));
        }
    }
    assert!(failures.is_empty(), "{} failing case(s):\n{}", failures.len(), failures.join("\n\n"));
}

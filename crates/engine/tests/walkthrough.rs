//! The seed walkthroughs as multi-step tests: each step's verdicts and key reasons.

mod seed;

use netpol_engine::{explain, Engine, Flow, Options};
use netpol_model::Protocol::{self, Tcp, Udp};
use seed::{seed000, seed002, Step};

/// (src, dst, protocol, port, want allowed, a substring the explanation must contain).
type Expect = (&'static str, &'static str, Protocol, u16, bool, &'static str);

const F_B: (&str, &str, Protocol, u16) = ("default/frontend", "default/backend", Tcp, 80);
const F_B_IP: (&str, &str, Protocol, u16) = ("default/frontend", "10.44.0.2", Tcp, 80);
const B_F: (&str, &str, Protocol, u16) = ("default/backend", "default/frontend", Tcp, 80);
const F_DNS: (&str, &str, Protocol, u16) = ("default/frontend", "kube-system/kube-dns", Udp, 53);
const B_C: (&str, &str, Protocol, u16) = ("default/backend", "cassandra/cassandra", Tcp, 80);

fn e(f: (&'static str, &'static str, Protocol, u16), want: bool, why: &'static str) -> Expect {
    (f.0, f.1, f.2, f.3, want, why)
}

fn check_step(step: Step, expects: &[Expect]) {
    let c = seed000(step);
    let engine = Engine::new(&c, Options::default());
    for (src, dst, protocol, port, want, why) in expects {
        let flow = Flow { src: src.parse().unwrap(), dst: dst.parse().unwrap(), protocol: *protocol, port: *port };
        let d = engine.evaluate(&flow).unwrap();
        let text = explain(&d);
        assert_eq!(d.allowed(), *want, "step {step:?}: {flow}\n{text}");
        assert!(text.contains(why), "step {step:?}: {flow}: explanation lacks {why:?}\n{text}");
    }
}

#[test]
fn step1_no_policy_all_allowed() {
    check_step(
        Step::NoPolicy,
        &[
            e(F_B, true, "not isolated for egress: no policy in default selects default/frontend for Egress"),
            e(B_F, true, "not isolated for ingress: no policy in default selects default/frontend for Ingress"),
            e(F_DNS, true, "not isolated"),
            e(B_C, true, "not isolated"),
        ],
    );
}

#[test]
fn step2_default_deny_blocks_everything() {
    check_step(
        Step::DefaultDeny,
        &[
            e(F_B, false, "default/default-deny (default-deny.yaml:1:1): has no egress rules, so it allows no egress"),
            e(B_F, false, "egress at source default/backend: DENIED"),
            e(F_DNS, false, "has no egress rules"),
            e(B_C, false, "has no egress rules"),
        ],
    );
}

#[test]
fn step3_frontend_egress_alone_changes_nothing() {
    check_step(
        Step::FrontendEgress,
        &[
            // egress now allowed at frontend, but backend's ingress is still denied.
            e(F_B, false, "allowed by default/frontend egress[0] peer[0] (any port) (frontend.yaml:13:5)"),
            e(F_B, false, "ingress at destination default/backend: DENIED"),
            e(F_DNS, false, "podSelector run=backend selects pods of the policy's namespace default only"),
        ],
    );
}

#[test]
fn step4_backend_ingress_by_ip_works_by_name_does_not() {
    check_step(
        Step::BackendIngress,
        &[
            e(F_B_IP, true, "allowed by default/backend ingress[0] peer[0] (any port) (backend.yaml:13:5)"),
            e(F_B_IP, true, "10.44.0.2 is the IP of default/backend"),
            e(F_B, true, "podSelector run=frontend matches default/frontend (labels run=frontend)"),
            // curl by name needs DNS first: still denied at frontend's egress.
            e(F_DNS, false, "kube-system/kube-dns is in namespace kube-system"),
            e(B_F, false, "isolated for egress by default/default-deny"),
        ],
    );
}

#[test]
fn step5_dns_allowed_backend_to_frontend_still_denied() {
    check_step(
        Step::AllowDns,
        &[
            e(F_DNS, true, "allowed by default/default-deny egress[0] (any peer) port[1] (default-deny.yaml:12:5)"),
            e(("default/frontend", "kube-system/kube-dns", Tcp, 53), true, "port[0]"),
            e(F_B, true, "allowed by default/backend ingress[0]"),
            e(B_F, false, "peer matched but port: rule allows 53/TCP, 53/UDP; flow is 80/TCP"),
        ],
    );
}

#[test]
fn step6_backend_to_cassandra_needs_the_namespace_label() {
    check_step(
        Step::BackendToCassandra,
        &[e(
            B_C,
            false,
            "namespaceSelector ns=cassandra does not match namespace cassandra (labels kubernetes.io/metadata.name=cassandra)",
        )],
    );
    check_step(
        Step::CassandraLabelled,
        &[
            e(B_C, true, "allowed by default/backend egress[0] peer[0] (any port) (backend.yaml:19:5)"),
            e(F_B, true, "allowed by default/backend ingress[0]"),
        ],
    );
}

#[test]
fn step7_cassandra_deny_until_default_is_labelled() {
    check_step(
        Step::CassandraDeny,
        &[e(B_C, false, "cassandra/cassandra-deny (cassandra-deny.yaml:1:1): has no ingress rules")],
    );
    check_step(
        Step::CassandraIngress,
        &[e(
            B_C,
            false,
            "namespaceSelector ns=default does not match namespace default (labels kubernetes.io/metadata.name=default)",
        )],
    );
    check_step(
        Step::DefaultLabelled,
        &[
            e(B_C, true, "allowed by cassandra/cassandra ingress[0] peer[0] (any port) (cassandra.yaml:13:5)"),
            e(B_C, true, "allowed by default/backend egress[0] peer[0]"),
        ],
    );
}

#[test]
fn seed002_mongo_reachable_from_backend_only() {
    let flows = |c: &netpol_model::Cluster, expects: &[(&str, u16, bool, &str)]| {
        let engine = Engine::new(c, Options::default());
        for (src, port, want, why) in expects {
            let flow = Flow { src: src.parse().unwrap(), dst: "db/mongo".parse().unwrap(), protocol: Tcp, port: *port };
            let d = engine.evaluate(&flow).unwrap();
            let text = explain(&d);
            assert_eq!(d.allowed(), *want, "{flow}\n{text}");
            assert!(text.contains(why), "{flow}: explanation lacks {why:?}\n{text}");
        }
    };
    // db-deny-all-ingress alone: nothing reaches mongo (the seed saw otherwise: no enforcing plugin).
    flows(
        &seed002(false),
        &[
            (
                "backend/test-backend",
                27017,
                false,
                "db/db-deny-all-ingress (db-deny-all-ingress.yaml:2:1): has no ingress rules",
            ),
            ("default/test-default", 27017, false, "has no ingress rules"),
        ],
    );
    flows(
        &seed002(true),
        &[
            (
                "backend/test-backend",
                27017,
                true,
                "namespaceSelector kubernetes.io/metadata.name=backend matches namespace backend (labels kubernetes.io/metadata.name=backend) and podSelector {} matches backend/test-backend",
            ),
            ("backend/test-backend", 27017, true, "note: db/mongo is a Deployment: it stands for its pods, whose IPs are not known"),
            (
                "default/test-default",
                27017,
                false,
                "namespaceSelector kubernetes.io/metadata.name=backend does not match namespace default",
            ),
            ("backend/test-backend", 80, false, "peer matched but port: rule allows 27017/TCP; flow is 80/TCP"),
        ],
    );
}

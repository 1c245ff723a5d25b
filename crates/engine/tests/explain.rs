//! Snapshots of what `netpol check` prints (explain text) and its JSON, for
//! representative decisions. Each snapshot was read as a user would read it.

mod seed;

use netpol_engine::{explain, Decision, Engine, Flow, Options};
use netpol_model::{Cluster, Direction, Namespace, Protocol};
use netpol_testkit::*;
use seed::{seed000, seed002, Step};

use Protocol::{Tcp, Udp};

fn decide(c: &Cluster, src: &str, dst: &str, protocol: Protocol, port: u16) -> Decision {
    decide_with(c, src, dst, protocol, port, Options::default())
}

fn decide_with(c: &Cluster, src: &str, dst: &str, protocol: Protocol, port: u16, options: Options) -> Decision {
    let engine = Engine::new(c, options);
    engine.evaluate(&Flow { src: src.parse().unwrap(), dst: dst.parse().unwrap(), protocol, port }).unwrap()
}

fn text(c: &Cluster, src: &str, dst: &str, protocol: Protocol, port: u16) -> String {
    explain(&decide(c, src, dst, protocol, port))
}

#[test]
fn not_isolated() {
    insta::assert_snapshot!(text(&seed000(Step::NoPolicy), "default/frontend", "default/backend", Tcp, 80));
}

#[test]
fn default_deny() {
    insta::assert_snapshot!(text(&seed000(Step::DefaultDeny), "default/frontend", "default/backend", Tcp, 80));
}

#[test]
fn egress_allowed_ingress_denied() {
    insta::assert_snapshot!(text(&seed000(Step::FrontendEgress), "default/frontend", "default/backend", Tcp, 80));
}

#[test]
fn allowed_by_ip() {
    insta::assert_snapshot!(text(&seed000(Step::BackendIngress), "default/frontend", "10.44.0.2", Tcp, 80));
}

#[test]
fn dns_denied() {
    insta::assert_snapshot!(text(&seed000(Step::BackendIngress), "default/frontend", "kube-system/kube-dns", Udp, 53));
}

#[test]
fn port_mismatch() {
    insta::assert_snapshot!(text(&seed000(Step::AllowDns), "default/backend", "default/frontend", Tcp, 80));
}

#[test]
fn namespace_label_missing() {
    insta::assert_snapshot!(text(
        &seed000(Step::BackendToCassandra),
        "default/backend",
        "cassandra/cassandra",
        Tcp,
        80
    ));
}

#[test]
fn namespace_never_declared() {
    let mut c = seed000(Step::CassandraIngress);
    c.namespaces.insert("default".into(), Namespace::implicit("default"));
    insta::assert_snapshot!(text(&c, "default/backend", "cassandra/cassandra", Tcp, 80));
}

#[test]
fn allowed_both_directions() {
    insta::assert_snapshot!(text(&seed000(Step::DefaultLabelled), "default/backend", "cassandra/cassandra", Tcp, 80));
}

#[test]
fn workload_destination_denied() {
    insta::assert_snapshot!(text(&seed002(true), "default/test-default", "db/mongo", Tcp, 27017));
}

fn lab() -> ClusterBuilder {
    cluster()
        .namespace(namespace("shop").label("team", "shop"))
        .pod(pod("shop", "web").label("app", "web").ip("10.0.0.5").port("http", 8080, Tcp))
        .pod(pod("shop", "db").label("app", "db").ip("10.0.1.5").port("pg", 5432, Tcp))
        .pod(pod("kube-system", "node-exporter").label("app", "exporter").ip("192.168.1.10").host_network())
}

#[test]
fn named_port_not_declared() {
    let c = lab()
        .policy(
            policy("shop", "db")
                .select(sel!("app" => "db"))
                .ingress(
                    rule().from(pods(sel!("app" => "web"))).port(named_port("http", Tcp)).port(named_port("pg", Udp)),
                )
                .origin("db.yaml", 1, 1),
        )
        .build();
    insta::assert_snapshot!(text(&c, "shop/web", "shop/db", Tcp, 5432));
}

#[test]
fn ip_block_except_and_pod_ips() {
    let c = lab()
        .policy(
            policy("shop", "web-egress")
                .select(sel!("app" => "web"))
                .types([Direction::Egress])
                .egress(rule().to(ip_block("10.0.0.0/8", &["10.0.1.0/24"])).origin("web.yaml", 9, 5))
                .egress(rule().to(ip_block("0.0.0.0/0", &["10.0.0.0/8"])).port(tcp(443)).origin("web.yaml", 13, 5))
                .origin("web.yaml", 1, 1),
        )
        .build();
    insta::assert_snapshot!("ip_block_except_pod", text(&c, "shop/web", "shop/db", Tcp, 5432));
    insta::assert_snapshot!("ip_block_external_allowed", text(&c, "shop/web", "203.0.113.9", Tcp, 443));
}

#[test]
fn ip_block_matching_pod_ips_is_a_choice() {
    let c = lab()
        .policy(
            policy("shop", "db")
                .select(sel!("app" => "db"))
                .ingress(rule().from(ip_block("10.0.0.0/24", &[])).origin("db.yaml", 9, 5))
                .origin("db.yaml", 1, 1),
        )
        .build();
    insta::assert_snapshot!("ip_block_pod_ip_matched", text(&c, "shop/web", "shop/db", Tcp, 5432));
    let off = Options { ipblock_matches_pods: false };
    insta::assert_snapshot!(
        "ip_block_pod_ip_ignored",
        explain(&decide_with(&c, "shop/web", "shop/db", Tcp, 5432, off))
    );
}

#[test]
fn host_network_and_self() {
    let c = lab()
        .policy(
            policy("shop", "deny")
                .types([Direction::Ingress, Direction::Egress])
                .ingress(rule().from(namespaces(sel!()))),
        )
        .build();
    insta::assert_snapshot!("host_network_source", text(&c, "kube-system/node-exporter", "shop/web", Tcp, 8080));
    insta::assert_snapshot!("self_traffic", text(&c, "shop/web", "shop/web", Tcp, 8080));
}

#[test]
fn json_denied() {
    let d = decide(&seed000(Step::FrontendEgress), "default/frontend", "default/backend", Tcp, 80);
    insta::assert_snapshot!(serde_json::to_string_pretty(&d).unwrap());
}

#[test]
fn json_allowed() {
    let d = decide(&seed002(true), "backend/test-backend", "db/mongo", Tcp, 27017);
    insta::assert_snapshot!(serde_json::to_string_pretty(&d).unwrap());
}

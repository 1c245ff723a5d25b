//! Snapshots of every printer, on one small cluster built with the testkit:
//! a class of several pods (the class grid's diagonal), a lone pod, a
//! hostNetwork pod (its own-node exception), a workload endpoint.

use netpol_matrix::{Compiled, Options, PortTable};
use netpol_model::{Cluster, Direction, Protocol, WorkloadKind};
use netpol_print::{connections, describe_policies, truth_tables, Format, MatrixView, Summary};
use netpol_testkit::*;

fn given() -> Cluster {
    cluster()
        .namespace(namespace("shop").label("team", "shop"))
        .namespace(namespace("ops"))
        .pod(pod("shop", "web-0").label("app", "web").ip("10.0.0.1").node("n1"))
        .pod(pod("shop", "web-1").label("app", "web").ip("10.0.0.2").node("n2"))
        .pod(pod("shop", "db").label("app", "db").ip("10.0.0.3").port("pg", 5432, Protocol::Tcp).node("n1"))
        .pod(pod("ops", "agent").label("app", "agent").ip("192.168.0.1").host_network().node("n1"))
        .pod(pod("shop", "api").label("app", "web").workload(WorkloadKind::Deployment))
        .policy(policy("shop", "deny").select(sel!()).types([Direction::Ingress]))
        .policy(
            policy("shop", "db")
                .select(sel!("app" => "db"))
                .ingress(rule().from(pods(sel!("app" => "web"))).port(named_port("pg", Protocol::Tcp)))
                .ingress(rule().from(ip_block("192.168.0.0/16", &["192.168.1.0/24"]))),
        )
        .build()
}

fn tables(compiled: &Compiled) -> Vec<PortTable> {
    vec![compiled.port_table(Protocol::Tcp, 5432), compiled.port_table(Protocol::Udp, 53)]
}

#[test]
fn truth_tables_by_pod() {
    let compiled = Compiled::build(&given(), Options::default());
    let view = MatrixView::new(&compiled);
    insta::assert_snapshot!(truth_tables(&view, &tables(&compiled), Format::Table, 200));
}

#[test]
fn truth_tables_by_class_when_too_wide() {
    let compiled = Compiled::build(&given(), Options::default());
    let view = MatrixView::new(&compiled);
    let text = truth_tables(&view, &tables(&compiled), Format::Table, 40);
    // The multi-pod class's diagonal is between distinct pods: the legend says
    // so instead of "a pod always reaches itself".
    assert!(!text.contains("always reaches itself"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn truth_tables_md_csv_json() {
    let compiled = Compiled::build(&given(), Options::default());
    let view = MatrixView::new(&compiled);
    let tables = [compiled.port_table(Protocol::Tcp, 5432)];
    insta::assert_snapshot!("md", truth_tables(&view, &tables, Format::Md, 200));
    insta::assert_snapshot!("csv", truth_tables(&view, &tables, Format::Csv, 200));
    insta::assert_snapshot!("json", truth_tables(&view, &tables, Format::Json, 200));
}

#[test]
fn connections_every_format() {
    let compiled = Compiled::build(&given(), Options::default());
    let view = MatrixView::new(&compiled);
    insta::assert_snapshot!("connections_table", connections(&view, Format::Table));
    insta::assert_snapshot!("connections_json", connections(&view, Format::Json));
}

#[test]
fn summary_every_format() {
    let compiled = Compiled::build(&given(), Options::default());
    let summary = Summary::new(&compiled, &[(Protocol::Tcp, 5432), (Protocol::Udp, 53)]);
    insta::assert_snapshot!("summary_table", summary.print(Format::Table));
    insta::assert_snapshot!("summary_json", summary.print(Format::Json));
    insta::assert_snapshot!("summary_csv", summary.print(Format::Csv));
    insta::assert_snapshot!("summary_md", summary.print(Format::Md));
}

#[test]
fn describe_with_matches() {
    let cluster = given();
    let policies: Vec<_> = cluster.policies.iter().collect();
    insta::assert_snapshot!(describe_policies(&cluster, &policies));
    assert_eq!(describe_policies(&cluster, &[]), "No resources found: the input declares no NetworkPolicy.\n");
}

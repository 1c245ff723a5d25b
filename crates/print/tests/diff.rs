//! Snapshots of `netpol diff`'s printers: a policy change that opens and closes
//! connections, pods of one workload that change alike (grouped), endpoints
//! added and removed, and the empty diff.

use netpol_matrix::{Compiled, Options};
use netpol_model::{Cluster, PodKey, PolicyPort, Protocol};
use netpol_print::{diff, DiffFormat, Workloads};
use netpol_testkit::*;

fn old() -> Cluster {
    cluster()
        .pod(pod("shop", "web-0").label("app", "web").ip("10.0.0.1"))
        .pod(pod("shop", "web-1").label("app", "web").ip("10.0.0.2"))
        .pod(pod("shop", "db").label("app", "db").ip("10.0.0.3"))
        .pod(pod("shop", "batch").label("app", "batch").ip("10.0.0.4"))
        .policy(
            policy("shop", "db")
                .select(sel!("app" => "db"))
                .ingress(rule().from(pods(sel!("app" => "web"))).port(PolicyPort::number(Protocol::Udp, 53)))
                .origin("old/db.yaml", 1, 1),
        )
        .build()
}

fn new() -> Cluster {
    let mut c = cluster()
        .pod(pod("shop", "web-0").label("app", "web").ip("10.0.0.1"))
        .pod(pod("shop", "web-1").label("app", "web").ip("10.0.0.2"))
        .pod(pod("shop", "db").label("app", "db").ip("10.0.0.3"))
        .pod(pod("shop", "cron").label("app", "cron").ip("10.0.0.5"))
        .policy(
            policy("shop", "db")
                .select(sel!("app" => "db"))
                .ingress(rule().from(pods(sel!("app" => "web"))).port(PolicyPort::range(Protocol::Tcp, 5432, 5433)))
                .origin("new/db.yaml", 1, 1),
        )
        .policy(policy("shop", "web-deny").select(sel!("app" => "web")).origin("new/web.yaml", 3, 1))
        .build();
    c.pods.sort_by_key(|p| p.name.clone());
    c
}

fn workloads() -> Workloads {
    ["web-0", "web-1"].into_iter().map(|n| (PodKey::new("shop", n), "Deployment shop/web".to_string())).collect()
}

fn run(format: DiffFormat, workloads: &Workloads) -> String {
    let (a, b) = (Compiled::build(&old(), Options::default()), Compiled::build(&new(), Options::default()));
    diff(&a.diff(&b), workloads, format)
}

#[test]
fn diff_text_grouped_by_workload() {
    insta::assert_snapshot!("diff_text", run(DiffFormat::Text, &workloads()));
}

#[test]
fn diff_text_without_workloads_lists_every_pair() {
    let text = run(DiffFormat::Text, &Workloads::new());
    assert!(text.contains("shop/web-0 -> shop/db: +TCP 5432-5433 -UDP 53"), "{text}");
    assert!(text.contains("shop/web-1 -> shop/db: +TCP 5432-5433 -UDP 53"), "{text}");
}

#[test]
fn diff_md_and_json() {
    insta::assert_snapshot!("diff_md", run(DiffFormat::Md, &workloads()));
    insta::assert_snapshot!("diff_json", run(DiffFormat::Json, &workloads()));
}

#[test]
fn diff_of_equal_clusters() {
    let a = Compiled::build(&old(), Options::default());
    let d = a.diff(&a.clone());
    assert!(d.is_empty());
    assert_eq!(diff(&d, &Workloads::new(), DiffFormat::Text), "no connection changed\n");
    assert_eq!(diff(&d, &Workloads::new(), DiffFormat::Md), "**netpol diff:** no connection changed\n");
}

//! Privileged tests: apply rendered scripts in a network namespace this test
//! creates (and deletes in Drop, even on panic). Never touches the host's own
//! ruleset. Gated by `require_privileged!` (root, `ip netns`, `nft`): skipped
//! with the reason on stderr, or failed when `NETPOL_REQUIRE_PRIVILEGED=1`.

use std::process::Command;

use netpol_model::{Direction, Protocol};
use netpol_nft::{apply, render, RenderOptions};
use netpol_testkit::*;

fn host_ruleset() -> String {
    Command::new("nft")
        .args(["list", "ruleset"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn cluster_with(allow_port: u16, ip: &str) -> netpol_model::Cluster {
    cluster()
        .pod(pod("default", "web").label("app", "web").ip(ip).port("http", 8080, Protocol::Tcp))
        .pod(pod("default", "client").label("app", "client").ip("10.9.0.2"))
        .policy(policy("default", "web").select(sel!("app" => "web")).types([Direction::Ingress]).ingress(
            rule().from(pods(sel!("app" => "client"))).port(tcp(allow_port)).port(named_port("http", Protocol::Tcp)),
        ))
        .build()
}

#[test]
fn apply_replaces_the_table_atomically_and_delete_removes_it() {
    let ns = require_privileged!().netns("nft-test");
    let host_before = host_ruleset();
    let netns = Some(ns.name());
    assert_eq!(apply::list_table(netns).unwrap(), None, "a fresh namespace has no table");

    let first = render(&cluster_with(80, "10.9.0.1"), &RenderOptions::default()).script();
    let applied = apply::apply(&first, netns).expect("first apply");
    assert_eq!(applied.bytes, first.len());
    let listed = apply::list_table(netns).unwrap().expect("table exists");
    assert!(listed.contains("chain subjects/ingress/"), "{listed}");
    assert!(listed.contains("default/web ingress[0] peer[0] port[0]"), "{listed}");

    // Replacing (not flushing): the second script fully replaces the first.
    let second = render(&cluster_with(443, "10.9.0.7"), &RenderOptions::default()).script();
    apply::apply(&second, netns).expect("second apply");
    let listed = apply::list_table(netns).unwrap().unwrap();
    assert!(listed.contains("10.9.0.2 . tcp . 443"), "{listed}");
    assert!(listed.contains("10.9.0.2 . tcp . 8080"), "the named port resolves on the subject: {listed}");
    assert!(
        listed.contains("10.9.0.7 comment \"default/web\" : jump subjects/ingress/"),
        "the dispatch follows the new address: {listed}"
    );
    assert!(!listed.contains("10.9.0.1"), "nothing of the first script is left: {listed}");

    // A script nft rejects changes nothing.
    let broken = second.replace("type filter hook forward", "type filter hook nowhere");
    assert!(apply::apply(&broken, netns).is_err());
    assert!(apply::list_table(netns).unwrap().unwrap().contains("10.9.0.2 . tcp . 443"));

    apply::delete_table(netns).unwrap();
    assert_eq!(apply::list_table(netns).unwrap(), None);
    apply::delete_table(netns).expect("deleting a missing table is fine");
    assert_eq!(host_ruleset(), host_before, "the host ruleset is untouched");
}

fn sorted_listing(netns: &str) -> Vec<String> {
    let mut lines: Vec<String> = apply::list_table(Some(netns))
        .unwrap()
        .unwrap_or_default()
        .lines()
        .flat_map(|l| {
            // Element order within a set is the kernel's business: one element per line.
            let l = l.trim().trim_start_matches("elements = {");
            l.split(',').map(|p| p.trim().trim_end_matches('}').trim().to_string()).collect::<Vec<_>>()
        })
        .filter(|l| !l.is_empty())
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_delta_gives_the_same_table_as_a_full_replace() {
    let privileged = require_privileged!();
    let (a, b) = (privileged.netns("nft-test"), privileged.netns("nft-test"));
    let before = render(&cluster_with(80, "10.9.0.1"), &RenderOptions::default());
    // New address, new port, a policy gone and another added.
    let mut after_cluster = cluster_with(443, "10.9.0.7");
    after_cluster
        .policies
        .push(policy("default", "extra").types([Direction::Egress]).egress(rule().port(udp(53))).build());
    let after = render(&after_cluster, &RenderOptions::default());
    let back = render(&cluster().build(), &RenderOptions::default());

    apply::apply(&before.script(), Some(a.name())).unwrap();
    let delta = after.delta_script(&before).expect("same base chains");
    assert!(delta.len() < after.script().len() / 2, "a delta is small:\n{delta}");
    apply::apply(&delta, Some(a.name())).unwrap_or_else(|e| panic!("{e}\n{delta}"));
    apply::apply(&after.script(), Some(b.name())).unwrap();
    assert_eq!(sorted_listing(a.name()), sorted_listing(b.name()));

    // And back to an empty cluster: chains and sets deleted in order.
    let delta = back.delta_script(&after).unwrap();
    apply::apply(&delta, Some(a.name())).unwrap_or_else(|e| panic!("{e}\n{delta}"));
    apply::apply(&back.script(), Some(b.name())).unwrap();
    assert_eq!(sorted_listing(a.name()), sorted_listing(b.name()));
}

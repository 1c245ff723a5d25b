//! Privileged tests: apply rendered scripts in a network namespace this test
//! creates (and deletes in Drop, even on panic). Never touches the host's own
//! ruleset. Skipped, with the reason printed, without root, `ip` or `nft`.

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use netpol_model::{Direction, Protocol};
use netpol_nft::{apply, render, RenderOptions};
use netpol_testkit::*;

struct Netns(String);

impl Netns {
    fn create() -> Option<Netns> {
        static N: AtomicUsize = AtomicUsize::new(0);
        if let Some(reason) = apply::unavailable() {
            println!("skipped: nft unavailable ({reason})");
            return None;
        }
        let name = format!("netpol-nft-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        match Command::new("ip").args(["netns", "add", &name]).status() {
            Ok(s) if s.success() => Some(Netns(name)),
            other => {
                println!("skipped: cannot create a network namespace ({other:?})");
                None
            }
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

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
    let Some(ns) = Netns::create() else { return };
    let host_before = host_ruleset();
    let netns = Some(ns.0.as_str());
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
    let (Some(a), Some(b)) = (Netns::create(), Netns::create()) else { return };
    let before = render(&cluster_with(80, "10.9.0.1"), &RenderOptions::default());
    // New address, new port, a policy gone and another added.
    let mut after_cluster = cluster_with(443, "10.9.0.7");
    after_cluster
        .policies
        .push(policy("default", "extra").types([Direction::Egress]).egress(rule().port(udp(53))).build());
    let after = render(&after_cluster, &RenderOptions::default());
    let back = render(&cluster().build(), &RenderOptions::default());

    apply::apply(&before.script(), Some(&a.0)).unwrap();
    let delta = after.delta_script(&before).expect("same base chains");
    assert!(delta.len() < after.script().len() / 2, "a delta is small:\n{delta}");
    apply::apply(&delta, Some(&a.0)).unwrap_or_else(|e| panic!("{e}\n{delta}"));
    apply::apply(&after.script(), Some(&b.0)).unwrap();
    assert_eq!(sorted_listing(&a.0), sorted_listing(&b.0));

    // And back to an empty cluster: chains and sets deleted in order.
    let delta = back.delta_script(&after).unwrap();
    apply::apply(&delta, Some(&a.0)).unwrap_or_else(|e| panic!("{e}\n{delta}"));
    apply::apply(&back.script(), Some(&b.0)).unwrap();
    assert_eq!(sorted_listing(&a.0), sorted_listing(&b.0));
}

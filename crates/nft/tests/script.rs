//! Snapshots of rendered scripts (what `netpol render` prints), and a check
//! that nft itself accepts each of them (`nft -c`, behind the privileged gate).

use std::path::Path;

use netpol_manifest::LoadOptions;
use netpol_model::{Cluster, Direction, Protocol};
use netpol_nft::{apply, render, RenderOptions};
use netpol_testkit::*;

/// The seed 000 walkthrough, final step (every policy, namespaces labelled),
/// loaded from examples/ as `netpol render -f` reads it.
fn seed_000_final() -> Cluster {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-000-walkthrough/step-10-default-labelled");
    let sources =
        netpol_input::read_paths(std::slice::from_ref(&dir)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let loaded =
        netpol_manifest::load(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{}: {:?}", dir.display(), loaded.diagnostics);
    loaded.cluster
}

/// Named ports, endPort, ipBlock with except, IPv6, SCTP, two nodes.
fn features() -> Cluster {
    cluster()
        .namespace(namespace("shop").label("team", "shop"))
        .namespace(namespace("ops").label("team", "ops"))
        .pod(
            pod("shop", "web")
                .label("app", "web")
                .ip("10.1.0.5")
                .ip("fd00:1::5")
                .port("http", 8080, Protocol::Tcp)
                .port("metrics", 9100, Protocol::Tcp)
                .node("n1"),
        )
        .pod(pod("shop", "db").label("app", "db").ip("10.1.0.6").port("sql", 5432, Protocol::Tcp).node("n2"))
        .pod(pod("ops", "prom").label("app", "prom").ip("10.2.0.7").ip("fd00:2::7").node("n2"))
        .pod(pod("ops", "node-exporter").label("app", "exporter").ip("192.168.0.10").host_network().node("n1"))
        .policy(
            policy("shop", "web")
                .select(sel!("app" => "web"))
                .types([Direction::Ingress, Direction::Egress])
                .ingress(
                    rule()
                        .from(ip_block("0.0.0.0/0", &["10.0.0.0/8", "192.168.0.0/16"]))
                        .port(named_port("http", Protocol::Tcp)),
                )
                .ingress(
                    rule()
                        .from(pods_in_namespaces(sel!("team" => "ops"), sel!("app" => "prom")))
                        .port(named_port("metrics", Protocol::Tcp)),
                )
                .egress(rule().to(pods(sel!("app" => "db"))).port(named_port("sql", Protocol::Tcp)))
                .egress(rule().to(ip_block("fd00::/16", &["fd00:2::/32"])).port(port_range(
                    Protocol::Sctp,
                    3000,
                    3999,
                ))),
        )
        .policy(
            policy("shop", "db")
                .select(sel!("app" => "db"))
                .ingress(rule().from(pods(sel!("app" => "web"))).port(tcp(5432))),
        )
        .build()
}

fn cases() -> Vec<(&'static str, Cluster, RenderOptions)> {
    vec![
        ("seed_000_final", seed_000_final(), RenderOptions::default()),
        ("features_all_nodes", features(), RenderOptions::default()),
        (
            "features_node_n1_fail_closed",
            features(),
            RenderOptions {
                node: Some("n1".into()),
                pod_cidrs: vec!["10.1.0.0/24".parse().unwrap(), "fd00:1::/64".parse().unwrap()],
                ..RenderOptions::default()
            },
        ),
        ("empty_cluster", Cluster::default(), RenderOptions::default()),
    ]
}

#[test]
fn scripts_snapshot() {
    for (name, cluster, options) in cases() {
        let ruleset = render(&cluster, &options);
        assert!(ruleset.warnings.is_empty(), "{name}: {:?}", ruleset.warnings);
        insta::assert_snapshot!(name, ruleset.script());
    }
}

#[test]
fn nft_accepts_every_script() {
    require_privileged!();
    for (name, cluster, options) in cases() {
        let script = render(&cluster, &options).script();
        if let Err(e) = apply::check(&script, None) {
            panic!("{name}: nft -c rejected the script: {e}\n{script}");
        }
    }
}

/// x/a isolated for ingress, with the given addresses (possibly one twice).
fn isolated_with_ips(ips: &[&str]) -> Cluster {
    let mut a = pod("x", "a").label("app", "a");
    for ip in ips {
        a = a.ip(ip);
    }
    cluster()
        .namespace(namespace("x"))
        .pod(a)
        .policy(policy("x", "deny").select(sel!("app" => "a")).types([Direction::Ingress]))
        .build()
}

/// Found in review: a pod listing one address twice gave two dispatch entries
/// with one key; dropping the duplicate then deleted the pod's only kernel
/// entry and added nothing back (the pod fell through to `@pods/v4`: not isolated).
#[test]
fn dispatch_entries_are_unique_by_address_and_survive_a_dropped_duplicate() {
    let options = RenderOptions::default();
    let before = render(&isolated_with_ips(&["10.0.0.5", "10.0.0.5"]), &options);
    for map in &before.maps {
        let mut addrs: Vec<_> = map.entries.iter().map(|e| e.addr).collect();
        addrs.dedup();
        assert_eq!(addrs.len(), map.entries.len(), "{} holds one address twice: {:?}", map.name, map.entries);
    }
    assert!(before.warnings.is_empty(), "a pod's own repeated address is no conflict: {:?}", before.warnings);
    let after = render(&isolated_with_ips(&["10.0.0.5"]), &options);
    let delta = after.delta_script(&before).expect("a delta");
    assert!(!delta.contains("dispatch/ingress/v4"), "the dispatch entry stays as it is:\n{delta}");
}

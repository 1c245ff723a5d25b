//! `render_cached` against `render`: after any sequence of policy changes under
//! one pods version, and across pod changes under a new version, the cached
//! render is exactly the fresh one, for every pod's node and for all pods.

mod clusters;

use clusters::*;
use netpol_model::{PolicyPort, Protocol};
use netpol_nft::{render, render_cached, RenderCache, RenderOptions};
use netpol_testkit::*;
use proptest::prelude::*;

fn scopes() -> Vec<RenderOptions> {
    let node = |n: &str| RenderOptions { node: Some(n.to_string()), ..RenderOptions::default() };
    vec![RenderOptions::default(), node("n1"), node("n2")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn cached_render_is_the_fresh_render(
        pods in proptest::collection::vec(pod_spec(), 1..5),
        other_pods in proptest::collection::vec(pod_spec(), 1..5),
        hosts in proptest::collection::vec(host_spec(), 0..3),
        policies in proptest::collection::vec(policy_strategy(), 0..4),
        edits in proptest::collection::vec((0usize..4, proptest::option::of(policy_strategy())), 1..4),
        x_team in any::<bool>(),
    ) {
        for options in scopes() {
            let mut cache = RenderCache::new();
            let mut current = policies.clone();
            let cluster = build(pods.clone(), hosts.clone(), current.clone(), x_team);
            prop_assert_eq!(render_cached(&cluster, &options, &mut cache, 1), render(&cluster, &options));
            // Policy edits (replace, add, remove) under the same pods version.
            for (at, policy) in &edits {
                match policy {
                    Some(p) if *at < current.len() => current[*at] = p.clone(),
                    Some(p) => current.push(p.clone()),
                    None if *at < current.len() => { current.remove(*at); }
                    None => {}
                }
                let cluster = build(pods.clone(), hosts.clone(), current.clone(), x_team);
                prop_assert_eq!(render_cached(&cluster, &options, &mut cache, 1), render(&cluster, &options));
            }
            // Other pods: a new version.
            let cluster = build(other_pods.clone(), hosts.clone(), current.clone(), x_team);
            prop_assert_eq!(render_cached(&cluster, &options, &mut cache, 2), render(&cluster, &options));
        }
    }
}

/// The cache does reuse: a policy edit renders only the groups that policy selects.
#[test]
fn a_policy_edit_renders_only_its_groups() {
    // x/b admits `peer`; x/a admits x/b throughout.
    let with = |peer: &str| {
        cluster()
            .namespace(namespace("x"))
            .pod(pod("x", "a").label("app", "a").ip("10.0.0.1"))
            .pod(pod("x", "b").label("app", "b").ip("10.0.0.2"))
            .pod(pod("x", "c").label("app", "c").ip("10.0.0.3"))
            .policy(policy("x", "to-a").select(sel!("app" => "a")).ingress(rule().from(pods(sel!("app" => "b")))))
            .policy(policy("x", "to-b").select(sel!("app" => "b")).ingress(rule().from(pods(sel!("app" => peer)))))
            .build()
    };
    let (before, after) = (with("c"), with("a"));
    let options = RenderOptions::default();
    let mut cache = RenderCache::new();
    render_cached(&before, &options, &mut cache, 7);
    assert_eq!(cache.last_reuse(), (0, 2), "first render: both groups rendered");
    let ruleset = render_cached(&after, &options, &mut cache, 7);
    assert_eq!(ruleset, render(&after, &options));
    assert_eq!(cache.last_reuse(), (1, 1), "x/a's group reused, x/b's rendered again");
    render_cached(&after, &options, &mut cache, 8);
    assert_eq!(cache.last_reuse(), (0, 2), "a new pods version renders everything");
}

/// A policy edit that only turns a numbered port into a named one changes the
/// groups (pods giving the name different numbers part ways): the cache must see it.
#[test]
fn a_named_port_edit_regroups() {
    let with = |port: PolicyPort| {
        cluster()
            .namespace(namespace("x"))
            .pod(pod("x", "a1").label("app", "a").ip("10.0.0.1").port("http", 80, Protocol::Tcp))
            .pod(pod("x", "a2").label("app", "a").ip("10.0.0.2").port("http", 8080, Protocol::Tcp))
            .pod(pod("x", "c").label("app", "c").ip("10.0.0.3"))
            .policy(
                policy("x", "to-a")
                    .select(sel!("app" => "a"))
                    .ingress(rule().from(pods(sel!("app" => "c"))).port(port)),
            )
            .build()
    };
    let options = RenderOptions::default();
    let mut cache = RenderCache::new();
    render_cached(&with(tcp(80)), &options, &mut cache, 1);
    let after = with(PolicyPort::named(Protocol::Tcp, "http"));
    let ruleset = render_cached(&after, &options, &mut cache, 1);
    assert_eq!(ruleset, render(&after, &options));
    assert_eq!(ruleset.chains.iter().filter(|c| c.name.starts_with("subjects/ingress/")).count(), 2);
}

//! `Compiled::diff` against the plain comparison of two connection grids
//! (`Compiled::connections` for every ordered pair, matched by `namespace/name`):
//! the diff is empty exactly when both matrices are equal over the whole port
//! space, names exactly the pairs that differ, and OLD's connections with the
//! reported gains and losses applied are NEW's.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use netpol_matrix::{Compiled, Diff, Options, PolicyChangeKind};
use netpol_model::{Cluster, PodKey, PortSet, Protocol};
use netpol_testkit::*;
use proptest::prelude::*;
use support::*;

/// Every ordered pair's connections, by `namespace/name`.
fn matrix(c: &Compiled) -> BTreeMap<(PodKey, PodKey), PortSet> {
    let pods: Vec<_> = c.pods().map(|(id, p)| (id, p.key())).collect();
    let mut out = BTreeMap::new();
    for (s, sk) in &pods {
        for (d, dk) in &pods {
            out.insert((sk.clone(), dk.clone()), c.connections(*s, *d));
        }
    }
    out
}

fn endpoints(c: &Compiled) -> BTreeSet<PodKey> {
    c.pods().map(|(_, p)| p.key()).collect()
}

fn check(a: &Cluster, b: &Cluster, options: Options) -> Result<(), TestCaseError> {
    let (old, new) = (Compiled::build(a, options), Compiled::build(b, options));
    let diff: Diff = old.diff(&new);
    let (ma, mb) = (matrix(&old), matrix(&new));
    let equal = ma == mb;
    prop_assert_eq!(diff.is_empty(), equal, "diff {:?}", diff);

    let (ea, eb) = (endpoints(&old), endpoints(&new));
    prop_assert_eq!(diff.removed_endpoints.iter().cloned().collect::<BTreeSet<_>>(), &ea - &eb);
    prop_assert_eq!(diff.added_endpoints.iter().cloned().collect::<BTreeSet<_>>(), &eb - &ea);

    let want: BTreeSet<(PodKey, PodKey)> =
        ma.iter().filter(|(k, v)| mb.get(*k).is_some_and(|w| w != *v)).map(|(k, _)| k.clone()).collect();
    let got: BTreeSet<(PodKey, PodKey)> = diff.pairs.iter().map(|p| (p.src.clone(), p.dst.clone())).collect();
    prop_assert_eq!(&got, &want);
    prop_assert_eq!(diff.pairs.len(), got.len(), "one entry per pair");
    for p in &diff.pairs {
        let key = (p.src.clone(), p.dst.clone());
        prop_assert_eq!(&p.old, &ma[&key]);
        prop_assert_eq!(&p.new, &mb[&key]);
        prop_assert!(!p.added.is_empty() || !p.removed.is_empty());
        prop_assert_eq!(&p.old.difference(&p.removed).union(&p.added), &p.new, "{:?}", key);
        prop_assert!(p.added.intersection(&p.old).is_empty() && p.removed.intersection(&p.new).is_empty());
        prop_assert!(p.causes.iter().all(|&i| i < diff.policies.len()));
    }
    prop_assert_eq!(diff.has_added(), diff.pairs.iter().any(|p| !p.added.is_empty()));
    Ok(())
}

/// OLD, and NEW made from OLD: the same, with other policies, with other
/// namespaces, with other pods, or another cluster altogether.
fn pair_strategy() -> impl Strategy<Value = (Cluster, Cluster)> {
    (cluster_strategy(), cluster_strategy(), 0..5usize).prop_map(|(a, other, mode)| {
        let mut b = a.clone();
        match mode {
            0 => {}
            1 => b.policies = other.policies,
            2 => b.namespaces = other.namespaces,
            3 => b.pods = other.pods,
            _ => b = other,
        }
        (a, b)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn diff_is_empty_iff_the_matrices_are_equal((a, b) in pair_strategy()) {
        check(&a, &b, Options::default())?;
    }

    #[test]
    fn diff_is_empty_iff_the_matrices_are_equal_when_ipblocks_ignore_pods((a, b) in pair_strategy()) {
        check(&a, &b, Options { ipblock_matches_pods: false })?;
    }
}

#[test]
fn diff_names_gains_losses_and_the_policies_that_caused_them() {
    let base = || {
        cluster()
            .pod(pod("x", "web").label("app", "web").ip("10.0.0.1"))
            .pod(pod("x", "db").label("app", "db").ip("10.0.0.2"))
            .pod(pod("x", "gone").label("app", "gone").ip("10.0.0.3"))
            .policy(policy("x", "untouched").select(sel!("app" => "nothing")))
    };
    let old =
        base()
            .policy(policy("x", "db").select(sel!("app" => "db")).ingress(
                rule().from(pods(sel!("app" => "web"))).port(netpol_model::PolicyPort::number(Protocol::Udp, 53)),
            ))
            .build();
    let mut new = base()
        .pod(pod("x", "new").label("app", "new"))
        .policy(policy("x", "db").select(sel!("app" => "db")).ingress(
            rule().from(pods(sel!("app" => "web"))).port(netpol_model::PolicyPort::range(Protocol::Tcp, 8080, 8081)),
        ))
        .build();
    new.pods.retain(|p| p.name != "gone");
    let diff = Compiled::build(&old, Options::default()).diff(&Compiled::build(&new, Options::default()));
    assert_eq!(diff.added_endpoints, vec!["x/new".parse().unwrap()]);
    assert_eq!(diff.removed_endpoints, vec!["x/gone".parse().unwrap()]);
    assert_eq!(diff.policies.len(), 1, "{:?}", diff.policies);
    assert_eq!((diff.policies[0].key(), diff.policies[0].kind), ("x/db".to_string(), PolicyChangeKind::Changed));
    let pairs: Vec<String> = diff
        .pairs
        .iter()
        .map(|p| format!("{} -> {}: +{} -{} {:?}", p.src, p.dst, p.added, p.removed, p.causes))
        .collect();
    assert_eq!(pairs, ["x/web -> x/db: +TCP 8080-8081 -UDP 53 [0]"]);
}

/// The pod-level exceptions are not properties of a class: a pod that moves to
/// another node keeps its class, yet the node's hostNetwork pod no longer reaches
/// it whatever the policies say.
#[test]
fn diff_sees_the_pod_level_exceptions_when_classes_compare_equal() {
    let given = |node: &str| {
        cluster()
            .pod(pod("x", "agent").label("app", "agent").ip("192.168.0.1").host_network().node("n1"))
            .pod(pod("x", "db").label("app", "db").ip("10.0.0.2").node(node))
            .policy(policy("x", "deny").select(sel!()))
            .build()
    };
    let (old, new) =
        (Compiled::build(&given("n1"), Options::default()), Compiled::build(&given("n2"), Options::default()));
    let diff = old.diff(&new);
    let pairs: Vec<String> =
        diff.pairs.iter().map(|p| format!("{} -> {}: -{} {:?}", p.src, p.dst, p.removed, p.causes)).collect();
    assert_eq!(pairs, ["x/agent -> x/db: -all []"]);
    assert!(diff.policies.is_empty());
}

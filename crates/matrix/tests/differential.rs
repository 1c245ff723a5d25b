//! Differential tests: the compiled matrix against the engine (the reference),
//! and incremental updates against a rebuild.
//!
//! A failing case is written to `tests/regressions/last-failure.yaml` (each
//! failure overwrites it, so after shrinking it holds the minimal one); rename
//! it to keep it: `regressions.rs` replays every file there.

mod support;

use netpol_matrix::{Change, Compiled, Options};
use netpol_model::{Cluster, Namespace, PodKey};
use proptest::prelude::*;
use support::*;

fn save_failure(cluster: &Cluster, why: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut text = format!("# {}\n", why.replace('\n', " "));
    text.push_str(&netpol_synth::stream(cluster));
    let _ = std::fs::write(dir.join("last-failure.yaml"), text);
}

fn check(cluster: &Cluster, options: Options) -> Result<(), TestCaseError> {
    let compiled = Compiled::build(cluster, options);
    compare_with_engine(cluster, &compiled, options).map_err(|why| {
        save_failure(cluster, &why);
        TestCaseError::fail(why)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn compiled_equals_engine(cluster in cluster_strategy()) {
        check(&cluster, Options::default())?;
    }

    #[test]
    fn compiled_equals_engine_when_ipblocks_ignore_pods(cluster in cluster_strategy()) {
        check(&cluster, Options { ipblock_matches_pods: false })?;
    }
}

#[derive(Clone, Debug)]
enum Step {
    UpsertPod(netpol_model::Pod),
    RemovePod(usize),
    UpsertNamespace(Namespace),
    RemoveNamespace(usize),
    UpsertPolicy(netpol_model::NetworkPolicy),
    RemovePolicy(usize),
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => pod_with_name().prop_map(Step::UpsertPod),
        1 => (0..8usize).prop_map(Step::RemovePod),
        1 => namespace_strategy().prop_map(Step::UpsertNamespace),
        1 => (0..3usize).prop_map(Step::RemoveNamespace),
        3 => policy_with_name().prop_map(Step::UpsertPolicy),
        1 => (0..8usize).prop_map(Step::RemovePolicy),
    ]
}

/// Applies `step` to the mirror cluster and turns it into a [`Change`] (`None`: nothing to remove).
fn mirror(cluster: &mut Cluster, step: Step) -> Option<Change> {
    match step {
        Step::UpsertPod(pod) => {
            match cluster.pods.iter_mut().find(|p| p.key() == pod.key()) {
                Some(slot) => *slot = pod.clone(),
                None => cluster.pods.push(pod.clone()),
            }
            Some(Change::UpsertPod(pod))
        }
        Step::RemovePod(i) => {
            if cluster.pods.is_empty() {
                return None;
            }
            let pod = cluster.pods.remove(i % cluster.pods.len());
            Some(Change::RemovePod(PodKey::new(pod.namespace, pod.name)))
        }
        Step::UpsertNamespace(ns) => {
            cluster.namespaces.insert(ns.name.clone(), ns.clone());
            Some(Change::UpsertNamespace(ns))
        }
        Step::RemoveNamespace(i) => {
            let name = NAMESPACES[i].to_string();
            cluster.namespaces.remove(&name)?;
            Some(Change::RemoveNamespace(name))
        }
        Step::UpsertPolicy(p) => {
            match cluster.policies.iter_mut().find(|q| q.namespace == p.namespace && q.name == p.name) {
                Some(slot) => *slot = p.clone(),
                None => cluster.policies.push(p.clone()),
            }
            Some(Change::UpsertPolicy(p))
        }
        Step::RemovePolicy(i) => {
            if cluster.policies.is_empty() {
                return None;
            }
            let p = cluster.policies.remove(i % cluster.policies.len());
            Some(Change::RemovePolicy { namespace: p.namespace, name: p.name })
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// After every step of a random sequence, the incrementally updated form
    /// equals a rebuild, and both equal the engine.
    #[test]
    fn incremental_equals_rebuild(start in cluster_strategy(), steps in proptest::collection::vec(step_strategy(), 1..12)) {
        let options = Options::default();
        let mut cluster = start;
        let mut compiled = Compiled::build(&cluster, options);
        for step in steps {
            let Some(change) = mirror(&mut cluster, step) else { continue };
            compiled.apply(change.clone()).map_err(|e| TestCaseError::fail(format!("{change:?}: {e}")))?;
            let rebuilt = Compiled::build(&cluster, options);
            let result = compare_compiled(&cluster, &compiled, &rebuilt)
                .and_then(|()| compare_with_engine(&cluster, &compiled, options));
            if let Err(why) = result {
                save_failure(&cluster, &why);
                return Err(TestCaseError::fail(format!("after {change:?}: {why}")));
            }
        }
    }
}

#[test]
fn synthetic_cluster_equals_engine() {
    let cluster = netpol_synth::generate(&netpol_synth::Spec { namespaces: 6, pods: 60, policies: 30, seed: 11 });
    let compiled = Compiled::build(&cluster, Options::default());
    assert!(compiled.classes() < cluster.pods.len(), "classes group pods: {}", compiled.classes());
    compare_with_engine(&cluster, &compiled, Options::default()).unwrap();
}

#[test]
fn removing_what_is_absent_is_an_error_and_changes_nothing() {
    let cluster = netpol_synth::generate(&netpol_synth::Spec { namespaces: 3, pods: 10, policies: 4, seed: 1 });
    let mut compiled = Compiled::build(&cluster, Options::default());
    let before = compiled.allowed_pairs(netpol_model::Protocol::Tcp, 8080);
    assert!(compiled.apply(Change::RemovePod(PodKey::new("nope", "nope"))).is_err());
    assert!(compiled.apply(Change::RemovePolicy { namespace: "nope".into(), name: "nope".into() }).is_err());
    assert!(compiled.apply(Change::RemoveNamespace("nope".into())).is_err());
    assert_eq!(compiled.allowed_pairs(netpol_model::Protocol::Tcp, 8080), before);
}

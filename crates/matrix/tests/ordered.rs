//! Ordered policies in the compiled form against the engine (the reference):
//! random small clusters with AdminNetworkPolicies at colliding priorities, a
//! baseline, Calico tiers, Allow/Deny/Pass/Log rules over namespaces, pods,
//! networks, nodes and Calico selectors, on top of random v1 policies. Every
//! pair, protocol and probed port, the allowed-pair counts of the port tables,
//! and the whole port sets of every pair agree; so do they after a change
//! (the layer is rebuilt).

mod support;

use netpol_matrix::{Change, Compiled, Options};
use netpol_testkit::random::{random_cluster, random_tiered, Dice};
use proptest::prelude::*;
use support::compare_with_engine;

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn compiled_equals_engine_with_ordered_policies(seed in proptest::collection::vec(any::<u32>(), 64), off in any::<bool>()) {
        let mut d = Dice(seed, 0);
        let mut cluster = random_cluster(&mut d);
        random_tiered(&mut d, &mut cluster);
        let options = Options { ipblock_matches_pods: !off };
        let compiled = Compiled::build(&cluster, options);
        compare_with_engine(&cluster, &compiled, options).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn a_pod_change_keeps_the_chain(seed in proptest::collection::vec(any::<u32>(), 64)) {
        let mut d = Dice(seed, 0);
        let mut cluster = random_cluster(&mut d);
        random_tiered(&mut d, &mut cluster);
        let mut compiled = Compiled::build(&cluster, Options::default());
        let Some(mut pod) = cluster.pods.first().cloned() else { return Ok(()) };
        pod.labels.insert("pod", if pod.labels.get("pod") == Some("a") { "b" } else { "a" });
        cluster.pods[0] = pod.clone();
        compiled.apply(Change::UpsertPod(pod)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        compare_with_engine(&cluster, &compiled, Options::default()).map_err(TestCaseError::fail)?;
    }
}

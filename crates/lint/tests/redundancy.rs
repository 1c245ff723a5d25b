//! The redundancy checks are exact: removing any policy or rule flagged NP0104,
//! NP0105 or NP0106 (one at a time, or all of them at once) changes no pair's
//! allowed connections, and no connection to or from addresses outside the
//! cluster. Judged by the engine (not the matrix lint used), on the random
//! small clusters of the matrix's differential tests (colliding labels,
//! ipBlocks over pod IPs, named ports, hostNetwork pods, workloads), under
//! both ipBlock settings.

#[path = "../../matrix/tests/support/mod.rs"]
mod support;

use std::net::IpAddr;

use netpol_engine::{Endpoint, Engine};
use netpol_lint::{lint, Input, NoPositions, Options, Target};
use netpol_model::{Cluster, Direction, NetworkPolicy, PortSet, Rule};
use proptest::prelude::*;

/// Addresses outside the cluster (no generated pod has them), v4 and v6.
const OUTSIDE: [&str; 4] = ["10.0.0.3", "192.168.9.9", "8.8.8.8", "fd00::9"];

/// Every ordered pair of pods, and every pod to and from each outside address:
/// the allowed connections, as the engine computes them.
fn connections(cluster: &Cluster, options: Options) -> Vec<(String, String, PortSet)> {
    let engine = Engine::new(cluster, netpol_engine::Options { ipblock_matches_pods: options.ipblock_matches_pods });
    let mut ends: Vec<Endpoint> = cluster.pods.iter().map(|p| Endpoint::Pod(p.key())).collect();
    let pods = ends.len();
    ends.extend(OUTSIDE.iter().map(|ip| Endpoint::Ip(ip.parse::<IpAddr>().unwrap())));
    let mut out = Vec::new();
    for (i, a) in ends.iter().enumerate() {
        for (j, b) in ends.iter().enumerate() {
            if i >= pods && j >= pods {
                continue; // outside to outside: no policy applies
            }
            // Mixed families between addresses are an error; those pairs carry no information.
            if let Ok(set) = engine.allowed_connections(a, b) {
                out.push((a.to_string(), b.to_string(), set));
            }
        }
    }
    out
}

fn remove(cluster: &mut Cluster, target: &Target) {
    match target {
        Target::Policy { namespace, name } => {
            cluster.policies.retain(|p| !(&p.namespace == namespace && &p.name == name))
        }
        Target::Rule { namespace, name, direction, index } => {
            let policy = cluster.policies.iter_mut().find(|p| &p.namespace == namespace && &p.name == name).unwrap();
            // Marked, then dropped together, so that indices stay those of the input.
            let rules: &mut Vec<Rule> = match direction {
                Direction::Ingress => &mut policy.ingress,
                Direction::Egress => &mut policy.egress,
            };
            rules[*index].origin = Some(netpol_model::Origin::new("removed", 0, 0));
        }
        Target::Other => unreachable!(),
    }
}

fn drop_marked(cluster: &mut Cluster) {
    let marked = |r: &Rule| r.origin.as_ref().is_some_and(|o| &*o.file == "removed");
    for p in &mut cluster.policies {
        p.ingress.retain(|r| !marked(r));
        p.egress.retain(|r| !marked(r));
    }
}

fn check(mut cluster: Cluster, options: Options) -> Result<(), TestCaseError> {
    cluster.add_implicit_namespaces();
    let findings = lint(&Input { cluster: &cluster, loaded: &[], locate: &NoPositions, options });
    let flagged: Vec<Target> = findings
        .into_iter()
        .filter(|f| ["NP0104", "NP0105", "NP0106"].contains(&f.diagnostic.code))
        .map(|f| f.target)
        .collect();
    if flagged.is_empty() {
        return Ok(());
    }
    let before = connections(&cluster, options);
    let mut all = cluster.clone();
    for target in &flagged {
        let mut one = cluster.clone();
        remove(&mut one, target);
        drop_marked(&mut one);
        prop_assert_eq!(&connections(&one, options), &before, "removing {:?} changed connections", target);
        remove(&mut all, target);
    }
    drop_marked(&mut all);
    prop_assert_eq!(&connections(&all, options), &before, "removing all of {:?} changed connections", flagged);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn removing_a_flagged_policy_or_rule_changes_nothing(cluster in support::cluster_strategy(), matches_pods in any::<bool>()) {
        check(cluster, Options { ipblock_matches_pods: matches_pods })?;
    }

    /// Copies of existing rules and policies: what redundancy is most often made of.
    #[test]
    fn with_duplicated_rules_and_policies(cluster in support::cluster_strategy(), pick in any::<prop::sample::Index>()) {
        let mut cluster = cluster;
        if !cluster.policies.is_empty() {
            let i = pick.index(cluster.policies.len());
            let mut copy: NetworkPolicy = cluster.policies[i].clone();
            copy.name = format!("{}-copy", copy.name);
            if let Some(rule) = copy.ingress.first().cloned() {
                cluster.policies[i].ingress.push(rule);
            }
            cluster.policies.push(copy);
        }
        check(cluster, Options::default())?;
    }
}

/// The proptest is not vacuous: on the shapes it generates, findings occur.
#[test]
fn flagged_items_occur_in_generated_clusters() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut flagged = 0;
    for _ in 0..200 {
        let mut cluster = support::cluster_strategy().new_tree(&mut runner).unwrap().current();
        cluster.add_implicit_namespaces();
        let findings =
            lint(&Input { cluster: &cluster, loaded: &[], locate: &NoPositions, options: Options::default() });
        flagged += findings.iter().filter(|f| ["NP0104", "NP0105", "NP0106"].contains(&f.diagnostic.code)).count();
    }
    eprintln!("{flagged} redundancy findings in 200 clusters");
    assert!(flagged > 20, "only {flagged} redundancy findings in 200 clusters");
}

//! Differential test of selection: the engine's explaining walk (every peer
//! check and every `selected_by` of a decision) against the model's one
//! definition of selection (`NetworkPolicy::selects`, `Peer::matches`), which
//! the engine's port sets, the matrix, the nft renderer and the DNS lint use.
//! Random small clusters with colliding labels, undeclared namespaces,
//! hostNetwork pods, workloads and pods without IPs (see `support`).

mod support;

use netpol_engine::{DirectionDecision, Endpoint, EndpointInfo, Engine, Flow, Options, Status};
use netpol_model::{Cluster, Direction, Labels, Namespace, PeerEnd, PodKey, PodView, Protocol};
use proptest::prelude::*;
use support::cluster_strategy;

/// The labels a namespaceSelector reads for `namespace` (an undeclared one has only its name label).
fn namespace_labels(cluster: &Cluster, namespace: &str) -> Labels {
    cluster.namespace_labels(namespace).cloned().unwrap_or_else(|| Namespace::implicit(namespace).labels)
}

/// Checks one direction of a decision; `subject` is the end it is enforced at, `peer` the other.
fn check_direction(
    cluster: &Cluster,
    ipblock_matches_pods: bool,
    dir: &DirectionDecision,
    subject: &EndpointInfo,
    peer: &EndpointInfo,
) -> Result<(), TestCaseError> {
    let pod_of = |info: &EndpointInfo| info.pod.as_ref().and_then(|k| cluster.pod(&k.parse::<PodKey>().unwrap()));
    if let Some(pod) = pod_of(subject).filter(|_| matches!(dir.status, Status::Isolated | Status::NotIsolated)) {
        let mut want: Vec<String> = cluster.policies.iter().filter(|p| p.selects(pod)).map(|p| p.key()).collect();
        let mut got: Vec<String> = dir.selected_by.iter().map(|r| r.policy.clone()).collect();
        want.sort();
        got.sort();
        prop_assert_eq!(got, want, "selected_by of {} ({:?})", subject.endpoint, dir.direction);
    }
    let other = pod_of(peer);
    let labels = other.map(|p| namespace_labels(cluster, &p.namespace));
    let end = PeerEnd { pod: other.zip(labels.as_ref()).map(|(p, l)| (PodView::from(p), l)), addr: peer.address };
    for pc in &dir.policies {
        let (ns, name) = pc.policy.split_once('/').unwrap();
        let policy = cluster.policy(ns, name).unwrap();
        for rc in &pc.rules {
            let rule = &policy.rules(dir.direction)[rc.index];
            for check in &rc.peers {
                let want = rule.peers[check.index].matches(&policy.namespace, &end, ipblock_matches_pods);
                prop_assert_eq!(
                    check.matched,
                    want,
                    "{} {:?}[{}] peer[{}] ({}) against {}: engine says {}",
                    pc.policy,
                    dir.direction,
                    rc.index,
                    check.index,
                    check.spec,
                    peer.endpoint,
                    check.reason
                );
            }
        }
    }
    Ok(())
}

fn check_cluster(cluster: &Cluster, ipblock_matches_pods: bool) -> Result<(), TestCaseError> {
    let engine = Engine::new(cluster, Options { ipblock_matches_pods });
    let mut endpoints: Vec<Endpoint> = cluster.pods.iter().map(|p| Endpoint::Pod(p.key())).collect();
    // Pod IPs given as IPs, an IP no pod has, and one of each family.
    endpoints.extend(["10.0.0.1", "10.0.0.5", "192.0.2.1", "fd00::1"].map(|ip| Endpoint::Ip(ip.parse().unwrap())));
    let mut checked = 0;
    for src in &endpoints {
        for dst in &endpoints {
            let Ok(d) = engine.evaluate(&Flow::new(src.clone(), dst.clone(), Protocol::Tcp, 80)) else { continue };
            check_direction(cluster, ipblock_matches_pods, &d.egress, &d.src, &d.dst)?;
            check_direction(cluster, ipblock_matches_pods, &d.ingress, &d.dst, &d.src)?;
            checked += 1;
        }
    }
    prop_assert!(checked > 0, "no flow evaluated");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn explaining_walk_agrees_with_the_shared_predicate(cluster in cluster_strategy(), ipblock in any::<bool>()) {
        check_cluster(&cluster, ipblock)?;
    }
}

/// The cases the issue names, once each, so a regression shows without a seed.
#[test]
fn named_cases_agree() {
    use netpol_testkit::*;
    let c = cluster()
        .namespace(namespace("x").label("team", "red"))
        .pod(pod("x", "a").label("app", "web").ip("10.0.0.1"))
        .pod(pod("x", "host").label("app", "web").ip("10.0.0.2").host_network())
        .pod(pod("y", "b").label("app", "web").ip("10.0.0.3"))
        .pod(pod("z", "deploy").label("app", "web").workload(netpol_model::WorkloadKind::Deployment))
        .pod(pod("x", "noip").label("app", "web"))
        .policy(
            policy("x", "in")
                .select(sel!())
                .ingress(rule().from(pods(sel!("app" => "web"))))
                .ingress(rule().from(namespaces(sel!("team" => "red"))))
                .ingress(rule().from(pods_in_namespaces(sel!(), sel!("app" => "web"))))
                .ingress(rule().from(ip_block("10.0.0.0/24", &["10.0.0.2/32"])))
                .ingress(rule().from(ip_block("0.0.0.0/0", &[]))),
        )
        .policy(policy("z", "out").select(sel!()).types([Direction::Egress]).egress(rule().to(namespaces(sel!()))))
        .build();
    for ipblock in [true, false] {
        check_cluster(&c, ipblock).unwrap();
    }
}

//! `Compiled::connections_grid` computes each pair of classes once; it must
//! still give every pair exactly what `Compiled::connections` gives, including
//! the pod-level exceptions (a pod to itself, a hostNetwork pod to its node's
//! pods, a workload to itself), which are not properties of a class.

use netpol_matrix::{Compiled, Options, PodId};
use netpol_model::{Protocol, WorkloadKind};
use netpol_testkit::*;

#[test]
fn connections_grid_equals_connections_pair_by_pair() {
    let given = cluster()
        .namespace(namespace("x").label("ns", "x"))
        .pod(pod("x", "a-0").label("app", "a").ip("10.0.0.1").node("n1"))
        .pod(pod("x", "a-1").label("app", "a").ip("10.0.0.2").node("n2"))
        .pod(pod("x", "b").label("app", "b").ip("10.0.0.3").port("http", 8080, Protocol::Tcp).node("n1"))
        .pod(pod("x", "node-agent-1").label("app", "agent").ip("10.1.0.1").host_network().node("n1"))
        .pod(pod("x", "node-agent-2").label("app", "agent").ip("10.1.0.2").host_network().node("n2"))
        .pod(pod("x", "w").label("app", "a").workload(WorkloadKind::Deployment))
        .policy(policy("x", "deny").select(sel!()))
        .policy(
            policy("x", "to-b")
                .select(sel!("app" => "b"))
                .ingress(rule().from(pods(sel!("app" => "a"))).port(named_port("http", Protocol::Tcp))),
        )
        .build();
    let m = Compiled::build(&given, Options::default());
    let ids: Vec<PodId> = m.pods().map(|(id, _)| id).collect();
    assert_eq!(ids.len(), 6);
    let grid = m.connections_grid(&ids);
    let mut exceptions = 0;
    for (i, &s) in ids.iter().enumerate() {
        for (j, &d) in ids.iter().enumerate() {
            let want = m.connections(s, d);
            assert_eq!(grid[i][j], want, "{:?} -> {:?}", m.pod(s).map(|p| p.key()), m.pod(d).map(|p| p.key()));
            if want.is_all() && m.class_of(s) == m.class_of(d) || m.pod(s).is_some_and(|p| p.host_network) {
                exceptions += 1;
            }
        }
    }
    // The cluster does exercise the exceptions: same-class pairs that differ
    // (a-0 to itself vs a-0 to a-1) and hostNetwork pods on either node.
    let a0 = ids.iter().position(|&id| m.pod(id).unwrap().name == "a-0").unwrap();
    let a1 = ids.iter().position(|&id| m.pod(id).unwrap().name == "a-1").unwrap();
    assert!(grid[a0][a0].is_all());
    assert_eq!(grid[a0][a1].to_string(), "none");
    assert!(exceptions > 0);
}

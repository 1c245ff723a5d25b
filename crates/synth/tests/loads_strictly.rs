//! What `netpol synth` writes must load cleanly through the strict loader, and
//! load back as the cluster that was generated.

use netpol_manifest::{load, LoadOptions};
use netpol_model::Cluster;
use netpol_synth::{documents, generate_shaped, Shape, Spec};

/// The cluster as the loader returns it, without source positions.
fn normalise(mut c: Cluster) -> Cluster {
    for ns in c.namespaces.values_mut() {
        ns.origin = None;
    }
    for p in &mut c.pods {
        p.origin = None;
    }
    for p in &mut c.policies {
        p.origin = None;
        for r in p.ingress.iter_mut().chain(p.egress.iter_mut()) {
            r.origin = None;
        }
    }
    for p in &mut c.tiered {
        p.origin = None;
        for r in p.ingress.iter_mut().chain(p.egress.iter_mut()) {
            r.origin = None;
        }
    }
    c.pods.sort_by_key(|p| p.key());
    c.policies.sort_by_key(|p| p.key());
    c.tiered.sort_by_key(|p| p.key());
    c
}

#[test]
fn synthetic_manifests_load_strictly_and_round_trip() {
    let cases = [
        ("tiny", Spec { namespaces: 1, pods: 3, policies: 2, seed: 1 }, Shape::default()),
        ("small", Spec { namespaces: 5, pods: 200, policies: 60, seed: 2 }, Shape::default()),
        ("wide", Spec { namespaces: 40, pods: 1500, policies: 400, seed: 3 }, Shape::default()),
        ("realistic", Spec { namespaces: 20, pods: 2000, policies: 400, seed: 4 }, Shape::realistic()),
        (
            "admin",
            Spec { namespaces: 20, pods: 500, policies: 100, seed: 5 },
            Shape { admin_policies: 30, baseline: true, ..Shape::realistic() },
        ),
    ];
    for (name, spec, shape) in cases {
        let cluster = generate_shaped(&spec, &shape);
        let docs = documents(&cluster);
        let loaded = load(docs.iter().map(|d| (d.path.as_str(), d.text.as_str())), &LoadOptions::default());
        let findings: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert!(!loaded.has_errors(), "{name}: {}", findings.join("\n"));
        assert!(findings.is_empty(), "{name}: no warnings either: {}", findings.join("\n"));
        assert_eq!(normalise(loaded.cluster), normalise(cluster), "{name}: round trip");
    }
}

#[test]
fn the_realistic_shape_has_20_replicas_and_hundreds_of_ip_blocks() {
    let cluster =
        generate_shaped(&Spec { namespaces: 30, pods: 20_000, policies: 4_000, seed: 1 }, &Shape::realistic());
    let mut replicas = std::collections::BTreeMap::<&str, usize>::new();
    for pod in cluster.pods.iter().filter(|p| !p.host_network && p.namespace != "kube-system") {
        *replicas.entry(pod.labels.get("app").expect("app label")).or_default() += 1;
    }
    // Every workload but the last (cut by the pod count) has 20 replicas.
    let short = replicas.values().filter(|n| **n != 20).count();
    assert!(short <= 1, "{short} workloads without 20 replicas");
    let blocks: std::collections::BTreeSet<_> = cluster
        .policies
        .iter()
        .flat_map(|p| p.ingress.iter().chain(&p.egress))
        .flat_map(|r| &r.peers)
        .filter_map(|peer| match peer {
            netpol_model::Peer::IpBlock(b) => Some(b.clone()),
            _ => None,
        })
        .collect();
    assert!(blocks.len() >= 200, "{} distinct ipBlocks", blocks.len());
}

//! What `netpol synth` writes must load cleanly through the strict loader, and
//! load back as the cluster that was generated.

use netpol_manifest::{load, LoadOptions};
use netpol_model::Cluster;
use netpol_synth::{documents, generate, Spec};

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
    c.pods.sort_by_key(|p| p.key());
    c.policies.sort_by_key(|p| p.key());
    c
}

#[test]
fn synthetic_manifests_load_strictly_and_round_trip() {
    let cases = [
        ("tiny", Spec { namespaces: 1, pods: 3, policies: 2, seed: 1 }),
        ("small", Spec { namespaces: 5, pods: 200, policies: 60, seed: 2 }),
        ("wide", Spec { namespaces: 40, pods: 1500, policies: 400, seed: 3 }),
    ];
    for (name, spec) in cases {
        let cluster = generate(&spec);
        let docs = documents(&cluster);
        let loaded = load(docs.iter().map(|d| (d.path.as_str(), d.text.as_str())), &LoadOptions::default());
        let findings: Vec<String> = loaded.diagnostics.iter().map(ToString::to_string).collect();
        assert!(!loaded.has_errors(), "{name}: {}", findings.join("\n"));
        assert!(findings.is_empty(), "{name}: no warnings either: {}", findings.join("\n"));
        assert_eq!(normalise(loaded.cluster), normalise(cluster), "{name}: round trip");
    }
}

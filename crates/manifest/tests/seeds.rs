//! Every YAML example of the seeds (tests/seeds/*.yaml, copied verbatim) loaded
//! strictly: the diagnostics are snapshotted, and the expected findings (code and
//! line) are asserted here too, so a wrong position fails without reading snapshots.

use std::fs;
use std::path::Path;

use netpol_manifest::{load, LoadOptions, Loaded};

fn seed_files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), fs::read_to_string(&p).unwrap()))
        .collect()
}

fn render(loaded: &Loaded) -> String {
    if loaded.diagnostics.is_empty() {
        return "(no diagnostics)\n".to_string();
    }
    loaded.diagnostics.iter().map(|d| format!("{d}\n")).collect()
}

#[test]
fn seed_snapshots() {
    let files = seed_files();
    assert!(files.len() >= 35, "seed examples missing: {}", files.len());
    for (name, text) in &files {
        let loaded = load([(name.as_str(), text.as_str())], &LoadOptions::default());
        let stem = name.trim_end_matches(".yaml");
        insta::assert_snapshot!(stem, render(&loaded));
    }
}

/// The errors a careful reviewer gives for each broken seed example, as (code, line);
/// every other example must load without errors.
const BROKEN: &[(&str, &[(&str, u32)])] = &[
    // kind without apiVersion; policyTypes indented under podSelector.
    ("000-01-no-apiversion-misplaced-policytypes.yaml", &[("NP0003", 1), ("NP0010", 9)]),
    // ...and egress under podSelector, with `protoco:` inside it.
    ("000-02-protoco-typo.yaml", &[("NP0003", 1), ("NP0010", 9), ("NP0010", 11), ("NP0010", 19)]),
    // `NamespaceSelector:` (case), which leaves the peer empty.
    ("001-03-intra-namespace-null-selector.yaml", &[("NP0010", 10), ("NP0030", 10)]),
    // `spec:` fragments without apiVersion and kind.
    ("002-01-spec-fragment-endport.yaml", &[("NP0004", 1)]),
    ("002-02-spec-fragment-match-expressions.yaml", &[("NP0004", 1)]),
    ("002-03-spec-fragment-or.yaml", &[("NP0004", 1)]),
    ("002-04-spec-fragment-and.yaml", &[("NP0004", 1)]),
    ("002-05-db-policy-protocal.yaml", &[("NP0010", 22)]),
    // policyTypes/ingress/egress under podSelector, matchLabel x2, cidr beside a null
    // ipBlock, protocal; then the YAML itself breaks at line 36.
    (
        "002-06-db-policy-misindented.yaml",
        &[
            ("NP0010", 11),
            ("NP0010", 15),
            ("NP0010", 19),
            ("NP0010", 23),
            ("NP0010", 27),
            ("NP0010", 29),
            ("NP0010", 31),
            ("NP0001", 36),
        ],
    ),
];

#[test]
fn seed_findings_at_the_right_lines() {
    for (name, text) in seed_files() {
        let loaded = load([(name.as_str(), text.as_str())], &LoadOptions::default());
        let errors: Vec<(&str, u32)> = loaded.errors().map(|d| (d.code, d.line)).collect();
        let want: &[(&str, u32)] = BROKEN.iter().find(|(n, _)| *n == name).map_or(&[], |(_, w)| w);
        assert_eq!(errors, want, "{name}:\n{}", render(&loaded));
    }
}

#[test]
fn seed_001_calico_policies_load_as_global_network_policies() {
    for (name, text) in seed_files().into_iter().filter(|(n, _)| n.contains("calico")) {
        let loaded = load([(name.as_str(), text.as_str())], &LoadOptions::default());
        let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["NP0068"], "{name}");
        assert!(loaded.cluster.policies.is_empty());
        assert_eq!(loaded.cluster.tiered.len(), 1, "{name}");
        assert_eq!(loaded.cluster.tiered[0].kind, netpol_model::TieredKind::GlobalNetworkPolicy);
        assert_eq!(loaded.cluster.tiered[0].types, [netpol_model::Direction::Egress]);
    }
}

//! `netpol diff --kubeconfig .. -f PROPOSED` against a real API server: the live
//! cluster (seed 000, step 4, created with kubectl) against the same cluster with
//! step 5's files applied names the pairs `netpol diff STEP4 STEP5` names on the
//! files alone, and `--without` compares with the object deleted.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use netpol_testkit::require_control_plane;
use serde_json::Value;

fn walkthrough(step: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-000-walkthrough").join(step)
}

fn netpol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .output()
        .expect("run netpol")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The changed pairs of a `netpol diff -o json` run that must exit with `code`:
/// `(from, to, added, removed, policies)`, origins left out (they differ by source).
fn pairs(args: &[&str], code: i32) -> Vec<Value> {
    let out = netpol(args);
    assert_eq!(out.status.code(), Some(code), "netpol {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    let value: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    value["pairs"]
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| serde_json::json!([p["from"], p["to"], p["added"], p["removed"], p["policies"]]))
        .collect()
}

#[test]
fn what_if_diff_from_the_cluster_equals_the_diff_of_the_files() {
    let cp = require_control_plane!().start().expect("control plane");
    let kubeconfig = s(cp.kubeconfig()).to_string();
    for step in ["step-01-no-policies", "step-02-default-deny", "step-03-frontend-egress", "step-04-backend-ingress"] {
        cp.apply_with_status(&walkthrough(step)).expect("kubectl apply, then each pod's status");
    }
    let (step4, step5) = (walkthrough("step-04-backend-ingress"), walkthrough("step-05-dns-allowed"));
    let from_files = pairs(&["diff", s(&step4), s(&step5), "-o", "json"], 1);
    assert!(!from_files.is_empty());
    let what_if = pairs(&["diff", "--kubeconfig", &kubeconfig, "-f", s(&step5), "-o", "json"], 1);
    assert_eq!(what_if, from_files, "live step 4 + step 5's files against live step 4");
    // Step 5 only opens DNS: nothing removed.
    let out = netpol(&["diff", "--kubeconfig", &kubeconfig, "-f", s(&step5), "--fail-on", "removed"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // The live cluster against itself: nothing changed.
    assert!(pairs(&["diff", "--kubeconfig", &kubeconfig, "-o", "json"], 0).is_empty());
    // As if default-deny were deleted: the same as step 4's files without default-deny.yaml.
    let without = pairs(&["diff", "--kubeconfig", &kubeconfig, "--without", "default/default-deny", "-o", "json"], 1);
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["cluster.yaml", "backend.yaml", "frontend.yaml"] {
        std::fs::copy(step4.join(file), dir.path().join(file)).expect("copy");
    }
    assert_eq!(without, pairs(&["diff", s(&step4), s(dir.path()), "-o", "json"], 1), "--without default/default-deny");
    assert!(
        without.iter().all(|p| p[4].as_array().unwrap().iter().any(|n| n == "default/default-deny")),
        "{without:?}"
    );
}

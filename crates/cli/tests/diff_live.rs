//! `netpol diff --kubeconfig .. -f PROPOSED` against a real API server: the live
//! cluster (seed 000, step 4, created with kubectl) against the same cluster with
//! step 5's files applied names the pairs `netpol diff STEP4 STEP5` names on the
//! files alone, and `--without` compares with the object deleted.

use std::path::Path;
use std::process::{Command, Output};

use netpol_testkit::require_control_plane;
use netpol_testkit::scenarios::seed_000_step as walkthrough;
use serde_json::Value;

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

/// Pods a ReplicaSet owns change alike: the text prints them once, as the workload.
#[test]
fn pods_of_one_workload_are_printed_once() {
    let cp = require_control_plane!().start().expect("control plane");
    let kubeconfig = s(cp.kubeconfig()).to_string();
    cp.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n\
         apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: web-1, namespace: shop}\n\
         spec:\n  replicas: 0\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
         spec: {containers: [{name: c, image: nginx}]}\n",
    )
    .expect("namespace and replicaset");
    let uid =
        cp.kubectl_output(&["get", "rs", "web-1", "-n", "shop", "-o", "jsonpath={.metadata.uid}"], None).expect("uid");
    let pod = |name: &str, app: &str, owned: bool| {
        let owner = if owned {
            format!(
                "  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: {uid}, controller: true}}]\n"
            )
        } else {
            String::new()
        };
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app: {app}}}\n{owner}\
             spec: {{containers: [{{name: c, image: nginx}}]}}\n---\n"
        )
    };
    let pods = [pod("web-1-a", "web", true), pod("web-1-b", "web", true), pod("db", "db", false)].concat();
    cp.apply(&pods).expect("pods");
    for (name, ip) in [("web-1-a", "10.0.0.1"), ("web-1-b", "10.0.0.2"), ("db", "10.0.0.3")] {
        cp.set_pod_ip("shop", name, ip).expect("pod status");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let deny = dir.path().join("db-deny.yaml");
    std::fs::write(
        &deny,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-deny, namespace: shop}\n\
         spec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n",
    )
    .expect("write");
    let out = netpol(&["diff", "--kubeconfig", &kubeconfig, "-f", s(&deny)]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.starts_with(&format!(
            "ReplicaSet shop/web-1 (2 pods) -> shop/db: -all\n  caused by: shop/db-deny (added, {}:1:1)\n",
            s(&deny)
        )),
        "{text}"
    );
    assert!(text.ends_with("2 pairs changed: 0 gained connections, 2 lost some; 1 policy object changed\n"), "{text}");
}

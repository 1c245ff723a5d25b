//! `netpol explain` against the real thing (issue: offline `kubectl explain`).
//!
//! With a control plane (`require_control_plane!`):
//! - for every path in [`PATHS`], `netpol explain` prints on stdout exactly the
//!   bytes `kubectl explain` prints against a live kube-apiserver;
//! - the OpenAPI v3 document netpol embeds (crates/explain/data) is, as JSON,
//!   what that server serves at /openapi/v3/apis/networking.k8s.io/v1, and its
//!   recorded version is the server's, so a version bump notices drift.
//!   `NETPOL_UPDATE_OPENAPI=1` (tools/k8s/fetch-openapi.sh) writes the served
//!   document and version into crates/explain/data instead of comparing.
//!
//! Offline: exit codes and error text of the subcommand.

use std::path::PathBuf;
use std::process::{Command, Output};

use netpol_testkit::{require_control_plane, ControlPlane};
use serde_json::Value;

/// `kubectl explain` arguments netpol must print byte for byte.
const PATHS: &[&[&str]] = &[
    &["networkpolicy"],
    &["networkpolicies"],
    &["netpol"],
    &["NetworkPolicy"],
    &["networkpolicies.networking.k8s.io"],
    &["networkpolicy.spec"],
    &["networkpolicy.spec.ingress"],
    &["networkpolicy.spec.ingress.from"],
    &["networkpolicy.spec.ingress.from.ipBlock"],
    &["networkpolicy.spec.ingress.ports.port"],
    &["networkpolicy.spec.egress.to.namespaceSelector"],
    &["networkpolicy.spec.egress.ports"],
    &["networkpolicy.spec.egress.ports.endPort"],
    &["networkpolicy.spec.egress.ports.protocol"],
    &["networkpolicy.spec.policyTypes"],
    &["networkpolicy.metadata"],
    &["networkpolicy.metadata.labels"],
    &["networkpolicy.metadata.creationTimestamp"],
    &["networkpolicy.metadata.managedFields"],
    &["networkpolicy.metadata.managedFields.fieldsV1"],
    &["networkpolicy.metadata.ownerReferences"],
    &["networkpolicy.spec.podSelector.matchExpressions"],
    &["networkpolicy.spec.podSelector.matchLabels"],
    &["networkpolicies.networking.k8s.io.spec.ingress.from"],
    &["networkpolicy.spec", "--recursive"],
    &["networkpolicy", "--recursive"],
    &["networkpolicy.spec.ingress", "--recursive"],
    &["networkpolicy.spec", "--api-version", "networking.k8s.io/v1"],
];

fn netpol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpol")).arg("explain").args(args).output().expect("run netpol")
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../explain/data")
}

#[test]
fn netpol_explain_prints_what_kubectl_explain_prints() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    let mut differ = Vec::new();
    for args in PATHS {
        let want = cp.kubectl_output(&[&["explain"], *args].concat(), None).unwrap_or_else(|e| panic!("{e}"));
        let got = netpol(args);
        assert!(got.status.success(), "netpol explain {}: {}", args.join(" "), String::from_utf8_lossy(&got.stderr));
        let got = String::from_utf8(got.stdout).expect("utf-8");
        if got != want {
            differ.push(format!("explain {}\n--- kubectl\n{want:?}\n+++ netpol\n{got:?}\n", args.join(" ")));
        }
    }
    assert!(differ.is_empty(), "{} of {} paths differ:\n{}", differ.len(), PATHS.len(), differ.join("\n"));
}

#[test]
fn netpol_explain_refuses_a_missing_field_as_kubectl_does() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    for path in ["networkpolicy.foo", "networkpolicy.spec.Ingress", "netpol.spec.policyTypes.x"] {
        let kubectl = cp.kubectl().args(["explain", path]).output().expect("run kubectl");
        assert!(!kubectl.status.success(), "kubectl explain {path} succeeded");
        let got = netpol(&[path]);
        assert_eq!(got.status.code(), Some(2), "netpol explain {path}");
        assert_eq!(String::from_utf8_lossy(&got.stderr), String::from_utf8_lossy(&kubectl.stderr), "{path}");
    }
}

#[test]
fn the_embedded_schema_is_what_the_server_serves() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    let served = cp
        .kubectl_output(&["get", "--raw", "/openapi/v3/apis/networking.k8s.io/v1"], None)
        .unwrap_or_else(|e| panic!("{e}"));
    let served: Value = serde_json::from_str(&served).expect("the server serves JSON");
    let version = server_version(&cp);
    if std::env::var_os("NETPOL_UPDATE_OPENAPI").is_some_and(|v| v == "1") {
        let pretty = serde_json::to_string_pretty(&served).expect("serialize") + "\n";
        std::fs::write(data_dir().join("networking.k8s.io-v1.openapi.json"), pretty).expect("write the schema");
        std::fs::write(data_dir().join("networking.k8s.io-v1.version"), format!("{version}\n")).expect("write");
        eprintln!("wrote crates/explain/data/networking.k8s.io-v1.openapi.json from kube-apiserver {version}");
        return;
    }
    let embedded: Value = serde_json::from_str(netpol_explain::SCHEMA_JSON).expect("the embedded schema parses");
    assert_eq!(
        netpol_explain::server_version(),
        version,
        "the embedded schema is from another server version: run tools/k8s/fetch-openapi.sh"
    );
    assert!(
        embedded == served,
        "the embedded schema differs from what kube-apiserver {version} serves: run tools/k8s/fetch-openapi.sh"
    );
}

/// The server's `gitVersion` (e.g. v1.34.4).
fn server_version(cp: &ControlPlane) -> String {
    // kubectl warns about the version skew on stderr; stdout is the JSON.
    let out = cp.kubectl_output(&["version", "-o", "json"], None).unwrap_or_else(|e| panic!("{e}"));
    let version: Value = serde_json::from_str(&out).expect("kubectl version -o json");
    version["serverVersion"]["gitVersion"].as_str().expect("serverVersion.gitVersion").to_string()
}

#[test]
fn a_missing_field_exits_2_with_kubectls_message() {
    let out = netpol(&["networkpolicy.spec.nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "error: field \"nope\" does not exist\n");
}

#[test]
fn an_unknown_resource_names_the_supported_ones() {
    let out = netpol(&["pods.spec"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no resource type \"pods\"") && stderr.contains("networkpolicy, networkpolicies, netpol"));
}

#[test]
fn another_api_version_is_refused() {
    let out = netpol(&["networkpolicy", "--api-version", "networking.k8s.io/v1beta1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("embeds only networking.k8s.io/v1"));
}

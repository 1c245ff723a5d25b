//! The control-plane harness against the real binaries: it starts, the
//! installed kubectl works against it, a minted token has exactly the rights
//! it was given, and nothing is left behind, also when a test panics.
//! Gated by `require_control_plane!` (CI requires it).

use std::path::{Path, PathBuf};
use std::process::Output;

use std::time::Duration;

use netpol_testkit::control_plane::{kubernetes_version, Error, Options, Rule};
use netpol_testkit::require_control_plane;
use netpol_testkit::ControlPlane;
use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed ({}):\n{}{}", out.status, text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// The process is gone: no /proc entry, or (its PID was reused since) another program.
fn process_gone(pid: u32, binary: &Path) -> bool {
    match std::fs::read_link(format!("/proc/{pid}/exe")) {
        Ok(exe) => exe != binary.canonicalize().unwrap_or_else(|_| binary.to_path_buf()),
        Err(_) => !Path::new(&format!("/proc/{pid}")).exists(),
    }
}

fn assert_left_nothing(pids: &[u32], binaries: &[PathBuf], dir: &Path) {
    for (pid, binary) in pids.iter().zip(binaries) {
        assert!(process_gone(*pid, binary), "process {pid} ({}) still runs", binary.display());
    }
    assert!(!dir.exists(), "{} still exists", dir.display());
}

const POLICY: &str = r#"{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "default-deny", "namespace": "default"},
 "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}"#;

#[test]
fn starts_serves_the_installed_kubectl_and_leaves_nothing_behind() {
    let binaries = require_control_plane!();
    let cp = binaries.start().unwrap_or_else(|e| panic!("{e}"));

    let namespaces = ok(&cp.kubectl().args(["get", "ns", "-o", "name"]).output().unwrap(), "kubectl get ns");
    for ns in ["default", "kube-system", "kube-public"] {
        assert!(namespaces.lines().any(|l| l == format!("namespace/{ns}")), "{namespaces}");
    }

    // The skew: kubectl v1.32 against the pinned server. kubectl warns on stderr; every command below works.
    let out = cp.kubectl().args(["version", "-o", "json"]).output().unwrap();
    let version: Value = serde_json::from_str(&ok(&out, "kubectl version")).unwrap();
    assert_eq!(version["serverVersion"]["gitVersion"], kubernetes_version(), "{version}");
    eprintln!(
        "kubectl {} against kube-apiserver {}; kubectl says: {}",
        version["clientVersion"]["gitVersion"],
        version["serverVersion"]["gitVersion"],
        text(&out.stderr).trim()
    );

    let applied = cp.apply(POLICY).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied.trim(), "networkpolicy.networking.k8s.io/default-deny created");
    let dry = cp.kubectl_output(&["apply", "--dry-run=server", "--validate=strict", "-f", "-"], Some(POLICY));
    assert_eq!(
        dry.unwrap_or_else(|e| panic!("{e}")).trim(),
        "networkpolicy.networking.k8s.io/default-deny unchanged (server dry run)"
    );
    let described = ok(&cp.kubectl().args(["describe", "networkpolicy", "default-deny"]).output().unwrap(), "describe");
    assert!(described.contains("Name:         default-deny") && described.contains("Created on:"), "{described}");
    assert!(described.contains("Policy Types: Ingress, Egress"), "{described}");
    let explained =
        ok(&cp.kubectl().args(["explain", "networkpolicy.spec.podSelector"]).output().unwrap(), "kubectl explain");
    assert!(
        explained.contains("GROUP:      networking.k8s.io") && explained.contains("FIELD: podSelector"),
        "{explained}"
    );

    let (pids, dir) = (cp.pids(), cp.dir().to_path_buf());
    assert_eq!(pids.len(), 2);
    for pid in &pids {
        assert!(Path::new(&format!("/proc/{pid}")).exists(), "process {pid} should run");
    }
    assert!(cp.log("kube-apiserver").is_some_and(Path::exists) && cp.log("etcd").is_some_and(Path::exists));
    drop(cp);
    assert_left_nothing(&pids, &[binaries.kube_apiserver.clone(), binaries.etcd.clone()], &dir);
}

#[test]
fn a_minted_token_has_only_the_rights_it_was_given() {
    let binaries = require_control_plane!();
    let cp = binaries.start().unwrap_or_else(|e| panic!("{e}"));
    let reader = cp.mint_token("prod", "pod-reader", &[Rule::new(&["get", "list"], "", &["pods"])]).unwrap();
    assert_eq!(reader.user, "system:serviceaccount:prod:pod-reader");
    let as_reader = |args: &[&str]| cp.kubectl_as(&reader.kubeconfig).args(args).output().unwrap();

    let whoami = ok(&as_reader(&["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"]), "whoami");
    assert_eq!(whoami, reader.user);
    let out = as_reader(&["get", "pods", "-n", "prod"]);
    ok(&out, "get pods -n prod");
    assert!(text(&out.stderr).contains("No resources found in prod namespace"), "{}", text(&out.stderr));

    let out = as_reader(&["get", "pods", "-A"]);
    assert!(!out.status.success(), "listing pods at cluster scope must be forbidden");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("(Forbidden)"), "{stderr}");
    assert!(
        stderr.contains(r#"User "system:serviceaccount:prod:pod-reader" cannot list resource "pods" in API group "" at the cluster scope"#),
        "{stderr}"
    );
    let out = as_reader(&["get", "networkpolicies", "-n", "prod"]);
    assert!(!out.status.success() && text(&out.stderr).contains("(Forbidden)"), "{}", text(&out.stderr));
    let out = as_reader(&["delete", "pod", "x", "-n", "prod"]);
    assert!(text(&out.stderr).contains(r#"cannot delete resource "pods""#), "{}", text(&out.stderr));

    // A cluster-wide grant reads every namespace, and nothing else.
    let lister = cp
        .mint_token(
            "ops",
            "np-lister",
            &[Rule::new(&["list"], "networking.k8s.io", &["networkpolicies"]).cluster_wide()],
        )
        .unwrap();
    let as_lister = |args: &[&str]| cp.kubectl_as(&lister.kubeconfig).args(args).output().unwrap();
    ok(&as_lister(&["get", "networkpolicies", "-A"]), "get netpol -A");
    let out = as_lister(&["get", "pods", "-n", "ops"]);
    assert!(!out.status.success() && text(&out.stderr).contains("(Forbidden)"), "{}", text(&out.stderr));

    // The admin may do both.
    ok(&cp.kubectl().args(["get", "pods", "-A"]).output().unwrap(), "admin get pods -A");
}

#[test]
fn a_panicking_test_leaves_nothing_behind() {
    let binaries = require_control_plane!();
    let (send, receive) = std::sync::mpsc::channel();
    let started = binaries.clone();
    let panicked = std::thread::spawn(move || {
        let cp = started.start().unwrap_or_else(|e| panic!("{e}"));
        send.send((cp.pids(), cp.dir().to_path_buf())).unwrap();
        panic!("a test fails while its control plane runs");
    })
    .join();
    assert!(panicked.is_err(), "the thread panicked");
    let (pids, dir) = receive.recv().expect("the control plane started before the panic");
    assert_left_nothing(&pids, &[binaries.kube_apiserver.clone(), binaries.etcd.clone()], &dir);
}

#[test]
fn a_server_not_ready_in_time_is_an_error_with_its_log_and_leaves_nothing_behind() {
    let binaries = require_control_plane!();
    let options = Options { ready_timeout: Duration::ZERO, ..Options::default() };
    let err = ControlPlane::start_with(&binaries, &options).expect_err("no API server is ready at once");
    let message = err.to_string();
    let Error::NotReady { log, server, .. } = err else { panic!("{message}") };
    assert!(message.starts_with(&format!("the API server at {server} was not ready after 0ns")), "{message}");
    assert!(message.contains("last lines of") && log.ends_with("kube-apiserver.log"), "{message}");
    assert!(!log.parent().unwrap().exists(), "the failed start removed its dir");
}

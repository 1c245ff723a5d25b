//! netpol against a real API server (issue 9): the seed 000 walkthrough
//! created with kubectl step by step, and at every step the cluster gives the
//! answers the step's files give; what-if (`-f` on top of the cluster,
//! `--without`); RBAC and connection failures; `get` and `describe` as kubectl.

use std::path::Path;
use std::process::{Command, Output};

use netpol_testkit::control_plane::Rule;
use netpol_testkit::scenarios::seed_000_step as walkthrough;
use netpol_testkit::{require_control_plane, ControlPlane};
use serde_json::Value;

const STEPS: &[&str] = &[
    "step-01-no-policies",
    "step-02-default-deny",
    "step-03-frontend-egress",
    "step-04-backend-ingress",
    "step-05-dns-allowed",
    "step-06-backend-egress-cassandra",
    "step-07-cassandra-labelled",
    "step-08-cassandra-deny",
    "step-09-cassandra-ingress",
    "step-10-default-labelled",
];

/// (from, to, port, protocol): the flows the walkthrough asks about.
const FLOWS: &[(&str, &str, &str, &str)] = &[
    ("default/frontend", "default/backend", "80", "TCP"),
    ("default/backend", "default/frontend", "80", "TCP"),
    ("default/frontend", "kube-system/kube-dns", "53", "UDP"),
    ("default/backend", "cassandra/cassandra", "80", "TCP"),
    ("default/frontend", "default/backend", "http", "TCP"),
];

fn netpol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .output()
        .expect("run netpol")
}

/// stdout of a netpol run that must exit with `code`.
fn netpol_ok(args: &[&str], code: i32) -> String {
    let out = netpol(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "netpol {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Applies a step's files with kubectl, then sets each Pod's status (podIP,
/// podIPs, phase Running) through the status subresource, as a kubelet would.
fn apply_step(cp: &ControlPlane, step: &str) {
    cp.apply_with_status(&walkthrough(step)).expect("kubectl apply, then each pod's status");
}

/// The explanation without origins (` (file.yaml:line:col)` or ` (cluster:...)`), which differ by source.
fn without_origins(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(" (") {
        let inner = &rest[start + 2..];
        let Some(end) = inner.find(')') else { break };
        let origin = &inner[..end];
        out.push_str(&rest[..start]);
        if !(origin.starts_with("cluster:") || origin.contains(".yaml:")) {
            out.push_str(&rest[start..start + 2 + end + 1]);
        }
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn walkthrough_from_the_cluster_matches_the_files_at_every_step() {
    let cp = require_control_plane!().start().expect("control plane");
    let kubeconfig = s(cp.kubeconfig()).to_string();
    for step in STEPS {
        apply_step(&cp, step);
        let dir = walkthrough(step);
        let from_files = netpol_ok(&["matrix", "-f", s(&dir), "-o", "json"], 0);
        let from_cluster = netpol_ok(&["matrix", "--kubeconfig", &kubeconfig, "-o", "json"], 0);
        let (a, b): (Value, Value) =
            (serde_json::from_str(&from_files).unwrap(), serde_json::from_str(&from_cluster).unwrap());
        assert_eq!(a, b, "{step}: matrix from the cluster differs from the files");
        for (from, to, port, protocol) in FLOWS {
            let args = ["--from", from, "--to", to, "--port", port, "--protocol", protocol];
            let files = netpol(&[&["check", "-f", s(&dir)][..], &args].concat());
            let cluster = netpol(&[&["check", "--kubeconfig", &kubeconfig][..], &args].concat());
            assert_eq!(files.status.code(), cluster.status.code(), "{step} {from} -> {to}:{port}: verdict");
            let (f, c) = (String::from_utf8_lossy(&files.stdout), String::from_utf8_lossy(&cluster.stdout));
            assert_eq!(without_origins(&f), without_origins(&c), "{step} {from} -> {to}:{port}: reasons");
            if c.contains("  isolated for") {
                assert!(c.contains("(cluster:networkpolicies/"), "origins name the API objects:\n{c}");
            }
        }
    }
}

#[test]
fn what_if_files_on_top_of_the_cluster_and_without() {
    let cp = require_control_plane!().start().expect("control plane");
    let kubeconfig = s(cp.kubeconfig()).to_string();
    apply_step(&cp, "step-01-no-policies");
    apply_step(&cp, "step-02-default-deny");
    let matrix = |args: &[&str]| -> Value { serde_json::from_str(&netpol_ok(args, 0)).expect("json") };
    // Step 4's files (a changed default-deny and two new policies) on top of step 2.
    let step4 = walkthrough("step-04-backend-ingress");
    let what_if = matrix(&["matrix", "--kubeconfig", &kubeconfig, "-f", s(&step4), "-o", "json"]);
    assert_eq!(what_if, matrix(&["matrix", "-f", s(&step4), "-o", "json"]), "step 2 + step 4's files = step 4");
    // The policy files alone (no pods or namespaces in them) give the same answer.
    let policies: Vec<String> =
        ["backend.yaml", "frontend.yaml", "default-deny.yaml"].iter().map(|f| s(&step4.join(f)).to_string()).collect();
    let mut args = vec!["matrix", "--kubeconfig", &kubeconfig, "-o", "json"];
    for p in &policies {
        args.extend(["-f", p]);
    }
    let out = netpol(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("NP0052"), "live namespaces are declared");
    assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), what_if, "policies only");
    // As if default-deny were deleted: no isolation, step 1's answers.
    let without = matrix(&["matrix", "--kubeconfig", &kubeconfig, "--without", "default/default-deny", "-o", "json"]);
    let step1 = walkthrough("step-01-no-policies");
    assert_eq!(without, matrix(&["matrix", "-f", s(&step1), "-o", "json"]), "--without default/default-deny");
    // validate on the cluster: the DNS trap of step 2, named by the live object.
    let text = netpol_ok(&["validate", "--kubeconfig", &kubeconfig], 0);
    assert!(
        text.starts_with(
            "cluster:networkpolicies/default/default-deny: warning[NP0054]: `default/default-deny` isolates"
        ),
        "{text}"
    );
    // ... and gone once step 5's files (the DNS rule) are applied on top.
    let step5 = walkthrough("step-05-dns-allowed");
    let text = netpol_ok(&["validate", "--kubeconfig", &kubeconfig, "-f", s(&step5)], 0);
    assert!(text.starts_with("0 errors, 0 warnings"), "{text}");
    // Leaving out what is not there is an error, not a silent no-op.
    let out = netpol(&["matrix", "--kubeconfig", &kubeconfig, "--without", "default/nope", "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("networkpolicy/default/nope is not in the cluster"), "{err}");
}

#[test]
fn forbidden_and_unreachable_exit_2_with_what_is_missing() {
    let cp = require_control_plane!().start().expect("control plane");
    // May list namespaces and networkpolicies, not pods.
    let rules = [
        Rule::new(&["list"], "", &["namespaces"]).cluster_wide(),
        Rule::new(&["list"], "networking.k8s.io", &["networkpolicies"]).cluster_wide(),
    ];
    let creds = cp.mint_token("netpol-reader", "reader", &rules).expect("token");
    let out = netpol(&["matrix", "--kubeconfig", s(&creds.kubeconfig)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot list pods at cluster scope: "), "{err}");
    assert!(err.contains(&creds.user), "names the user: {err}");
    // Services are optional: with pods allowed, a refusal there is a note.
    let rules = [
        Rule::new(&["list"], "", &["namespaces", "pods"]).cluster_wide(),
        Rule::new(&["list"], "networking.k8s.io", &["networkpolicies"]).cluster_wide(),
    ];
    let creds = cp.mint_token("netpol-reader", "pods-reader", &rules).expect("token");
    let out = netpol(&["get", "-A", "--kubeconfig", s(&creds.kubeconfig)]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("note: cannot list services at cluster scope"), "{err}");

    // Nothing listens on the kubeconfig's port: the address and the OS error.
    let admin = std::fs::read_to_string(cp.kubeconfig()).expect("kubeconfig");
    let dead = admin.replace(cp.server(), "https://127.0.0.1:1");
    let path = cp.dir().join("dead.kubeconfig");
    std::fs::write(&path, dead).expect("write");
    let out = netpol(&["matrix", "--kubeconfig", s(&path)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the API server at https://127.0.0.1:1"), "{err}");
    assert!(err.contains("os error 111") || err.contains("refused"), "{err}");

    // A wrong token: the credentials are refused.
    let minted = std::fs::read_to_string(&creds.kubeconfig).expect("kubeconfig");
    assert!(minted.contains(&creds.token));
    let bad = minted.replace(&creds.token, "not-a-token");
    let path = cp.dir().join("bad.kubeconfig");
    std::fs::write(&path, bad).expect("write");
    let out = netpol(&["matrix", "--kubeconfig", s(&path)]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("401 Unauthorized"), "{err}");
}

#[test]
fn get_and_describe_print_what_kubectl_prints() {
    let cp = require_control_plane!().start().expect("control plane");
    let kubeconfig = s(cp.kubeconfig()).to_string();
    for step in STEPS {
        apply_step(&cp, step);
    }
    // describe: kubectl's text byte for byte, then netpol's "Matches now" block.
    for (ns, name) in [("default", "default-deny"), ("default", "backend"), ("cassandra", "cassandra")] {
        let kubectl = cp.kubectl_output(&["describe", "networkpolicy", name, "-n", ns], None).expect("describe");
        let ours = netpol_ok(&["describe", "--kubeconfig", &kubeconfig, "-n", ns, "networkpolicy", name], 0);
        assert!(ours.starts_with(&kubectl), "netpol describe {ns}/{name}:\n{ours}\nkubectl:\n{kubectl}");
        assert!(ours[kubectl.len()..].starts_with("Matches now (netpol):\n"), "{ours}");
        assert!(kubectl.contains("Created on:"), "{kubectl}");
    }
    // get: the same table (the AGE column may tick between the two runs, and
    // widen: compare the words, ages masked).
    let age = |t: &str| {
        let is_age = |w: &str| {
            w.len() > 1 && w[..w.len() - 1].bytes().all(|b| b.is_ascii_digit()) && w.ends_with(['s', 'm', 'h', 'd'])
        };
        t.lines()
            .map(|l| l.split_whitespace().map(|w| if is_age(w) { "AGE" } else { w }).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
    };
    for scope in [&["-A"][..], &["-n", "default"][..], &[][..]] {
        let mut args = vec!["get", "networkpolicies"];
        args.extend(scope);
        let kubectl = cp.kubectl_output(&args, None).expect("kubectl get");
        let mut ours = vec!["get", "--kubeconfig", &kubeconfig];
        ours.extend(scope);
        let ours = netpol_ok(&ours, 0);
        assert_eq!(age(&ours), age(&kubectl), "get {scope:?}:\n{ours}\nkubectl:\n{kubectl}");
    }
    // As a kubectl plugin: kubectl hands its flags (--kubeconfig, -n, -A) to kubectl-netpol.
    let bin = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_netpol"), bin.path().join("kubectl-netpol")).expect("link");
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    for args in [
        &["get", "-A"][..],
        &["get", "-n", "cassandra", "-o", "wide"][..],
        &["describe", "-n", "default", "backend"][..],
    ] {
        // Not cp.kubectl(): kubectl refuses flags before a plugin's name.
        let plugin = Command::new(std::env::var("NETPOL_KUBECTL").unwrap_or_else(|_| "kubectl".to_string()))
            .env("PATH", &path)
            .env("HOME", "/nonexistent")
            .arg("netpol")
            .args(args)
            .arg(format!("--kubeconfig={kubeconfig}"))
            .output()
            .expect("kubectl netpol");
        assert!(plugin.status.success(), "kubectl netpol {args:?}: {}", String::from_utf8_lossy(&plugin.stderr));
        let direct = netpol_ok(&[args, &["--kubeconfig", &kubeconfig][..]].concat(), 0);
        assert_eq!(age(&String::from_utf8_lossy(&plugin.stdout)), age(&direct), "kubectl netpol {args:?}");
    }
    // -o wide: the pods each policy selects now.
    let wide = netpol_ok(&["get", "--kubeconfig", &kubeconfig, "-n", "default", "-o", "wide"], 0);
    let line = wide.lines().find(|l| l.starts_with("default-deny ")).expect("default-deny row");
    assert!(line.split_whitespace().rev().take(2).all(|n| n == "2"), "selects frontend and backend: {line}");
    // -o json: the objects as the API server returns them (spec fields).
    let json: Value = serde_json::from_str(&netpol_ok(
        &["get", "netpol", "default-deny", "--kubeconfig", &kubeconfig, "-n", "default", "-o", "json"],
        0,
    ))
    .expect("json");
    let server: Value = serde_json::from_str(
        &cp.kubectl_output(&["get", "netpol", "default-deny", "-n", "default", "-o", "json"], None).expect("get"),
    )
    .expect("json");
    assert_eq!(json["spec"], server["spec"], "spec as the server stores it");
    assert_eq!(json["kind"], "NetworkPolicy");
}

#[test]
fn lists_are_read_page_by_page() {
    let cp = require_control_plane!().start().expect("control plane");
    cp.ensure_namespaces(["bulk"]).expect("namespace");
    // More than two pages of 500.
    let pods: Vec<Value> = (0..1_105)
        .map(|i| {
            serde_json::json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("p{i}"), "namespace": "bulk", "labels": {"app": format!("a{}", i % 7)}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            })
        })
        .collect();
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": pods});
    cp.kubectl_output(&["create", "-f", "-"], Some(&list.to_string())).expect("create pods");
    let served = cp.kubectl_output(&["get", "pods", "-A", "--no-headers"], None).expect("get").lines().count();
    assert_eq!(served, 1_105);
    let kubeconfig = s(cp.kubeconfig()).to_string();
    let wide = netpol_ok(&["get", "--kubeconfig", &kubeconfig, "-A"], 0);
    assert!(wide.is_empty(), "no policies yet: {wide}");
    let policy = serde_json::json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "all", "namespace": "bulk"}, "spec": {"podSelector": {}},
    });
    cp.apply(&policy.to_string()).expect("policy");
    let wide = netpol_ok(&["get", "--kubeconfig", &kubeconfig, "-n", "bulk", "-o", "wide"], 0);
    let row = wide.lines().nth(1).expect("a row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[cells.len() - 3..], ["Ingress", "1105", "1105"], "every pod of every page is selected: {wide}");
}

/// Ordered policies from the cluster (their CRDs installed) and as files on top
/// of it: the AdminNetworkPolicy that denies what step 4 allows, first as a
/// what-if file, then created in the API; and the Calico ServiceAccount example
/// (ServiceAccounts, pods running as them, a NetworkPolicy and a
/// GlobalNetworkPolicy of projectcalico.org/v3) answers from the cluster as
/// from its files, with origins naming the API objects.
#[test]
fn ordered_policies_from_the_cluster_and_as_what_if() {
    let cp = require_control_plane!().start().expect("control plane");
    let kubeconfig = s(cp.kubeconfig()).to_string();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kube/tests/data");
    apply_step(&cp, "step-01-no-policies");
    apply_step(&cp, "step-04-backend-ingress");
    let flow = ["--from", "default/frontend", "--to", "default/backend", "--port", "80"];
    let check = |extra: &[&str], code: i32| {
        netpol_ok(&[&["check", "--kubeconfig", &kubeconfig][..], extra, &flow].concat(), code)
    };
    assert!(check(&[], 0).starts_with("ALLOWED"));
    // What-if: the AdminNetworkPolicy as a file on top of the cluster.
    let anp = data.join("anp-deny-frontend.yaml");
    let text = check(&["-f", s(&anp)], 1);
    assert!(text.contains("[admin] Deny by AdminNetworkPolicy/deny-frontend-to-backend rule 'no-frontend'"), "{text}");
    // The same object in the API.
    let kubectl = |args: &[&str]| cp.kubectl_output(args, None).unwrap_or_else(|e| panic!("kubectl {args:?}: {e}"));
    kubectl(&["apply", "-f", s(&data.join("ordered-crds.yaml"))]);
    kubectl(&["apply", "-f", s(&data.join("calico-crds.yaml"))]);
    kubectl(&["wait", "--for=condition=Established", "--timeout=30s", "crd", "--all"]);
    kubectl(&["apply", "-f", s(&anp)]);
    let text = check(&[], 1);
    assert!(text.contains("[admin] Deny by AdminNetworkPolicy/deny-frontend-to-backend rule 'no-frontend'"), "{text}");
    assert!(text.contains("(cluster:adminnetworkpolicies/deny-frontend-to-backend"), "origin in the API:\n{text}");

    // Calico policies selecting by ServiceAccount, from the cluster as from the files.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/calico-service-accounts");
    cp.apply_with_status(&example).expect("kubectl apply the example, then the pods' status");
    let pairs = [
        ("shop/web-0", "shop/api-0", "8080"),
        ("shop/job-0", "shop/api-0", "8080"),
        ("shop/legacy-0", "shop/api-0", "8080"),
        ("ops/prom-0", "shop/api-0", "9090"),
        ("ops/impostor-0", "shop/api-0", "8080"),
        ("shop/web-0", "ops/prom-0", "9090"),
    ];
    let mut allowed = 0;
    for (from, to, port) in pairs {
        let args = ["--from", from, "--to", to, "--port", port];
        let files = netpol(&[&["check", "-f", s(&example)][..], &args].concat());
        let cluster = netpol(&[&["check", "--kubeconfig", &kubeconfig][..], &args].concat());
        let (f, c) = (String::from_utf8_lossy(&files.stdout), String::from_utf8_lossy(&cluster.stdout));
        assert_eq!(files.status.code(), cluster.status.code(), "{from} -> {to}:{port}:\nfiles:\n{f}\ncluster:\n{c}");
        assert_eq!(without_origins(&f), without_origins(&c), "{from} -> {to}:{port}: reasons");
        allowed += usize::from(files.status.code() == Some(0));
    }
    assert_eq!(allowed, 2, "web-0 to api-0:8080 and prom-0 to api-0:9090 only");
}

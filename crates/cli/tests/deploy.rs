//! Shipping the agent (issue 10): `deploy/` and the Helm chart `charts/netpol`
//! are the same objects (so they cannot drift), helm lints the chart, values
//! change the DaemonSet as they say, a real API server accepts both, and the
//! agent's ServiceAccount, with its own token, may do exactly what the agent
//! needs. helm comes through `require_helm!`, the API server through
//! `require_control_plane!` (CI requires both).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use netpol_testkit::{require_control_plane, require_helm, ControlPlane};
use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn chart() -> String {
    repo().join("charts/netpol").display().to_string()
}

fn deploy_dir() -> String {
    repo().join("deploy").display().to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The objects of a YAML stream (documents with only comments are no objects).
fn objects(yaml: &str, what: &str) -> Vec<Value> {
    let docs: Vec<Value> =
        serde_saphyr::from_str_multiple(yaml).unwrap_or_else(|e| panic!("{what} is not YAML: {e}\n{yaml}"));
    docs.into_iter().filter(|doc| !doc.is_null()).collect()
}

/// Every object of deploy/, file by file in the order `kubectl apply -f deploy/` applies them.
fn deploy_objects() -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .expect("read deploy/")
        .map(|entry| entry.expect("a dir entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "deploy/ has no YAML");
    let yaml = |path: &PathBuf| std::fs::read_to_string(path).expect("read a deploy/ file");
    files.iter().flat_map(|path| objects(&yaml(path), &path.display().to_string())).collect()
}

/// `helm ARGS`, which must succeed; its stdout.
fn helm_ok(helm: &Path, args: &[&str]) -> String {
    let out = Command::new(helm).args(args).stdin(Stdio::null()).output().expect("run helm");
    assert!(
        out.status.success(),
        "helm {} failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The text of `helm template netpol charts/netpol -n netpol-system ARGS`.
fn render(helm: &Path, args: &[&str]) -> String {
    let chart = chart();
    helm_ok(helm, &[&["template", "netpol", &chart, "--namespace", "netpol-system"][..], args].concat())
}

/// `kind/name` -> object, for objects that must be unique by kind and name.
fn by_kind_and_name(objects: Vec<Value>) -> BTreeMap<String, Value> {
    let mut map = BTreeMap::new();
    for object in objects {
        let key = format!(
            "{}/{}",
            object["kind"].as_str().expect("a kind"),
            object["metadata"]["name"].as_str().expect("a name")
        );
        assert!(map.insert(key.clone(), object).is_none(), "{key} twice");
    }
    map
}

/// The labels Helm adds and deploy/ does not have.
const HELM_LABELS: [&str; 2] = ["helm.sh/chart", "app.kubernetes.io/managed-by"];

/// The object without [`HELM_LABELS`] (asserting they were there, on the object's own labels).
fn without_helm_labels(mut object: Value) -> Value {
    let labels = object["metadata"]["labels"].as_object_mut().expect("chart objects have labels");
    for label in HELM_LABELS {
        assert!(labels.remove(label).is_some(), "no {label} label");
    }
    object
}

/// The chart's objects, Helm's labels removed, by kind and name.
fn rendered(helm: &Path, args: &[&str]) -> BTreeMap<String, Value> {
    let objects = objects(&render(helm, args), "helm template");
    by_kind_and_name(objects.into_iter().map(without_helm_labels).collect())
}

fn daemonset(objects: &BTreeMap<String, Value>) -> &Value {
    &objects["DaemonSet/netpol-agent"]
}

#[test]
fn deploy_has_what_the_agent_needs_and_nothing_more() {
    let objects = by_kind_and_name(deploy_objects());
    let keys: Vec<&str> = objects.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "ClusterRole/netpol-agent",
            "ClusterRoleBinding/netpol-agent",
            "DaemonSet/netpol-agent",
            "Namespace/netpol-system",
            "ServiceAccount/netpol-agent"
        ]
    );

    // The ClusterRole: exactly these (group, resource, verb) triples.
    let mut granted = BTreeSet::new();
    for rule in objects["ClusterRole/netpol-agent"]["rules"].as_array().expect("rules") {
        let strings = |field: &str| -> Vec<String> {
            rule[field].as_array().expect(field).iter().map(|s| s.as_str().expect("a string").to_string()).collect()
        };
        for group in strings("apiGroups") {
            for resource in strings("resources") {
                for verb in strings("verbs") {
                    assert!(granted.insert((group.clone(), resource.clone(), verb)), "granted twice");
                }
            }
        }
        assert!(rule.get("resourceNames").is_none() && rule.get("nonResourceURLs").is_none(), "{rule}");
    }
    let want: BTreeSet<(String, String, String)> = [
        ("", "pods", "list"),
        ("", "pods", "watch"),
        ("", "namespaces", "list"),
        ("", "namespaces", "watch"),
        ("networking.k8s.io", "networkpolicies", "list"),
        ("networking.k8s.io", "networkpolicies", "watch"),
        ("", "nodes", "list"),
        ("", "nodes", "watch"),
        ("", "serviceaccounts", "list"),
        ("", "serviceaccounts", "watch"),
        ("policy.networking.k8s.io", "adminnetworkpolicies", "list"),
        ("policy.networking.k8s.io", "adminnetworkpolicies", "watch"),
        ("policy.networking.k8s.io", "baselineadminnetworkpolicies", "list"),
        ("policy.networking.k8s.io", "baselineadminnetworkpolicies", "watch"),
        ("policy.networking.k8s.io", "clusternetworkpolicies", "list"),
        ("policy.networking.k8s.io", "clusternetworkpolicies", "watch"),
        ("projectcalico.org", "tiers", "list"),
        ("projectcalico.org", "tiers", "watch"),
        ("projectcalico.org", "globalnetworkpolicies", "list"),
        ("projectcalico.org", "globalnetworkpolicies", "watch"),
        ("projectcalico.org", "networkpolicies", "list"),
        ("projectcalico.org", "networkpolicies", "watch"),
        ("", "events", "create"),
        ("", "events", "patch"),
        ("events.k8s.io", "events", "create"),
        ("events.k8s.io", "events", "patch"),
    ]
    .iter()
    .map(|(g, r, v)| (g.to_string(), r.to_string(), v.to_string()))
    .collect();
    assert_eq!(granted, want);

    let sa = json!({"kind": "ServiceAccount", "name": "netpol-agent", "namespace": "netpol-system"});
    let binding = &objects["ClusterRoleBinding/netpol-agent"];
    assert_eq!(binding["subjects"], json!([sa]));
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "netpol-agent"})
    );

    let ds = &objects["DaemonSet/netpol-agent"];
    assert_eq!(ds["metadata"]["namespace"], "netpol-system");
    assert_eq!(ds["spec"]["updateStrategy"], json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}}));
    let selector = &ds["spec"]["selector"]["matchLabels"];
    let pod_labels = ds["spec"]["template"]["metadata"]["labels"].as_object().expect("pod labels");
    for (key, value) in selector.as_object().expect("matchLabels") {
        assert_eq!(pod_labels.get(key), Some(value), "the selector selects the pods: {key}");
    }
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "netpol-agent");
    assert_eq!(pod["hostNetwork"], true);
    assert_eq!(pod["dnsPolicy"], "ClusterFirstWithHostNet");
    assert_eq!(pod["priorityClassName"], "system-node-critical");
    assert_eq!(pod["tolerations"], json!([{"operator": "Exists"}]));
    let containers = pod["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1);
    let agent = &containers[0];
    assert_eq!(agent["image"], "netpol:0.1.0");
    assert_eq!(
        agent["args"],
        json!([
            "agent",
            "--kubernetes",
            "--metrics-addr",
            "0.0.0.0:9101",
            "--log-format",
            "json",
            "--resync-seconds",
            "300"
        ])
    );
    assert_eq!(agent["env"], json!([{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]));
    assert_eq!(agent["ports"], json!([{"name": "metrics", "containerPort": 9101, "protocol": "TCP"}]));
    assert_eq!(agent["livenessProbe"]["httpGet"], json!({"path": "/healthz", "port": "metrics"}));
    assert_eq!(agent["readinessProbe"]["httpGet"], json!({"path": "/readyz", "port": "metrics"}));
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(agent["resources"][kind][resource].is_string(), "{kind}.{resource}");
        }
    }
    let security = &agent["securityContext"];
    assert_eq!(security["capabilities"], json!({"drop": ["ALL"], "add": ["NET_ADMIN", "NET_RAW"]}));
    assert!(security.get("privileged").is_none() && pod.get("securityContext").is_none(), "not privileged");
}

#[test]
fn helm_lint_strict_passes() {
    let helm = require_helm!();
    let out = helm_ok(&helm, &["lint", "--strict", &chart()]);
    assert!(out.contains("1 chart(s) linted, 0 chart(s) failed"), "{out}");
    assert!(!out.contains("[WARNING]") && !out.contains("[ERROR]"), "{out}");
}

#[test]
fn the_chart_with_default_values_renders_the_objects_of_deploy() {
    let helm = require_helm!();
    let chart = rendered(&helm, &[]);
    let mut deploy = by_kind_and_name(deploy_objects());
    // The one difference: a chart does not create its release's namespace
    // (`helm install --namespace netpol-system --create-namespace`).
    assert!(deploy.remove("Namespace/netpol-system").is_some());
    assert_eq!(chart.keys().collect::<Vec<_>>(), deploy.keys().collect::<Vec<_>>());
    for (key, object) in &deploy {
        let (a, b) =
            (serde_json::to_string_pretty(&chart[key]).unwrap(), serde_json::to_string_pretty(object).unwrap());
        assert_eq!(a, b, "{key}: the chart (left) differs from deploy/ (right)");
    }
}

#[test]
fn changed_values_change_the_daemonset_and_nothing_else() {
    let helm = require_helm!();
    let default = rendered(&helm, &[]);
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("values.yaml");
    std::fs::write(
        &values,
        "nodeSelector: {node-role.example.com/edge: \"true\"}\n\
         tolerations: [{key: dedicated, operator: Equal, value: edge, effect: NoSchedule}]\n\
         resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: null, memory: 128Mi}}\n\
         extraArgs: [--reset-denied]\n",
    )
    .unwrap();
    let changed = rendered(
        &helm,
        &[
            "--set=image.repository=registry.example.com/team/netpol,image.tag=dev,image.pullPolicy=Always",
            "--set=metrics.port=9200,logFormat=text,resyncSeconds=60",
            "-f",
            values.to_str().unwrap(),
        ],
    );

    let mut want = daemonset(&default).clone();
    let pod = &mut want["spec"]["template"]["spec"];
    // Maps merge with the defaults (Helm's rule; null deletes a key), lists replace them.
    pod["nodeSelector"] = json!({"kubernetes.io/os": "linux", "node-role.example.com/edge": "true"});
    pod["tolerations"] = json!([{"key": "dedicated", "operator": "Equal", "value": "edge", "effect": "NoSchedule"}]);
    let agent = &mut pod["containers"][0];
    agent["image"] = json!("registry.example.com/team/netpol:dev");
    agent["imagePullPolicy"] = json!("Always");
    agent["args"] = json!([
        "agent",
        "--kubernetes",
        "--metrics-addr",
        "0.0.0.0:9200",
        "--log-format",
        "text",
        "--resync-seconds",
        "60",
        "--reset-denied"
    ]);
    agent["ports"][0]["containerPort"] = json!(9200);
    agent["resources"] = json!({"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}});
    let (got, want) =
        (serde_json::to_string_pretty(daemonset(&changed)).unwrap(), serde_json::to_string_pretty(&want).unwrap());
    assert_eq!(got, want);
    for (key, object) in &default {
        if key != "DaemonSet/netpol-agent" {
            assert_eq!(&changed[key], object, "{key} does not depend on these values");
        }
    }

    // Another release in another namespace: its own names, bound to its own ServiceAccount.
    let objects =
        objects(&helm_ok(&helm, &["template", "edge", &chart(), "--namespace", "kube-system"]), "helm template");
    let objects = by_kind_and_name(objects);
    let binding = &objects["ClusterRoleBinding/edge-netpol-agent"];
    assert_eq!(binding["roleRef"]["name"], "edge-netpol-agent");
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "ServiceAccount", "name": "edge-netpol-agent", "namespace": "kube-system"}])
    );
    let ds = &objects["DaemonSet/edge-netpol-agent"];
    assert_eq!(ds["metadata"]["namespace"], "kube-system");
    assert_eq!(ds["spec"]["template"]["spec"]["serviceAccountName"], "edge-netpol-agent");
    assert_eq!(ds["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"], "edge");
}

#[test]
fn the_values_schema_refuses_what_the_agent_would_refuse() {
    let helm = require_helm!();
    for (set, field) in [
        ("logFormat=xml", "logFormat"),
        ("metrics.port=0", "metrics.port"),
        ("metrics.port=70000", "metrics.port"),
        ("resyncSeconds=-1", "resyncSeconds"),
        ("image.pullPolicy=Sometimes", "image.pullPolicy"),
    ] {
        let out = Command::new(&helm)
            .args(["template", "netpol", &chart(), "--set", set])
            .stdin(Stdio::null())
            .output()
            .expect("run helm");
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "--set {set} rendered:\n{}", text(&out.stdout));
        assert!(stderr.contains("values don't meet the specifications of the schema"), "--set {set}: {stderr}");
        assert!(stderr.contains(&format!("- at '/{}'", field.replace('.', "/"))), "--set {set}: {stderr}");
    }
}

/// `kubectl ARGS` as admin, with `stdin`; its output whatever the status.
fn kubectl(cp: &ControlPlane, args: &[&str], stdin: Option<&str>) -> Output {
    kubectl_as(cp, cp.kubeconfig(), args, stdin)
}

fn kubectl_as(cp: &ControlPlane, kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = cp.kubectl_as(kubeconfig);
    cmd.args(args).stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run kubectl");
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).expect("feed kubectl");
    }
    child.wait_with_output().expect("wait for kubectl")
}

fn ok(out: Output, what: &str) -> String {
    assert!(out.status.success(), "{what} failed ({}):\n{}{}", out.status, text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// Every field `want` sets is in `got` with the same value (`got` may have more: server defaults).
fn assert_stored(got: &Value, want: &Value, path: &str) {
    match (got, want) {
        (Value::Object(got), Value::Object(want)) => {
            for (key, value) in want {
                let at = format!("{path}.{key}");
                assert_stored(got.get(key).unwrap_or_else(|| panic!("{at} was not stored")), value, &at);
            }
        }
        (Value::Array(got), Value::Array(want)) => {
            assert_eq!(got.len(), want.len(), "{path}: {got:?} stored for {want:?}");
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                assert_stored(g, w, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

#[test]
fn the_api_server_accepts_the_chart_and_deploy() {
    let binaries = require_control_plane!();
    let helm = require_helm!();
    let cp = binaries.start().unwrap_or_else(|e| panic!("{e}"));

    // The chart, as `helm install --create-namespace` would put it in a namespace of its own.
    let chart = chart();
    let manifest = helm_ok(&helm, &["template", "netpol", &chart, "--namespace", "netpol-helm"]);
    ok(kubectl(&cp, &["create", "namespace", "netpol-helm"], None), "create namespace");
    let args = ["apply", "--dry-run=server", "--validate=strict", "-f", "-"];
    let out = ok(kubectl(&cp, &args, Some(&manifest)), "apply the chart --dry-run=server");
    for object in [
        "serviceaccount/netpol-agent",
        "clusterrole.rbac.authorization.k8s.io/netpol-agent",
        "daemonset.apps/netpol-agent",
    ] {
        assert!(out.contains(&format!("{object} created (server dry run)")), "{out}");
    }
    let stored =
        ok(kubectl(&cp, &["get", "daemonsets,serviceaccounts", "-n", "netpol-helm", "-o", "name"], None), "get");
    assert!(!stored.contains("netpol-agent"), "a dry run stored nothing: {stored}");

    // deploy/, for real: everything it says is what the server stored.
    let out = ok(kubectl(&cp, &["apply", "--validate=strict", "-f", &deploy_dir()], None), "apply -f deploy/");
    assert!(out.contains("daemonset.apps/netpol-agent created"), "{out}");
    for object in deploy_objects() {
        let kind = object["kind"].as_str().unwrap().to_lowercase();
        let name = object["metadata"]["name"].as_str().unwrap();
        let mut args = vec!["get", &kind, name, "-o", "json"];
        if let Some(namespace) = object["metadata"]["namespace"].as_str() {
            args.extend(["-n", namespace]);
        }
        let got: Value = serde_json::from_str(&ok(kubectl(&cp, &args, None), "get")).unwrap();
        assert_stored(&got, &object, &format!("{kind}/{name}"));
    }
}

/// `kubectl auth can-i ARGS` with `kubeconfig`: the server's answer.
fn can_i(cp: &ControlPlane, kubeconfig: &Path, args: &[&str]) -> bool {
    let out = kubectl_as(cp, kubeconfig, &[&["auth", "can-i"][..], args].concat(), None);
    match (out.status.code(), text(&out.stdout).trim()) {
        (Some(0), "yes") => true,
        (Some(1), "no") => false,
        _ => {
            panic!("kubectl auth can-i {}: {}\n{}{}", args.join(" "), out.status, text(&out.stdout), text(&out.stderr))
        }
    }
}

/// A SelfSubjectAccessReview as `kubeconfig`'s user: may it `verb` the
/// `resource` of `group` at cluster scope?
fn may(cp: &ControlPlane, kubeconfig: &Path, verb: &str, group: &str, resource: &str) -> bool {
    let review = json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": verb, "group": group, "resource": resource}},
    });
    let args = ["create", "--validate=false", "-f", "-", "-o", "jsonpath={.status.allowed}"];
    let out = kubectl_as(cp, kubeconfig, &args, Some(&review.to_string()));
    ok(out, "a SelfSubjectAccessReview") == "true"
}

#[test]
fn the_agent_service_account_may_do_exactly_what_the_agent_needs() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    ok(kubectl(&cp, &["apply", "-f", &deploy_dir()], None), "apply -f deploy/");
    let agent = cp.token("netpol-system", "netpol-agent").unwrap_or_else(|e| panic!("{e}"));
    let whoami =
        kubectl_as(&cp, &agent.kubeconfig, &["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"], None);
    assert_eq!(ok(whoami, "auth whoami"), "system:serviceaccount:netpol-system:netpol-agent");

    let yes: &[&[&str]] = &[
        &["list", "pods", "-A"],
        &["watch", "pods", "-A"],
        &["list", "namespaces"],
        &["watch", "namespaces"],
        &["list", "networkpolicies.networking.k8s.io", "-A"],
        &["watch", "networkpolicies.networking.k8s.io", "-A"],
        &["list", "nodes"],
        &["watch", "nodes"],
        &["list", "serviceaccounts", "-A"],
        &["watch", "serviceaccounts", "-A"],
        &["create", "events", "-n", "default"],
        &["patch", "events", "-n", "kube-system"],
        &["create", "events.events.k8s.io", "-n", "default"],
        &["patch", "events.events.k8s.io", "-n", "default"],
    ];
    let no: &[&[&str]] = &[
        &["get", "secrets", "-A"],
        &["list", "secrets", "-A"],
        &["get", "secrets", "-n", "netpol-system"],
        &["list", "secrets", "-n", "netpol-system"],
        &["get", "pods", "-A"],
        &["create", "pods", "-n", "default"],
        &["delete", "pods", "-n", "default"],
        &["patch", "pods", "-A"],
        &["update", "pods/status", "-n", "default"],
        &["get", "networkpolicies.networking.k8s.io", "-A"],
        &["update", "networkpolicies.networking.k8s.io", "-A"],
        &["create", "networkpolicies.networking.k8s.io", "-n", "default"],
        &["delete", "events", "-n", "default"],
        &["list", "configmaps", "-A"],
        &["list", "services", "-A"],
        &["get", "nodes"],
        &["patch", "nodes"],
        &["get", "serviceaccounts", "-A"],
        &["create", "serviceaccounts", "--subresource=token", "-n", "netpol-system"],
        &["update", "serviceaccounts", "-n", "default"],
        &["update", "daemonsets.apps", "-n", "netpol-system"],
    ];
    let mut wrong = Vec::new();
    for (args, want) in yes.iter().map(|a| (a, true)).chain(no.iter().map(|a| (a, false))) {
        if can_i(&cp, &agent.kubeconfig, args) != want {
            wrong.push(format!("can-i {} should be {}", args.join(" "), if want { "yes" } else { "no" }));
        }
    }
    // The ordered kinds' CRDs are not installed here, so kubectl cannot map
    // their names: asked by group and resource, as the API server decides.
    let policy = "policy.networking.k8s.io";
    let reviews = [
        ("list", policy, "adminnetworkpolicies", true),
        ("watch", policy, "adminnetworkpolicies", true),
        ("list", policy, "baselineadminnetworkpolicies", true),
        ("watch", policy, "baselineadminnetworkpolicies", true),
        ("list", policy, "clusternetworkpolicies", true),
        ("watch", policy, "clusternetworkpolicies", true),
        ("list", "projectcalico.org", "tiers", true),
        ("watch", "projectcalico.org", "globalnetworkpolicies", true),
        ("list", "projectcalico.org", "networkpolicies", true),
        ("watch", "projectcalico.org", "networkpolicies", true),
        ("get", policy, "adminnetworkpolicies", false),
        ("create", policy, "adminnetworkpolicies", false),
        ("update", "projectcalico.org", "networkpolicies", false),
        ("list", "crd.projectcalico.org", "networkpolicies", false),
    ];
    for (verb, group, resource, want) in reviews {
        if may(&cp, &agent.kubeconfig, verb, group, resource) != want {
            wrong.push(format!("{verb} {resource}.{group} should be {}", if want { "allowed" } else { "refused" }));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");

    // And the requests themselves, with the agent's token.
    let as_agent = |args: &[&str], stdin: Option<&str>| kubectl_as(&cp, &agent.kubeconfig, args, stdin);
    ok(as_agent(&["get", "pods,networkpolicies", "-A"], None), "list pods and networkpolicies");
    ok(as_agent(&["get", "namespaces"], None), "list namespaces");
    let refused = as_agent(&["get", "secrets", "-A"], None);
    assert!(!refused.status.success(), "secrets listed");
    let err = text(&refused.stderr);
    assert!(err.contains("Forbidden") && err.contains("cannot list resource \"secrets\""), "{err}");
    let event = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "netpol-agent-test", "namespace": "default"},
        "eventTime": "2025-01-01T00:00:00.000000Z", "reportingController": "netpol.dev/agent",
        "reportingInstance": "node-1", "action": "Sync", "reason": "Applied", "type": "Normal",
        "note": "applied 3 policies", "regarding": {"kind": "Namespace", "name": "default", "apiVersion": "v1"},
    });
    ok(as_agent(&["create", "-f", "-"], Some(&event.to_string())), "create an event");
    // A repeat: the event's series, by a PATCH without a GET, as kube-rs's
    // recorder sends it. (`kubectl patch` GETs first, which the agent may
    // not; a server-side apply is a PATCH alone, and RBAC's verb is `patch`
    // whatever the patch type.)
    let mut repeat = event.clone();
    repeat["series"] = json!({"count": 2, "lastObservedTime": "2025-01-01T00:01:00.000000Z"});
    let apply = ["apply", "--server-side", "--field-manager=netpol-agent", "-f", "-"];
    ok(as_agent(&apply, Some(&repeat.to_string())), "patch the event's series");
    let get = ["get", "events.events.k8s.io", "netpol-agent-test", "-n", "default", "-o", "jsonpath={.series.count}"];
    assert_eq!(ok(kubectl(&cp, &get, None), "get the event"), "2");
}

/// The agent as the DaemonSet runs it (`--kubernetes`, JSON logs), with the
/// ServiceAccount's own token: it lists and watches what it needs, applies
/// the cluster's policies in one sync (here into a network namespace of the
/// test's own), and exits 0 with `--once`.
#[test]
fn the_agent_syncs_with_its_service_account_token() {
    let ns = netpol_testkit::require_privileged!().netns("deploy-agent");
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    ok(kubectl(&cp, &["apply", "-f", &deploy_dir()], None), "apply -f deploy/");
    let walkthrough = repo().join("examples/seed-000-walkthrough/step-04-backend-ingress");
    cp.apply_with_status(&walkthrough).unwrap_or_else(|e| panic!("{e}"));
    let agent = cp.token("netpol-system", "netpol-agent").unwrap_or_else(|e| panic!("{e}"));
    let kubeconfig = agent.kubeconfig.to_str().expect("utf-8 path");
    let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(["agent", "--kubernetes", "--kubeconfig", kubeconfig, "--once", "--netns", ns.name()])
        .args(["--log-format", "json"])
        .env("NODE_NAME", "node-1")
        .output()
        .expect("run netpol agent");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<Value> = stderr.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    let sync = lines.iter().find(|l| l["event"] == "sync").unwrap_or_else(|| panic!("no sync line: {stderr}"));
    assert_eq!(sync["changed"], true, "{stderr}");
    assert_eq!(sync["script"], "whole", "{stderr}");
    assert!(sync["rules"].as_u64().is_some_and(|n| n > 0), "{stderr}");
    let watching = lines.iter().find(|l| l["event"] == "watching").unwrap_or_else(|| panic!("{stderr}"));
    assert!(watching["message"].as_str().unwrap_or_default().ends_with("for node node-1"), "{stderr}");
    // The kernel holds the table, with the walkthrough's policy named in its rules.
    let table = Command::new("ip")
        .args(["netns", "exec", ns.name(), "nft", "list", "table", "inet", "netpol"])
        .output()
        .expect("nft list");
    let table = text(&table.stdout);
    assert!(table.contains("default/backend"), "{table}");
}

//! Loading into the model: defaulting, kinds, lists, workloads, files that fail,
//! and strict versus lenient on the same input.

use netpol_manifest::{load, LoadOptions, Loaded, Severity};
use netpol_model::{Direction, PolicyPort, PortRef, Protocol, WorkloadKind};

fn strict(text: &str) -> Loaded {
    load([("t.yaml", text)], &LoadOptions::default())
}

fn lenient(text: &str) -> Loaded {
    load([("t.yaml", text)], &LoadOptions { lenient: true, ..LoadOptions::default() })
}

fn render(loaded: &Loaded) -> String {
    loaded.diagnostics.iter().map(|d| format!("{d}\n")).collect()
}

const MISINDENTED: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: db
  namespace: prod
spec:
  podSelector:
    matchLabels:
      role: db
    policyTypes:
    - Ingress
    - Egress
    ingress:
    - ports:
      - protocal: TCP
        port: 3306
";

#[test]
fn strict_rejects_unknown_fields_and_lenient_drops_them() {
    let s = strict(MISINDENTED);
    assert!(s.has_errors());
    assert!(s.cluster.policies.is_empty(), "strict: the API server refuses the object");
    insta::assert_snapshot!("misindented_strict", render(&s));

    let l = lenient(MISINDENTED);
    assert!(!l.has_errors(), "{}", render(&l));
    assert!(l.diagnostics.iter().filter(|d| d.code == "NP0010").all(|d| d.severity == Severity::Warning));
    insta::assert_snapshot!("misindented_lenient", render(&l));
    // What the API server stores with validation off: only `podSelector.matchLabels`,
    // so the policy defaults to Ingress and allows nothing: the seed's real cluster.
    let p = &l.cluster.policies[0];
    assert_eq!(p.pod_selector.match_labels.get("role"), Some("db"));
    assert_eq!(p.policy_types, [Direction::Ingress]);
    assert!(p.policy_types_defaulted);
    assert!(p.ingress.is_empty() && p.egress.is_empty());
}

#[test]
fn lenient_still_rejects_validation_errors() {
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: 0}]\n";
    for loaded in [strict(text), lenient(text)] {
        assert_eq!(loaded.errors().map(|d| d.code).collect::<Vec<_>>(), ["NP0035"]);
        assert!(loaded.cluster.policies.is_empty());
    }
}

#[test]
fn defaulting_and_origins() {
    let text = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
  namespace: shop
  labels: {team: a}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - ports:
    - port: 80
    - port: http
      protocol: UDP
  egress:
  - to:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports:
    - {port: 8000, endPort: 8080}
";
    let loaded = strict(text);
    assert!(!loaded.has_errors(), "{}", render(&loaded));
    let p = &loaded.cluster.policies[0];
    assert_eq!(p.policy_types, [Direction::Ingress, Direction::Egress], "Egress added: egress rules present");
    assert!(p.policy_types_defaulted);
    assert_eq!(p.ingress[0].ports, [PolicyPort::number(Protocol::Tcp, 80), PolicyPort::named(Protocol::Udp, "http")]);
    assert_eq!(p.egress[0].ports, [PolicyPort::range(Protocol::Tcp, 8000, 8080)]);
    assert_eq!(p.meta.labels.get("team"), Some("a"));
    let origin = p.origin.as_ref().unwrap();
    assert_eq!((origin.file.as_ref(), origin.line, origin.column), ("t.yaml", 1, 1));
    let rule = p.egress[0].origin.as_ref().unwrap();
    assert_eq!((rule.line, rule.column), (15, 5));
    // The namespace nobody declared: created with only its name label, and a warning.
    let ns = &loaded.cluster.namespaces["shop"];
    assert!(!ns.declared);
    assert_eq!(ns.labels.to_string(), "kubernetes.io/metadata.name=shop");
    assert_eq!(loaded.diagnostics.iter().map(|d| (d.code, d.line)).collect::<Vec<_>>(), [("NP0052", 5)]);
}

#[test]
fn egress_is_not_defaulted_for_an_empty_list() {
    let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  egress: []\n";
    assert_eq!(strict(text).cluster.policies[0].policy_types, [Direction::Ingress]);
}

#[test]
fn kinds_lists_and_workloads() {
    let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: shop, labels: {env: prod}}
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1, namespace: shop, labels: {app: web}}
  spec:
    nodeName: n1
    containers:
    - name: c
      image: nginx
      ports: [{containerPort: 8080, name: http}, {containerPort: 53, protocol: UDP}]
  status: {podIP: 10.0.0.1, podIPs: [{ip: 10.0.0.1}, {ip: 'fd00::1'}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: c, image: api, ports: [{containerPort: 9000}]}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: backup, namespace: shop}
spec:
  schedule: '* * * * *'
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: backup}}
        spec: {containers: [{name: c, image: backup}], restartPolicy: Never}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  clusterIP: 10.96.0.10
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
";
    let loaded = strict(text);
    assert!(!loaded.has_errors(), "{}", render(&loaded));
    assert_eq!(loaded.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(), ["NP0008"]);
    let c = &loaded.cluster;
    assert_eq!(c.namespaces["shop"].labels.to_string(), "env=prod,kubernetes.io/metadata.name=shop");
    let pods: Vec<(String, WorkloadKind)> = c.pods.iter().map(|p| (p.key().to_string(), p.kind)).collect();
    assert_eq!(
        pods,
        [
            ("shop/web-1".into(), WorkloadKind::Pod),
            ("shop/api".into(), WorkloadKind::Deployment),
            ("shop/backup".into(), WorkloadKind::CronJob)
        ]
    );
    let web = &c.pods[0];
    assert_eq!(web.ips.len(), 2);
    assert_eq!(web.resolve_port("http", Protocol::Tcp), Some(8080));
    assert_eq!(web.ports[1].protocol, Protocol::Udp);
    assert_eq!(web.node.as_deref(), Some("n1"));
    assert_eq!(web.origin.as_ref().map(|o| o.line), Some(7));
    assert!(c.pods[1].ips.is_empty());
    assert_eq!(c.pods[1].ports[0].port, 9000);
    assert_eq!(c.pods[2].labels.get("app"), Some("backup"));
    assert_eq!(c.services[0].ports[0].target_port, PortRef::Name("http".into()));
    assert_eq!(c.services[0].cluster_ips, ["10.96.0.10".parse::<std::net::IpAddr>().unwrap()]);
}

#[test]
fn a_broken_file_does_not_stop_the_others() {
    let good = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n";
    let loaded = load([("bad.yaml", "kind: [\n"), ("good.yaml", good)], &LoadOptions::default());
    assert_eq!(loaded.diagnostics.len(), 1);
    assert_eq!((loaded.diagnostics[0].file.as_str(), loaded.diagnostics[0].code), ("bad.yaml", "NP0001"));
    assert!(loaded.cluster.namespaces.contains_key("a"));
}

#[test]
fn later_duplicate_wins() {
    let one = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {v: '1'}}\n";
    let two = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {v: '2'}}\n";
    let loaded = load([("1.yaml", one), ("2.yaml", two)], &LoadOptions::default());
    assert_eq!(loaded.cluster.namespaces["a"].labels.get("v"), Some("2"));
    let d = &loaded.diagnostics[0];
    assert_eq!((d.code, d.file.as_str()), ("NP0053", "2.yaml"));
    assert!(d.message.contains("1.yaml:1:1"), "{}", d.message);
}

#[test]
fn json_input_and_json_output() {
    let json = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "x"},
 "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80, "protocl": "TCP"}], "image": "i"}]}}"#;
    let loaded = strict(json);
    let d = loaded.errors().next().unwrap();
    assert_eq!((d.line, d.column), (2, 72));
    assert_eq!(d.help.as_deref(), Some("did you mean `protocol`?"));
    let out = serde_json::to_value(d).unwrap();
    let keys: Vec<&str> = out.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "column", "file", "help", "line", "message", "severity"]);
    assert_eq!(out["severity"], "error");
}

#[test]
fn a_pod_address_listed_twice_is_kept_once() {
    let loaded = strict(
        "apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 10.0.0.5, podIPs: [{ip: 10.0.0.5}, {ip: fd00::5}, {ip: 10.0.0.5}]}
",
    );
    let ips: Vec<String> = loaded.cluster.pods[0].ips.iter().map(|ip| ip.to_string()).collect();
    assert_eq!(ips, ["10.0.0.5", "fd00::5"]);
}

/// Issue 9: the API server rejects a container without an image
/// (`spec.containers[0].image: Required value`, in a Pod and in every pod template),
/// so the object stays out of the cluster in both modes, as every rejected object does.
#[test]
fn issue9_a_container_without_image_is_rejected_in_both_modes() {
    let text = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: prod}
spec:
  containers:
  - name: c
  - name: d
    image: ''
  initContainers:
  - {name: i, image: ' busybox'}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: prod}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - {name: c, image: nginx}
      - {name: sidecar, image: null}
---
apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: prod}
spec:
  containers: [{name: c, image: nginx}]
";
    for loaded in [strict(text), lenient(text)] {
        let images: Vec<String> = loaded.errors().filter(|d| d.code == "NP0045").map(ToString::to_string).collect();
        assert_eq!(
            images,
            [
                "t.yaml:6:5: error[NP0045]: containers[0]: `image` is required\n  = help: add `image:` to container `c` with the image it runs, e.g. `image: nginx:1.27`: the API server rejects a container without one",
                "t.yaml:8:12: error[NP0045]: containers[1]: `image` is required, and it is empty\n  = help: write the image container `d` runs, e.g. `image: nginx:1.27`: the API server rejects an empty one",
                "t.yaml:10:22: error[NP0045]: initContainers[0]: `image` \" busybox\" must not have leading or trailing whitespace\n  = help: write it without the whitespace: `image: busybox`",
                "t.yaml:22:25: error[NP0045]: containers[1]: `image` is required\n  = help: add `image:` to container `sidecar` with the image it runs, e.g. `image: nginx:1.27`: the API server rejects a container without one",
            ],
            "{}",
            render(&loaded)
        );
        let pods: Vec<String> = loaded.cluster.pods.iter().map(|p| p.key().to_string()).collect();
        assert_eq!(pods, ["prod/ok"]);
    }
}

/// A pod template keeps an image with whitespace around it as written (the API
/// server accepts it there; only a Pod's is refused).
#[test]
fn issue9_a_template_image_with_whitespace_is_accepted() {
    let text = "\
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: prod}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: ' busybox'}]
";
    let loaded = strict(text);
    assert!(!loaded.has_errors(), "{}", render(&loaded));
    assert_eq!(loaded.cluster.pods.len(), 1);
}

//! `netpol create networkpolicy`: the printed object (insta snapshots), the
//! input errors (exit 2), the seed 000 fix it writes with --allow-dns, and, on a
//! real control plane, the round trip: what it prints is accepted by
//! `kubectl apply --dry-run=server --validate=strict` and `netpol validate`, and
//! `netpol describe` of the stored object is `kubectl describe`'s text.

mod support;

use std::path::Path;
use support::run::{netpol, root};

use netpol_testkit::require_control_plane;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `netpol create networkpolicy NAME` with `args` and `--dry-run=client`: the printed object.
fn create(name: &str, args: &[&str]) -> String {
    let mut all = vec!["create", "networkpolicy", name, "--dry-run=client"];
    all.extend_from_slice(args);
    let out = netpol(&all);
    assert_eq!(out.status.code(), Some(0), "{all:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// One create invocation and what `describe` must show for it.
struct Case {
    name: &'static str,
    args: &'static [&'static str],
    namespace: &'static str,
    /// kubectl's `PodSelector:` value.
    selector: &'static str,
    types: &'static str,
    dns: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "deny-ingress",
        args: &["--policy-types", "Ingress"],
        namespace: "default",
        selector: "<none> (Allowing the specific traffic to all pods in this namespace)",
        types: "Ingress",
        dns: false,
    },
    Case {
        name: "deny-all",
        args: &["--pod-selector", "", "--policy-types", "Ingress,Egress", "-n", "shop"],
        namespace: "shop",
        selector: "<none> (Allowing the specific traffic to all pods in this namespace)",
        types: "Ingress, Egress",
        dns: false,
    },
    Case {
        name: "web-dns",
        args: &["-n", "shop", "--pod-selector", "app=web", "--policy-types", "Egress", "--allow-dns"],
        namespace: "shop",
        selector: "app=web",
        types: "Egress",
        dns: true,
    },
    Case {
        name: "db-both-dns",
        args: &[
            "--namespace",
            "db",
            "--pod-selector",
            "tier=db,app=mongo",
            "--policy-types",
            "Egress,Ingress",
            "--allow-dns",
        ],
        namespace: "db",
        selector: "app=mongo,tier=db",
        types: "Egress, Ingress",
        dns: true,
    },
    Case {
        name: "dns-adds-egress",
        args: &[
            "-n",
            "shop",
            "--pod-selector",
            "app.kubernetes.io/name=api",
            "--policy-types",
            "Ingress",
            "--allow-dns",
        ],
        namespace: "shop",
        selector: "app.kubernetes.io/name=api",
        types: "Ingress, Egress",
        dns: true,
    },
    Case {
        name: "yaml-1-1-values",
        args: &["-n", "shop", "--pod-selector", "on=yes,n=1,y=null,empty=", "--policy-types", "Ingress"],
        namespace: "shop",
        selector: "empty=,n=1,on=yes,y=null",
        types: "Ingress",
        dns: false,
    },
];

#[test]
fn printed_objects() {
    for case in CASES {
        let mut args = vec!["create", "networkpolicy", case.name, "--dry-run=client"];
        args.extend_from_slice(case.args);
        let out = netpol(&args);
        assert_eq!(out.status.code(), Some(0), "{}: {}", case.name, text(&out.stderr));
        let shown =
            format!("$ netpol {}\n--- stdout\n{}--- stderr\n{}", args.join(" "), text(&out.stdout), text(&out.stderr));
        insta::assert_snapshot!(format!("create_{}", case.name), shown);
    }
}

#[test]
fn yaml_is_the_default_and_json_the_same_object() {
    let args = ["-n", "shop", "--pod-selector", "app=web", "--policy-types", "Ingress,Egress", "--allow-dns"];
    let yaml = create("web", &args);
    assert_eq!(yaml, create("web", &[&args[..], &["-o", "yaml"]].concat()));
    let json = create("web", &[&args[..], &["-o", "json"]].concat());
    insta::assert_snapshot!("create_web_json", json);
    let from_json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(from_json["apiVersion"], "networking.k8s.io/v1");
    assert_eq!(from_json["spec"]["egress"][0]["ports"][0]["port"], 53);
    // A bare --dry-run is client (kubectl's old spelling), and an empty selector is an omitted one.
    let bare = netpol(&["create", "networkpolicy", "x", "--policy-types", "Ingress", "--dry-run"]);
    assert_eq!(text(&bare.stdout), create("x", &["--policy-types", "Ingress", "--pod-selector", ""]));
    // The alias `netpol` (as kubectl's `get netpol`).
    let alias = netpol(&["create", "netpol", "x", "--policy-types", "Ingress", "--dry-run=client"]);
    assert_eq!(text(&alias.stdout), text(&bare.stdout));
}

#[test]
fn input_errors_exit_2_and_say_why() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "bad name",
            &["create", "networkpolicy", "Web_1", "--policy-types", "Ingress", "--dry-run=client"],
            "error: invalid name `Web_1`: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ),
        (
            "bad namespace",
            &["create", "networkpolicy", "web", "-n", "My.NS", "--policy-types", "Ingress", "--dry-run=client"],
            "error: invalid namespace `My.NS`: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        ),
        (
            "lowercase policy type",
            &["create", "networkpolicy", "web", "--policy-types", "ingress", "--dry-run=client"],
            "error: --policy-types: unknown policy type `ingress`: did you mean `Ingress`? (policy types are `Ingress` and `Egress`, case-sensitive)",
        ),
        (
            "misspelled policy type",
            &["create", "networkpolicy", "web", "--policy-types", "Ingress,Egres", "--dry-run=client"],
            "error: --policy-types: unknown policy type `Egres`: did you mean `Egress`? (policy types are `Ingress` and `Egress`, case-sensitive)",
        ),
        (
            "unknown policy type",
            &["create", "networkpolicy", "web", "--policy-types", "All", "--dry-run=client"],
            "error: --policy-types: unknown policy type `All`: policy types are `Ingress` and `Egress`",
        ),
        (
            "empty policy types",
            &["create", "networkpolicy", "web", "--policy-types", "", "--dry-run=client"],
            "error: --policy-types: no policy type: give `Ingress`, `Egress` or `Ingress,Egress`",
        ),
        (
            "selector without value",
            &["create", "networkpolicy", "web", "--pod-selector", "app", "--policy-types", "Ingress", "--dry-run=client"],
            "error: --pod-selector: `app` is not `key=value`: a pod selector is `key=value` pairs separated by commas, e.g. `app=web,tier=frontend`",
        ),
        (
            "set-based selector",
            &["create", "networkpolicy", "web", "--pod-selector", "app!=web", "--policy-types", "Ingress", "--dry-run=client"],
            "error: --pod-selector: `app!=web` is not `key=value`: a pod selector is `key=value` pairs separated by commas, e.g. `app=web,tier=frontend`",
        ),
        (
            "bad label key",
            &["create", "networkpolicy", "web", "--pod-selector", "app_/x=web", "--policy-types", "Ingress", "--dry-run=client"],
            "error: --pod-selector: invalid label key `app_/x`: prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ),
        (
            "bad label value",
            &["create", "networkpolicy", "web", "--pod-selector", "app=web/1", "--policy-types", "Ingress", "--dry-run=client"],
            "error: --pod-selector: invalid label value `web/1` for `app`: a valid label must be an empty string or must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        ),
        (
            "key twice",
            &["create", "networkpolicy", "web", "--pod-selector", "app=web,app=db", "--policy-types", "Ingress", "--dry-run=client"],
            "error: --pod-selector: label key `app` is given twice, with `web` and `db`",
        ),
        (
            "no dry run",
            &["create", "networkpolicy", "web", "--policy-types", "Ingress"],
            "error: creating through the API needs a cluster: give --kubeconfig PATH or --context NAME (no kubeconfig in $KUBECONFIG or ~/.kube/config), or print it with --dry-run=client -o yaml",
        ),
        (
            "server dry run",
            &["create", "networkpolicy", "web", "--policy-types", "Ingress", "--dry-run=server", "-o", "yaml"],
            "error: creating through the API needs a cluster: give --kubeconfig PATH or --context NAME (no kubeconfig in $KUBECONFIG or ~/.kube/config), or print it with --dry-run=client -o yaml",
        ),
    ];
    for (name, args, want) in cases {
        let out = netpol(args);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr).trim_end(), *want, "{name}");
        assert!(out.stdout.is_empty(), "{name}: printed {}", text(&out.stdout));
    }
    // clap's own errors: a missing --policy-types, an unknown -o or --dry-run value.
    for args in [
        &["create", "networkpolicy", "web", "--dry-run=client"][..],
        &["create", "networkpolicy", "web", "--policy-types", "Ingress", "--dry-run=client", "-o", "wide"],
        &["create", "networkpolicy", "web", "--policy-types", "Ingress", "--dry-run=all"],
    ] {
        let out = netpol(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).starts_with("error: "), "{args:?}: {}", text(&out.stderr));
    }
}

/// Seed 000's fix: a default deny that allows DNS. Written by create in place of
/// step 4's default-deny, frontend resolves names again (53/UDP and 53/TCP to
/// kube-dns), and still reaches only what step 4 allows otherwise.
#[test]
fn allow_dns_is_the_seed_000_fix() {
    let step4 = root().join("examples/seed-000-walkthrough/step-04-backend-ingress");
    let dir = tempfile::tempdir().unwrap();
    for file in ["cluster.yaml", "backend.yaml", "frontend.yaml"] {
        std::fs::copy(step4.join(file), dir.path().join(file)).unwrap();
    }
    let deny = create("default-deny", &["-n", "default", "--policy-types", "Egress,Ingress", "--allow-dns"]);
    std::fs::write(dir.path().join("default-deny.yaml"), deny).unwrap();
    let input = dir.path().to_str().unwrap();
    let check = |to: &str, port: &str, protocol: &str| {
        let out = netpol(&[
            "check",
            "-f",
            input,
            "--from",
            "default/frontend",
            "--to",
            to,
            "--port",
            port,
            "--protocol",
            protocol,
        ]);
        (out.status.code(), text(&out.stderr))
    };
    assert_eq!(check("kube-system/kube-dns", "53", "UDP").0, Some(0), "DNS over UDP");
    assert_eq!(check("kube-system/kube-dns", "53", "TCP").0, Some(0), "DNS over TCP");
    assert_eq!(check("default/backend", "80", "TCP").0, Some(0), "step 4 still allows frontend -> backend");
    assert_eq!(check("kube-system/kube-dns", "80", "TCP").0, Some(1), "only 53 to kube-dns");
    let (_, stderr) = check("default/backend", "80", "TCP");
    assert!(!stderr.contains("NP0054"), "no DNS warning any more: {stderr}");
}

fn kubectl_ok(cp: &netpol_testkit::ControlPlane, args: &[&str]) -> String {
    let out = cp.kubectl().env("TZ", "UTC").args(args).output().expect("run kubectl");
    assert!(out.status.success(), "kubectl {args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn describe(file: &Path) -> String {
    let out = netpol(&["describe", "-f", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[test]
fn the_api_server_accepts_what_create_prints() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    cp.ensure_namespaces(["shop", "db"]).unwrap_or_else(|e| panic!("{e}"));
    let scratch = tempfile::tempdir().unwrap();
    for case in CASES {
        let yaml = create(case.name, case.args);
        let file = scratch.path().join(format!("{}.yaml", case.name));
        std::fs::write(&file, &yaml).unwrap();
        let path = file.to_str().unwrap();

        // The server accepts it, strictly.
        kubectl_ok(&cp, &["apply", "--dry-run=server", "--validate=strict", "-f", path]);

        // netpol validate: no error.
        let out = netpol(&["validate", "-f", path]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", case.name, text(&out.stdout));
        assert!(text(&out.stdout).contains("\n0 errors, ") || text(&out.stdout).starts_with("0 errors, "));

        // netpol describe shows what was asked for.
        let shown = describe(&file);
        let head = format!("Name:         {}\nNamespace:    {}\n", case.name, case.namespace);
        assert!(shown.starts_with(&head), "{}: {shown}", case.name);
        assert!(shown.contains(&format!("\n  PodSelector:     {}\n", case.selector)), "{}: {shown}", case.name);
        assert!(shown.contains(&format!("\n  Policy Types: {}\n", case.types)), "{}: {shown}", case.name);
        let dns = "  Allowing egress traffic:
    To Port: 53/UDP
    To Port: 53/TCP
    To:
      NamespaceSelector: kubernetes.io/metadata.name=kube-system
      PodSelector: k8s-app=kube-dns
";
        assert_eq!(shown.contains(dns), case.dns, "{}: {shown}", case.name);
        if !case.dns && case.types.contains("Egress") {
            assert!(shown.contains(
                "  Allowing egress traffic:\n    <none> (Selected pods are isolated for egress connectivity)\n"
            ));
        }
        if case.types.contains("Ingress") {
            assert!(shown.contains(
                "  Allowing ingress traffic:\n    <none> (Selected pods are isolated for ingress connectivity)\n"
            ));
        } else {
            assert!(shown.contains("  Not affecting ingress traffic\n"), "{}: {shown}", case.name);
        }

        // Applied for real, the stored object described by kubectl and by netpol: the same
        // text, then what netpol appends (the pods each selector matches).
        kubectl_ok(&cp, &["apply", "-n", case.namespace, "-f", path]);
        let kubectl = kubectl_ok(&cp, &["describe", "networkpolicy", case.name, "-n", case.namespace]);
        let stored = kubectl_ok(&cp, &["get", "networkpolicy", case.name, "-n", case.namespace, "-o", "yaml"]);
        let stored_file = scratch.path().join(format!("{}.stored.yaml", case.name));
        std::fs::write(&stored_file, stored).unwrap();
        let ours = describe(&stored_file);
        let appended = ours.strip_prefix(&kubectl).unwrap_or_else(|| {
            panic!(
                "{}: netpol describe does not start with kubectl's text\n--- kubectl\n{kubectl}--- netpol\n{ours}",
                case.name
            )
        });
        assert!(appended.starts_with("Matches now (netpol):\n"), "{}: {appended}", case.name);
        // kubectl's own text shows the request too.
        assert!(kubectl.contains(&format!("\n  PodSelector:     {}\n", case.selector)), "{}: {kubectl}", case.name);
        assert!(kubectl.contains(&format!("\n  Policy Types: {}\n", case.types)), "{}: {kubectl}", case.name);
    }
}

#[test]
fn create_through_the_api() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    cp.ensure_namespaces(["shop"]).unwrap_or_else(|e| panic!("{e}"));
    let kubeconfig = cp.kubeconfig().to_str().unwrap().to_string();
    let base = ["create", "networkpolicy", "web-deny", "-n", "shop", "--pod-selector", "app=web"];
    let run = |extra: &[&str]| {
        let out = netpol(
            &[&base[..], &["--policy-types", "Ingress,Egress", "--allow-dns", "--kubeconfig", &kubeconfig], extra]
                .concat(),
        );
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };
    // Server dry run: validated, not stored.
    let (code, stdout, stderr) = run(&["--dry-run=server"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "networkpolicy.networking.k8s.io/web-deny created (server dry run)\n");
    let listed = kubectl_ok(&cp, &["get", "networkpolicies", "-n", "shop", "-o", "name"]);
    assert_eq!(listed, "", "a dry run stores nothing");
    // For real: stored, and what kubectl describes is what was asked for.
    let (code, stdout, stderr) = run(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, "networkpolicy.networking.k8s.io/web-deny created\n");
    let kubectl = kubectl_ok(&cp, &["describe", "networkpolicy", "web-deny", "-n", "shop"]);
    assert!(kubectl.contains("  PodSelector:     app=web\n"), "{kubectl}");
    assert!(kubectl.contains("  Policy Types: Ingress, Egress\n"), "{kubectl}");
    let ours = netpol(&["describe", "--kubeconfig", &kubeconfig, "-n", "shop", "web-deny"]);
    assert!(text(&ours.stdout).starts_with(&kubectl), "{}", text(&ours.stdout));
    // Again: the server's AlreadyExists, exit 2.
    let (code, _, stderr) = run(&["-o", "json"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("cannot create networkpolicies: ") && stderr.contains("already exists"), "{stderr}");
    // Without the right: the verb, the resource and the namespace.
    let creds = cp
        .mint_token(
            "shop",
            "viewer",
            &[netpol_testkit::control_plane::Rule::new(&["get", "list"], "networking.k8s.io", &["networkpolicies"])],
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let out = netpol(
        &[&base[..], &["--policy-types", "Ingress", "--kubeconfig", creds.kubeconfig.to_str().unwrap()]].concat(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot create networkpolicies in namespace shop: "), "{}", text(&out.stderr));
}

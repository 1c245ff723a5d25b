//! Each check on a minimal manifest that fires it: a snapshot of the findings of
//! that code as `netpol lint` prints them (text). The shop below is clean for
//! every check but NP0110 (nothing isolates it); each case adds what it needs.

use netpol_lint::{lint, Input, Options};
use netpol_manifest::{load, LoadOptions, Locator};

const SHOP: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c, image: nginx, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 10.0.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: shop, labels: {app: db}}
spec: {containers: [{name: c, image: postgres, ports: [{name: pg, containerPort: 5432}, {containerPort: 5433}]}]}
status: {podIP: 10.0.0.2}
";

/// A policy for the shop's db: `spec` is indented under `spec:`.
fn db_policy(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n{spec}"
    )
}

/// The findings of `code` over `files` (the shop first), as text.
fn run(files: &[(&str, &str)], code: &str, options: Options) -> String {
    let mut sources = vec![("shop.yaml", SHOP)];
    sources.extend_from_slice(files);
    let loaded = load(sources.iter().copied(), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let locator = Locator::new(sources.iter().copied());
    let input = Input { cluster: &loaded.cluster, loaded: &loaded.diagnostics, locate: &locator, options };
    let findings: Vec<String> =
        lint(&input).into_iter().filter(|f| f.diagnostic.code == code).map(|f| f.diagnostic.to_string()).collect();
    findings.join("\n")
}

struct Case {
    name: &'static str,
    code: &'static str,
    files: Vec<(&'static str, String)>,
    options: Options,
}

fn case(name: &'static str, code: &'static str, files: Vec<(&'static str, String)>) -> Case {
    Case { name, code, files, options: Options::default() }
}

fn cases() -> Vec<Case> {
    let pg_from_web = "  - from:\n    - podSelector: {matchLabels: {app: web}}\n    ports: [{port: 5432}]\n";
    vec![
        case("unselected_policy", "NP0101", vec![("p.yaml", db_policy("cache", "  podSelector: {matchLabels: {app: cache}}\n"))]),
        case(
            "dangling_pod_selector",
            "NP0102",
            vec![(
                "p.yaml",
                db_policy("db", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: api}}\n"),
            )],
        ),
        case(
            "dangling_pod_selector_in_another_namespace",
            "NP0102",
            vec![(
                "p.yaml",
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: in, namespace: ops}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: web}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ops}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: tool, namespace: ops}\nspec: {containers: [{name: c, image: busybox}]}\n".to_string(),
            )],
        ),
        // Seed 000's trap: `ns: shop` where the namespace is labelled `team: shop`.
        case(
            "dangling_namespace_selector",
            "NP0103",
            vec![(
                "p.yaml",
                db_policy("db", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {ns: shop}}\n"),
            )],
        ),
        // Two copies of one policy: the later changes nothing (the earlier stays).
        case(
            "redundant_policy",
            "NP0104",
            vec![
                ("a.yaml", db_policy("db-a", &format!("  podSelector: {{matchLabels: {{app: db}}}}\n  ingress:\n{pg_from_web}"))),
                ("b.yaml", db_policy("db-b", &format!("  podSelector: {{matchLabels: {{app: db}}}}\n  ingress:\n{pg_from_web}"))),
            ],
        ),
        // 5432-5433 is 5432 and 5433 together: no single rule shadows it.
        case(
            "redundant_rule_covered_by_two",
            "NP0105",
            vec![(
                "p.yaml",
                db_policy(
                    "db",
                    "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 5432}]\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 5433}]\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 5432, endPort: 5433}]\n",
                ),
            )],
        ),
        // web's egress is isolated with nothing allowed: db's ingress rule lets nothing in.
        case(
            "redundant_rule_denied_at_the_other_end",
            "NP0105",
            vec![
                ("db.yaml", db_policy("db", &format!("  podSelector: {{matchLabels: {{app: db}}}}\n  ingress:\n{pg_from_web}"))),
                ("web.yaml", db_policy("web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n")),
            ],
        ),
        case(
            "shadowed_rule",
            "NP0106",
            vec![(
                "p.yaml",
                db_policy(
                    "db",
                    "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {}}]\n    ports: [{port: 5432}]\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 5432}]\n",
                ),
            )],
        ),
        case(
            "ignored_rules",
            "NP0107",
            vec![(
                "p.yaml",
                db_policy(
                    "db",
                    "  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress]\n  egress:\n  - to: [{podSelector: {matchLabels: {app: web}}}]\n",
                ),
            )],
        ),
        case(
            "undeclared_named_port",
            "NP0108",
            vec![(
                "p.yaml",
                db_policy(
                    "db",
                    "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: postgres}, {port: pg, protocol: UDP}]\n",
                ),
            )],
        ),
        case(
            "wide_end_port",
            "NP0109",
            vec![(
                "p.yaml",
                db_policy(
                    "db",
                    "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n    ports: [{port: 5000, endPort: 6000}, {port: 6000, endPort: 7000}]\n",
                ),
            )],
        ),
        case(
            "not_isolated",
            "NP0110",
            vec![("p.yaml", db_policy("db", "  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Ingress, Egress]\n"))],
        ),
        case(
            "open_to_cluster",
            "NP0111",
            vec![(
                "p.yaml",
                db_policy("db", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{namespaceSelector: {}}]\n"),
            )],
        ),
        case(
            "open_to_everyone",
            "NP0112",
            vec![(
                "p.yaml",
                db_policy(
                    "db",
                    "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - ports: [{port: 5432}]\n  - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]\n",
                ),
            )],
        ),
        case(
            "egress_to_everyone",
            "NP0113",
            vec![(
                "p.yaml",
                db_policy("db", "  podSelector: {matchLabels: {app: db}}\n  egress:\n  - to: [{ipBlock: {cidr: '::/0'}}]\n"),
            )],
        ),
        case(
            "ipblock_covers_pods",
            "NP0114",
            vec![(
                "p.yaml",
                db_policy("db", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/24}}]\n"),
            )],
        ),
        Case {
            options: Options { ipblock_matches_pods: false },
            ..case(
                "ipblock_covers_pods_ignored",
                "NP0114",
                vec![(
                    "p.yaml",
                    db_policy("db", "  podSelector: {matchLabels: {app: db}}\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/24}}]\n"),
                )],
            )
        },
        case(
            "policy_in_undeclared_namespace",
            "NP0115",
            vec![(
                "p.yaml",
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: db\n  namespace: shoop\nspec:\n  podSelector: {}\n".to_string(),
            )],
        ),
        // Check 7: one policy in two files (the loader's NP0053, reported by lint).
        case(
            "duplicate_policy",
            "NP0053",
            vec![
                ("a.yaml", db_policy("db", "  podSelector: {matchLabels: {app: db}}\n")),
                ("b.yaml", db_policy("db", "  podSelector: {matchLabels: {app: db}}\n")),
            ],
        ),
        // Check 1: the DNS trap (the loader's NP0054, reported by lint).
        case(
            "dns_blocked",
            "NP0054",
            vec![("p.yaml", db_policy("deny", "  podSelector: {}\n  policyTypes: [Egress]\n"))],
        ),
    ]
}

#[test]
fn each_check_fires_on_its_minimal_manifest() {
    for case in cases() {
        let files: Vec<(&str, &str)> = case.files.iter().map(|(n, t)| (*n, t.as_str())).collect();
        let text = run(&files, case.code, case.options);
        assert!(!text.is_empty(), "{}: no {} finding", case.name, case.code);
        insta::assert_snapshot!(case.name, text);
    }
}

/// Seed 000's step 9: `ns: default` matches nothing until `default` gets that label.
#[test]
fn the_seed_000_namespace_trap_points_at_the_selector() {
    let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels: {ns: default}\n";
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: default}\nspec: {containers: [{name: c, image: curl}]}\n";
    let text = run(&[("p.yaml", policy), ("client.yaml", pod)], "NP0103", Options::default());
    assert!(text.starts_with("p.yaml:8:7: warning[NP0103]"), "{text}");
    assert!(text.contains("`namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: default}}`"), "{text}");
}

/// A clean shop: only NP0110 notes (nothing isolates it), no warning, no error.
#[test]
fn a_clean_input_has_no_warnings() {
    let loaded = load([("shop.yaml", SHOP)], &LoadOptions::default());
    let locator = Locator::new([("shop.yaml", SHOP)]);
    let input =
        Input { cluster: &loaded.cluster, loaded: &loaded.diagnostics, locate: &locator, options: Options::default() };
    let codes: Vec<&str> = lint(&input).iter().map(|f| f.diagnostic.code).collect();
    assert_eq!(codes, ["NP0110", "NP0110"]);
}

//! Issue 14: valid YAML is never refused, and one object's error never hides
//! the valid objects around it.

use netpol_manifest::{load, LoadOptions, Loaded};

const DENY: &str = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress]}
";

fn policy(name: &str) -> String {
    DENY.replace("name: deny", &format!("name: {name}"))
}

/// A valid custom resource nested `depth` levels deep under `spec`.
fn deep_resource(depth: usize, block: bool) -> String {
    let mut text =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nspec:\n".to_string();
    if block {
        for i in 0..depth {
            text.push_str(&format!("{}l{i}:\n", "  ".repeat(i + 1)));
        }
        text.push_str(&format!("{}leaf: 1\n", "  ".repeat(depth + 1)));
    } else {
        text.push_str(&format!("  a: {}1{}\n", "[".repeat(depth), "]".repeat(depth)));
    }
    text
}

fn policy_names(loaded: &Loaded) -> Vec<&str> {
    loaded.cluster.policies.iter().map(|p| p.name.as_str()).collect()
}

fn load_one(text: &str, lenient: bool) -> Loaded {
    load([("f.yaml", text)], &LoadOptions { lenient, ..LoadOptions::default() })
}

#[test]
fn issue14_deep_custom_resource_next_to_a_policy_loads_both() {
    for block in [false, true] {
        for depth in [61, 200, 900] {
            let text = format!("{}---\n{DENY}", deep_resource(depth, block));
            for lenient in [false, true] {
                let loaded = load_one(&text, lenient);
                assert!(!loaded.has_errors(), "depth {depth} block {block}: {:?}", loaded.diagnostics);
                assert_eq!(policy_names(&loaded), ["deny"], "depth {depth} block {block}");
                assert!(loaded.refused.is_empty());
            }
        }
    }
}

#[test]
fn issue14_beyond_the_depth_limit_is_one_error_and_the_rest_of_the_file_loads() {
    let text = format!("{}---\n{}---\n{}", policy("before"), deep_resource(1_500, false), policy("after"));
    let loaded = load_one(&text, false);
    let errors: Vec<_> = loaded.errors().collect();
    assert_eq!(errors.len(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(errors[0].code, "NP0001");
    assert_eq!(errors[0].line, 10, "{}", errors[0]);
    assert!(errors[0].message.contains("nesting deeper than 1000 levels"), "{}", errors[0]);
    assert!(errors[0].help.as_deref().is_some_and(|h| h.contains("docs/cli.md")), "{}", errors[0]);
    assert_eq!(policy_names(&loaded), ["before", "after"]);
    // The document that could not be read is recorded: it may have been a policy.
    assert_eq!(loaded.refused.len(), 1);
    assert_eq!(loaded.refused[0].kind, None);
}

#[test]
fn issue14_a_syntax_error_refuses_its_document_only() {
    let broken = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default\n";
    let text = format!("{}---\n{broken}---\n{}", policy("before"), policy("after"));
    let loaded = load_one(&text, true);
    assert_eq!(loaded.errors().count(), 1, "{:?}", loaded.diagnostics);
    assert_eq!(policy_names(&loaded), ["before", "after"]);
}

#[test]
fn issue14_merge_keys_merge_as_kubectl_reads_them() {
    let plain = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
    ports:
    - {protocol: TCP, port: 80}
    - {protocol: TCP, port: 443}
";
    let merged = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {matchLabels: {app: client}}
    ports:
    - &tcp {protocol: TCP, port: 80}
    - <<: *tcp
      port: 443
";
    for lenient in [false, true] {
        let a = load_one(plain, lenient);
        let b = load_one(merged, lenient);
        assert!(!b.has_errors(), "{:?}", b.diagnostics);
        assert_eq!(b.cluster.policies.len(), 1);
        assert_eq!(a.cluster.policies[0].ingress, b.cluster.policies[0].ingress);
    }
}

#[test]
fn issue14_yaml11_octal_port_is_80_as_kubectl_reads_it() {
    let octal = DENY.replace(
        "spec: {podSelector: {}, policyTypes: [Ingress]}",
        "spec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0120\n",
    );
    let decimal = octal.replace("0120", "80");
    let (a, b) = (load_one(&octal, false), load_one(&decimal, false));
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    assert_eq!(a.cluster.policies[0].ingress, b.cluster.policies[0].ingress);
}

#[test]
fn issue14_a_refused_policy_is_recorded_in_strict_and_lenient() {
    let bad = DENY.replace(
        "policyTypes: [Ingress]",
        "policyTypes: [Ingress], ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]",
    );
    let text = format!("{bad}---\n{}", policy("ok"));
    for lenient in [false, true] {
        let loaded = load_one(&text, lenient);
        assert_eq!(policy_names(&loaded), ["ok"]);
        assert_eq!(loaded.refused.len(), 1, "lenient {lenient}");
        assert_eq!(loaded.refused[0].kind, Some("NetworkPolicy"));
        assert_eq!((loaded.refused[0].line, loaded.refused[0].column), (1, 1));
    }
}

#[test]
fn issue14_a_large_stream_is_not_refused_by_a_per_file_budget() {
    // 70 MiB of valid policies in one file: more scalar text than the per-document limit.
    let one = policy("p");
    let count = 70 * 1024 * 1024 / one.len() + 1;
    let mut text = String::with_capacity(count * (one.len() + 12));
    for i in 0..count {
        text.push_str("---\n");
        text.push_str(&policy(&format!("p{i}")));
    }
    let loaded = load_one(&text, false);
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics.first());
    assert_eq!(loaded.cluster.policies.len(), count);
    assert_eq!(loaded.documents, count);
    assert_eq!(loaded.bytes, text.len());
}

#[test]
fn issue14_small_files_load_on_a_plain_thread_at_every_depth() {
    // Small input nested at most 64 deep loads on the caller's thread (the
    // agent loads each file on its own); deeper goes to the big-stack thread.
    // A std thread (2 MiB of stack) must take both.
    std::thread::spawn(|| {
        for depth in [10, 60, 61, 62, 63, 64, 65, 200, 990] {
            for block in [false, true] {
                let text = format!("{}---\n{DENY}", deep_resource(depth, block));
                let loaded = load_one(&text, false);
                assert!(!loaded.has_errors(), "depth {depth}: {:?}", loaded.diagnostics);
                assert_eq!(policy_names(&loaded), ["deny"]);
            }
        }
    })
    .join()
    .expect("loads on a std thread");
}

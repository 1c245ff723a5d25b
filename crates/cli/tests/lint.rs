//! `netpol lint`: exit codes (0 clean, 1 on an error or with `--strict` on a
//! warning, 2 could not run), the SARIF 2.1.0 form (a snapshot, and the fields
//! code-scanning tools need), JSON as `validate`'s.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn netpol_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpol"))
        .current_dir(dir)
        .env("KUBECONFIG", "/nonexistent")
        .env("HOME", "/nonexistent")
        .args(args)
        .output()
        .expect("run netpol")
}

fn netpol(args: &[&str]) -> Output {
    netpol_in(&root(), args)
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

const CLEAN: &str = "examples/seed-000-walkthrough/step-10-default-labelled"; // notes only
const WARNINGS: &str = "examples/seed-000-walkthrough/step-09-cassandra-ingress"; // NP0103, NP0104, NP0105

/// Egress rules under `policyTypes: [Ingress]`: NP0107, an error.
const IGNORED: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  egress:
  - to: [{podSelector: {}}]
";

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ignored.yaml"), IGNORED).unwrap();
    let ignored = dir.path().join("ignored.yaml");
    let ignored = ignored.to_str().unwrap();
    let cases: Vec<(&str, Vec<&str>, i32)> = vec![
        ("notes only", vec!["lint", "-f", CLEAN], 0),
        ("notes only, --strict", vec!["lint", "-f", CLEAN, "--strict"], 0),
        ("warnings", vec!["lint", "-f", WARNINGS], 0),
        ("warnings, --strict", vec!["lint", "-f", WARNINGS, "--strict"], 1),
        ("an error", vec!["lint", "-f", ignored], 1),
        ("input with errors", vec!["lint", "-f", "examples/typos"], 2),
        ("a missing file", vec!["lint", "-f", "does/not/exist.yaml"], 2),
        ("nothing to read", vec!["lint"], 2),
        ("a bad flag", vec!["lint", "-f", CLEAN, "-o", "xml"], 2),
    ];
    for (name, args, want) in cases {
        let out = netpol(&args);
        assert_eq!(code(&out), want, "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn text_ends_with_the_counts_and_json_has_the_shape_of_validates() {
    let out = netpol(&["lint", "-f", WARNINGS]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with("0 errors, 3 warnings, 4 notes\n"), "{text}");
    assert!(
        text.contains("cassandra.yaml:14:7: warning[NP0103]: namespaceSelector `ns=default` matches no namespace"),
        "{text}"
    );

    let out = netpol(&["lint", "-f", WARNINGS, "-o", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &json.as_array().unwrap()[0];
    let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "column", "file", "help", "line", "message", "severity"]);
}

#[test]
fn sarif() {
    let out = netpol(&["lint", "-f", WARNINGS, "-o", "sarif"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8(out.stdout).unwrap();
    let log: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "netpol");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for rule in rules {
        assert!(rule["id"].as_str().unwrap().starts_with("NP"), "{rule}");
        assert!(rule["shortDescription"]["text"].is_string(), "{rule}");
        assert!(rule["help"]["text"].is_string(), "{rule}");
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 7);
    for result in results {
        let id = result["ruleId"].as_str().unwrap();
        assert!(rules.iter().any(|r| r["id"] == id), "{id} is not among the rules");
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()), "{result}");
        assert!(result["message"]["text"].is_string());
        let location = &result["locations"][0]["physicalLocation"];
        assert!(location["artifactLocation"]["uri"].as_str().unwrap().starts_with(WARNINGS));
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(location["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    let version = env!("CARGO_PKG_VERSION");
    insta::assert_snapshot!(
        "lint_sarif",
        text.replace(&format!("\"version\": \"{version}\""), "\"version\": \"VERSION\"")
    );
}

//! The user-facing text of each command (insta snapshots) and the exit-code contract.

mod support;

use std::process::Output;
use support::run::netpol;

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `netpol check -f <input> --from <from> --to <to> --port <port>` and `extra`.
fn check<'a>(input: &'a str, from: &'a str, to: &'a str, port: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["check", "-f", input, "--from", from, "--to", to, "--port", port];
    args.extend_from_slice(extra);
    args
}

const STEP4: &str = "examples/seed-000-walkthrough/step-04-backend-ingress";
const STEP10: &str = "examples/seed-000-walkthrough/step-10-default-labelled";

#[test]
fn check_denied_dns_explains_every_isolating_policy() {
    let out = netpol(&check(STEP4, "default/frontend", "kube-system/kube-dns", "53", &["--protocol", "UDP"]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn check_allowed_names_the_rule() {
    let out = netpol(&check(STEP4, "default/frontend", "default/backend", "80", &[]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn check_json_is_data() {
    let out = netpol(&check(STEP10, "default/backend", "cassandra/cassandra", "80", &["-o", "json"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    insta::assert_json_snapshot!(value);
}

#[test]
fn check_errors_exit_2() {
    let cases = [
        ("unknown pod", check(STEP4, "default/nope", "default/backend", "80", &[])),
        ("bad protocol", check(STEP4, "default/frontend", "default/backend", "80", &["--protocol", "ICMP"])),
        ("missing file", check("no/such/dir", "a/b", "c/d", "80", &[])),
        ("unknown named port", check(STEP4, "default/frontend", "default/backend", "https", &[])),
    ];
    for (name, args) in cases {
        let out = netpol(&args);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(stderr(&out).lines().any(|l| l.starts_with("error: ")), "{name}: {}", stderr(&out));
    }
}

#[test]
fn issue14_port_number_out_of_range_is_an_error_not_a_name() {
    for port in ["0", "65536", "70000", "99999999999999999999"] {
        let out = netpol(&check(STEP4, "default/frontend", "default/backend", port, &[]));
        assert_eq!(out.status.code(), Some(2), "--port {port}: {}", stderr(&out));
        let expected = format!("error: --port {port}: a port number must be 1-65535");
        assert!(stderr(&out).lines().any(|l| l == expected), "--port {port}: {}", stderr(&out));
    }
    let out = netpol(&check(STEP4, "default/frontend", "default/backend", "65535", &[]));
    assert_ne!(out.status.code(), Some(2), "--port 65535 is a port: {}", stderr(&out));
}

#[test]
fn issue14_lenient_never_evaluates_without_a_refused_policy() {
    // The only isolating policy has an invalid CIDR: the API server rejects it, so
    // the pair looks allowed. Under --lenient that must be an error, not a warning.
    let input = "crates/cli/tests/data/refused-deny.yaml";
    for command in ["check", "matrix", "describe", "render"] {
        let mut args = match command {
            "check" => check(input, "default/api", "default/db", "3306", &[]),
            _ => vec![command, "-f", input],
        };
        let strict = netpol(&args);
        assert_eq!(strict.status.code(), Some(2), "{command}: {}", stderr(&strict));
        args.push("--lenient");
        let lenient = netpol(&args);
        assert_eq!(lenient.status.code(), Some(2), "{command} --lenient: {}", stdout(&lenient));
        let err = stderr(&lenient);
        assert!(err.contains("error[NP0032]"), "{command}: {err}");
        assert!(
            err.lines().any(|l| l.starts_with(
                "error: NetworkPolicy at crates/cli/tests/data/refused-deny.yaml:3:1 could not be loaded"
            )),
            "{command}: {err}"
        );
        assert!(stdout(&lenient).is_empty(), "{command}: printed an answer without the policy");
    }
}

#[test]
fn describe_matches_kubectl_text_from_seed_002() {
    // The seed ran `kubectl describe networkpolicy db-deny-all-ingress -n db` and printed this Spec.
    let out = netpol(&["describe", "-f", "examples/seed-002-mongo/step-2-deny-all", "db/db-deny-all-ingress"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let kubectl = "Name:         db-deny-all-ingress
Namespace:    db
";
    assert!(text.starts_with(kubectl), "{text}");
    let spec = "Labels:       <none>
Annotations:  <none>
Spec:
  PodSelector:     app=mongo
  Allowing ingress traffic:
    <none> (Selected pods are isolated for ingress connectivity)
  Not affecting egress traffic
  Policy Types: Ingress
";
    assert!(text.contains(spec), "{text}");
}

#[test]
fn describe_every_policy_with_matches() {
    let out = netpol(&["describe", "-f", STEP10]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn validate_clean_examples_exit_0() {
    for dir in ["examples/seed-000-walkthrough", "examples/seed-002-mongo/step-3-allow-backend"] {
        let out = netpol(&["validate", "-f", dir]);
        assert_eq!(out.status.code(), Some(0), "{dir}: {}", stdout(&out));
    }
}

#[test]
fn validate_broken_policy_text_and_json() {
    let broken = "crates/cli/tests/data/broken.yaml";
    let out = netpol(&["validate", "-f", broken]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!("validate_broken_text", stdout(&out));
    let out = netpol(&["validate", "-f", broken, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let first = &value[0];
    for key in ["code", "severity", "file", "line", "column", "message", "help"] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
    insta::assert_json_snapshot!("validate_broken_json", value);
}

#[test]
fn strict_refuses_errors_lenient_evaluates_what_the_server_stores() {
    let broken = "crates/cli/tests/data/broken.yaml";
    let args = ["check", "-f", broken, "--from", "default/api", "--to", "default/db", "--port", "3306"];
    let strict = netpol(&args);
    assert_eq!(strict.status.code(), Some(2));
    assert!(stderr(&strict).contains("--lenient"), "{}", stderr(&strict));
    let mut lenient_args = args.to_vec();
    lenient_args.push("--lenient");
    let lenient = netpol(&lenient_args);
    // `protocal:` is dropped, so the rule allows 3306/TCP (the default protocol) from api.
    assert_eq!(lenient.status.code(), Some(0), "{}\n{}", stdout(&lenient), stderr(&lenient));
    assert!(stderr(&lenient).contains("protocal"), "{}", stderr(&lenient));
}

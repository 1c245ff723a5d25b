//! `netpol agent`'s observability as a process: the `--metrics-addr` and
//! `--log-format` flags, the JSON log lines (without root: a start held back
//! by a bad file applies nothing), and end to end (privileged: testkit's gate)
//! the real agent applying into a network namespace this test creates while
//! its metrics server, bound on 127.0.0.1 in the test's own namespace, says
//! ready, counts the sync and the rules, and everything on stderr is JSON.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use netpol_testkit::{http, require_privileged};
use serde_json::Value;
use support::agent::Agent;

mod support;

const PODS: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80}]}]}
status: {podIP: 10.9.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec: {containers: [{name: c, image: busybox}]}
status: {podIP: 10.9.0.2}
";

const POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: 80}]
";

const BROKEN: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec: {podSelector: {matchLabels: {app: web}}, policyTypess: [Ingress]}
";

fn netpol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpol")).args(args).output().expect("run netpol")
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// Every line of `stderr` as a JSON object with the contract's keys.
fn json_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            for key in ["timestamp", "level", "message", "event"] {
                assert!(value[key].is_string(), "no string {key:?} in {line}");
            }
            value
        })
        .collect()
}

#[test]
fn agent_help_lists_the_observability_flags() {
    let out = netpol(&["agent", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--metrics-addr <ADDR>", "--log-format <FORMAT>", "/metrics", "/readyz", "[default: text]"] {
        assert!(help.contains(flag), "no {flag} in\n{help}");
    }
    assert!(help.contains("text") && help.contains("json"), "{help}");
}

#[test]
fn bad_observability_flags_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().to_str().unwrap();
    for (args, want) in [
        (vec!["--log-format", "yaml"], "invalid value 'yaml' for '--log-format <FORMAT>'"),
        (vec!["--metrics-addr", "localhost"], "invalid value 'localhost' for '--metrics-addr <ADDR>'"),
    ] {
        let out = netpol(&[&["agent", "--manifests", dir, "--once"], &args[..]].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

#[test]
fn a_metrics_address_in_use_exits_2_before_applying_anything() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    let out = netpol(&["agent", "--manifests", dir.path().to_str().unwrap(), "--once", "--metrics-addr", &addr]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("error: serving metrics on {addr}: ")), "{stderr}");
    assert!(!stderr.contains("sync"), "nothing ran: {stderr}");
}

/// Without root: a first read with an error applies nothing (exit 1 with
/// `--once`), and says so in JSON: the diagnostic with its position, then
/// the wait.
#[test]
fn json_logs_are_one_object_per_line_with_structured_fields() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", BROKEN);
    let out = netpol(&["agent", "--manifests", dir.path().to_str().unwrap(), "--once", "--log-format", "json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let lines = json_lines(&stderr);
    assert_eq!(lines.len(), 2, "{stderr}");
    let (diagnostic, waiting) = (&lines[0], &lines[1]);
    assert_eq!(diagnostic["event"], "diagnostic");
    assert_eq!(diagnostic["level"], "ERROR");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["code"], "NP0010");
    assert!(diagnostic["file"].as_str().unwrap().ends_with("policy.yaml"), "{diagnostic}");
    assert_eq!((diagnostic["line"].as_u64(), diagnostic["column"].as_u64()), (Some(4), Some(48)), "{diagnostic}");
    assert!(diagnostic["message"].as_str().unwrap().contains("unknown field `spec.policyTypess`"), "{diagnostic}");
    assert_eq!(diagnostic["help"], "did you mean `policyTypes`?");
    assert_eq!(waiting["event"], "waiting");
    assert_eq!(waiting["level"], "WARN");
    assert!(waiting["skipped"].as_str().unwrap().ends_with("policy.yaml"), "{waiting}");
    assert!(waiting["message"].as_str().unwrap().starts_with("not applying: "), "{waiting}");

    // The same in text: today's `netpol agent: ` lines.
    let out = netpol(&["agent", "--manifests", dir.path().to_str().unwrap(), "--once"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let prefixed: Vec<&str> = stderr.lines().filter(|l| l.starts_with("netpol agent: ")).collect();
    assert_eq!(prefixed.len(), 2, "{stderr}");
    assert!(prefixed[0].contains("error[NP0010]: unknown field `spec.policyTypess`"), "{stderr}");
    assert!(prefixed[1].starts_with("netpol agent: not applying: "), "{stderr}");
}

#[test]
fn agent_serves_ready_metrics_and_json_logs_then_exits_0_on_sigterm() {
    let ns = require_privileged!().netns("agent-obs");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", POLICY);
    let manifests = dir.path().to_str().unwrap();
    // Port 0: the agent's first line says which port it bound.
    let args =
        ["--manifests", manifests, "--netns", ns.name(), "--metrics-addr", "127.0.0.1:0", "--log-format", "json"];
    let mut agent = Agent::spawn(&args);
    let serving: Value = serde_json::from_str(&agent.next_line("serving")).unwrap();
    assert_eq!(serving["event"], "serving", "{serving}");
    let addr: SocketAddr = serving["addr"].as_str().unwrap().parse().unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = http::get(addr, "/readyz").unwrap();
        if got.status == 200 {
            assert_eq!(got.body, "ok\n");
            break;
        }
        assert_eq!(got.status, 503, "{}", got.body);
        assert!(
            Instant::now() < deadline,
            "not ready within 15 s: {}\nstderr:\n{}",
            got.body,
            agent.drain().join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let got = http::get(addr, "/healthz").unwrap();
    assert_eq!((got.status, got.body.as_str()), (200, "ok\n"));
    let got = http::get(addr, "/metrics").unwrap();
    assert_eq!(got.status, 200);
    let metric =
        |series: &str| http::sample(&got.body, series).unwrap_or_else(|| panic!("no {series} in\n{}", got.body));
    assert!(metric("netpol_syncs_total{result=\"changed\"}") >= 1.0, "{}", got.body);
    assert!(metric("netpol_rules") > 0.0, "{}", got.body);
    assert_eq!(metric("netpol_objects{kind=\"Pod\"}"), 2.0);
    assert_eq!(metric("netpol_objects{kind=\"NetworkPolicy\"}"), 1.0);
    assert_eq!(metric("netpol_ready"), 1.0);
    assert_eq!(metric("netpol_errors_total{stage=\"sync\"}"), 0.0);

    // SIGTERM: exit 0, the server gone with the process.
    let _ = Command::new("kill").args(["-TERM", &agent.child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = agent.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the agent did not exit within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit on SIGTERM: {status}\nstderr:\n{}", agent.drain().join("\n"));
    assert!(TcpStream::connect(addr).is_err(), "{addr} still accepts connections after the agent exited");

    // Give the reader thread the last lines, then check every one is a JSON object.
    std::thread::sleep(Duration::from_millis(100));
    let stderr = agent.drain().join("\n");
    let lines = json_lines(&stderr);
    let sync = lines.iter().find(|l| l["event"] == "sync").unwrap_or_else(|| panic!("no sync line:\n{stderr}"));
    assert_eq!(sync["level"], "INFO");
    assert_eq!(sync["changed"], true);
    assert!(sync["rules"].as_u64().unwrap() > 0, "{sync}");
    for field in ["render_ms", "apply_ms", "since_change_ms"] {
        assert!(sync[field].as_f64().is_some(), "no number {field:?} in {sync}");
    }
    assert!(sync["message"].as_str().unwrap().starts_with("sync changed: "), "{sync}");
}

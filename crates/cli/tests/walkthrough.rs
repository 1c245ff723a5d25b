//! The seed walkthroughs end to end: YAML folders in `examples/` through the
//! `netpol` binary, verdicts by exit code (0 allowed, 1 denied).

use std::path::PathBuf;
use std::process::Command;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Runs `netpol check` and returns its exit code, failing on anything but 0 or 1.
fn check(dir: &str, from: &str, to: &str, port: &str, protocol: &str) -> bool {
    let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(["check", "-f"])
        .arg(examples().join(dir))
        .args(["--from", from, "--to", to, "--port", port, "--protocol", protocol])
        .output()
        .expect("run netpol");
    match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!(
            "netpol check {dir} {from} -> {to}: exit {other:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

const A: bool = true;
const D: bool = false;

#[test]
fn seed_000_walkthrough_every_step() {
    // (step, frontend->backend:80, backend->frontend:80, frontend->kube-dns:53/UDP, backend->cassandra:80)
    let steps = [
        ("step-01-no-policies", A, A, A, A),
        ("step-02-default-deny", D, D, D, D),
        ("step-03-frontend-egress", D, D, D, D),
        ("step-04-backend-ingress", A, D, D, D),
        ("step-05-dns-allowed", A, D, A, D),
        ("step-06-backend-egress-cassandra", A, D, A, D),
        ("step-07-cassandra-labelled", A, D, A, A),
        ("step-08-cassandra-deny", A, D, A, D),
        ("step-09-cassandra-ingress", A, D, A, D),
        ("step-10-default-labelled", A, D, A, A),
    ];
    for (step, f_b, b_f, f_dns, b_c) in steps {
        let dir = format!("seed-000-walkthrough/{step}");
        let got = (
            check(&dir, "default/frontend", "default/backend", "80", "TCP"),
            check(&dir, "default/backend", "default/frontend", "80", "TCP"),
            check(&dir, "default/frontend", "kube-system/kube-dns", "53", "UDP"),
            check(&dir, "default/backend", "cassandra/cassandra", "80", "TCP"),
        );
        assert_eq!(got, (f_b, b_f, f_dns, b_c), "{step}: (f->b, b->f, f->dns, b->cassandra)");
    }
}

#[test]
fn seed_000_step_4_by_ip_works_by_name_does_not() {
    let dir = "seed-000-walkthrough/step-04-backend-ingress";
    // By IP: frontend reaches backend's pod IP.
    assert!(check(dir, "default/frontend", "10.44.0.2", "80", "TCP"));
    // By name: curl must first ask kube-dns, and that egress is denied (both protocols).
    assert!(!check(dir, "default/frontend", "kube-system/kube-dns", "53", "UDP"));
    assert!(!check(dir, "default/frontend", "10.44.0.10", "53", "TCP"));
    // Named port of the destination works like the number.
    assert!(check(dir, "default/frontend", "default/backend", "http", "TCP"));
}

#[test]
fn seed_002_mongo_lab() {
    let steps = [("step-1-open", A, A), ("step-2-deny-all", D, D), ("step-3-allow-backend", A, D)];
    for (step, from_backend, from_default) in steps {
        let dir = format!("seed-002-mongo/{step}");
        assert_eq!(check(&dir, "backend/test-backend", "db/mongo", "27017", "TCP"), from_backend, "{step} backend");
        assert_eq!(check(&dir, "default/test-default", "db/mongo", "27017", "TCP"), from_default, "{step} default");
    }
    // allow-backend names 27017/TCP only.
    assert!(!check("seed-002-mongo/step-3-allow-backend", "backend/test-backend", "db/mongo", "27018", "TCP"));
    assert!(!check("seed-002-mongo/step-3-allow-backend", "backend/test-backend", "db/mongo", "27017", "UDP"));
}

//! `netpol matrix` and `netpol synth`: every output format (insta snapshots),
//! the exit-code contract, and the compiled matrix against `netpol check` (the
//! engine) for every pair of the bundled examples.

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn netpol(args: &[&str], columns: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpol"))
        .current_dir(root())
        .env("COLUMNS", columns)
        .args(args)
        .output()
        .expect("run netpol")
}

fn ok(args: &[&str]) -> String {
    let out = netpol(args, "200");
    assert_eq!(out.status.code(), Some(0), "netpol {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

const STEP5: &str = "examples/seed-000-walkthrough/step-05-dns-allowed";

#[test]
fn matrix_formats() {
    let cases: [(&str, &[&str]); 8] = [
        ("table", &["matrix", "-f", STEP5, "--port", "80,53", "--protocol", "TCP,UDP"]),
        ("json", &["matrix", "-f", STEP5, "--port", "80", "--protocol", "udp,TCP", "-o", "json"]),
        ("csv", &["matrix", "-f", STEP5, "--port", "53", "--protocol", "UDP", "-o", "csv"]),
        ("md", &["matrix", "-f", STEP5, "--port", "80", "-o", "md"]),
        ("connections_table", &["matrix", "-f", STEP5]),
        ("connections_json", &["matrix", "-f", STEP5, "-o", "json"]),
        (
            "summary_json",
            &["matrix", "-f", STEP5, "--port", "80,53", "--protocol", "TCP,UDP", "--summary", "-o", "json"],
        ),
        ("summary_table", &["matrix", "-f", STEP5, "--port", "80,53", "--summary"]),
    ];
    for (name, args) in cases {
        insta::assert_snapshot!(format!("matrix_{name}"), ok(args));
    }
}

#[test]
fn matrix_groups_by_class_when_too_wide() {
    let dir = tempfile::tempdir().expect("temp dir");
    let synth = netpol(
        &[
            "synth",
            "--namespaces",
            "3",
            "--pods",
            "12",
            "--policies",
            "6",
            "--seed",
            "4",
            "-o",
            dir.path().to_str().unwrap(),
        ],
        "80",
    );
    assert_eq!(synth.status.code(), Some(0));
    let out = netpol(&["matrix", "-f", dir.path().to_str().unwrap(), "--port", "8080"], "80");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn matrix_errors_exit_2() {
    let cases: [(&str, &[&str]); 5] = [
        ("summary without port", &["matrix", "-f", STEP5, "--summary"]),
        ("port zero", &["matrix", "-f", STEP5, "--port", "0"]),
        ("bad protocol", &["matrix", "-f", STEP5, "--port", "80", "--protocol", "ICMP"]),
        ("missing input", &["matrix", "-f", "no/such/dir"]),
        ("refused input", &["matrix", "-f", "crates/cli/tests/data/broken.yaml"]),
    ];
    for (name, args) in cases {
        let out = netpol(args, "200");
        assert_eq!(out.status.code(), Some(2), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
    }
}

/// Every pair, on the ports and protocols the examples use, agrees with `netpol check`.
#[test]
fn matrix_equals_check_on_every_example() {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for example in ["examples/seed-000-walkthrough", "examples/seed-002-mongo"] {
        for entry in std::fs::read_dir(root().join(example)).expect("examples exist") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path.strip_prefix(root()).expect("under root").to_path_buf());
            }
        }
    }
    dirs.sort();
    assert!(dirs.len() >= 10, "bundled example steps: {dirs:?}");
    let mut compared = 0;
    for dir in &dirs {
        let dir = dir.to_str().expect("UTF-8 path");
        let json = ok(&["matrix", "-f", dir, "--port", "80,53,27017", "--protocol", "TCP,UDP", "-o", "json"]);
        let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        let pods: Vec<&str> = value["pods"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        for probe in value["probes"].as_array().unwrap() {
            let port = probe["port"].to_string();
            let protocol = probe["protocol"].as_str().unwrap();
            for (i, from) in pods.iter().enumerate() {
                for (j, to) in pods.iter().enumerate() {
                    let want = probe["allowed"][i][j].as_bool().unwrap();
                    let check = netpol(
                        &["check", "-f", dir, "--from", from, "--to", to, "--port", &port, "--protocol", protocol],
                        "200",
                    );
                    let engine = match check.status.code() {
                        Some(0) => true,
                        Some(1) => false,
                        other => panic!("check {from} -> {to} in {dir}: exit {other:?}"),
                    };
                    assert_eq!(want, engine, "{dir}: {from} -> {to} {port}/{protocol}: matrix {want}, check {engine}");
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 100, "compared {compared} verdicts");
}

#[test]
fn synth_writes_a_stream_and_a_folder_that_matrix_reads() {
    let stream = ok(&["synth", "--namespaces", "2", "--pods", "3", "--policies", "2", "--seed", "9"]);
    insta::assert_snapshot!("synth_stream", stream);
    let dir = tempfile::tempdir().expect("temp dir");
    ok(&[
        "synth",
        "--namespaces",
        "5",
        "--pods",
        "80",
        "--policies",
        "25",
        "--seed",
        "9",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert!(dir.path().join("namespaces.yaml").is_file());
    let summary = ok(&["matrix", "-f", dir.path().to_str().unwrap(), "--port", "8080", "--summary", "-o", "json"]);
    let value: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(value["pods"], 80);
    assert!(value["classes"].as_u64().unwrap() < 80, "pods share classes: {value}");
}

//! `netpol diff`: on the seed 000 walkthrough, the pairs the diff between
//! consecutive steps names are exactly those whose connections differ between
//! the two steps' `netpol matrix -o json` (no --port: the whole port space), an
//! independent path; the gains and losses are those connection sets' differences;
//! the exit codes of every `--fail-on`; snapshots of the text and md forms.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use support::run::{netpol, root};

use netpol_model::{PortRange, PortSet, Protocol};

fn steps() -> Vec<String> {
    let dir = root().join("examples/seed-000-walkthrough");
    let mut steps: Vec<String> = std::fs::read_dir(&dir)
        .expect("walkthrough")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .map(|p| format!("examples/seed-000-walkthrough/{}", p.file_name().unwrap().to_str().unwrap()))
        .collect();
    steps.sort();
    assert!(steps.len() >= 10, "{steps:?}");
    steps
}

/// `all`, `none`, or `TCP 80,8000-8080; UDP 53` (what `netpol matrix` prints) as a set.
fn parse_connections(text: &str) -> PortSet {
    match text {
        "all" => return PortSet::all(),
        "none" => return PortSet::none(),
        _ => {}
    }
    let mut set = PortSet::none();
    for part in text.split("; ") {
        let (protocol, ports) = part.split_once(' ').expect("PROTOCOL PORTS");
        let protocol = match protocol {
            "TCP" => Protocol::Tcp,
            "UDP" => Protocol::Udp,
            "SCTP" => Protocol::Sctp,
            other => panic!("protocol {other}"),
        };
        if ports == "all" {
            set.insert(protocol, PortRange::all());
            continue;
        }
        for range in ports.split(',') {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            set.insert(protocol, PortRange::new(a.parse().unwrap(), b.parse().unwrap()));
        }
    }
    set
}

/// `{"TCP": [[a, b], ..], ..}` (the diff's JSON) as a set.
fn json_set(value: &serde_json::Value) -> PortSet {
    let mut set = PortSet::none();
    for (name, protocol) in [("TCP", Protocol::Tcp), ("UDP", Protocol::Udp), ("SCTP", Protocol::Sctp)] {
        for r in value[name].as_array().expect("ranges") {
            set.insert(protocol, PortRange::new(r[0].as_u64().unwrap() as u16, r[1].as_u64().unwrap() as u16));
        }
    }
    set
}

/// Every ordered pair's connections, from `netpol matrix -f DIR -o json`.
fn matrix(dir: &str) -> BTreeMap<(String, String), PortSet> {
    let out = netpol(&["matrix", "-f", dir, "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let pods: Vec<&str> = value["pods"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    let mut m = BTreeMap::new();
    for (i, from) in pods.iter().enumerate() {
        for (j, to) in pods.iter().enumerate() {
            let cell = value["connections"][i][j].as_str().expect("a string");
            m.insert((from.to_string(), to.to_string()), parse_connections(cell));
        }
    }
    m
}

#[test]
fn walkthrough_diff_names_exactly_the_pairs_each_step_changed() {
    let steps = steps();
    let mut changed_steps = 0;
    for w in steps.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        let (ma, mb) = (matrix(a), matrix(b));
        // The truth: pairs in both steps whose connections differ, with their gains and losses.
        let mut want: BTreeMap<(String, String), (PortSet, PortSet)> = BTreeMap::new();
        for (pair, old) in &ma {
            if let Some(new) = mb.get(pair) {
                if old != new {
                    want.insert(pair.clone(), (new.difference(old), old.difference(new)));
                }
            }
        }
        let out = netpol(&["diff", a, b, "-o", "json"]);
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let mut got: BTreeMap<(String, String), (PortSet, PortSet)> = BTreeMap::new();
        for p in value["pairs"].as_array().unwrap() {
            let pair = (p["from"].as_str().unwrap().to_string(), p["to"].as_str().unwrap().to_string());
            got.insert(pair, (json_set(&p["added"]), json_set(&p["removed"])));
        }
        assert_eq!(got, want, "{a} -> {b}");
        assert_eq!(value["summary"]["pairs"].as_u64(), Some(want.len() as u64));
        let any_added = want.values().any(|(added, _)| !added.is_empty());
        let any_removed = want.values().any(|(_, removed)| !removed.is_empty());
        assert_eq!(out.status.code(), Some(if want.is_empty() { 0 } else { 1 }), "{a} -> {b}: exit");
        for (fail_on, fails) in [("any", !want.is_empty()), ("added", any_added), ("removed", any_removed)] {
            let out = netpol(&["diff", a, b, "--fail-on", fail_on]);
            assert_eq!(out.status.code(), Some(i32::from(fails)), "{a} -> {b} --fail-on {fail_on}");
        }
        // The other way round, gains and losses swap.
        let back = netpol(&["diff", b, a, "--fail-on", "added"]);
        assert_eq!(back.status.code(), Some(i32::from(any_removed)), "{b} -> {a} --fail-on added");
        changed_steps += usize::from(!want.is_empty());
    }
    assert!(changed_steps >= 5, "most steps change something: {changed_steps}");
}

#[test]
fn a_step_against_itself_is_empty_and_exits_0() {
    let step = "examples/seed-000-walkthrough/step-05-dns-allowed";
    let out = netpol(&["diff", step, step]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "no connection changed\n");
}

#[test]
fn diff_text_and_md_snapshots() {
    let a = "examples/seed-000-walkthrough/step-04-backend-ingress";
    let b = "examples/seed-000-walkthrough/step-05-dns-allowed";
    for (name, format) in [("diff_text", "text"), ("diff_md", "md")] {
        let out = netpol(&["diff", a, b, "-o", format]);
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
        insta::assert_snapshot!(name, String::from_utf8(out.stdout).unwrap());
    }
    let out = netpol(&[
        "diff",
        "examples/seed-000-walkthrough/step-01-no-policies",
        "examples/seed-000-walkthrough/step-02-default-deny",
    ]);
    insta::assert_snapshot!("diff_text_default_deny", String::from_utf8(out.stdout).unwrap());
}

#[test]
fn diff_errors_exit_2() {
    let step = "examples/seed-000-walkthrough/step-05-dns-allowed";
    let cases: [(&str, &[&str]); 6] = [
        ("one side only", &["diff", step]),
        ("missing side", &["diff", step, "no/such/dir"]),
        ("refused input", &["diff", step, "crates/cli/tests/data/broken.yaml"]),
        ("sides and -f", &["diff", step, step, "-f", step]),
        ("bad fail-on", &["diff", step, step, "--fail-on", "everything"]),
        ("no sides, no cluster", &["diff", "-f", step]),
    ];
    for (name, args) in cases {
        let out = netpol(args);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "{name}: nothing on stdout");
    }
}

/// One side from stdin (`-`) gives the same pairs as the folder it was made of.
#[test]
fn a_side_from_stdin() {
    use std::io::Write as _;
    let (a, b) =
        ("examples/seed-000-walkthrough/step-04-backend-ingress", "examples/seed-000-walkthrough/step-05-dns-allowed");
    let mut stream = String::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(b)).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files {
        stream.push_str(&std::fs::read_to_string(f).unwrap());
        stream.push_str("\n---\n");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .current_dir(root())
        .env("KUBECONFIG", "/nonexistent")
        .args(["diff", a, "-", "-o", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(stream.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let from_stdin: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let from_folder: serde_json::Value = serde_json::from_slice(&netpol(&["diff", a, b, "-o", "json"]).stdout).unwrap();
    assert_eq!(from_stdin["pairs"], from_folder["pairs"]);
    assert_eq!(from_stdin["summary"], from_folder["summary"]);
}

/// An endpoint on one side only is reported, and is not a connection change:
/// every `--fail-on` exits 0 (the documented choice).
#[test]
fn endpoints_on_one_side_only_are_listed_and_do_not_fail() {
    let step = "examples/seed-000-walkthrough/step-05-dns-allowed";
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(root().join(step)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.path().join("extra.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: extra, namespace: tools}\nspec: {containers: [{name: c, image: busybox}]}\n",
    )
    .unwrap();
    let new = dir.path().to_str().unwrap();
    for fail_on in ["any", "added", "removed"] {
        let out = netpol(&["diff", step, new, "--fail-on", fail_on]);
        assert_eq!(out.status.code(), Some(0), "--fail-on {fail_on}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("endpoints added (their connections are NEW's, see `netpol matrix`): tools/extra\n"),
            "{text}"
        );
        assert!(text.ends_with("no connection changed; 1 endpoint added\n"), "{text}");
    }
    let out = netpol(&["diff", new, step, "-o", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["endpoints"]["removed"], serde_json::json!(["tools/extra"]));
    assert_eq!(out.status.code(), Some(0));
}

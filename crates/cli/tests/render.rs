//! `netpol render` end to end: the script printed for the seed 000 walkthrough's
//! last step (snapshot), node scoping, and `nft -c` accepting it (privileged gate).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use netpol_testkit::require_privileged;

fn render(args: &[&str]) -> (String, String, Option<i32>) {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-000-walkthrough/step-10-default-labelled");
    let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(["render", "-f"])
        .arg(&dir)
        .args(args)
        .output()
        .expect("run netpol");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn render_seed_000_final_step() {
    let (stdout, stderr, code) = render(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    insta::assert_snapshot!("render_seed_000_final_step", stdout);
}

#[test]
fn nft_accepts_the_rendered_seed_000_script() {
    require_privileged!();
    let (stdout, stderr, code) = render(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    let mut child = Command::new("nft")
        .args(["-c", "-f", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nft runs (the privileged gate checked)");
    child.stdin.take().unwrap().write_all(stdout.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "nft -c rejected the script: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn render_for_a_node_without_pods_has_no_subject_chains() {
    // All nodes: each isolated pod gets its chains and a dispatch entry.
    let (every_node, stderr, code) = render(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    for pod in ["10.44.0.1 comment \"default/frontend\" : jump subjects/", "chain subjects/ingress/"] {
        assert!(every_node.contains(pod), "{pod}: {every_node}");
    }

    let (stdout, stderr, code) = render(&["--node", "no-such-node", "--stats"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains("chain subjects/"), "no pod on the node, no subject chain: {stdout}");
    assert!(!stdout.contains("jump subjects/"), "no pod on the node, no dispatch entry: {stdout}");
    for map in ["dispatch/ingress/v4", "dispatch/ingress/v6", "dispatch/egress/v4", "dispatch/egress/v6"] {
        let family = if map.ends_with("v4") { "ipv4_addr" } else { "ipv6_addr" };
        let empty = format!("map {map} {{\n\t\ttype {family} : verdict\n\t}}");
        assert!(stdout.contains(&empty), "{map} is declared and empty: {stdout}");
    }
    for hook in ["chain hook/forward/egress {", "chain hook/forward/ingress {", "chain hook/input/egress {"] {
        assert!(stdout.contains(hook), "{hook}: {stdout}");
    }
    assert!(stderr.contains("3 chains"), "{stderr}");
}

//! `netpol render` end to end: the script printed for the seed 000 walkthrough's
//! last step (snapshot), node scoping, and `nft -c` accepting it when nft runs here.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

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

    let check = Command::new("nft").args(["-c", "-f", "-"]).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn();
    match check {
        Ok(mut child) => {
            child.stdin.take().unwrap().write_all(stdout.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            if err.contains("Operation not permitted") {
                println!("skipped nft -c: not root");
            } else {
                assert!(out.status.success(), "nft -c rejected the script: {err}");
            }
        }
        Err(e) => println!("skipped nft -c: nft not installed ({e})"),
    }
}

#[test]
fn render_for_a_node_without_pods_has_no_pod_chains() {
    let (stdout, stderr, code) = render(&["--node", "no-such-node", "--stats"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains("chain pod/"), "{stdout}");
    assert!(stdout.contains("jump") || stdout.contains("dispatch/ingress/v4"), "{stdout}");
    assert!(stderr.contains("3 chains"), "{stderr}");
}

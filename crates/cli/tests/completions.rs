//! `netpol completions SHELL`: a script for each shell that names every subcommand.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// The subcommands `netpol --help` lists (so a new one is checked too).
fn subcommands() -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_netpol")).arg("--help").output().expect("run netpol");
    let help = String::from_utf8(out.stdout).expect("UTF-8");
    let listed = help.split_once("Commands:\n").expect("a Commands: section").1;
    let names: Vec<String> = listed
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    assert!(names.iter().any(|n| n == "create") && names.iter().any(|n| n == "completions"), "{names:?}");
    names
}

fn completions(shell: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netpol")).args(["completions", shell]).output().expect("run netpol");
    assert_eq!(out.status.code(), Some(0), "{shell}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Runs `shell args` with the script on stdin; `None` when the shell is not installed.
fn syntax_check(shell: &str, args: &[&str], script: &str) -> Option<(bool, String)> {
    let mut child = Command::new(shell)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    Some((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

#[test]
fn each_shell_gets_a_script_naming_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let script = completions(shell);
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        let flags = ["networkpolicy", "policy-types", "pod-selector", "allow-dns", "dry-run"];
        for word in subcommands().iter().map(String::as_str).chain(flags) {
            assert!(script.contains(word), "{shell}: no `{word}` in the script");
        }
    }
}

#[test]
fn bash_accepts_the_bash_script() {
    let (ok, stderr) = syntax_check("bash", &["-n"], &completions("bash")).expect("bash is installed");
    assert!(ok, "bash -n: {stderr}");
}

#[test]
fn zsh_and_fish_accept_theirs_where_installed() {
    for (shell, args) in [("zsh", &["-n"][..]), ("fish", &["--no-execute"][..])] {
        if let Some((ok, stderr)) = syntax_check(shell, args, &completions(shell)) {
            assert!(ok, "{shell} {args:?}: {stderr}");
        } else {
            eprintln!("note: {shell} is not installed; its script was checked for content only");
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_netpol")).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

//! netpol as a kubectl plugin: a `kubectl-netpol` symlink to the binary on PATH
//! makes `kubectl netpol ...` run it, with the same output, and usage text that
//! says `kubectl netpol`. Needs the installed kubectl (`NETPOL_KUBECTL` to pick
//! one), not a control plane; without kubectl the test skips (fails under
//! `NETPOL_REQUIRE_PRIVILEGED=1`), as the gates in testkit do.

mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::run::{netpol, root};

use netpol_testkit::privileged::{required, verdict, Verdict};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn kubectl_program() -> OsString {
    std::env::var_os("NETPOL_KUBECTL").filter(|v| !v.is_empty()).unwrap_or_else(|| "kubectl".into())
}

/// A temp dir holding `kubectl-netpol -> netpol`, and PATH with it first.
struct Plugin {
    dir: tempfile::TempDir,
    path: OsString,
}

impl Plugin {
    fn install() -> Plugin {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_netpol"), dir.path().join("kubectl-netpol")).unwrap();
        let mut paths = vec![dir.path().to_path_buf()];
        paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
        let path = std::env::join_paths(paths).unwrap();
        Plugin { dir, path }
    }

    /// `kubectl args` from the repository root, with the plugin on PATH and no
    /// kubeconfig (a plugin needs none).
    fn kubectl(&self, args: &[&str]) -> Output {
        Command::new(kubectl_program())
            .current_dir(root())
            .env("PATH", &self.path)
            .env("KUBECONFIG", self.dir.path().join("no-kubeconfig"))
            .args(args)
            .output()
            .expect("run kubectl")
    }

    fn link(&self) -> PathBuf {
        self.dir.path().join("kubectl-netpol")
    }
}

/// `Some(())` when kubectl runs; else skips (prints why) or fails under NETPOL_REQUIRE_PRIVILEGED.
fn require_kubectl(test: &str) -> Option<()> {
    let runs = Command::new(kubectl_program()).args(["version", "--client"]).output();
    let missing = match runs {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!("`kubectl version --client` failed: {}", text(&out.stderr).trim())),
        Err(e) => Some(format!("kubectl cannot run: {e}")),
    };
    match verdict(test, missing.as_deref(), required()) {
        Verdict::Run => Some(()),
        Verdict::Skip(line) => {
            eprintln!("{line}");
            None
        }
        Verdict::Fail(message) => panic!("{message}"),
    }
}

#[test]
fn kubectl_netpol_runs_netpol() {
    if require_kubectl("kubectl_netpol_runs_netpol").is_none() {
        return;
    }
    let plugin = Plugin::install();

    let list = plugin.kubectl(&["plugin", "list"]);
    let listed = text(&list.stdout);
    assert!(
        listed.lines().any(|l| Path::new(l.trim()) == plugin.link()),
        "kubectl plugin list does not name {}:\n{listed}\n{}",
        plugin.link().display(),
        text(&list.stderr)
    );

    let create = ["create", "networkpolicy", "x", "--pod-selector", "app=web", "--policy-types", "Ingress"];
    let create = [&create[..], &["--dry-run=client", "-o", "yaml"]].concat();
    let direct = netpol(&create);
    let through = plugin.kubectl(&[&["netpol"][..], &create].concat());
    assert_eq!(through.status.code(), Some(0), "{}", text(&through.stderr));
    assert_eq!(text(&through.stdout), text(&direct.stdout));
    assert!(text(&through.stdout).starts_with("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"));

    let validate = ["validate", "-f", "examples/seed-000-walkthrough/step-05-dns-allowed"];
    let through = plugin.kubectl(&[&["netpol"][..], &validate].concat());
    assert_eq!(through.status.code(), Some(0), "{}{}", text(&through.stdout), text(&through.stderr));
    assert_eq!(text(&through.stdout), text(&netpol(&validate).stdout));

    // Exit codes pass through kubectl: findings are 1, usage errors 2.
    let broken = plugin.kubectl(&["netpol", "validate", "-f", "crates/cli/tests/data/broken.yaml"]);
    assert_eq!(broken.status.code(), Some(1), "{}", text(&broken.stderr));
    let usage = plugin.kubectl(&["netpol", "create", "networkpolicy", "x"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(text(&usage.stderr).contains("Usage: kubectl netpol create networkpolicy"), "{}", text(&usage.stderr));

    let help = plugin.kubectl(&["netpol", "--help"]);
    assert!(text(&help.stdout).contains("Usage: kubectl netpol <COMMAND>"), "{}", text(&help.stdout));
}

#[test]
fn run_as_netpol_the_usage_says_netpol() {
    let out = netpol(&["create", "networkpolicy", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("Usage: netpol create networkpolicy"), "{}", text(&out.stderr));
}

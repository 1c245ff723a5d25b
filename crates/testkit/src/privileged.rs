//! The one gate for privileged tests (root, network namespaces, nft, and
//! where a test says so, tools such as `conntrack`), and the network
//! namespace guard those tests share.
//!
//! Every privileged test starts with [`require_privileged!`](crate::require_privileged):
//!
//! ```no_run
//! #[test]
//! fn applies_in_a_namespace() {
//!     let privileged = netpol_testkit::require_privileged!();
//!     let ns = privileged.netns("nft-test"); // deleted when `ns` drops, even on panic
//!     assert!(!ns.name().is_empty());
//! }
//! ```
//!
//! What is probed, once per test process (cached): the effective uid is 0;
//! `ip -V` and `nft --version` run; a throwaway namespace can be added, `nft
//! list tables` runs inside it, and it can be deleted again. Extra tools named
//! in the macro (`require_privileged!("conntrack")`) must answer `--version`.
//!
//! When something is missing:
//! - with `NETPOL_REQUIRE_PRIVILEGED=1` (CI sets it) the test **fails** with the reason;
//! - otherwise it returns early and prints `SKIP <test>: <reason>` on stderr
//!   (shown by `cargo test -- --nocapture`, as the harness captures the
//!   output of tests that pass).
//!
//! Tests that need a real control plane (module [`control_plane`](crate::control_plane))
//! but not root go through the sibling gate [`require_control_plane!`](crate::require_control_plane),
//! under the same rule: it evaluates to the located [`Binaries`] when
//! kube-apiserver and etcd are found ([`Binaries::locate`]) and `kubectl` and
//! `openssl` answer, and skips or fails otherwise. A test that needs both root
//! and a control plane names it as a tool: `require_privileged!("control-plane")`.
//!
//! ```no_run
//! #[test]
//! fn talks_to_an_api_server() {
//!     let binaries = netpol_testkit::require_control_plane!();
//!     let cp = binaries.start().unwrap_or_else(|e| panic!("{e}")); // stopped when `cp` drops
//!     assert!(cp.kubeconfig().exists());
//! }
//! ```
//!
//! Tests that need programs but not root (Graphviz's `dot` and `chromium` for
//! `netpol graph`'s pictures) go through [`require_tools!`](crate::require_tools),
//! under the same rule.
//!
//! helm (for the chart's tests) has its gate too, [`require_helm!`](crate::require_helm),
//! under the same rule: it evaluates to the path of the helm that
//! [`locate_helm`] finds (`NETPOL_HELM`, then build.sh's cache), and a test
//! that also needs a control plane goes through both gates.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use std::path::PathBuf;

use crate::control_plane::{locate_helm, Binaries};

/// The environment variable that turns a skip into a failure.
pub const REQUIRE_VAR: &str = "NETPOL_REQUIRE_PRIVILEGED";

/// Starts a privileged test: evaluates to a [`Privileged`] token, or skips
/// (returns from the test) or fails it, as the module documentation says.
/// Arguments name extra programs the test needs: `require_privileged!("conntrack")`.
#[macro_export]
macro_rules! require_privileged {
    ($($tool:expr),* $(,)?) => {
        match $crate::privileged::gate(
            {
                fn here() {}
                $crate::privileged::test_name(::std::any::type_name_of_val(&here))
            },
            &[$($tool),*],
        ) {
            ::std::option::Option::Some(privileged) => privileged,
            ::std::option::Option::None => return,
        }
    };
}

/// Starts a test that needs a real control plane (no root): evaluates to the
/// located [`Binaries`], or skips (returns from the test) or fails it under
/// the same rule as [`require_privileged!`](crate::require_privileged).
#[macro_export]
macro_rules! require_control_plane {
    () => {
        match $crate::privileged::control_plane_gate({
            fn here() {}
            $crate::privileged::test_name(::std::any::type_name_of_val(&here))
        }) {
            ::std::option::Option::Some(binaries) => binaries,
            ::std::option::Option::None => return,
        }
    };
}

/// Starts a test that needs helm: evaluates to its path ([`locate_helm`]),
/// or skips (returns from the test) or fails it under the same rule as
/// [`require_privileged!`](crate::require_privileged).
#[macro_export]
macro_rules! require_helm {
    () => {
        match $crate::privileged::helm_gate({
            fn here() {}
            $crate::privileged::test_name(::std::any::type_name_of_val(&here))
        }) {
            ::std::option::Option::Some(helm) => helm,
            ::std::option::Option::None => return,
        }
    };
}

/// Starts a test that needs programs but not root (Graphviz's `dot`,
/// `chromium`): returns from the test (skips) or fails it, under the same rule
/// as [`require_privileged!`](crate::require_privileged), when one of them does
/// not answer its version flag.
#[macro_export]
macro_rules! require_tools {
    ($($tool:expr),+ $(,)?) => {
        if !$crate::privileged::tools_gate(
            {
                fn here() {}
                $crate::privileged::test_name(::std::any::type_name_of_val(&here))
            },
            &[$($tool),+],
        ) {
            return;
        }
    };
}

/// The name of the pseudo-tool that asks [`require_privileged!`](crate::require_privileged)
/// for a control plane too.
pub const CONTROL_PLANE: &str = "control-plane";

/// Proof that the probe passed; only [`gate`] makes one.
#[derive(Clone, Copy, Debug)]
pub struct Privileged {
    _probed: (),
}

impl Privileged {
    /// A fresh network namespace `netpol-<prefix>-<pid>-<n>`, deleted on Drop.
    pub fn netns(&self, prefix: &str) -> Netns {
        Netns::create(prefix)
    }
}

/// What a gate decided for one test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Run,
    /// The line printed on stderr before the test returns early.
    Skip(String),
    /// The panic message: the test fails.
    Fail(String),
}

/// Decides from what is missing (`None`: nothing) and whether skipping is allowed.
pub fn verdict(test: &str, missing: Option<&str>, required: bool) -> Verdict {
    match (missing, required) {
        (None, _) => Verdict::Run,
        (Some(reason), false) => Verdict::Skip(format!("SKIP {test}: {reason}")),
        (Some(reason), true) => Verdict::Fail(format!(
            "{test} cannot run: {reason} ({REQUIRE_VAR} is set, so a privileged test that cannot run fails)"
        )),
    }
}

/// Whether the environment demands privileged tests run: set, and neither empty nor `0`.
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The gate behind [`require_privileged!`](crate::require_privileged): `Some` when the test can run,
/// `None` (after printing why on stderr) when it must skip; panics when it
/// cannot run and [`required`].
pub fn gate(test: &str, tools: &[&str]) -> Option<Privileged> {
    let missing = match probe() {
        Err(reason) => Some(reason.clone()),
        Ok(()) => tools.iter().find_map(|tool| missing_tool(tool)),
    };
    run_or_skip(test, missing.map_or(Ok(Privileged { _probed: () }), Err))
}

/// The gate behind [`require_control_plane!`](crate::require_control_plane):
/// `Some` with the binaries when the test can run, `None` (after printing why)
/// when it must skip; panics when it cannot run and [`required`].
pub fn control_plane_gate(test: &str) -> Option<Binaries> {
    let found = Binaries::locate().and_then(|binaries| match control_plane_tools_missing() {
        Some(reason) => Err(reason),
        None => Ok(binaries),
    });
    run_or_skip(test, found.map_err(|reason| format!("no control plane: {reason}")))
}

/// The gate behind [`require_helm!`](crate::require_helm): `Some` with helm's
/// path when the test can run, `None` (after printing why) when it must skip;
/// panics when it cannot run and [`required`].
pub fn helm_gate(test: &str) -> Option<PathBuf> {
    run_or_skip(test, locate_helm().map_err(|reason| format!("no helm: {reason}")))
}

/// The gate behind [`require_tools!`](crate::require_tools): `true` when every
/// tool answers, `false` (after printing why) when the test must skip; panics
/// when one is missing and [`required`].
pub fn tools_gate(test: &str, tools: &[&str]) -> bool {
    let missing = tools.iter().find_map(|tool| missing_tool(tool));
    run_or_skip(test, missing.map_or(Ok(()), Err)).is_some()
}

/// What every gate does with what it found: runs with it, or prints the
/// skip line and returns `None`, or panics, as [`verdict`] decides.
fn run_or_skip<T>(test: &str, found: Result<T, String>) -> Option<T> {
    match verdict(test, found.as_ref().err().map(String::as_str), required()) {
        Verdict::Run => found.ok(),
        Verdict::Skip(line) => {
            eprintln!("{line}");
            None
        }
        Verdict::Fail(message) => panic!("{message}"),
    }
}

/// Why the control plane's client-side tools (`kubectl`, `openssl`) cannot run, if they cannot.
fn control_plane_tools_missing() -> Option<String> {
    ["kubectl", "openssl"].iter().find_map(|tool| missing_tool(tool))
}

/// `crate::module::test::here` (from `type_name_of_val`) -> `module::test`.
pub fn test_name(here: &str) -> &str {
    let path = here.strip_suffix("::here").unwrap_or(here);
    path.split_once("::").map_or(path, |(_, rest)| rest)
}

/// The cached probe of root, `ip`, `nft` and a throwaway namespace.
fn probe() -> &'static Result<(), String> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        match effective_uid() {
            Some(0) => {}
            Some(uid) => return Err(format!("not root (euid {uid}): network namespaces and nft need root")),
            None => return Err("cannot read the effective uid from /proc/self/status".into()),
        }
        if let Some(reason) = ["ip", "nft"].iter().find_map(|tool| missing_tool(tool)) {
            return Err(reason);
        }
        let name = format!("netpol-probe-{}", std::process::id());
        run("ip", &["netns", "add", &name]).map_err(|e| format!("`ip netns add` fails: {e}"))?;
        let nft = run("ip", &["netns", "exec", &name, "nft", "list", "tables"]);
        let deleted = run("ip", &["netns", "del", &name]);
        nft.map_err(|e| format!("`nft list tables` fails in a network namespace: {e}"))?;
        deleted.map_err(|e| format!("`ip netns del` fails: {e}"))
    })
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    uids.split_whitespace().nth(1)?.parse().ok()
}

/// `Some(reason)` when `tool` does not answer its version flag
/// ([`CONTROL_PLANE`]: when the control plane's binaries or tools are missing).
fn missing_tool(tool: &str) -> Option<String> {
    if tool == CONTROL_PLANE {
        return match Binaries::locate() {
            Err(reason) => Some(format!("no control plane: {reason}")),
            Ok(_) => control_plane_tools_missing().map(|reason| format!("no control plane: {reason}")),
        };
    }
    let flags: &[&str] = match tool {
        "ip" | "dot" => &["-V"],
        "kubectl" => &["version", "--client"],
        "openssl" => &["version"],
        _ => &["--version"],
    };
    run(tool, flags).err().map(|e| format!("`{tool} {}` fails: {e} (install it: {})", flags.join(" "), package(tool)))
}

fn package(tool: &str) -> &str {
    match tool {
        "ip" => "apt-get install -y iproute2",
        "nft" => "apt-get install -y nftables",
        "conntrack" => "apt-get install -y conntrack",
        "openssl" => "apt-get install -y openssl",
        "dot" => "apt-get install -y graphviz",
        "chromium" => "apt-get install -y chromium",
        "kubectl" => "see the README, \"A real control plane\"",
        _ => "see the README",
    }
}

/// Runs a program to completion; `Err` carries why it could not run or its stderr.
fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(format!("{} ({})", stderr.trim(), out.status))
    }
}

/// A network namespace a test created; deleted on Drop, even when the test panics.
/// Made by [`Privileged::netns`], so only a test that passed the gate has one.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    fn create(prefix: &str) -> Netns {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!("netpol-{prefix}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        run("ip", &["netns", "add", &name]).unwrap_or_else(|e| panic!("ip netns add {name}: {e}"));
        Netns { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run("ip", &["netns", "del", &self.name]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_capability_skips_or_fails_with_its_reason() {
        assert_eq!(verdict("t", None, false), Verdict::Run);
        assert_eq!(verdict("t", None, true), Verdict::Run);
        assert_eq!(
            verdict("nft::a", Some("not root (euid 1000)"), false),
            Verdict::Skip("SKIP nft::a: not root (euid 1000)".into())
        );
        match verdict("nft::a", Some("not root (euid 1000)"), true) {
            Verdict::Fail(m) => {
                assert!(m.starts_with("nft::a cannot run: not root (euid 1000)"), "{m}");
                assert!(m.contains(REQUIRE_VAR), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_test_name_drops_the_crate_and_the_marker() {
        assert_eq!(test_name("netns::apply_replaces::here"), "apply_replaces");
        assert_eq!(test_name("agent::tests::watch::here"), "tests::watch");
        assert_eq!(test_name("plain"), "plain");
        fn here() {}
        assert_eq!(
            test_name(std::any::type_name_of_val(&here)),
            "privileged::tests::the_test_name_drops_the_crate_and_the_marker"
        );
    }

    #[test]
    fn a_tool_that_does_not_exist_is_missing() {
        let reason = missing_tool("netpol-no-such-tool").expect("missing");
        assert!(reason.contains("`netpol-no-such-tool --version` fails: cannot run"), "{reason}");
        assert_eq!(missing_tool(env!("CARGO")), None, "the cargo that built this answers --version");
    }

    #[test]
    fn the_tools_gate_runs_with_tools_that_answer_and_names_the_package_of_one_that_does_not() {
        assert!(tools_gate("t", &[env!("CARGO")]));
        let reason = missing_tool("netpol-no-such-tool").expect("missing");
        if required() {
            let failed = std::panic::catch_unwind(|| tools_gate("t", &["netpol-no-such-tool"])).expect_err("fails");
            let message = failed.downcast_ref::<String>().expect("a formatted panic");
            assert!(message.starts_with(&format!("t cannot run: {reason}")), "{message}");
        } else {
            assert!(!tools_gate("t", &["netpol-no-such-tool"]));
        }
        assert_eq!(package("dot"), "apt-get install -y graphviz");
        assert_eq!(package("chromium"), "apt-get install -y chromium");
    }

    #[test]
    fn the_control_plane_pseudo_tool_names_what_is_missing() {
        // Whatever this machine has, the answer agrees with the locator and names the control plane.
        match (Binaries::locate(), missing_tool(CONTROL_PLANE)) {
            (Err(reason), Some(missing)) => assert_eq!(missing, format!("no control plane: {reason}")),
            (Ok(_), Some(missing)) => assert!(missing.starts_with("no control plane: `"), "{missing}"),
            (Ok(_), None) => assert_eq!(control_plane_tools_missing(), None),
            (Err(reason), None) => panic!("binaries missing ({reason}) but the gate would run"),
        }
    }

    #[test]
    fn the_helm_gate_runs_with_what_the_locator_finds_or_skips_or_fails() {
        match locate_helm() {
            Ok(path) => assert_eq!(helm_gate("t"), Some(path)),
            Err(_) if !required() => assert_eq!(helm_gate("t"), None),
            Err(reason) => {
                let failed = std::panic::catch_unwind(|| helm_gate("t")).expect_err("a required gate fails");
                let message = failed.downcast_ref::<String>().expect("a formatted panic");
                assert!(message.starts_with(&format!("t cannot run: no helm: {reason}")), "{message}");
            }
        }
    }
}

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

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

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
    match verdict(test, missing.as_deref(), required()) {
        Verdict::Run => Some(Privileged { _probed: () }),
        Verdict::Skip(line) => {
            eprintln!("{line}");
            None
        }
        Verdict::Fail(message) => panic!("{message}"),
    }
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

/// `Some(reason)` when `tool` does not answer its version flag.
fn missing_tool(tool: &str) -> Option<String> {
    let flag = if tool == "ip" { "-V" } else { "--version" };
    run(tool, &[flag]).err().map(|e| format!("`{tool} {flag}` fails: {e} (install it: {})", package(tool)))
}

fn package(tool: &str) -> &str {
    match tool {
        "ip" => "apt-get install -y iproute2",
        "nft" => "apt-get install -y nftables",
        "conntrack" => "apt-get install -y conntrack",
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
}

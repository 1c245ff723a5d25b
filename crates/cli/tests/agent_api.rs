//! `netpol agent --kubernetes` as a process against a real API server,
//! enforcing into network namespaces this test makes (issue 10's faults):
//! killed with SIGKILL right after a change, again and again, the kernel
//! keeps a whole table every time (never flushed, never half applied), and
//! the restarted agent converges to exactly the table a fresh agent applies
//! for the same cluster. Privileged and control-plane gates; CI requires both.

use std::process::Command;
use std::time::Duration;

use netpol_testkit::scenarios::seed_000_step as step;
use netpol_testkit::{require_control_plane, require_privileged};
use serde_json::Value;
use support::agent::Agent;

mod support;

/// `nft list table inet netpol` in `netns`; `None` when there is no such table.
fn table(netns: &str) -> Option<String> {
    let out = Command::new("ip")
        .args(["netns", "exec", netns, "nft", "list", "table", "inet", "netpol"])
        .output()
        .expect("run nft");
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The names of the table's hook chains (where the kernel enters it).
fn hooks(table: &str) -> Vec<&str> {
    table.lines().map(str::trim).filter(|l| l.starts_with("chain hook/")).collect()
}

fn is_sync(line: &str) -> bool {
    serde_json::from_str::<Value>(line).is_ok_and(|l| l["event"] == "sync")
}

fn spawn(kubeconfig: &str, netns: &str) -> Agent {
    Agent::spawn(&["--kubernetes", "--kubeconfig", kubeconfig, "--netns", netns, "--log-format", "json"])
}

#[test]
fn killed_right_after_changes_the_rules_stay_whole_and_a_restart_converges() {
    let gate = require_privileged!();
    let (killed, fresh) = (gate.netns("api-kill"), gate.netns("api-fresh"));
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    let kubeconfig = cp.kubeconfig().to_str().expect("utf-8 path").to_string();
    cp.apply_with_status(&step("step-02-default-deny")).unwrap_or_else(|e| panic!("{e}"));
    let mut agent = spawn(&kubeconfig, killed.name());
    agent.wait_for(Duration::from_secs(30), "the first sync", is_sync);
    let mut tables = vec![table(killed.name()).expect("the first sync applied a table")];

    let steps =
        ["step-03-frontend-egress", "step-04-backend-ingress", "step-05-dns-allowed", "step-07-cassandra-labelled"];
    for (i, name) in steps.into_iter().enumerate() {
        cp.apply_with_status(&step(name)).unwrap_or_else(|e| panic!("{e}"));
        // Kill at a different moment each time: at once, and while it may be syncing.
        std::thread::sleep(Duration::from_millis(7 * i as u64));
        agent.kill();
        let now = table(killed.name()).unwrap_or_else(|| panic!("after SIGKILL at {name}, the table is gone"));
        // nft commits a whole transaction or nothing: the hook chains are all there.
        assert_eq!(hooks(&now), hooks(&tables[0]), "after SIGKILL at {name}, the table is not whole:\n{now}");
        tables.push(now);
        agent = spawn(&kubeconfig, killed.name());
        let line = agent.wait_for(Duration::from_secs(30), "the restarted agent's first sync", is_sync);
        let sync: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(sync["script"], "whole", "a restarted agent replaces the table whole: {line}");
    }
    // Nothing more changes: the last restart's table is what a fresh agent applies.
    let once = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(["agent", "--kubernetes", "--kubeconfig", &kubeconfig, "--netns", fresh.name(), "--once"])
        .output()
        .expect("run netpol agent --once");
    assert!(once.status.success(), "{}", String::from_utf8_lossy(&once.stderr));
    let converged = table(killed.name()).expect("table");
    assert_eq!(converged, table(fresh.name()).expect("fresh table"), "the restarted agent converged");
    assert_ne!(converged, tables[0], "the steps changed the rules");
    agent.kill();
}

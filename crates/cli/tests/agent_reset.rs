//! `netpol agent --reset-denied` end to end, as a running process: the real
//! binary watches a folder of manifests and enforces it in a lab's node
//! namespace, while the test holds long-lived connections open through it.
//!
//! 1. A lab (pods x/a, x/b, x/c; an echo server in x/b) is up with no policy;
//!    TCP and UDP connections x/a -> x/b and x/c -> x/b carry data.
//! 2. `netpol agent --manifests DIR --netns <the lab's node namespace>
//!    --reset-denied` starts on the same manifests: its first sync replaces the
//!    lab's table with the same rules, and the connections keep carrying data.
//! 3. A policy admitting only x/c into x/b is written (temp name + rename, as
//!    kubectl-like tools do): the next `sync changed` line reports the two x/a
//!    connections reset; they carry no more data, x/c's still do, and a new
//!    x/a -> x/b connection is dropped.
//! 4. SIGTERM stops the agent and leaves the rules in place.
//!
//! Needs root, `ip`, `nft` and `conntrack` (testkit's privileged gate).
//! The lab (and with it the node namespace and its table) is removed when the
//! test ends, even on failure; the agent is stopped before it.

use std::net::IpAddr;
use std::time::Duration;

use netpol_lab::hold::{Echo, Held};
use netpol_lab::{netns, probe, Lab, LabOptions, Outcome, ServerMode};
use netpol_manifest::LoadOptions;
use netpol_model::{PodKey, Protocol};
use netpol_nft::apply;
use netpol_testkit::require_privileged;
use netpol_testkit::write_renamed as write_manifest;
use support::agent::Agent;

mod support;

/// The echo port: not a declared containerPort (the lab's own servers answer
/// once and close), allowed by the policy because its rule has no ports.
const ECHO: u16 = 7000;
/// How long a round trip may take before it counts as not carried.
const ROUND_TRIP: Duration = Duration::from_millis(1500);

/// A long-lived connection from a pod's namespace to the echo server.
fn hold(from_netns: &str, dst: IpAddr, protocol: Protocol) -> Held {
    Held::open(from_netns, (dst, ECHO).into(), protocol, ROUND_TRIP)
        .unwrap_or_else(|e| panic!("{protocol} connection from {from_netns} to {dst}: {e}"))
}
/// How long to wait for one line of the agent (a loaded 2-core machine).
const SYNC_LINE: Duration = Duration::from_secs(10);

/// Namespace x and its pods, plus the cluster DNS pod the lab would otherwise
/// add on its own: the lab's cluster and the agent's are then the same objects.
const PODS: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {ns: x}}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {pod: a}}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80, name: http}]}]}
status: {podIP: 10.244.7.11}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {pod: b}}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80, name: http}]}]}
status: {podIP: 10.244.7.12}
---
apiVersion: v1
kind: Pod
metadata: {name: c, namespace: x, labels: {pod: c}}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80, name: http}]}]}
status: {podIP: 10.244.7.13}
---
apiVersion: v1
kind: Pod
metadata: {name: kube-dns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  containers:
  - name: dns
    image: coredns
    ports: [{containerPort: 53, protocol: UDP, name: dns}, {containerPort: 53, protocol: TCP, name: dns-tcp}]
status: {podIP: 10.244.7.53}
";

/// x/b admits x/c only (any port): x/a -> x/b becomes denied, x/c -> x/b stays allowed.
const B_ADMITS_C_ONLY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {pod: c}}}]
";

/// A lab id unique to this process: `<prefix><pid in base 36>` (at most 12 characters).
fn lab_id(prefix: &str) -> String {
    let mut pid = std::process::id();
    let mut digits = String::new();
    while pid > 0 {
        digits.insert(0, char::from_digit(pid % 36, 36).unwrap_or('0'));
        pid /= 36;
    }
    format!("{prefix}{digits}")
}

/// The next `sync` report line (`netpol agent: sync ...`, without that prefix)
/// for which `want` holds; other lines (diagnostics, timings) are only logged.
/// Panics after [`SYNC_LINE`] or on a failed sync.
fn next_sync(agent: &mut Agent, what: &str, want: impl Fn(&str) -> bool) -> String {
    let line = agent.wait_for(SYNC_LINE, what, |line| {
        line.starts_with("netpol agent: sync failed") || line.strip_prefix("netpol agent: sync ").is_some_and(&want)
    });
    match line.strip_prefix("netpol agent: sync ") {
        Some(report) if !line.starts_with("netpol agent: sync failed") => report.to_string(),
        _ => panic!("waiting for {what}: {line}\nagent stderr:\n{}", agent.log.join("\n")),
    }
}

/// `nft list table inet netpol` inside `netns` (None when there is no such table).
fn listed_table(netns_name: &str) -> Option<String> {
    netns::run("ip", &["netns", "exec", netns_name, "nft", "list", "table", "inet", "netpol"]).ok()
}

#[test]
fn agent_reset_denied_cuts_exactly_the_denied_connections() {
    require_privileged!("conntrack");
    let manifests = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    write_manifest(manifests.path(), "pods.yaml", PODS);
    let loaded = netpol_manifest::load([("pods.yaml", PODS)], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);

    // The lab renders with the default options (every pod, no pod CIDR) into its
    // node namespace; the agent gets the same: no --node, no --pod-cidr.
    let options = LabOptions {
        id: lab_id("agr"),
        state_dir: state_dir.path().to_path_buf(),
        servers: ServerMode::InProcess,
        enforce: true,
        api: None,
    };
    let _ = Lab::down_by_id(&options.id, &options.state_dir);
    let lab = Lab::up(&loaded.cluster, &options, &|| false).unwrap_or_else(|e| panic!("lab up {}: {e}", options.id));
    let topology = lab.topology().unwrap().clone();
    assert!(topology.notes.iter().all(|n| !n.starts_with("added")), "the lab added objects: {:?}", topology.notes);
    let node = topology.node_netns.clone();
    let (a, b, c) = (PodKey::new("x", "a"), PodKey::new("x", "b"), PodKey::new("x", "c"));
    let ns = |k: &PodKey| topology.pod(k).unwrap().netns.clone();
    let ip = |k: &PodKey| topology.pod(k).unwrap().ips[0];
    let (a_ns, c_ns) = (ns(&a), ns(&c));
    let (a_ip, b_ip) = (ip(&a), ip(&b));

    let _echo = Echo::start(&ns(&b), ECHO).unwrap_or_else(|e| panic!("echo server in x/b: {e}"));

    // 1. No policy: the lab's rules let all four connections carry data.
    let mut a_tcp = hold(&a_ns, b_ip, Protocol::Tcp);
    let mut a_udp = hold(&a_ns, b_ip, Protocol::Udp);
    let mut c_tcp = hold(&c_ns, b_ip, Protocol::Tcp);
    let mut c_udp = hold(&c_ns, b_ip, Protocol::Udp);
    for (name, conn) in
        [("x/a TCP", &mut a_tcp), ("x/a UDP", &mut a_udp), ("x/c TCP", &mut c_tcp), ("x/c UDP", &mut c_udp)]
    {
        conn.round_trip("before\n").unwrap_or_else(|e| panic!("{name} -> x/b before any policy: {e}"));
    }
    let lab_table = listed_table(&node).expect("the lab's table in its node namespace");

    // 2. The agent takes over the node namespace the lab routes through.
    let dir = manifests.path().display().to_string();
    let mut agent = Agent::spawn(&["--manifests", &dir, "--netns", &node, "--reset-denied"]);
    let first = next_sync(&mut agent, "the first sync line", |_| true);
    assert!(first.starts_with("changed: "), "the first sync applies: {first}");
    assert!(!first.contains("reset"), "nothing is denied yet: {first}");
    let agent_table = listed_table(&node).expect("the agent's table");
    assert_eq!(agent_table, lab_table, "the agent renders what the lab applied (same manifests, same options)");
    for (name, conn) in
        [("x/a TCP", &mut a_tcp), ("x/a UDP", &mut a_udp), ("x/c TCP", &mut c_tcp), ("x/c UDP", &mut c_udp)]
    {
        conn.round_trip("agent up\n").unwrap_or_else(|e| panic!("{name} -> x/b after the agent's first sync: {e}"));
    }

    // 3. The policy change: x/a's two connections are reset, and only they.
    write_manifest(manifests.path(), "policy.yaml", B_ADMITS_C_ONLY);
    let report = next_sync(&mut agent, "the sync of the policy", |r| r.starts_with("changed: "));
    assert!(
        report.contains("; reset 2 denied connections;"),
        "the x/a -> x/b TCP and UDP connections are reset: {report}\nagent stderr:\n{}",
        agent.log.join("\n")
    );
    let entries = apply::conntrack_list(Some(&node)).unwrap();
    assert!(entries.iter().all(|e| !(e.src == a_ip && e.dst == b_ip)), "x/a -> x/b still tracked: {entries:?}");
    assert!(a_tcp.round_trip("reset\n").is_err(), "x/a -> x/b TCP still carries data after the reset");
    assert!(a_udp.round_trip("reset\n").is_err(), "x/a -> x/b UDP still carries data after the reset");
    c_tcp.round_trip("still\n").unwrap_or_else(|e| panic!("x/c -> x/b TCP after the reset: {e}"));
    c_udp.round_trip("still\n").unwrap_or_else(|e| panic!("x/c -> x/b UDP after the reset: {e}"));
    let new_from = |netns_name: &str, protocol| {
        netns::run_in(netns_name, || probe::attempt((b_ip, ECHO).into(), protocol, Duration::from_millis(1000)))
            .unwrap()
    };
    for protocol in [Protocol::Tcp, Protocol::Udp] {
        let outcome = new_from(&a_ns, protocol);
        assert!(!outcome.reached(), "a NEW x/a -> x/b {protocol} connection is dropped, got {outcome}");
        assert_eq!(new_from(&c_ns, protocol), Outcome::Connected, "a NEW x/c -> x/b {protocol} connection");
    }
    // The dropped packets of x/a did not bring its entries back.
    let entries = apply::conntrack_list(Some(&node)).unwrap();
    assert!(entries.iter().all(|e| !(e.src == a_ip && e.dst == b_ip)), "x/a -> x/b tracked again: {entries:?}");

    // 4. SIGTERM ends the agent; its rules stay.
    let status = agent.stop();
    assert!(status.is_some_and(|s| s.success()), "the agent exits 0 on SIGTERM: {status:?}");
    let left = listed_table(&node).expect("the rules stay in place after the agent exits");
    assert!(left.contains("drop"), "the policy's rules stay: {left}");
    assert!(a_tcp.round_trip("after exit\n").is_err(), "x/a -> x/b TCP revived after the agent exited");
    c_tcp.round_trip("after exit\n").unwrap_or_else(|e| panic!("x/c -> x/b TCP after the agent exited: {e}"));

    drop(agent);
    drop(_echo);
    lab.down().unwrap();
}

//! The upstream network-policy-api conformance suite with real packets: every
//! `PokeServer(client, server, protocol, port, shouldConnect)` of its tests at
//! v0.1.8 (AdminNetworkPolicy, BaselineAdminNetworkPolicy) and v0.2.0
//! (ClusterNetworkPolicy), made as a real TCP or UDP connection in a lab whose
//! node namespace enforces netpol's rendered ruleset, and compared with
//! upstream's `shouldConnect`. The tables and manifests are the engine test's
//! (`netpol_testkit::network_policy_api`, replayed offline by
//! crates/engine/tests/network_policy_api.rs).
//!
//! One lab per tag, brought up once on `base.yaml` (the suite's namespaces, its
//! eight pods with their IPs, its two Nodes and the hostNetwork pods on them);
//! each subtest then `apply`s its manifests (the ruleset is replaced in one
//! transaction) and makes its pokes, in parallel, each a new connection from
//! the client pod's namespace to the server's IP. A poke that should connect
//! must *connect* (TCP handshake, or a UDP reply); one that should not must
//! *time out* (silence: dropped). A refusal (nothing listened) or a socket
//! error is a disagreement too. Each disagreement is listed with the manifests,
//! the flow, both answers and netpol's explanation (the engine on the lab's
//! cluster).
//!
//! What the lab adds to `base.yaml`: upstream's agnhost containers serve 8080/TCP
//! and 5353/UDP (and 9003, 9005 SCTP) without declaring them, and the lab serves
//! declared ports only; so every pod gets unnamed container ports for the TCP and
//! UDP ports the pokes target. Unnamed ports change no verdict (named ports
//! resolve by name), and the engine's explanation is computed on that cluster.
//!
//! Not probed, counted exactly (a regression that drops pokes fails):
//! - **SCTP**: 86 pokes per tag (84 pod to pod, 2 to the hostNetwork pod). This
//!   kernel has no SCTP (`socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)` fails with
//!   EPROTONOSUPPORT, errno 93; the test prints what it gets), so the lab neither
//!   serves nor attempts SCTP ([`netpol_lab::SCTP_UNSUPPORTED`]). The engine test
//!   still checks them through the engine, the matrix and the nft evaluator.
//!
//! Probed: 203 pokes per tag, 196 pod to pod (the `forward` hook) and 7 to the
//! hostNetwork pod centaur-1 on its ports 34345-34349 (`nodes` peers): the lab
//! puts its address (its Node's, 172.18.0.3) on the node namespace's loopback and
//! serves its ports there, so those connections cross the node's `input` hook,
//! where the ruleset enforces a pod's egress to its node.
//!
//! The replay can fail: in a lab that enforces nothing, exactly the 91 probed
//! pokes upstream says are dropped disagree (each connects), the three to the
//! hostNetwork pod among them (`..._without_enforcement_...`).
//!
//! Measured on the 2-core development machine: 50 s per tag (92 subtests, each
//! waiting up to `labkit::TIMEOUT`, 1 s, for its dropped pokes; the lab is up in
//! about 0.5 s), the three tests in parallel: 52 s.

mod labkit;

use std::net::IpAddr;
use std::time::Instant;

use netpol_engine::{explain, Engine, Flow, Options};
use netpol_lab::{Lab, LabOptions, Outcome, Target};
use netpol_manifest::{load, LoadOptions};
use netpol_model::{Cluster, ContainerPort, PodKey, Protocol};
use netpol_testkit::network_policy_api::{self as suite, sources, Poke, Version};
use netpol_testkit::require_privileged;

/// Per tag: the pokes made as connections, pod to pod and to the hostNetwork pod.
const PROBED_POD: usize = 196;
const PROBED_HOST_NETWORK: usize = 7;
/// Per tag: SCTP pokes, not probed.
const NOT_PROBED_SCTP: usize = 86;

#[test]
fn network_policy_api_v0_1_8_with_real_packets() {
    require_privileged!();
    check(Version::V0_1_8, "na");
}

#[test]
fn network_policy_api_v0_2_0_with_real_packets() {
    require_privileged!();
    check(Version::V0_2_0, "nb");
}

/// The replay can tell: in a lab that enforces nothing, exactly the probed
/// pokes upstream says are dropped disagree, each one connecting (the three
/// to the hostNetwork pod among them). Nothing times out, so this takes seconds.
#[test]
fn network_policy_api_without_enforcement_every_dropped_poke_disagrees() {
    require_privileged!();
    let tally = replay(Version::V0_1_8, "nc", false);
    let dropped: Vec<&Poke> =
        suite::all().flat_map(|t| t.subtests).flat_map(|s| s.pokes).filter(|p| p.2 != Protocol::Sctp && !p.4).collect();
    let to_host_network = dropped.iter().filter(|p| p.1 == suite::CENTAUR_1).count();
    assert_eq!((dropped.len(), to_host_network), (91, 3));
    assert_eq!(tally.disagreements.len(), dropped.len(), "{}", tally.disagreements.join("\n\n"));
    for d in &tally.disagreements {
        assert!(d.contains("upstream: is dropped; lab: connected"), "{d}");
    }
    let host_network = tally.disagreements.iter().filter(|d| d.contains("centaur-1 (172.18.0.3)")).count();
    assert_eq!(host_network, to_host_network);
}

/// What one tag's replay did.
#[derive(Default)]
struct Tally {
    pod: usize,
    host_network: usize,
    sctp: usize,
    disagreements: Vec<String>,
}

/// Replays every poke at `version` in an enforced lab; fails with every disagreement.
fn check(version: Version, prefix: &str) {
    let tally = replay(version, prefix, true);
    assert!(
        tally.disagreements.is_empty(),
        "{} disagreement(s) with network-policy-api {} in the lab\n\n{}",
        tally.disagreements.len(),
        version.tag(),
        tally.disagreements.join("\n\n")
    );
    let counts = (tally.pod, tally.host_network, tally.sctp);
    assert_eq!(counts, (PROBED_POD, PROBED_HOST_NETWORK, NOT_PROBED_SCTP), "(pod, hostNetwork, SCTP) pokes");
    assert_eq!(tally.pod + tally.host_network + tally.sctp, suite::UPSTREAM_POKES);
}

/// One lab for `version` (enforcing the ruleset or not), every subtest applied
/// in turn and its pokes made; the lab is removed at the end, or by its Drop
/// when a step panics.
fn replay(version: Version, prefix: &str, enforce: bool) -> Tally {
    let started = Instant::now();
    let base = serve_poked_ports(loaded(&suite::base()).expect("base.yaml loads"));
    let options = LabOptions { enforce, ..labkit::options(prefix) };
    let _ = Lab::down_by_id(&options.id, &options.state_dir);
    let mut lab = Lab::up(&base, &options, &|| false).unwrap_or_else(|e| panic!("lab up {}: {e}", options.id));
    let up = started.elapsed();
    assert_eq!(lab.topology().unwrap().host_network.len(), 2, "centaur-0 and centaur-1 are served");
    let mut tally = Tally::default();
    let mut subtests = 0;
    for test in suite::all() {
        for sub in test.subtests {
            subtests += 1;
            let manifests = version.path(sub.manifests);
            let at = format!(
                "{} ({}), subtest {:?}\nmanifests: base.yaml + {manifests}",
                test.file,
                test.short_name(version),
                sub.name_at(version)
            );
            let cluster = match loaded(&sources(&manifests)) {
                Ok(c) => serve_poked_ports(c),
                Err(diagnostics) => {
                    tally.disagreements.push(format!("{at}\nrefused by the loader:\n{diagnostics}"));
                    continue;
                }
            };
            lab.apply(&cluster).unwrap_or_else(|e| panic!("{at}\napply: {e}"));
            poke_all(&lab, &at, sub.pokes, &mut tally);
        }
    }
    let id = lab.id().to_string();
    lab.down().unwrap_or_else(|e| panic!("lab down {id}: {e}"));
    assert!(labkit::namespaces(&id).is_empty(), "left behind: {:?}", labkit::namespaces(&id));

    let sctp = match sctp_socket() {
        Ok(()) => "this kernel opens SCTP sockets, but the lab does not probe SCTP".to_string(),
        Err(e) => format!("socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP): {e}"),
    };
    eprintln!(
        "network-policy-api {}{}: {subtests} subtests; probed {} pokes ({} pod to pod, {} to the hostNetwork pod), \
         not probed {} (SCTP: {sctp}); {} disagreement(s); lab up {:.1?}, total {:.1?}",
        version.tag(),
        if enforce { "" } else { " (not enforced)" },
        tally.pod + tally.host_network,
        tally.pod,
        tally.host_network,
        tally.sctp,
        tally.disagreements.len(),
        up,
        started.elapsed(),
    );
    tally
}

/// Makes the TCP and UDP pokes of one subtest in parallel; counts SCTP ones.
fn poke_all(lab: &Lab, at: &str, pokes: &[Poke], tally: &mut Tally) {
    let topology = lab.topology().unwrap();
    let results: Vec<Option<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = pokes
            .iter()
            .filter(|poke| poke.2 != Protocol::Sctp)
            .map(|poke| scope.spawn(move || disagreement(lab, poke)))
            .collect();
        handles.into_iter().map(|h| h.join().expect("a poke panicked")).collect()
    });
    for poke in pokes {
        let to: PodKey = poke.1.parse().unwrap();
        let host_network = topology.host_network.iter().any(|h| h.key == to);
        match (poke.2, host_network) {
            (Protocol::Sctp, _) => tally.sctp += 1,
            (_, true) => tally.host_network += 1,
            (_, false) => tally.pod += 1,
        }
    }
    tally.disagreements.extend(results.into_iter().flatten().map(|why| format!("{at}\n{why}")));
}

/// One poke as a real connection: `None` when the lab does what upstream says.
fn disagreement(lab: &Lab, poke: &Poke) -> Option<String> {
    let &Poke(from, to, protocol, port, should_connect) = poke;
    let (src, dst): (PodKey, PodKey) = (from.parse().unwrap(), to.parse().unwrap());
    let topology = lab.topology().unwrap();
    let ip: IpAddr = topology.cluster.pods.iter().find(|p| p.key() == dst).and_then(|p| p.ips.first().copied())?;
    let target = Target { host: ip.to_string(), port, protocol };
    let flow = format!("flow: {from} -> {to} ({ip}) {port}/{protocol}");
    let connection = match lab.connect(&src, &target, labkit::TIMEOUT) {
        Ok(c) => c,
        Err(e) => return Some(format!("{flow}\nconnect failed: {e}")),
    };
    let observed = connection.outcome.clone().unwrap_or(Outcome::Failed("no attempt".into()));
    let want = if should_connect { Outcome::Connected } else { Outcome::TimedOut };
    if observed == want && connection.dst.as_ref() == Some(&dst) {
        return None;
    }
    let engine = Engine::new(&topology.cluster, Options::default());
    let why = match engine.evaluate(&Flow::new(src, dst, protocol, port)) {
        Ok(decision) => explain(&decision),
        Err(e) => format!("evaluate failed: {e}"),
    };
    let predicted = match lab.predict(&connection).map(|p| p.connection) {
        Ok(Some(true)) => "connects".to_string(),
        Ok(Some(false)) => "is dropped".to_string(),
        Ok(None) => "nothing (no connection attempted)".to_string(),
        Err(e) => format!("cannot predict: {e}"),
    };
    let expected = if should_connect { "connects" } else { "is dropped" };
    let at = connection.dst.map_or_else(|| "no pod".to_string(), |k| k.to_string());
    Some(format!("{flow}\nupstream: {expected}; lab: {observed} (at {at}); netpol: {predicted}\n{why}"))
}

fn loaded(sources: &[(String, String)]) -> Result<Cluster, String> {
    let loaded = load(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default());
    if loaded.has_errors() {
        let all: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
        return Err(all.join("\n"));
    }
    Ok(loaded.cluster)
}

/// Every TCP and UDP port a poke targets at a pod, on every pod that is not
/// hostNetwork (unnamed, when not declared already), as agnhost serves them.
fn serve_poked_ports(mut cluster: Cluster) -> Cluster {
    let mut poked: Vec<(u16, Protocol)> = suite::all()
        .flat_map(|t| t.subtests)
        .flat_map(|s| s.pokes)
        .filter(|p| p.2 != Protocol::Sctp && p.1 != suite::CENTAUR_1)
        .map(|p| (p.3, p.2))
        .collect();
    poked.sort();
    poked.dedup();
    for pod in cluster.pods.iter_mut().filter(|p| !p.host_network) {
        for &(port, protocol) in &poked {
            if !pod.ports.iter().any(|c| c.port == port && c.protocol == protocol) {
                pod.ports.push(ContainerPort { name: None, port, protocol });
            }
        }
    }
    cluster
}

/// Whether this kernel opens an SCTP socket (the evidence for not probing SCTP).
fn sctp_socket() -> Result<(), nix::Error> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockProtocol, SockType};
    socket(AddressFamily::Inet, SockType::Stream, SockFlag::empty(), SockProtocol::Sctp).map(drop)
}

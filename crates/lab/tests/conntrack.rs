//! Existing connections when a policy changes, with real long-lived connections
//! held open by the test (an echo server in x/b, clients in x/a and x/c):
//!
//! 1. no policy: x/a -> x/b and x/c -> x/b (TCP and UDP) carry data;
//! 2. a policy that admits only x/c into x/b is applied WITHOUT reset: both
//!    established connections keep carrying data (kept, as Calico does), while a
//!    new x/a -> x/b connection is dropped;
//! 3. the reset-denied step of `netpol agent --reset-denied`
//!    ([`netpol_nft::apply::reset_denied`], in the lab's node namespace): the
//!    conntrack entries of x/a -> x/b are gone and that connection no longer
//!    carries data, while x/c -> x/b still does and keeps its entries.
//!
//! Needs root, `ip`, `nft` and `conntrack` (apt-get install -y conntrack);
//! skipped with a printed reason otherwise.

mod labkit;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::time::Duration;

use netpol_lab::hold::{Echo, Held};
use netpol_lab::{netns, probe, Outcome};
use netpol_model::{Cluster, PodKey, Protocol};
use netpol_nft::apply;
use netpol_nft::conntrack::Entry;
use netpol_nft::RenderOptions;
use netpol_testkit::*;

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

fn base() -> ClusterBuilder {
    let mut c = cluster().namespace(namespace("x").label("ns", "x"));
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        c = c.pod(pod("x", name).label("pod", name).ip(&format!("10.244.7.{}", 11 + i)).port(
            "http",
            80,
            Protocol::Tcp,
        ));
    }
    c
}

/// x/b admits x/c only (any port): x/a -> x/b becomes denied, x/c -> x/b stays allowed.
fn b_admits_c_only() -> Cluster {
    base().policy(policy("x", "b").select(sel!("pod" => "b")).ingress(rule().from(pods(sel!("pod" => "c"))))).build()
}

/// The conntrack entries (node namespace) of the flow from `src`:`sport` to `dst`:[`ECHO`].
fn tracked(entries: &[Entry], protocol: Protocol, src: IpAddr, sport: u16, dst: IpAddr) -> usize {
    entries
        .iter()
        .filter(|e| e.protocol == protocol && e.src == src && e.sport == sport && e.dst == dst && e.dport == ECHO)
        .count()
}

#[test]
fn reset_denied_deletes_exactly_the_denied_connections() {
    require_privileged!("conntrack");
    let (a, b, c) = (PodKey::new("x", "a"), PodKey::new("x", "b"), PodKey::new("x", "c"));
    let mut lab = labkit::up("ct", &base().build());
    let topology = lab.topology().unwrap().clone();
    let node = topology.node_netns.clone();
    let ns = |k: &PodKey| topology.pod(k).unwrap().netns.clone();
    let ip = |k: &PodKey| topology.pod(k).unwrap().ips[0];
    let (a_ns, c_ns) = (ns(&a), ns(&c));
    let (a_ip, b_ip, c_ip) = (ip(&a), ip(&b), ip(&c));

    let _echo = Echo::start(&ns(&b), ECHO).unwrap_or_else(|e| panic!("echo server in x/b: {e}"));

    // (a) the pair the change will deny, (b) the pair that stays allowed; TCP and UDP.
    let mut a_tcp = hold(&a_ns, b_ip, Protocol::Tcp);
    let mut a_udp = hold(&a_ns, b_ip, Protocol::Udp);
    let mut c_tcp = hold(&c_ns, b_ip, Protocol::Tcp);
    let mut c_udp = hold(&c_ns, b_ip, Protocol::Udp);
    let mut all = [("x/a TCP", &mut a_tcp), ("x/a UDP", &mut a_udp), ("x/c TCP", &mut c_tcp), ("x/c UDP", &mut c_udp)];

    // 1. No policy: everything carries data, and the node tracks all four.
    for (name, conn) in all.iter_mut() {
        conn.round_trip("before\n").unwrap_or_else(|e| panic!("{name} -> x/b before any policy: {e}"));
    }
    let entries = apply::conntrack_list(Some(&node)).unwrap();
    for (name, protocol, src, sport) in [
        ("x/a TCP", Protocol::Tcp, a_ip, a_tcp.sport()),
        ("x/a UDP", Protocol::Udp, a_ip, a_udp.sport()),
        ("x/c TCP", Protocol::Tcp, c_ip, c_tcp.sport()),
        ("x/c UDP", Protocol::Udp, c_ip, c_udp.sport()),
    ] {
        assert_eq!(tracked(&entries, protocol, src, sport, b_ip), 1, "{name}: the node tracks it: {entries:?}");
    }
    // The lab's flows are tracked in its node namespace, not in this one: the
    // reset must run its conntrack commands there.
    let here = apply::conntrack_list(None).unwrap();
    assert_eq!(tracked(&here, Protocol::Tcp, a_ip, a_tcp.sport(), b_ip), 0, "x/a TCP tracked outside the node netns");

    // 2. The change, without reset: established connections are kept, new ones follow the rules.
    lab.apply(&b_admits_c_only()).unwrap();
    let after = lab.topology().unwrap().cluster.clone();
    let new_from = |netns_name: &str, protocol| {
        netns::run_in(netns_name, || probe::attempt((b_ip, ECHO).into(), protocol, Duration::from_millis(1000)))
            .unwrap()
    };
    for protocol in [Protocol::Tcp, Protocol::Udp] {
        assert_eq!(new_from(&a_ns, protocol), Outcome::TimedOut, "a NEW x/a -> x/b {protocol} connection is denied");
        assert_eq!(new_from(&c_ns, protocol), Outcome::Connected, "a NEW x/c -> x/b {protocol} connection is allowed");
    }
    let mut all = [("x/a TCP", &mut a_tcp), ("x/a UDP", &mut a_udp), ("x/c TCP", &mut c_tcp), ("x/c UDP", &mut c_udp)];
    for (name, conn) in all.iter_mut() {
        conn.round_trip("kept\n").unwrap_or_else(|e| panic!("{name} -> x/b was established before the change: {e}"));
    }

    // 3. Reset the denied connections, as `netpol agent --reset-denied` does after its apply.
    let ruleset = netpol_nft::render(&after, &RenderOptions::default());
    let deleted = apply::reset_denied(&ruleset, Some(&node)).unwrap();
    let entries = apply::conntrack_list(Some(&node)).unwrap();
    eprintln!("reset deleted {deleted} entries; left: {entries:?}");
    assert_eq!(tracked(&entries, Protocol::Tcp, a_ip, a_tcp.sport(), b_ip), 0, "x/a TCP entry deleted");
    assert_eq!(tracked(&entries, Protocol::Udp, a_ip, a_udp.sport(), b_ip), 0, "x/a UDP entry deleted");
    assert!(entries.iter().all(|e| !(e.src == a_ip && e.dst == b_ip)), "no x/a -> x/b entry left: {entries:?}");
    assert_eq!(tracked(&entries, Protocol::Tcp, c_ip, c_tcp.sport(), b_ip), 1, "x/c TCP entry kept");
    assert_eq!(tracked(&entries, Protocol::Udp, c_ip, c_udp.sport(), b_ip), 1, "x/c UDP entry kept");
    assert_eq!(deleted, 2, "exactly the two x/a -> x/b connections were deleted");

    assert!(a_tcp.round_trip("reset\n").is_err(), "x/a -> x/b TCP still carries data after the reset");
    assert!(a_udp.round_trip("reset\n").is_err(), "x/a -> x/b UDP still carries data after the reset");
    c_tcp.round_trip("still\n").unwrap_or_else(|e| panic!("x/c -> x/b TCP after the reset: {e}"));
    c_udp.round_trip("still\n").unwrap_or_else(|e| panic!("x/c -> x/b UDP after the reset: {e}"));
    // The dropped packets of x/a did not bring its entries back.
    let entries = apply::conntrack_list(Some(&node)).unwrap();
    assert!(entries.iter().all(|e| !(e.src == a_ip && e.dst == b_ip)), "x/a -> x/b tracked again: {entries:?}");

    // A second reset finds nothing more to delete.
    assert_eq!(apply::reset_denied(&ruleset, Some(&node)).unwrap(), 0);

    drop(_echo);
    lab.down().unwrap();
}

/// Regression: after a reset, the first packet the *server* sends on the reset
/// connection (data, a keepalive) used to be picked up mid-stream by conntrack
/// (`nf_conntrack_tcp_loose=1`, the default) as a NEW connection x/b -> x/a,
/// which the policies allow, and the denied connection carried data again. The
/// ruleset now drops `ct state new` TCP packets that are not a pure SYN.
#[test]
fn reset_connection_stays_dead_when_the_server_sends() {
    require_privileged!("conntrack");
    let (a, b) = (PodKey::new("x", "a"), PodKey::new("x", "b"));
    let mut lab = labkit::up("cs", &base().build());
    let topology = lab.topology().unwrap().clone();
    let node = topology.node_netns.clone();
    let (a_ns, b_ns) = (topology.pod(&a).unwrap().netns.clone(), topology.pod(&b).unwrap().netns.clone());
    let b_ip = topology.pod(&b).unwrap().ips[0];
    let listener = netns::run_in(&b_ns, || TcpListener::bind((Ipv4Addr::UNSPECIFIED, ECHO)).unwrap()).unwrap();
    let mut client =
        netns::run_in(&a_ns, || TcpStream::connect_timeout(&(b_ip, ECHO).into(), ROUND_TRIP).unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(ROUND_TRIP)).unwrap();
    }
    let mut buf = [0u8; 3];
    client.write_all(b"ab\n").unwrap();
    server.read_exact(&mut buf).unwrap();

    lab.apply(&b_admits_c_only()).unwrap();
    let ruleset = netpol_nft::render(&lab.topology().unwrap().cluster, &RenderOptions::default());
    assert_eq!(apply::reset_denied(&ruleset, Some(&node)).unwrap(), 1);
    client.write_all(b"cd\n").unwrap();
    assert!(server.read_exact(&mut buf).is_err(), "x/a's data crossed right after the reset");

    // The server sends first.
    server.write_all(b"ef\n").unwrap();
    let pushed = client.read_exact(&mut buf);
    let entries = apply::conntrack_list(Some(&node)).unwrap();
    assert!(pushed.is_err(), "the reset connection carries data again (server push); entries: {entries:?}");
    client.write_all(b"gh\n").unwrap();
    assert!(server.read_exact(&mut buf).is_err(), "x/a's data crosses again after the server's push");
    lab.down().unwrap();
}

//! The strongest check of the renderer: on random small clusters, what the
//! rendered ruleset does with every packet (the IR evaluator, i.e. what the
//! kernel would do) equals the engine's verdict, for every pair of addresses,
//! TCP/UDP/SCTP and boundary ports. Shrunk failures are kept below as
//! regression cases.
//!
//! Some pods are hostNetwork: they carry their node's IP (shared by every
//! hostNetwork pod of that node), never are subjects nor match pod selectors,
//! but do match ipBlocks (docs/semantics.md, "hostNetwork pods"). Their traffic
//! is the node's, so it meets the rules where the kernel would run them (see
//! [`hooks`]): from a node to its own pods through `output` (never filtered:
//! the engine's own-node rule), from a pod to a node through `input`.

use std::net::IpAddr;

use netpol_engine::{Endpoint, Engine, Flow, Options};
use netpol_model::{Cluster, Direction, Protocol};
use netpol_nft::{render, Element, Hook, Packet, RenderOptions, Ruleset};
mod clusters;

use clusters::*;
use netpol_testkit::*;
use proptest::prelude::*;

const EXTERNAL: [&str; 4] = ["10.0.0.200", "192.168.1.1", "fd00::99", "2001:db8::1"];

const PORTS: [u16; 10] = [1, 52, 53, 54, 55, 80, 81, 8000, 8080, 65535];

/// Overlapping elements of one interval set: the kernel refuses them.
fn overlaps(ruleset: &Ruleset) -> Vec<String> {
    let mut out = Vec::new();
    for set in &ruleset.sets {
        for (i, a) in set.elements.iter().enumerate() {
            for b in &set.elements[i + 1..] {
                let clash = match (a, b) {
                    (Element::Addr(x), Element::Addr(y)) => x.start <= y.end && y.start <= x.end,
                    (Element::AddrProtoPort(x, p, xp), Element::AddrProtoPort(y, q, yp)) => {
                        p == q && x.start <= y.end && y.start <= x.end && xp.start <= yp.end && yp.start <= xp.end
                    }
                    _ => false,
                };
                if clash {
                    out.push(format!("{}: {a:?} overlaps {b:?}", set.name));
                }
            }
        }
        if !set.comments.is_empty() && set.comments.len() != set.elements.len() {
            out.push(format!("{}: {} comments for {} elements", set.name, set.comments.len(), set.elements.len()));
        }
    }
    out
}

/// What an address is, for the path its packets take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End<'a> {
    Pod(Option<&'a str>),
    /// A hostNetwork pod's address: its node's.
    Host(Option<&'a str>),
    External,
}

fn end_of(cluster: &Cluster, ip: IpAddr) -> End<'_> {
    if let Some(p) = cluster.pod_by_ip(ip) {
        return End::Pod(p.node.as_deref());
    }
    match cluster.pods.iter().find(|p| p.host_network && p.ips.contains(&ip)) {
        Some(p) => End::Host(p.node.as_deref()),
        None => End::External,
    }
}

/// Where the kernel runs our rules on a new connection's first packet: the
/// hooks it crosses, each on its node (`None`: a node we render nothing for or
/// do not know). `output` (a node's own traffic) is never hooked.
fn hooks<'a>(src: End<'a>, dst: End<'a>, same_addr: bool) -> Vec<(Option<&'a str>, Hook)> {
    let same = |a: Option<&str>, b: Option<&str>| a.is_some() && a == b;
    match (src, dst) {
        (End::Pod(s), End::Pod(d)) if s == d => vec![(s, Hook::Forward)],
        (End::Pod(s), End::Pod(d)) => vec![(s, Hook::Forward), (d, Hook::Forward)],
        (End::Pod(s), End::External) => vec![(s, Hook::Forward)],
        (End::External, End::Pod(d)) => vec![(d, Hook::Forward)],
        (End::External, End::External) => vec![(None, Hook::Forward)],
        // The node to its own pods: output, never filtered (pods cannot block their node).
        (End::Host(s), End::Pod(d)) if same(s, d) => vec![],
        // Another node's traffic arrives routed.
        (End::Host(_), End::Pod(d)) => vec![(d, Hook::Forward)],
        // A pod to its own node: input.
        (End::Pod(s), End::Host(d)) if same(s, d) => vec![(s, Hook::Input)],
        (End::Pod(s), End::Host(d)) => vec![(s, Hook::Forward), (d, Hook::Input)],
        (End::Host(s), End::Host(d)) if same_addr || same(s, d) => vec![],
        (End::Host(_), End::Host(d)) | (End::External, End::Host(d)) => vec![(d, Hook::Input)],
        (End::Host(_), End::External) => vec![],
    }
}

/// Every disagreement between the engine and the rendered ruleset.
fn disagreements(cluster: &Cluster) -> Vec<String> {
    let engine = Engine::new(cluster, Options::default());
    let ruleset = render(cluster, &RenderOptions::default());
    let on = |node: &str| render(cluster, &RenderOptions { node: Some(node.into()), ..RenderOptions::default() });
    let nodes = [("n1", on("n1")), ("n2", on("n2"))];
    let mut out = overlaps(&ruleset);
    for (_, r) in &nodes {
        out.extend(overlaps(r));
    }
    let mut addrs: Vec<IpAddr> = cluster.pods.iter().flat_map(|p| p.ips.iter().copied()).collect();
    addrs.extend(EXTERNAL.iter().map(|a| a.parse::<IpAddr>().unwrap()));
    addrs.sort();
    addrs.dedup();
    for &src in &addrs {
        for &dst in &addrs {
            if src.is_ipv4() != dst.is_ipv4() {
                continue;
            }
            let path = hooks(end_of(cluster, src), end_of(cluster, dst), src == dst);
            for protocol in Protocol::ALL {
                for port in PORTS {
                    let flow = Flow::new(Endpoint::Ip(src), Endpoint::Ip(dst), protocol, port);
                    let want = engine.evaluate(&flow).expect("engine evaluates").allowed();
                    let packet = Packet { src, dst, protocol, port };
                    // The ruleset of every pod: each hook of the path, on one machine.
                    let mut because = Vec::new();
                    let got = path.iter().all(|(_, hook)| {
                        let e = ruleset.evaluate(*hook, &packet);
                        because.push((hook.as_str(), e.because));
                        e.allowed
                    });
                    if got != want {
                        out.push(format!("{flow}: engine {want}, nft {got} (path {path:?}: {because:?})"));
                    }
                    // Per-node rulesets: each hook on its node's ruleset.
                    let per_node = path.iter().all(|(node, hook)| {
                        let Some(node) = node else { return true };
                        nodes
                            .iter()
                            .find(|(name, _)| name == node)
                            .is_some_and(|(_, r)| r.evaluate(*hook, &packet).allowed)
                    });
                    if per_node != want {
                        out.push(format!("{flow}: engine {want}, per-node rulesets {per_node} (path {path:?})"));
                    }
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn rendered_ruleset_agrees_with_engine(
        pods in proptest::collection::vec(pod_spec(), 1..5),
        hosts in proptest::collection::vec(host_spec(), 0..3),
        policies in proptest::collection::vec(policy_strategy(), 0..4),
        x_team in any::<bool>(),
    ) {
        let cluster = build(pods, hosts, policies, x_team);
        let bad = disagreements(&cluster);
        prop_assert!(bad.is_empty(), "{} disagreements, first: {}", bad.len(), bad[0]);
    }
}

/// The hostNetwork paths with known answers, so the proptest above cannot agree
/// with the engine by never meeting them: x/p1 (n1) admits nothing but
/// 10.0.0.0/24 and egresses only to named port `http` and to 172.16.0.0/12;
/// h1 is node n1's traffic (10.0.0.101), h2 node n2's (172.16.0.2).
#[test]
fn host_network_paths_with_known_verdicts() {
    let isolated = policy("x", "p")
        .select(sel!("app" => "a"))
        .types([Direction::Ingress, Direction::Egress])
        .ingress(rule().from(ip_block("10.0.0.0/24", &[])).port(tcp(80)))
        .egress(rule().port(named_port("http", Protocol::Tcp)))
        .egress(rule().to(ip_block("172.16.0.0/12", &[])).port(tcp(80)));
    let cluster = cluster()
        .namespace(namespace("x"))
        .pod(pod("x", "p1").label("app", "a").ip("10.0.0.1").node("n1").port("http", 80, Protocol::Tcp))
        .pod(pod("x", "p2").label("app", "a").ip("10.0.0.2").node("n2").port("http", 80, Protocol::Tcp))
        .pod(pod("x", "h1").label("app", "a").host_network().ip("10.0.0.101").node("n1").port(
            "http",
            80,
            Protocol::Tcp,
        ))
        .pod(pod("x", "h2").label("app", "a").host_network().ip("172.16.0.2").node("n2").port(
            "http",
            80,
            Protocol::Tcp,
        ))
        .policy(isolated)
        .build();
    let engine = Engine::new(&cluster, Options::default());
    let cases = [
        // The node to its own pod: allowed whatever the policies say (output hook).
        ("own node to its pod, port 81", "10.0.0.101", "10.0.0.1", 81, true),
        // Another node: the pod's ingress applies, h1's address matches the ipBlock, h2's does not.
        ("node n1 to a pod of n2, port 80", "10.0.0.101", "10.0.0.2", 80, true),
        ("node n1 to a pod of n2, port 81", "10.0.0.101", "10.0.0.2", 81, false),
        ("node n2 to a pod of n1, port 80", "172.16.0.2", "10.0.0.1", 80, false),
        // A pod to its node (input hook) and to another node: egress applies; the
        // named port never matches a hostNetwork destination, the ipBlock does.
        ("pod to its own node, named port", "10.0.0.1", "10.0.0.101", 80, false),
        ("pod to n2 by ipBlock", "10.0.0.1", "172.16.0.2", 80, true),
        ("pod to n2, port 81", "10.0.0.1", "172.16.0.2", 81, false),
        // Pod selectors never match hostNetwork pods, and they are never subjects.
        ("node to node", "10.0.0.101", "172.16.0.2", 81, true),
    ];
    for (name, src, dst, port, want) in cases {
        let (src, dst): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
        let flow = Flow::new(Endpoint::Ip(src), Endpoint::Ip(dst), Protocol::Tcp, port);
        assert_eq!(engine.evaluate(&flow).unwrap().allowed(), want, "{name}: engine");
    }
    let bad = disagreements(&cluster);
    assert!(bad.is_empty(), "{} disagreements:\n{}", bad.len(), bad.join("\n"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
    /// Ordered policies (AdminNetworkPolicies at colliding priorities, a
    /// baseline, Calico tiers; Allow, Deny, Pass and Log; dual-stack pods):
    /// the kernel's verdict, hook by hook, is the engine's.
    #[test]
    fn rendered_ruleset_agrees_with_engine_with_ordered_policies(seed in proptest::collection::vec(any::<u32>(), 64)) {
        let mut d = netpol_testkit::random::Dice(seed, 0);
        let mut cluster = netpol_testkit::random::random_cluster(&mut d);
        netpol_testkit::random::random_tiered(&mut d, &mut cluster);
        // Every pod on a node: the per-node rulesets then judge every path.
        for p in &mut cluster.pods {
            p.node.get_or_insert_with(|| "n2".to_string());
        }
        let bad = disagreements(&cluster);
        prop_assert!(bad.is_empty(), "{} disagreements, first: {}", bad.len(), bad[0]);
    }
}

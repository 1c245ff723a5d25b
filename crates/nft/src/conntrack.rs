//! Conntrack entries (as `conntrack -L` prints them) and which of them a new
//! ruleset denies. Pure: listing and deleting live in [`crate::apply`].

use std::net::IpAddr;

use netpol_model::Protocol;

use crate::evaluate::Packet;
use crate::ir::{Hook, Ruleset};

/// The original direction of one tracked connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    pub protocol: Protocol,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
}

impl Entry {
    /// The connection's first packet, as the ruleset sees it.
    pub fn packet(&self) -> Packet {
        Packet { src: self.src, dst: self.dst, protocol: self.protocol, port: self.dport }
    }
}

/// Parses `conntrack -L` output; lines of other protocols (ICMP...) or that
/// do not parse are skipped.
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<Entry> {
    let mut words = line.split_whitespace();
    let protocol = match words.next()? {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        "sctp" => Protocol::Sctp,
        _ => return None,
    };
    let (mut src, mut dst, mut sport, mut dport) = (None, None, None, None);
    for word in words {
        let Some((key, value)) = word.split_once('=') else { continue };
        // Only the first (original direction) tuple.
        match key {
            "src" if src.is_none() => src = value.parse().ok(),
            "dst" if dst.is_none() => dst = value.parse().ok(),
            "sport" if sport.is_none() => sport = value.parse().ok(),
            "dport" if dport.is_none() => dport = value.parse().ok(),
            _ => {}
        }
    }
    Some(Entry { protocol, src: src?, dst: dst?, sport: sport?, dport: dport? })
}

/// Entries whose connection `ruleset` would refuse as a new one today, skipping
/// connections the node itself opened (`node_addresses`: node traffic is never
/// filtered). A connection to one of the node's own addresses is judged by the
/// `input` hook, the one the kernel runs for it (a pod's egress to its node,
/// or nothing when the ruleset does not hook input), not by `forward`.
pub fn denied<'a>(ruleset: &Ruleset, entries: &'a [Entry], node_addresses: &[IpAddr]) -> Vec<&'a Entry> {
    entries
        .iter()
        .filter(|e| !node_addresses.contains(&e.src))
        .filter(|e| {
            let hook = if node_addresses.contains(&e.dst) { Hook::Input } else { Hook::Forward };
            !ruleset.evaluate(hook, &e.packet()).allowed
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use netpol_model::Direction;
    use netpol_testkit::*;

    use super::*;
    use crate::{render, RenderOptions};

    fn tcp_entry(src: &str, dst: &str, dport: u16) -> Entry {
        Entry { protocol: Protocol::Tcp, src: src.parse().unwrap(), dst: dst.parse().unwrap(), sport: 40000, dport }
    }

    /// x/a may only send to x/b; x/c is not isolated. The node is 10.0.0.1.
    fn a_egress_to_b_only() -> netpol_model::Cluster {
        let mut c = cluster().namespace(namespace("x"));
        for (name, ip) in [("a", "10.0.0.2"), ("b", "10.0.0.3"), ("c", "10.0.0.4")] {
            c = c.pod(pod("x", name).label("pod", name).ip(ip).port("http", 80, Protocol::Tcp));
        }
        c.policy(
            policy("x", "a")
                .select(sel!("pod" => "a"))
                .types([Direction::Egress])
                .egress(rule().to(pods(sel!("pod" => "b")))),
        )
        .build()
    }

    #[test]
    fn denied_judges_routed_connections_by_forward() {
        let ruleset = render(&a_egress_to_b_only(), &RenderOptions::default());
        let node: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap()];
        let entries = [
            tcp_entry("10.0.0.2", "10.0.0.3", 80), // a -> b: allowed
            tcp_entry("10.0.0.2", "10.0.0.4", 80), // a -> c: denied
            tcp_entry("10.0.0.4", "10.0.0.3", 80), // c -> b: allowed
            tcp_entry("10.0.0.1", "10.0.0.4", 80), // node -> c: node traffic
        ];
        let got: Vec<Entry> = denied(&ruleset, &entries, &node).into_iter().copied().collect();
        assert_eq!(got, [entries[1]]);
    }

    /// Regression: a pod's connection to the node itself crosses `input`, not
    /// `forward`. Judged by `forward`, `--reset-denied` deleted connections the
    /// kernel allows: every one of an egress-isolated pod when the input hook
    /// is off, and any to a node address inside a pod CIDR (the
    /// unknown-address drop of the forward ingress chain).
    #[test]
    fn denied_judges_connections_to_the_node_by_input() {
        let node: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap()];
        let to_node = [tcp_entry("10.0.0.2", "10.0.0.1", 10250)];

        // No input hook: pod-to-node traffic is not filtered at all.
        let options = RenderOptions { filter_to_node: false, ..RenderOptions::default() };
        let ruleset = render(&a_egress_to_b_only(), &options);
        assert!(ruleset.evaluate(Hook::Input, &to_node[0].packet()).allowed);
        assert!(denied(&ruleset, &to_node, &node).is_empty(), "not filtered, so never reset");

        // Input hook on, the node address inside the pod CIDR, a's egress allows it.
        let cluster = a_egress_to_b_only();
        let mut cluster2 = cluster.clone();
        cluster2.policies[0].egress.push(rule().to(ip_block("10.0.0.1/32", &[])).into());
        let options = RenderOptions { pod_cidrs: vec!["10.0.0.0/24".parse().unwrap()], ..RenderOptions::default() };
        let ruleset = render(&cluster2, &options);
        assert!(ruleset.evaluate(Hook::Input, &to_node[0].packet()).allowed);
        assert!(denied(&ruleset, &to_node, &node).is_empty(), "allowed by the input hook, so kept");

        // And one the input hook denies is still reset.
        let ruleset = render(&cluster, &options);
        assert!(!ruleset.evaluate(Hook::Input, &to_node[0].packet()).allowed);
        assert_eq!(denied(&ruleset, &to_node, &node).len(), 1);
    }

    #[test]
    fn parses_conntrack_listing() {
        let text = "\
tcp      6 431999 ESTABLISHED src=10.0.0.2 dst=10.0.0.3 sport=40000 dport=80 src=10.0.0.3 dst=10.0.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1
udp      17 28 src=10.0.0.2 dst=10.0.0.9 sport=5353 dport=53 [UNREPLIED] src=10.0.0.9 dst=10.0.0.2 sport=53 dport=5353 mark=0 use=1
icmp     1 29 src=10.0.0.2 dst=10.0.0.3 type=8 code=0 id=7 src=10.0.0.3 dst=10.0.0.2 type=0 code=0 id=7 mark=0 use=1
tcp      6 10 SYN_SENT src=fd00::2 dst=fd00::3 sport=1 dport=8080 [UNREPLIED] src=fd00::3 dst=fd00::2 sport=8080 dport=1
garbage
";
        let got = parse(text);
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0],
            Entry {
                protocol: Protocol::Tcp,
                src: "10.0.0.2".parse().unwrap(),
                dst: "10.0.0.3".parse().unwrap(),
                sport: 40000,
                dport: 80
            }
        );
        assert_eq!(got[1].protocol, Protocol::Udp);
        assert_eq!(got[1].dport, 53);
        assert_eq!(got[2].dst, "fd00::3".parse::<IpAddr>().unwrap());
    }
}

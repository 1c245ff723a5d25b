//! External nodes: the addresses outside the pod network that the policies'
//! ipBlocks name, cut into regions every policy treats alike.
//!
//! Two addresses belong to the same region when exactly the same ipBlock peers
//! (cidr minus excepts) contain them. Each region with an address that is no
//! pod's IP becomes one node; the engine evaluates it at that address (its
//! *example*), which is exact because every rule sees the whole region alike.
//! Addresses that no ipBlock names are not drawn: only rules without peers
//! reach them, and `netpol check --to IP` answers for one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use netpol_model::{Cluster, Direction, IpBlock, Peer};

/// One region of addresses: inside every block of `within`, outside every block of `outside`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct External {
    /// The ipBlocks containing the region (the smallest ones: a block that contains
    /// another one listed is left out, as it adds nothing).
    pub within: Vec<IpBlock>,
    /// The ipBlocks that carve addresses out of `within`'s intersection (the largest ones).
    pub outside: Vec<IpBlock>,
    /// The region's first address that is no pod's IP: where it is evaluated.
    pub example: IpAddr,
}

/// `10.0.0.0/8 except 10.1.0.0/16`, or with several blocks
/// `10.0.0.0/8 and 192.168.0.0/16 not in 10.1.0.0/16, 10.2.0.0/16`.
impl fmt::Display for External {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |blocks: &[IpBlock]| blocks.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let within = self.within.iter().map(ToString::to_string).collect::<Vec<_>>().join(" and ");
        f.write_str(&within)?;
        if !self.outside.is_empty() {
            write!(f, " not in {}", join(&self.outside))?;
        }
        Ok(())
    }
}

/// An inclusive range of addresses of one family, as integers.
type Span = (u128, u128);

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn address(v4: bool, n: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(n).expect("an IPv4 span")))
    } else {
        IpAddr::V6(Ipv6Addr::from(n))
    }
}

fn span(net: &IpNet) -> Span {
    (bits(net.network()), bits(net.broadcast()))
}

/// The addresses of `block` as sorted, disjoint spans (its cidr minus its excepts).
fn spans(block: &IpBlock) -> Vec<Span> {
    let mut out = vec![span(&block.cidr)];
    for except in &block.except {
        if except.addr().is_ipv4() != block.cidr.addr().is_ipv4() {
            continue;
        }
        let (a, b) = span(except);
        out = out
            .into_iter()
            .flat_map(|(s, e)| {
                let mut kept = Vec::new();
                if e < a || b < s {
                    kept.push((s, e));
                } else {
                    if s < a {
                        kept.push((s, a - 1));
                    }
                    if b < e {
                        kept.push((b + 1, e));
                    }
                }
                kept
            })
            .collect();
    }
    out
}

/// Every distinct ipBlock peer of every policy, sorted.
pub(crate) fn ip_blocks(cluster: &Cluster) -> Vec<IpBlock> {
    let mut blocks = BTreeSet::new();
    for policy in &cluster.policies {
        for direction in [Direction::Ingress, Direction::Egress] {
            for rule in policy.rules(direction) {
                for peer in &rule.peers {
                    if let Peer::IpBlock(block) = peer {
                        blocks.insert(IpBlock::new(block.cidr, block.except.clone()));
                    }
                }
            }
        }
    }
    blocks.into_iter().collect()
}

/// The regions of the cluster's ipBlocks (IPv4 first, then IPv6; by first address).
pub fn regions(cluster: &Cluster) -> Vec<External> {
    let blocks = ip_blocks(cluster);
    let pod_ips: BTreeSet<IpAddr> = cluster.pods.iter().flat_map(|p| p.ips.iter().copied()).collect();
    let mut out = Vec::new();
    for v4 in [true, false] {
        let family: Vec<&IpBlock> = blocks.iter().filter(|b| b.cidr.addr().is_ipv4() == v4).collect();
        out.extend(family_regions(v4, &family, &pod_ips));
    }
    out
}

fn family_regions(v4: bool, blocks: &[&IpBlock], pod_ips: &BTreeSet<IpAddr>) -> Vec<External> {
    let block_spans: Vec<Vec<Span>> = blocks.iter().map(|b| spans(b)).collect();
    // Elementary intervals: between consecutive edges of every span, membership is constant.
    let mut cuts = BTreeSet::new();
    for (s, e) in block_spans.iter().flatten() {
        cuts.insert(*s);
        if let Some(next) = e.checked_add(1) {
            cuts.insert(next);
        }
    }
    let max = if v4 { u128::from(u32::MAX) } else { u128::MAX };
    let cuts: Vec<u128> = cuts.into_iter().filter(|&c| c <= max).collect();
    let inside = |spans: &[Span], n: u128| spans.iter().any(|&(s, e)| s <= n && n <= e);
    // Membership (indices into `blocks`) -> its intervals, in address order.
    let mut groups: BTreeMap<Vec<usize>, Vec<Span>> = BTreeMap::new();
    let mut order: Vec<Vec<usize>> = Vec::new();
    for (i, &start) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).map_or(max, |next| next - 1);
        let members: Vec<usize> = (0..blocks.len()).filter(|&b| inside(&block_spans[b], start)).collect();
        if members.is_empty() {
            continue;
        }
        if !groups.contains_key(&members) {
            order.push(members.clone());
        }
        groups.entry(members).or_default().push((start, end));
    }
    // Which memberships occur: `a` is within `b` when no interval has `a` without `b`.
    let memberships: Vec<&Vec<usize>> = groups.keys().collect();
    let subset = |a: usize, b: usize| memberships.iter().all(|m| !m.contains(&a) || m.contains(&b));
    let mut out = Vec::new();
    for members in order {
        let Some(example) = first_free(&groups[&members], v4, pod_ips) else { continue };
        // The smallest blocks: drop one that contains another listed (keep the first of equal ones).
        let within: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&b| !members.iter().any(|&c| c != b && subset(c, b) && (!subset(b, c) || c < b)))
            .collect();
        // Blocks that carve addresses out of the intersection: seen with every member, but not here.
        let carved: BTreeSet<usize> = memberships
            .iter()
            .filter(|m| members.iter().all(|b| m.contains(b)))
            .flat_map(|m| m.iter().copied().filter(|b| !members.contains(b)))
            .collect();
        let outside: Vec<usize> = carved
            .iter()
            .copied()
            .filter(|&b| !carved.iter().any(|&c| c != b && subset(b, c) && (!subset(c, b) || c < b)))
            .collect();
        out.push(External {
            within: within.iter().map(|&b| blocks[b].clone()).collect(),
            outside: outside.iter().map(|&b| blocks[b].clone()).collect(),
            example,
        });
    }
    out
}

/// The first address of `spans` that is no pod's IP.
fn first_free(spans: &[Span], v4: bool, pod_ips: &BTreeSet<IpAddr>) -> Option<IpAddr> {
    for &(s, e) in spans {
        let mut n = s;
        loop {
            let ip = address(v4, n);
            if !pod_ips.contains(&ip) {
                return Some(ip);
            }
            if n == e {
                break;
            }
            n += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use netpol_testkit::{cluster, ip_block, pod, policy, rule};

    use super::*;

    fn blocks(peers: &[(&str, &[&str])]) -> Cluster {
        let mut r = rule();
        for (cidr, except) in peers {
            r = r.to(ip_block(cidr, except));
        }
        cluster().pod(pod("x", "a").ip("10.0.0.1")).policy(policy("x", "p").egress(r)).build()
    }

    #[test]
    fn regions_of_ip_blocks() {
        struct Case {
            name: &'static str,
            given: &'static [(&'static str, &'static [&'static str])],
            want: &'static [(&'static str, &'static str)],
        }
        let cases = [
            Case { name: "none", given: &[], want: &[] },
            Case { name: "one block", given: &[("203.0.113.0/24", &[])], want: &[("203.0.113.0/24", "203.0.113.0")] },
            Case {
                name: "except",
                given: &[("203.0.113.0/24", &["203.0.113.0/28"])],
                want: &[("203.0.113.0/24 except 203.0.113.0/28", "203.0.113.16")],
            },
            Case {
                name: "nested blocks: the outer one minus the inner, and the inner",
                given: &[("10.0.0.0/8", &[]), ("10.1.0.0/16", &[])],
                want: &[("10.0.0.0/8 not in 10.1.0.0/16", "10.0.0.0"), ("10.1.0.0/16", "10.1.0.0")],
            },
            Case {
                name: "overlapping blocks",
                given: &[("192.168.0.0/23", &[]), ("192.168.1.0/24", &["192.168.1.128/25"])],
                want: &[
                    ("192.168.0.0/23 not in 192.168.1.0/24 except 192.168.1.128/25", "192.168.0.0"),
                    ("192.168.1.0/24 except 192.168.1.128/25", "192.168.1.0"),
                ],
            },
            Case {
                name: "a pod's IP is skipped for the example",
                given: &[("10.0.0.0/30", &[])],
                want: &[("10.0.0.0/30", "10.0.0.0")],
            },
            Case { name: "only pod IPs: no node", given: &[("10.0.0.1/32", &[])], want: &[] },
            Case {
                name: "the whole internet, both families",
                given: &[("0.0.0.0/0", &["10.0.0.0/8"]), ("::/0", &[])],
                want: &[("0.0.0.0/0 except 10.0.0.0/8", "0.0.0.0"), ("::/0", "::")],
            },
        ];
        for case in cases {
            let got: Vec<(String, String)> =
                regions(&blocks(case.given)).iter().map(|r| (r.to_string(), r.example.to_string())).collect();
            let want: Vec<(String, String)> = case.want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
            assert_eq!(got, want, "{}", case.name);
        }
    }

    #[test]
    fn a_region_starting_at_a_pod_ip_takes_the_next_address() {
        let c = cluster()
            .pod(pod("x", "a").ip("10.0.0.0"))
            .policy(policy("x", "p").egress(rule().to(ip_block("10.0.0.0/31", &[]))))
            .build();
        assert_eq!(regions(&c)[0].example.to_string(), "10.0.0.1");
    }
}

//! Address ranges: an ipBlock (cidr minus excepts) as disjoint ranges, merging,
//! and the shortest nft spelling of a range (a prefix when it is one).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use netpol_model::IpBlock;

use crate::ir::{AddrRange, Family};

/// An address as a number (v4 in the low 32 bits), for range arithmetic.
pub(crate) fn to_u128(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The inverse of [`to_u128`] for `family`.
pub(crate) fn from_u128(family: Family, value: u128) -> IpAddr {
    match family {
        // Values of a v4 range never exceed u32::MAX.
        Family::V4 => IpAddr::V4(Ipv4Addr::from(value as u32)),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(value)),
    }
}

fn bits(family: Family) -> u32 {
    match family {
        Family::V4 => 32,
        Family::V6 => 128,
    }
}

fn net_range(net: &IpNet) -> (u128, u128) {
    (to_u128(net.network()), to_u128(net.broadcast()))
}

/// The addresses of an ipBlock as sorted, disjoint ranges.
pub fn ipblock_ranges(block: &IpBlock) -> Vec<AddrRange> {
    let family = Family::of(block.cidr.addr());
    let mut pieces = vec![net_range(&block.cidr)];
    for except in &block.except {
        if Family::of(except.addr()) != family {
            continue;
        }
        let (es, ee) = net_range(except);
        pieces = pieces
            .into_iter()
            .flat_map(|(s, e)| {
                let mut out = Vec::with_capacity(2);
                if ee < s || es > e {
                    out.push((s, e));
                } else {
                    if es > s {
                        out.push((s, es - 1));
                    }
                    if ee < e {
                        out.push((ee + 1, e));
                    }
                }
                out
            })
            .collect();
    }
    pieces.into_iter().map(|(s, e)| AddrRange { start: from_u128(family, s), end: from_u128(family, e) }).collect()
}

/// Sorts and merges overlapping or adjacent ranges (all of one family).
pub fn merge(mut ranges: Vec<AddrRange>) -> Vec<AddrRange> {
    ranges.sort();
    let mut out: Vec<AddrRange> = Vec::with_capacity(ranges.len());
    for r in ranges {
        if let Some(last) = out.last_mut() {
            if last.family() == r.family() && to_u128(r.start) <= to_u128(last.end).saturating_add(1) {
                if r.end > last.end {
                    last.end = r.end;
                }
                continue;
            }
        }
        out.push(r);
    }
    out
}

/// `10.0.0.1`, `10.0.0.0/24` or `10.0.0.1-10.0.0.7`.
pub fn spell(range: &AddrRange) -> String {
    if range.start == range.end {
        return range.start.to_string();
    }
    let (s, e) = (to_u128(range.start), to_u128(range.end));
    let size = e - s;
    let width = bits(range.family());
    // A prefix: size + 1 is a power of two and start is aligned to it.
    if size.checked_add(1).is_some_and(|n| n.is_power_of_two() && s % n == 0) || (s == 0 && size == u128::MAX) {
        let host_bits = if size == u128::MAX { 128 } else { (size + 1).trailing_zeros() };
        return format!("{}/{}", range.start, width - host_bits);
    }
    format!("{}-{}", range.start, range.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(cidr: &str, except: &[&str]) -> IpBlock {
        IpBlock::new(cidr.parse().unwrap(), except.iter().map(|e| e.parse().unwrap()).collect())
    }

    #[test]
    fn ipblock_ranges_table() {
        struct Case {
            name: &'static str,
            given: IpBlock,
            want: Vec<&'static str>,
        }
        let cases = [
            Case { name: "no except", given: block("10.0.0.0/16", &[]), want: vec!["10.0.0.0/16"] },
            Case {
                name: "except in the middle",
                given: block("10.0.0.0/24", &["10.0.0.64/26"]),
                want: vec!["10.0.0.0/26", "10.0.0.128/25"],
            },
            Case {
                name: "two excepts, one at the start",
                given: block("10.0.0.0/24", &["10.0.0.0/25", "10.0.0.200/32"]),
                want: vec!["10.0.0.128-10.0.0.199", "10.0.0.201-10.0.0.255"],
            },
            Case { name: "except covers all", given: block("10.0.0.0/24", &["10.0.0.0/16"]), want: vec![] },
            Case { name: "everything v4", given: block("0.0.0.0/0", &[]), want: vec!["0.0.0.0/0"] },
            Case { name: "everything v6", given: block("::/0", &[]), want: vec!["::/0"] },
            Case {
                name: "v6 with except",
                given: block("fd00::/64", &["fd00::/65"]),
                want: vec!["fd00::8000:0:0:0/65"],
            },
        ];
        for case in cases {
            let got: Vec<String> = ipblock_ranges(&case.given).iter().map(spell).collect();
            assert_eq!(got, case.want, "{}", case.name);
        }
    }

    #[test]
    fn merge_joins_adjacent_and_overlapping() {
        let r = |a: &str, b: &str| AddrRange { start: a.parse().unwrap(), end: b.parse().unwrap() };
        let got = merge(vec![r("10.0.0.5", "10.0.0.9"), r("10.0.0.1", "10.0.0.4"), r("10.0.0.8", "10.0.0.12")]);
        assert_eq!(got, vec![r("10.0.0.1", "10.0.0.12")]);
        let got = merge(vec![r("10.0.0.1", "10.0.0.1"), r("10.0.0.3", "10.0.0.3")]);
        assert_eq!(got.len(), 2);
    }
}

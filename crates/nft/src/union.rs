//! The union of labelled elements as disjoint set elements.
//!
//! The kernel's concatenated interval sets (pipapo) refuse overlapping
//! elements, and each element carries one comment. The union of everything
//! the rules selecting a pod allow is therefore cut into disjoint pieces, each
//! labelled with the *first* rule (lowest label) that allows it, and adjacent
//! pieces with the same label are joined again.

use std::collections::BTreeMap;

use netpol_model::{PortRange, Protocol};

use crate::ir::AddrRange;
use crate::range::{from_u128, to_u128};

/// A position one past an inclusive end: `(true, 0)` stands for 2^128.
type Pos = (bool, u128);

fn after(end: u128) -> Pos {
    end.checked_add(1).map_or((true, 0), |v| (false, v))
}

/// Disjoint address ranges (one family), each with the lowest label covering it.
pub fn disjoint_ranges(items: &[(AddrRange, usize)]) -> Vec<(AddrRange, usize)> {
    let Some(family) = items.first().map(|(r, _)| r.family()) else { return Vec::new() };
    // Events: at a position, labels start (+1) or stop (-1) covering.
    let mut events: Vec<(Pos, bool, usize)> = Vec::with_capacity(items.len() * 2);
    for (r, label) in items {
        events.push(((false, to_u128(r.start)), true, *label));
        events.push((after(to_u128(r.end)), false, *label));
    }
    events.sort_unstable();
    let mut active: BTreeMap<usize, usize> = BTreeMap::new();
    let mut out: Vec<(AddrRange, usize)> = Vec::new();
    let mut i = 0;
    while i < events.len() {
        let pos = events[i].0;
        while i < events.len() && events[i].0 == pos {
            let (_, start, label) = events[i];
            if start {
                *active.entry(label).or_default() += 1;
            } else if let Some(n) = active.get_mut(&label) {
                *n -= 1;
                if *n == 0 {
                    active.remove(&label);
                }
            }
            i += 1;
        }
        let (Some((&label, _)), Some(&(next, _, _))) = (active.first_key_value(), events.get(i)) else { continue };
        // Covered from `pos` to just before `next` (both finite or `next` = 2^128).
        let start = pos.1;
        let end = if next.0 { u128::MAX } else { next.1 - 1 };
        match out.last_mut() {
            Some((last, l)) if *l == label && to_u128(last.end).checked_add(1) == Some(start) => {
                last.end = from_u128(family, end);
            }
            _ => out.push((AddrRange { start: from_u128(family, start), end: from_u128(family, end) }, label)),
        }
    }
    out
}

/// A piece being built by the port sweep: its address cut and the ports it spans.
type Open = (Vec<(AddrRange, usize)>, u16, u16);

/// Disjoint (address range, protocol, port range) boxes (one family), each with
/// the lowest label covering it.
pub fn disjoint_boxes(
    items: &[(AddrRange, Protocol, PortRange, usize)],
) -> Vec<(AddrRange, Protocol, PortRange, usize)> {
    let mut by_protocol: BTreeMap<Protocol, Vec<(AddrRange, PortRange, usize)>> = BTreeMap::new();
    for (addr, protocol, ports, label) in items {
        by_protocol.entry(*protocol).or_default().push((*addr, *ports, *label));
    }
    let mut out = Vec::new();
    for (protocol, mut items) in by_protocol {
        // Sweep the port axis: between two consecutive breakpoints the set of
        // covering items is constant; its address union is cut once.
        let mut breaks: Vec<u32> =
            items.iter().flat_map(|(_, p, _)| [u32::from(p.start), u32::from(p.end) + 1]).collect();
        breaks.sort_unstable();
        breaks.dedup();
        items.sort_by_key(|(_, p, _)| p.start);
        let mut next_item = 0;
        let mut active: Vec<(AddrRange, PortRange, usize)> = Vec::new();
        // The open piece: its address cut and the ports it spans so far.
        let mut open: Option<Open> = None;
        for w in breaks.windows(2) {
            let (lo, hi) = (w[0] as u16, (w[1] - 1) as u16);
            while next_item < items.len() && u32::from(items[next_item].1.start) <= w[0] {
                active.push(items[next_item]);
                next_item += 1;
            }
            active.retain(|(_, p, _)| u32::from(p.end) >= w[0]);
            let cut = disjoint_ranges(&active.iter().map(|(a, _, l)| (*a, *l)).collect::<Vec<_>>());
            match &mut open {
                Some((c, _, end)) if *c == cut && u32::from(*end) + 1 == w[0] => *end = hi,
                _ => {
                    if let Some((c, start, end)) = open.take() {
                        out.extend(c.into_iter().map(|(a, l)| (a, protocol, PortRange { start, end }, l)));
                    }
                    if !cut.is_empty() {
                        open = Some((cut, lo, hi));
                    }
                }
            }
        }
        if let Some((c, start, end)) = open {
            out.extend(c.into_iter().map(|(a, l)| (a, protocol, PortRange { start, end }, l)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn r(a: &str, b: &str) -> AddrRange {
        AddrRange { start: a.parse().unwrap(), end: b.parse().unwrap() }
    }

    #[test]
    fn ranges_keep_the_first_label_and_join_neighbours() {
        let got = disjoint_ranges(&[
            (r("10.0.0.5", "10.0.0.9"), 1),
            (r("10.0.0.1", "10.0.0.6"), 0),
            (r("10.0.0.10", "10.0.0.12"), 1),
        ]);
        assert_eq!(got, vec![(r("10.0.0.1", "10.0.0.6"), 0), (r("10.0.0.7", "10.0.0.12"), 1)]);
        let all = disjoint_ranges(&[(r("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 3), (r("::1", "::1"), 2)]);
        assert_eq!(all.len(), 3);
        assert_eq!(all[1], (r("::1", "::1"), 2));
    }

    #[test]
    fn boxes_are_disjoint_and_cover_the_union() {
        let items = [
            (r("0.0.0.0", "255.255.255.255"), Protocol::Tcp, PortRange::single(80), 1),
            (r("10.0.0.1", "10.0.0.1"), Protocol::Tcp, PortRange { start: 1, end: 65535 }, 0),
            (r("10.0.0.1", "10.0.0.1"), Protocol::Udp, PortRange::single(53), 2),
        ];
        let got = disjoint_boxes(&items);
        for (i, a) in got.iter().enumerate() {
            for b in &got[i + 1..] {
                let overlap = a.1 == b.1
                    && a.0.start <= b.0.end
                    && b.0.start <= a.0.end
                    && a.2.start <= b.2.end
                    && b.2.start <= a.2.end;
                assert!(!overlap, "{a:?} {b:?}");
            }
        }
        for addr in ["10.0.0.1", "10.0.0.2", "0.0.0.0", "255.255.255.255"] {
            let addr: IpAddr = addr.parse().unwrap();
            for protocol in [Protocol::Tcp, Protocol::Udp] {
                for port in [0, 1, 53, 79, 80, 81, 65535] {
                    let want = items
                        .iter()
                        .filter(|(a, p, ports, _)| a.contains(addr) && *p == protocol && ports.contains(port))
                        .map(|i| i.3)
                        .min();
                    let got = got
                        .iter()
                        .find(|(a, p, ports, _)| a.contains(addr) && *p == protocol && ports.contains(port))
                        .map(|i| i.3);
                    assert_eq!(got, want, "{addr} {protocol:?} {port}");
                }
            }
        }
    }
}

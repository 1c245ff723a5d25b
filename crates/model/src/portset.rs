//! Sets of (protocol, port): what the engine's `allowed_connections` returns and
//! the matrix's `connections` prints.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::Protocol;

/// The lowest and highest port a connection can target (port 0 is not a destination).
pub const MIN_PORT: u16 = 1;
pub const MAX_PORT: u16 = u16::MAX;

/// An inclusive range of ports, `start <= end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    /// A range; the bounds are swapped when given in the wrong order.
    pub fn new(start: u16, end: u16) -> Self {
        PortRange { start: start.min(end), end: start.max(end) }
    }

    pub fn single(port: u16) -> Self {
        PortRange { start: port, end: port }
    }

    /// Every destination port, `1-65535`.
    pub fn all() -> Self {
        PortRange { start: MIN_PORT, end: MAX_PORT }
    }

    pub fn contains(&self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }
}

/// `80` or `8000-8080`.
impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// Serialized as `[start, end]`.
impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.start, self.end].serialize(s)
    }
}

/// A set of destination ports per protocol, kept as sorted, disjoint, non-adjacent
/// inclusive ranges within `1-65535`.
///
/// Displayed as `all`, `none`, or `TCP 80,443,8000-8080; UDP 53; SCTP all` (protocols
/// in TCP, UDP, SCTP order; a full protocol is `TCP all`). Serialized as
/// `{"TCP": [[80, 80], [443, 443]], "UDP": [], "SCTP": []}`.
///
/// ```
/// use netpol_model::{PortRange, PortSet, Protocol};
/// let mut set = PortSet::none();
/// set.insert(Protocol::Tcp, PortRange::single(80));
/// set.insert(Protocol::Tcp, PortRange::new(81, 90));
/// set.insert(Protocol::Udp, PortRange::single(53));
/// assert_eq!(set.to_string(), "TCP 80-90; UDP 53");
/// assert!(set.contains(Protocol::Tcp, 85) && !set.contains(Protocol::Udp, 85));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet {
    /// Indexed by [`protocol_index`]: TCP, UDP, SCTP.
    ranges: [Vec<PortRange>; 3],
}

/// Position of `protocol` in [`Protocol::ALL`].
fn protocol_index(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

impl PortSet {
    /// The empty set.
    pub fn none() -> Self {
        PortSet::default()
    }

    /// Every port of every protocol.
    pub fn all() -> Self {
        Protocol::ALL.into_iter().map(|p| (p, PortRange::all())).collect()
    }

    /// Every port of one protocol.
    pub fn all_of(protocol: Protocol) -> Self {
        PortSet::from_iter([(protocol, PortRange::all())])
    }

    /// Adds a range (clamped to `1-65535`; a range entirely at port 0 adds nothing).
    pub fn insert(&mut self, protocol: Protocol, range: PortRange) {
        let start = range.start.max(MIN_PORT);
        if range.end < start {
            return;
        }
        let v = &mut self.ranges[protocol_index(protocol)];
        v.push(PortRange { start, end: range.end });
        normalize(v);
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        let v = self.ranges(protocol);
        // Sorted and disjoint: the first range not ending before `port` is the only candidate.
        let i = v.partition_point(|r| r.end < port);
        v.get(i).is_some_and(|r| r.start <= port)
    }

    /// The sorted, disjoint ranges of one protocol.
    pub fn ranges(&self, protocol: Protocol) -> &[PortRange] {
        &self.ranges[protocol_index(protocol)]
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.iter().all(Vec::is_empty)
    }

    /// True when every port of `protocol` is in the set.
    pub fn is_all_of(&self, protocol: Protocol) -> bool {
        self.ranges(protocol) == [PortRange::all()]
    }

    pub fn is_all(&self) -> bool {
        Protocol::ALL.iter().all(|p| self.is_all_of(*p))
    }

    /// The number of (protocol, port) pairs in the set.
    pub fn len(&self) -> u64 {
        self.ranges.iter().flatten().map(|r| u64::from(r.end - r.start) + 1).sum()
    }

    pub fn union(&self, other: &PortSet) -> PortSet {
        let mut out = self.clone();
        out.union_with(other);
        out
    }

    /// Adds every (protocol, port) of `other`, in place.
    pub fn union_with(&mut self, other: &PortSet) {
        for (a, b) in self.ranges.iter_mut().zip(&other.ranges) {
            if b.is_empty() {
                continue;
            }
            a.extend_from_slice(b);
            normalize(a);
        }
    }

    pub fn intersection(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::none();
        for (o, (a, b)) in out.ranges.iter_mut().zip(self.ranges.iter().zip(&other.ranges)) {
            let (mut x, mut y) = (0, 0);
            while x < a.len() && y < b.len() {
                let start = a[x].start.max(b[y].start);
                let end = a[x].end.min(b[y].end);
                if start <= end {
                    o.push(PortRange { start, end });
                }
                if a[x].end < b[y].end {
                    x += 1;
                } else {
                    y += 1;
                }
            }
        }
        out
    }
    /// The (protocol, port) pairs of `self` that are not in `other`.
    pub fn difference(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::none();
        for (o, (a, b)) in out.ranges.iter_mut().zip(self.ranges.iter().zip(&other.ranges)) {
            let mut y = 0;
            for r in a {
                let mut start = u32::from(r.start);
                let end = u32::from(r.end);
                // Skip the ranges of `other` that end before this one starts.
                while y < b.len() && u32::from(b[y].end) < start {
                    y += 1;
                }
                let mut k = y;
                while k < b.len() && u32::from(b[k].start) <= end && start <= end {
                    if u32::from(b[k].start) > start {
                        o.push(PortRange { start: start as u16, end: (u32::from(b[k].start) - 1) as u16 });
                    }
                    start = start.max(u32::from(b[k].end) + 1);
                    k += 1;
                }
                if start <= end {
                    o.push(PortRange { start: start as u16, end: end as u16 });
                }
            }
        }
        out
    }
}

/// Sorts and merges overlapping or adjacent ranges.
fn normalize(v: &mut Vec<PortRange>) {
    v.sort_unstable();
    let mut merged: Vec<PortRange> = Vec::with_capacity(v.len());
    for r in v.drain(..) {
        match merged.last_mut() {
            Some(last) if u32::from(r.start) <= u32::from(last.end) + 1 => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    *v = merged;
}

/// The union of the ranges, each inserted as by [`PortSet::insert`].
impl FromIterator<(Protocol, PortRange)> for PortSet {
    fn from_iter<I: IntoIterator<Item = (Protocol, PortRange)>>(iter: I) -> Self {
        let mut set = PortSet::none();
        set.extend(iter);
        set
    }
}

impl Extend<(Protocol, PortRange)> for PortSet {
    fn extend<I: IntoIterator<Item = (Protocol, PortRange)>>(&mut self, iter: I) {
        for (protocol, range) in iter {
            self.insert(protocol, range);
        }
    }
}

/// `all`, `none`, or `TCP 80,443,8000-8080; UDP 53; SCTP all`.
impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for p in Protocol::ALL {
            let v = self.ranges(p);
            if v.is_empty() {
                continue;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{p} ")?;
            if self.is_all_of(p) {
                f.write_str("all")?;
                continue;
            }
            for (i, r) in v.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{r}")?;
            }
        }
        Ok(())
    }
}

/// `{"TCP": [[80, 80]], "UDP": [], "SCTP": []}`: every protocol, in TCP, UDP, SCTP order.
impl Serialize for PortSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(Protocol::ALL.len()))?;
        for p in Protocol::ALL {
            m.serialize_entry(p.as_str(), self.ranges(p))?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Protocol::{Sctp, Tcp, Udp};

    /// The set of `(protocol, start, end)` ranges, inserted in the order given.
    fn set(items: &[(Protocol, u16, u16)]) -> PortSet {
        items.iter().map(|&(p, a, b)| (p, PortRange::new(a, b))).collect()
    }

    #[test]
    fn insert_merges_and_clamps() {
        struct Case {
            name: &'static str,
            given: &'static [(Protocol, u16, u16)],
            want: &'static [(u16, u16)],
        }
        let cases = [
            Case { name: "empty", given: &[], want: &[] },
            Case { name: "single", given: &[(Tcp, 80, 80)], want: &[(80, 80)] },
            Case { name: "adjacent singles", given: &[(Tcp, 80, 80), (Tcp, 81, 81)], want: &[(80, 81)] },
            Case { name: "adjacent inserted backwards", given: &[(Tcp, 81, 90), (Tcp, 80, 80)], want: &[(80, 90)] },
            Case {
                name: "gap of one stays apart",
                given: &[(Tcp, 80, 80), (Tcp, 82, 82)],
                want: &[(80, 80), (82, 82)],
            },
            Case { name: "overlapping", given: &[(Tcp, 10, 20), (Tcp, 15, 30)], want: &[(10, 30)] },
            Case { name: "contained", given: &[(Tcp, 10, 30), (Tcp, 15, 20)], want: &[(10, 30)] },
            Case {
                name: "bridging range joins two",
                given: &[(Tcp, 10, 20), (Tcp, 30, 40), (Tcp, 21, 29)],
                want: &[(10, 40)],
            },
            Case {
                name: "sorted whatever the order",
                given: &[(Tcp, 443, 443), (Tcp, 80, 80), (Tcp, 8000, 8080)],
                want: &[(80, 80), (443, 443), (8000, 8080)],
            },
            Case { name: "bounds swapped", given: &[(Tcp, 90, 80)], want: &[(80, 90)] },
            Case { name: "port 0 clamped", given: &[(Tcp, 0, 10)], want: &[(1, 10)] },
            Case { name: "port 0 alone adds nothing", given: &[(Tcp, 0, 0)], want: &[] },
            Case {
                name: "top of the port space",
                given: &[(Tcp, 65535, 65535), (Tcp, 65534, 65534)],
                want: &[(65534, 65535)],
            },
            Case { name: "whole space", given: &[(Tcp, 0, 65535)], want: &[(1, 65535)] },
            Case { name: "other protocols apart", given: &[(Udp, 53, 53), (Sctp, 9, 9)], want: &[] },
        ];
        for c in cases {
            let got: Vec<(u16, u16)> = set(c.given).ranges(Tcp).iter().map(|r| (r.start, r.end)).collect();
            assert_eq!(got, c.want, "{}", c.name);
        }
    }

    /// `a` combined with `b` (either way round) displays as `want`.
    struct Pair {
        name: &'static str,
        a: PortSet,
        b: PortSet,
        want: &'static str,
    }

    #[test]
    fn union_table() {
        let cases = [
            Pair { name: "none and none", a: PortSet::none(), b: PortSet::none(), want: "none" },
            Pair { name: "none is the identity", a: set(&[(Tcp, 80, 80)]), b: PortSet::none(), want: "TCP 80" },
            Pair { name: "all absorbs", a: set(&[(Tcp, 80, 80)]), b: PortSet::all(), want: "all" },
            Pair {
                name: "adjacent across sets merge",
                a: set(&[(Tcp, 80, 80)]),
                b: set(&[(Tcp, 81, 81)]),
                want: "TCP 80-81",
            },
            Pair {
                name: "overlapping and per protocol",
                a: set(&[(Tcp, 10, 20), (Tcp, 30, 40), (Udp, 53, 53)]),
                b: set(&[(Tcp, 15, 35), (Udp, 1, 65535)]),
                want: "TCP 10-40; UDP all",
            },
            Pair {
                name: "every protocol full is all",
                a: PortSet::all_of(Tcp).union(&PortSet::all_of(Udp)),
                b: PortSet::all_of(Sctp),
                want: "all",
            },
        ];
        for c in cases {
            let union = c.a.union(&c.b);
            assert_eq!(union.to_string(), c.want, "{}", c.name);
            assert_eq!(c.b.union(&c.a), union, "{}: commutes", c.name);
            let mut in_place = c.a.clone();
            in_place.union_with(&c.b);
            assert_eq!(in_place, union, "{}: union_with", c.name);
        }
    }

    #[test]
    fn intersection_table() {
        let cases = [
            Pair { name: "all and none", a: PortSet::all(), b: PortSet::none(), want: "none" },
            Pair { name: "all is the identity", a: PortSet::all(), b: set(&[(Tcp, 10, 20)]), want: "TCP 10-20" },
            Pair { name: "all and all", a: PortSet::all(), b: PortSet::all(), want: "all" },
            Pair { name: "disjoint", a: set(&[(Tcp, 10, 20)]), b: set(&[(Tcp, 21, 30)]), want: "none" },
            Pair { name: "touching at one port", a: set(&[(Tcp, 10, 20)]), b: set(&[(Tcp, 20, 30)]), want: "TCP 20" },
            Pair { name: "protocols apart", a: set(&[(Tcp, 53, 53)]), b: set(&[(Udp, 53, 53)]), want: "none" },
            Pair {
                name: "one range over two",
                a: set(&[(Tcp, 10, 20), (Tcp, 30, 40), (Udp, 53, 53)]),
                b: set(&[(Tcp, 15, 35), (Udp, 1, 65535)]),
                want: "TCP 15-20,30-35; UDP 53",
            },
        ];
        for c in cases {
            let both = c.a.intersection(&c.b);
            assert_eq!(both.to_string(), c.want, "{}", c.name);
            assert_eq!(c.b.intersection(&c.a), both, "{}: commutes", c.name);
        }
    }

    #[test]
    fn difference_table() {
        let cases = [
            Pair { name: "all minus none", a: PortSet::all(), b: PortSet::none(), want: "all" },
            Pair { name: "none minus all", a: PortSet::none(), b: PortSet::all(), want: "none" },
            Pair { name: "all minus all", a: PortSet::all(), b: PortSet::all(), want: "none" },
            Pair {
                name: "hole in the middle",
                a: set(&[(Tcp, 10, 20)]),
                b: set(&[(Tcp, 15, 15)]),
                want: "TCP 10-14,16-20",
            },
            Pair {
                name: "both ends cut",
                a: set(&[(Tcp, 10, 20)]),
                b: set(&[(Tcp, 1, 11), (Tcp, 19, 30)]),
                want: "TCP 12-18",
            },
            Pair {
                name: "one range over two",
                a: set(&[(Tcp, 10, 20), (Tcp, 30, 40), (Udp, 53, 53)]),
                b: set(&[(Tcp, 15, 35), (Udp, 1, 65535)]),
                want: "TCP 10-14,36-40",
            },
            Pair {
                name: "top of the port space",
                a: PortSet::all_of(Tcp),
                b: set(&[(Tcp, 1, 79), (Tcp, 81, 65535)]),
                want: "TCP 80",
            },
            Pair {
                name: "all minus one",
                a: PortSet::all(),
                b: set(&[(Udp, 53, 53)]),
                want: "TCP all; UDP 1-52,54-65535; SCTP all",
            },
        ];
        for c in cases {
            let d = c.a.difference(&c.b);
            assert_eq!(d.to_string(), c.want, "{}", c.name);
            // (a - b) and (a & b) partition a.
            assert_eq!(d.union(&c.a.intersection(&c.b)), c.a, "{}: partition", c.name);
            assert!(d.intersection(&c.b).is_empty(), "{}: disjoint from b", c.name);
        }
    }

    #[test]
    fn display_table() {
        let mut mixed = set(&[(Tcp, 443, 443), (Tcp, 80, 80), (Tcp, 81, 90), (Udp, 53, 53)]);
        mixed.union_with(&PortSet::all_of(Sctp));
        let cases = [
            ("empty", PortSet::none(), "none"),
            ("everything", PortSet::all(), "all"),
            ("everything inserted range by range", set(&[(Tcp, 1, 65535), (Udp, 0, 65535), (Sctp, 1, 65535)]), "all"),
            ("one protocol full", PortSet::all_of(Udp), "UDP all"),
            ("merged adjacent", set(&[(Tcp, 80, 80), (Tcp, 81, 81), (Tcp, 443, 443)]), "TCP 80-81,443"),
            (
                "protocol order",
                set(&[(Sctp, 9, 9), (Udp, 53, 53), (Tcp, 8000, 8080), (Tcp, 80, 80)]),
                "TCP 80,8000-8080; UDP 53; SCTP 9",
            ),
            ("full tcp with udp", set(&[(Tcp, 0, 65535), (Udp, 53, 53)]), "TCP all; UDP 53"),
            ("merged and per protocol", mixed, "TCP 80-90,443; UDP 53; SCTP all"),
            ("port zero clamped away", set(&[(Tcp, 0, 0)]), "none"),
        ];
        for (name, given, want) in cases {
            assert_eq!(given.to_string(), want, "{name}");
        }
        assert_eq!(PortRange::new(8080, 8000).to_string(), "8000-8080");
        assert_eq!(PortRange::single(80).to_string(), "80");
    }

    #[test]
    fn contains_and_len() {
        let a = set(&[(Tcp, 10, 20), (Tcp, 30, 40), (Udp, 53, 53)]);
        for (port, want) in
            [(0, false), (9, false), (10, true), (20, true), (21, false), (30, true), (40, true), (41, false)]
        {
            assert_eq!(a.contains(Tcp, port), want, "TCP {port}");
        }
        assert!(a.contains(Udp, 53) && !a.contains(Udp, 20) && !a.contains(Sctp, 53));
        assert!(!PortSet::all().contains(Tcp, 0) && PortSet::all().contains(Sctp, 65535));
        assert_eq!(a.len(), 11 + 11 + 1);
        assert_eq!(PortSet::all().len(), 3 * 65535);
        assert!(PortSet::all().is_all() && PortSet::all_of(Tcp).is_all_of(Tcp) && !PortSet::all_of(Tcp).is_all());
    }

    #[test]
    fn serializes_ranges_per_protocol() {
        let json = serde_json::to_string(&set(&[(Tcp, 80, 80), (Udp, 50, 60)])).unwrap();
        assert_eq!(json, r#"{"TCP":[[80,80]],"UDP":[[50,60]],"SCTP":[]}"#);
        assert_eq!(serde_json::to_string(&PortSet::none()).unwrap(), r#"{"TCP":[],"UDP":[],"SCTP":[]}"#);
    }
}

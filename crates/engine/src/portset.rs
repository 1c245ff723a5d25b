//! Sets of (protocol, port): what `allowed_connections` returns and the matrix prints.

use std::fmt;

use netpol_model::Protocol;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

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
/// Displayed as `all`, `none`, or `TCP 80,443,8000-8080; UDP 53` (protocols in
/// TCP, UDP, SCTP order; a full protocol is `TCP all`). Serialized as
/// `{"TCP": [[80, 80], [443, 443]], "UDP": [], "SCTP": []}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet {
    /// Indexed by [`proto_index`]: TCP, UDP, SCTP.
    ranges: [Vec<PortRange>; 3],
}

fn proto_index(p: Protocol) -> usize {
    match p {
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
        let mut s = PortSet::none();
        for p in Protocol::ALL {
            s.insert(p, PortRange::all());
        }
        s
    }

    /// Every port of one protocol.
    pub fn all_of(protocol: Protocol) -> Self {
        let mut s = PortSet::none();
        s.insert(protocol, PortRange::all());
        s
    }

    /// Adds a range (clamped to `1-65535`; a range entirely at port 0 adds nothing).
    pub fn insert(&mut self, protocol: Protocol, range: PortRange) {
        let start = range.start.max(MIN_PORT);
        if range.end < start {
            return;
        }
        let v = &mut self.ranges[proto_index(protocol)];
        v.push(PortRange { start, end: range.end });
        normalize(v);
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        let v = &self.ranges[proto_index(protocol)];
        // Ranges are sorted and disjoint: binary search the last range starting at or before `port`.
        match v.binary_search_by(|r| r.start.cmp(&port)) {
            Ok(_) => true,
            Err(0) => false,
            Err(i) => v[i - 1].contains(port),
        }
    }

    /// The sorted, disjoint ranges of one protocol.
    pub fn ranges(&self, protocol: Protocol) -> &[PortRange] {
        &self.ranges[proto_index(protocol)]
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
        for (i, v) in out.ranges.iter_mut().enumerate() {
            v.extend_from_slice(&other.ranges[i]);
            normalize(v);
        }
        out
    }

    pub fn intersection(&self, other: &PortSet) -> PortSet {
        let mut out = PortSet::none();
        for i in 0..3 {
            let (a, b) = (&self.ranges[i], &other.ranges[i]);
            let (mut x, mut y) = (0, 0);
            while x < a.len() && y < b.len() {
                let start = a[x].start.max(b[y].start);
                let end = a[x].end.min(b[y].end);
                if start <= end {
                    out.ranges[i].push(PortRange { start, end });
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
}

/// Sorts and merges overlapping or adjacent ranges.
fn normalize(v: &mut Vec<PortRange>) {
    v.sort();
    let mut merged: Vec<PortRange> = Vec::with_capacity(v.len());
    for r in v.drain(..) {
        match merged.last_mut() {
            Some(last) if u32::from(r.start) <= u32::from(last.end) + 1 => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    *v = merged;
}

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
            if self.is_all_of(p) {
                write!(f, "{p} all")?;
            } else {
                let list = v.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
                write!(f, "{p} {list}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for PortSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
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

    fn set(items: &[(Protocol, u16, u16)]) -> PortSet {
        let mut s = PortSet::none();
        for &(p, a, b) in items {
            s.insert(p, PortRange::new(a, b));
        }
        s
    }

    #[test]
    fn display_table() {
        let cases = [
            ("empty", PortSet::none(), "none"),
            ("everything", PortSet::all(), "all"),
            ("one protocol full", PortSet::all_of(Udp), "UDP all"),
            ("merged adjacent", set(&[(Tcp, 80, 80), (Tcp, 81, 81), (Tcp, 443, 443)]), "TCP 80-81,443"),
            (
                "protocol order",
                set(&[(Sctp, 9, 9), (Udp, 53, 53), (Tcp, 8000, 8080), (Tcp, 80, 80)]),
                "TCP 80,8000-8080; UDP 53; SCTP 9",
            ),
            ("full tcp with udp", set(&[(Tcp, 0, 65535), (Udp, 53, 53)]), "TCP all; UDP 53"),
            ("port zero clamped away", set(&[(Tcp, 0, 0)]), "none"),
        ];
        for (name, given, want) in cases {
            assert_eq!(given.to_string(), want, "{name}");
        }
    }

    #[test]
    fn contains_and_algebra() {
        let a = set(&[(Tcp, 10, 20), (Tcp, 30, 40), (Udp, 53, 53)]);
        let b = set(&[(Tcp, 15, 35), (Udp, 1, 65535)]);
        for (port, want) in [(9, false), (10, true), (20, true), (21, false), (30, true), (40, true), (41, false)] {
            assert_eq!(a.contains(Tcp, port), want, "{port}");
        }
        assert_eq!(a.intersection(&b).to_string(), "TCP 15-20,30-35; UDP 53");
        assert_eq!(a.union(&b).to_string(), "TCP 10-40; UDP all");
        assert_eq!(a.len(), 11 + 11 + 1);
        assert!(PortSet::all().intersection(&PortSet::none()).is_empty());
    }

    #[test]
    fn serializes_ranges_per_protocol() {
        let json = serde_json::to_string(&set(&[(Tcp, 80, 80), (Udp, 50, 60)])).unwrap();
        assert_eq!(json, r#"{"TCP":[[80,80]],"UDP":[[50,60]],"SCTP":[]}"#);
    }
}

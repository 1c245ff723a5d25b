//! Sets of (protocol, port) as sorted, disjoint, inclusive ranges per protocol.

use std::fmt;

use netpol_model::Protocol;

/// The port space one protocol is analysed over: every destination port
/// (port 0 is not one), as the engine's.
pub const PORT_MIN: u16 = 1;
pub const PORT_MAX: u16 = u16::MAX;

/// Allowed connections: for each protocol, sorted disjoint inclusive port ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Connections {
    /// Indexed by [`protocol_index`].
    ranges: [Vec<(u16, u16)>; 3],
}

/// Position of `protocol` in [`Protocol::ALL`].
pub fn protocol_index(protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tcp => 0,
        Protocol::Udp => 1,
        Protocol::Sctp => 2,
    }
}

impl Connections {
    pub fn none() -> Self {
        Connections::default()
    }

    /// Every port of every protocol.
    pub fn all() -> Self {
        let full = vec![(PORT_MIN, PORT_MAX)];
        Connections { ranges: [full.clone(), full.clone(), full] }
    }

    pub fn is_all(&self) -> bool {
        *self == Connections::all()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.iter().all(Vec::is_empty)
    }

    /// The ranges of one protocol, sorted and disjoint.
    pub fn ranges(&self, protocol: Protocol) -> &[(u16, u16)] {
        &self.ranges[protocol_index(protocol)]
    }

    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        let r = self.ranges(protocol);
        let i = r.partition_point(|&(_, hi)| hi < port);
        r.get(i).is_some_and(|&(lo, _)| lo <= port)
    }

    /// Adds the ports between `a` and `b` (either order) of `protocol`, clamped to
    /// [`PORT_MIN`]`..=`[`PORT_MAX`].
    pub fn insert(&mut self, protocol: Protocol, a: u16, b: u16) {
        let (lo, hi) = (a.min(b).max(PORT_MIN), a.max(b));
        if lo > hi {
            return;
        }
        let v = &mut self.ranges[protocol_index(protocol)];
        v.push((lo, hi));
        normalise(v);
    }

    /// Adds every port of `protocol`.
    pub fn insert_protocol(&mut self, protocol: Protocol) {
        self.ranges[protocol_index(protocol)] = vec![(PORT_MIN, PORT_MAX)];
    }

    pub fn union_with(&mut self, other: &Connections) {
        for (a, b) in self.ranges.iter_mut().zip(&other.ranges) {
            if b.is_empty() {
                continue;
            }
            a.extend_from_slice(b);
            normalise(a);
        }
    }

    pub fn intersection(&self, other: &Connections) -> Connections {
        let mut out = Connections::none();
        for p in 0..3 {
            let (a, b) = (&self.ranges[p], &other.ranges[p]);
            let (mut i, mut j) = (0, 0);
            while i < a.len() && j < b.len() {
                let lo = a[i].0.max(b[j].0);
                let hi = a[i].1.min(b[j].1);
                if lo <= hi {
                    out.ranges[p].push((lo, hi));
                }
                if a[i].1 < b[j].1 {
                    i += 1;
                } else {
                    j += 1;
                }
            }
        }
        out
    }
}

fn normalise(v: &mut Vec<(u16, u16)>) {
    v.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(v.len());
    for &(lo, hi) in v.iter() {
        match out.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    *v = out;
}

/// `all`, `none`, or `TCP 80,443,8000-8080; UDP 53; SCTP all`.
impl fmt::Display for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            return f.write_str("all");
        }
        if self.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        for protocol in Protocol::ALL {
            let r = self.ranges(protocol);
            if r.is_empty() {
                continue;
            }
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{protocol} ")?;
            if r == [(PORT_MIN, PORT_MAX)] {
                f.write_str("all")?;
                continue;
            }
            for (i, &(lo, hi)) in r.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                if lo == hi {
                    write!(f, "{lo}")?;
                } else {
                    write!(f, "{lo}-{hi}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_table() {
        struct Case {
            name: &'static str,
            given: Connections,
            want: &'static str,
        }
        let mut mixed = Connections::none();
        mixed.insert(Protocol::Tcp, 443, 443);
        mixed.insert(Protocol::Tcp, 80, 80);
        mixed.insert(Protocol::Tcp, 81, 90);
        mixed.insert(Protocol::Udp, 53, 53);
        mixed.insert_protocol(Protocol::Sctp);
        let cases = [
            Case { name: "all", given: Connections::all(), want: "all" },
            Case { name: "none", given: Connections::none(), want: "none" },
            Case { name: "merged and per protocol", given: mixed, want: "TCP 80-90,443; UDP 53; SCTP all" },
        ];
        for c in cases {
            assert_eq!(c.given.to_string(), c.want, "{}", c.name);
        }
    }

    #[test]
    fn intersection_and_contains() {
        let mut a = Connections::none();
        a.insert(Protocol::Tcp, 10, 20);
        a.insert(Protocol::Tcp, 30, 40);
        let mut b = Connections::none();
        b.insert(Protocol::Tcp, 15, 35);
        let i = a.intersection(&b);
        assert_eq!(i.ranges(Protocol::Tcp), &[(15, 20), (30, 35)]);
        assert!(i.contains(Protocol::Tcp, 15) && i.contains(Protocol::Tcp, 35));
        assert!(!i.contains(Protocol::Tcp, 25) && !i.contains(Protocol::Udp, 15));
        assert_eq!(Connections::all().intersection(&a), a);
    }
}

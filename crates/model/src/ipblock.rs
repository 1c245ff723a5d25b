use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// An `ipBlock` peer: every address in `cidr` except those in any `except` block.
///
/// `cidr` and `except` are normalised to their network addresses (host bits
/// cleared); the set of matched addresses is the same either way.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IpBlock {
    pub cidr: IpNet,
    pub except: Vec<IpNet>,
}

impl IpBlock {
    pub fn new(cidr: IpNet, except: Vec<IpNet>) -> Self {
        IpBlock { cidr: cidr.trunc(), except: except.into_iter().map(|n| n.trunc()).collect() }
    }

    /// True when `addr` is inside `cidr` and outside every `except`.
    pub fn contains(&self, addr: IpAddr) -> bool {
        self.cidr.contains(&addr) && !self.except.iter().any(|e| e.contains(&addr))
    }

    /// The `except` block that excludes `addr`, if any.
    pub fn excluded_by(&self, addr: IpAddr) -> Option<&IpNet> {
        self.except.iter().find(|e| e.contains(&addr))
    }
}

impl fmt::Display for IpBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.cidr)?;
        if !self.except.is_empty() {
            let except = self.except.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            write!(f, " except {except}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_honours_except_v4_and_v6() {
        let b = IpBlock::new("10.0.0.0/16".parse().unwrap(), vec!["10.0.1.0/24".parse().unwrap()]);
        let cases = [("10.0.0.5", true), ("10.0.1.5", false), ("10.1.0.1", false), ("::1", false)];
        for (ip, want) in cases {
            assert_eq!(b.contains(ip.parse().unwrap()), want, "{ip}");
        }
        let b6 = IpBlock::new("fd00::/64".parse().unwrap(), vec!["fd00::/120".parse().unwrap()]);
        assert!(b6.contains("fd00::1:1".parse().unwrap()));
        assert!(!b6.contains("fd00::5".parse().unwrap()));
        assert!(!b6.contains("10.0.0.1".parse().unwrap()));
    }

    /// docs/semantics.md: an IPv4-mapped block is IPv6, and never matches an IPv4 address.
    #[test]
    fn ipv4_mapped_blocks_match_ipv6_only() {
        let mapped = IpBlock::new("::ffff:10.0.0.0/104".parse().unwrap(), vec![]);
        assert!(mapped.contains("::ffff:10.0.0.5".parse().unwrap()));
        assert!(!mapped.contains("10.0.0.5".parse().unwrap()));
        let v4 = IpBlock::new("10.0.0.0/8".parse().unwrap(), vec![]);
        assert!(!v4.contains("::ffff:10.0.0.5".parse().unwrap()));
    }
}

//! The ruleset IR: what [`crate::render`] produces, what [`crate::Ruleset::script`]
//! prints and what [`crate::evaluate`] runs. Plain data, sorted and deterministic.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use netpol_model::{PodKey, PortRange, Protocol};

/// The table every ruleset lives in (`table inet netpol`); nothing else is touched.
pub const TABLE: &str = "netpol";

/// Address family of a set, map or match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    pub fn of(addr: IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// `v4` / `v6`, the suffix of set and map names.
    pub fn suffix(self) -> &'static str {
        match self {
            Family::V4 => "v4",
            Family::V6 => "v6",
        }
    }
}

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddrRange {
    pub start: IpAddr,
    pub end: IpAddr,
}

impl AddrRange {
    pub fn single(addr: IpAddr) -> Self {
        AddrRange { start: addr, end: addr }
    }

    pub fn family(&self) -> Family {
        Family::of(self.start)
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        Family::of(addr) == self.family() && self.start <= addr && addr <= self.end
    }
}

/// Every value of the `th dport` field, port 0 included: what a rule port
/// without a number covers in the dataplane. (Connections target 1-65535, see
/// [`PortRange::all`]; nft intervals need not leave 0 out.)
pub const EVERY_PORT: PortRange = PortRange { start: 0, end: u16::MAX };

/// The key type of a named set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SetKey {
    /// `ipv4_addr` / `ipv6_addr`, interval.
    Addr(Family),
    /// `ipv4_addr . inet_proto . inet_service`, interval (concatenated).
    AddrProtoPort(Family),
    /// `ipv4_addr . ipv4_addr`: (source, destination) pairs.
    AddrPair(Family),
    /// `ipv4_addr`, not interval: single addresses in a hash set (known pods).
    Host(Family),
}

impl SetKey {
    pub fn family(self) -> Family {
        match self {
            SetKey::Addr(f) | SetKey::AddrProtoPort(f) | SetKey::AddrPair(f) | SetKey::Host(f) => f,
        }
    }
}

/// One element of a named set; its shape follows the set's [`SetKey`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Element {
    Addr(AddrRange),
    AddrProtoPort(AddrRange, Protocol, PortRange),
    AddrPair(IpAddr, IpAddr),
}

/// A named set. Elements are sorted, deduplicated and (for interval sets) never overlap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Set {
    pub name: String,
    pub key: SetKey,
    pub elements: Vec<Element>,
    /// The comment of each element (`ns/policy ingress[i] peer[j] port[k]`):
    /// empty, or one per element, in the same order.
    pub comments: Vec<String>,
}

impl Set {
    /// Whether `key` (the fields the rule concatenates, already extracted) is in the set.
    pub fn contains(&self, addr: IpAddr, second: Lookup) -> bool {
        self.find(addr, second).is_some()
    }

    /// The index of the element holding the key, if any.
    pub fn find(&self, addr: IpAddr, second: Lookup) -> Option<usize> {
        self.elements.iter().position(|e| match (e, second) {
            (Element::Addr(r), Lookup::Addr) => r.contains(addr),
            (Element::AddrProtoPort(r, p, ports), Lookup::ProtoPort(proto, port)) => {
                r.contains(addr) && *p == proto && ports.contains(port)
            }
            (Element::AddrPair(a, b), Lookup::Pair(other)) => *a == addr && *b == other,
            _ => false,
        })
    }
}

/// What besides the first address a lookup carries (see [`Set::contains`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    Addr,
    ProtoPort(Protocol, u16),
    Pair(IpAddr),
}

/// One entry of a dispatch verdict map: an address, the verdict, and the pod it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MapEntry {
    pub addr: IpAddr,
    pub verdict: NftVerdict,
    pub pod: PodKey,
}

/// A verdict map keyed by address (`ipv4_addr : verdict`): the per-direction dispatch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Map {
    pub name: String,
    pub family: Family,
    /// Sorted by address, one entry per address.
    pub entries: Vec<MapEntry>,
}

/// Which packet address a match or a dispatch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Saddr,
    Daddr,
}

/// Connection-tracking states a rule can match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CtState {
    New,
    Established,
    Related,
    Invalid,
}

impl CtState {
    pub fn as_str(self) -> &'static str {
        match self {
            CtState::New => "new",
            CtState::Established => "established",
            CtState::Related => "related",
            CtState::Invalid => "invalid",
        }
    }
}

/// One condition of a rule; a rule matches when all its conditions hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    CtState(Vec<CtState>),
    /// ICMPv6 neighbour and router discovery (solicit, advert, redirect).
    Icmpv6Nd,
    /// A TCP packet that is not a pure SYN (`tcp flags & (fin|syn|rst|ack) != syn`):
    /// with `ct state new`, a mid-stream packet that loose conntrack would pick up
    /// as a new connection (for example after `--reset-denied` deleted its entry).
    TcpWithoutSyn,
    /// `meta l4proto tcp`.
    Protocol(Protocol),
    /// `th dport 80-90`; only after a [`Match::Protocol`].
    Dport(PortRange),
    /// `ip saddr @set` (the set's key is [`SetKey::Addr`] or [`SetKey::Host`]).
    AddrIn {
        field: Field,
        family: Family,
        set: String,
    },
    /// `ip daddr . meta l4proto . th dport @set` ([`SetKey::AddrProtoPort`]).
    AddrProtoPortIn {
        field: Field,
        family: Family,
        set: String,
    },
    /// `ip saddr . ip daddr @set` ([`SetKey::AddrPair`]).
    AddrPairIn {
        family: Family,
        set: String,
    },
}

/// An nftables verdict statement: accept, drop, or a jump to another chain.
/// (The verdict of a policy decision is `netpol_engine::Verdict`.)
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NftVerdict {
    Accept,
    Drop,
    Jump(String),
}

/// What a rule does when it matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Verdict(NftVerdict),
    /// `ip saddr vmap @map`: look the address up; no entry means go on.
    Dispatch {
        field: Field,
        family: Family,
        map: String,
    },
}

/// One rule of an nftables chain: matches, then an action. (A policy's
/// ingress or egress rule is `netpol_model::Rule`.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRule {
    pub matches: Vec<Match>,
    pub action: Action,
    /// `ns/policy ingress[i] peer[j] port[k]` for policy rules; a short reason otherwise.
    pub comment: String,
}

/// A netfilter hook our base chains attach to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hook {
    /// Routed traffic: pod to pod, pod to outside, outside to pod.
    Forward,
    /// Traffic to the node itself (a pod's egress to its node).
    Input,
}

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Forward => "forward",
            Hook::Input => "input",
        }
    }
}

/// Makes a chain a base chain: `type filter hook HOOK priority filter + OFFSET; policy accept;`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseHook {
    pub hook: Hook,
    /// Offset from the `filter` priority (0); lower runs first.
    pub priority: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    /// `Some` for base chains (policy accept); `None` for regular chains reached by jumps.
    pub base: Option<BaseHook>,
    pub rules: Vec<ChainRule>,
}

/// A rendered ruleset for `table inet netpol`.
///
/// Names are stable by identity (policy and pod names), addresses live only in
/// set and map elements: pod IP churn changes elements, never chains or rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ruleset {
    /// Sorted by name. Shared: a render reusing an earlier one's sets copies no elements.
    pub sets: Vec<Arc<Set>>,
    /// Sorted by name. Shared, like the sets.
    pub maps: Vec<Arc<Map>>,
    /// Regular chains sorted by name, then base chains in evaluation order.
    pub chains: Vec<Chain>,
    /// Things the renderer had to decide about bad input (e.g. two pods with one IP).
    pub warnings: Vec<String>,
}

/// Sizes of a ruleset, as reported by `render` and each agent sync.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub chains: usize,
    pub rules: usize,
    pub sets: usize,
    /// Set elements plus map entries.
    pub elements: usize,
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} chains, {} rules, {} sets, {} elements", self.chains, self.rules, self.sets, self.elements)
    }
}

impl Ruleset {
    pub fn stats(&self) -> Stats {
        Stats {
            chains: self.chains.len(),
            rules: self.chains.iter().map(|c| c.rules.len()).sum(),
            sets: self.sets.len() + self.maps.len(),
            elements: self.sets.iter().map(|s| s.elements.len()).sum::<usize>()
                + self.maps.iter().map(|m| m.entries.len()).sum::<usize>(),
        }
    }

    /// Whether the kernel would hold the same table for both (warnings aside).
    pub fn same_rules(&self, other: &Ruleset) -> bool {
        self.sets == other.sets && self.maps == other.maps && self.chains == other.chains
    }

    pub fn set(&self, name: &str) -> Option<&Set> {
        self.sets.binary_search_by(|s| s.name.as_str().cmp(name)).ok().map(|i| &*self.sets[i])
    }

    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name == name).map(|m| &**m)
    }

    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }

    /// Base chains of `hook`, in evaluation order (lowest priority first).
    pub fn base_chains(&self, hook: Hook) -> Vec<&Chain> {
        let mut chains: Vec<&Chain> = self.chains.iter().filter(|c| c.base.is_some_and(|b| b.hook == hook)).collect();
        chains.sort_by_key(|c| c.base.map(|b| b.priority));
        chains
    }

    /// The ruleset with every set and map emptied: what stays fixed when pod IPs churn.
    pub fn structure(&self) -> Ruleset {
        let mut out = self.clone();
        out.sets.iter_mut().for_each(|s| {
            let s = Arc::make_mut(s);
            s.elements.clear();
            s.comments.clear();
        });
        out.maps.iter_mut().for_each(|m| Arc::make_mut(m).entries.clear());
        out
    }
}

//! Equivalence classes of pods: what a pod's class key is made of, and the
//! context (label keys, port names, ipBlock boundaries) that decides it.
//!
//! Two pods get the same key exactly when no policy can tell them apart:
//! same namespace, same values for every label key some pod selector reads,
//! when a Calico selector reads a ServiceAccount label
//! (`projectcalico.org/serviceaccount` or a `pcsa.` key) the same
//! ServiceAccount name, existence and values for the keys read,
//! same resolution of every port name some rule uses, for each of their IPs
//! the same set of ipBlock ranges (`cidr`s and `except`s) containing it, and
//! the same hostNetwork flag.
//!
//! IPs are placed by the elementary intervals between the ranges' ends, but an
//! interval is not a class: intervals inside exactly the same ranges share one
//! region id. (Pods on nodes with their own /24s, between ipBlocks that contain
//! none of them, are one class, not one per node.)

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use netpol_model::{
    IpBlock, LabelSelector, Labels, NetworkPolicy, Peer, Pod, PodServiceAccount, PolicyPort, PortRef, Protocol,
    Subject, TieredPeer, TieredPolicy, CALICO_SERVICE_ACCOUNT_LABEL, CALICO_SERVICE_ACCOUNT_PREFIX,
};

/// An IP as a point on one line: IPv4 below IPv6.
pub(crate) type Addr = (u8, u128);

pub(crate) fn addr(ip: IpAddr) -> Addr {
    match ip {
        IpAddr::V4(v4) => (4, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (6, u128::from(v6)),
    }
}

/// What pods can be told apart by, with reference counts so policies can come and go.
#[derive(Clone, Debug, Default)]
pub(crate) struct Context {
    label_keys: BTreeMap<String, u32>,
    port_names: BTreeMap<(String, Protocol), u32>,
    boundaries: BTreeMap<Addr, u32>,
    sorted_boundaries: Vec<Addr>,
    /// Every ipBlock range (`cidr` or `except`) as its first and last address.
    ranges: BTreeMap<(Addr, Addr), u32>,
    /// For the interval starting at `sorted_boundaries[i]`: the id of the set of
    /// ranges containing it (0: none), equal for intervals inside the same ranges.
    region_ids: Vec<u32>,
    /// Whether ipBlock peers match pod IPs (then every pod's IPs take part in
    /// keys; otherwise only hostNetwork pods').
    pub(crate) ipblock_matches_pods: bool,
    /// Ordered policies have `networks`/`nets`, which match pod IPs whatever
    /// `ipblock_matches_pods` says: every pod's IPs take part in keys.
    pub(crate) tiered_nets: bool,
    /// Ordered policies have `nodes` peers: the node an address belongs to (by
    /// name, from [`Context::nodes`]) takes part in keys.
    pub(crate) node_peers: bool,
    /// Node addresses, and the declared node names, when `node_peers`.
    pub(crate) nodes: HashMap<IpAddr, String>,
    pub(crate) node_names: std::collections::HashSet<String>,
}

/// The parts of a policy that feed the context.
#[derive(Default)]
struct Footprint {
    label_keys: Vec<String>,
    port_names: Vec<(String, Protocol)>,
    boundaries: Vec<Addr>,
    ranges: Vec<(Addr, Addr)>,
}

fn footprint(policy: &NetworkPolicy) -> Footprint {
    let mut f = Footprint::default();
    let selector = |s: &LabelSelector, f: &mut Footprint| f.label_keys.extend(s.keys().map(str::to_string));
    selector(&policy.pod_selector, &mut f);
    for rule in policy.ingress.iter().chain(&policy.egress) {
        for peer in &rule.peers {
            match peer {
                Peer::Pods { pod_selector: Some(s), .. } => selector(s, &mut f),
                Peer::Pods { pod_selector: None, .. } => {}
                Peer::IpBlock(block) => {
                    for net in std::iter::once(&block.cidr).chain(&block.except) {
                        range_footprint(net, &mut f);
                    }
                }
            }
        }
        port_footprint(&rule.ports, &mut f);
    }
    f
}

fn range_footprint(net: &ipnet::IpNet, f: &mut Footprint) {
    let lo = addr(net.network());
    f.boundaries.push(lo);
    let hi = addr(net.broadcast());
    f.ranges.push((lo, hi));
    let top = if hi.0 == 4 { u128::from(u32::MAX) } else { u128::MAX };
    if hi.1 < top {
        f.boundaries.push((hi.0, hi.1 + 1));
    }
}

fn port_footprint(ports: &[PolicyPort], f: &mut Footprint) {
    for port in ports {
        if let Some(PortRef::Name(name)) = &port.port {
            f.port_names.push((name.clone(), port.protocol));
        }
    }
}

/// What an ordered policy reads of pods: label keys (of label selectors and
/// Calico selectors), port names, and the ranges of `networks`, `nets` and `notNets`.
fn tiered_footprint(policy: &TieredPolicy) -> (Footprint, bool) {
    let mut f = Footprint::default();
    let mut nodes = false;
    let keys = |s: &LabelSelector, f: &mut Footprint| f.label_keys.extend(s.keys().map(str::to_string));
    let calico = |s: &netpol_model::CalicoSelector, f: &mut Footprint| {
        f.label_keys.extend(s.keys().into_iter().map(str::to_string))
    };
    match &policy.subject {
        Subject::Namespaces(_) => {}
        Subject::Pods { pods, .. } => keys(pods, &mut f),
        Subject::Calico { selector, .. } => calico(selector, &mut f),
    }
    let entity = |e: &netpol_model::CalicoEntity, f: &mut Footprint| {
        for s in e.selector.iter().chain(&e.not_selector) {
            calico(s, f);
        }
        for net in e.nets.iter().chain(&e.not_nets) {
            range_footprint(net, f);
        }
    };
    for rule in policy.ingress.iter().chain(&policy.egress) {
        for peer in &rule.peers {
            match peer {
                TieredPeer::Namespaces(_) | TieredPeer::DomainNames(_) => {}
                TieredPeer::Pods { pods, .. } => keys(pods, &mut f),
                TieredPeer::Nodes(_) => nodes = true,
                TieredPeer::Networks(nets) => nets.iter().for_each(|n| range_footprint(n, &mut f)),
                TieredPeer::Calico(e) => entity(e, &mut f),
            }
        }
        if let Some(local) = &rule.local {
            entity(local, &mut f);
        }
        port_footprint(&rule.ports, &mut f);
        port_footprint(&rule.not_ports, &mut f);
    }
    (f, nodes)
}

impl Context {
    pub(crate) fn new(ipblock_matches_pods: bool) -> Self {
        Context { ipblock_matches_pods, ..Context::default() }
    }

    /// Counts an ordered policy in (they are compiled in batch: never counted out).
    pub(crate) fn add_tiered(&mut self, policy: &TieredPolicy, nodes: &[netpol_model::Node]) {
        let (f, node_peers) = tiered_footprint(policy);
        self.tiered_nets |= !f.ranges.is_empty();
        if node_peers && !self.node_peers {
            self.node_peers = true;
            for n in nodes {
                self.node_names.insert(n.name.clone());
                for a in &n.addresses {
                    self.nodes.entry(*a).or_insert_with(|| n.name.clone());
                }
            }
        }
        self.count_in(f);
    }

    /// Counts `policy`'s keys, names and boundaries in; true when the context changed.
    pub(crate) fn add(&mut self, policy: &NetworkPolicy) -> bool {
        self.count_in(footprint(policy))
    }

    fn count_in(&mut self, f: Footprint) -> bool {
        let mut changed = false;
        for k in f.label_keys {
            let n = self.label_keys.entry(k).or_insert(0);
            changed |= *n == 0;
            *n += 1;
        }
        for k in f.port_names {
            let n = self.port_names.entry(k).or_insert(0);
            changed |= *n == 0;
            *n += 1;
        }
        let mut boundaries_changed = false;
        for b in f.boundaries {
            let n = self.boundaries.entry(b).or_insert(0);
            boundaries_changed |= *n == 0;
            *n += 1;
        }
        for r in f.ranges {
            let n = self.ranges.entry(r).or_insert(0);
            boundaries_changed |= *n == 0;
            *n += 1;
        }
        if boundaries_changed {
            self.rebuild_regions();
        }
        changed || boundaries_changed
    }

    /// Counts `policy` out again; true when the context changed.
    pub(crate) fn remove(&mut self, policy: &NetworkPolicy) -> bool {
        let f = footprint(policy);
        let mut changed = false;
        for k in f.label_keys {
            changed |= release(&mut self.label_keys, k);
        }
        for k in f.port_names {
            changed |= release(&mut self.port_names, k);
        }
        let mut boundaries_changed = false;
        for b in f.boundaries {
            boundaries_changed |= release(&mut self.boundaries, b);
        }
        for r in f.ranges {
            boundaries_changed |= release(&mut self.ranges, r);
        }
        if boundaries_changed {
            self.rebuild_regions();
        }
        changed || boundaries_changed
    }

    /// Sorts the boundaries and names each interval by the set of ranges
    /// containing it: one sweep, adding a range where it starts and dropping it
    /// after its last address (or where the next family starts).
    fn rebuild_regions(&mut self) {
        self.sorted_boundaries = self.boundaries.keys().copied().collect();
        let mut starts: HashMap<Addr, Vec<u32>> = HashMap::new();
        let mut ends: HashMap<Addr, Vec<u32>> = HashMap::new();
        for (i, (lo, hi)) in self.ranges.keys().enumerate() {
            starts.entry(*lo).or_default().push(i as u32);
            let top = if hi.0 == 4 { u128::from(u32::MAX) } else { u128::MAX };
            if hi.1 < top {
                ends.entry((hi.0, hi.1 + 1)).or_default().push(i as u32);
            }
        }
        let mut ids: HashMap<Vec<u32>, u32> = HashMap::from([(Vec::new(), 0)]);
        let mut active: Vec<u32> = Vec::new();
        let mut family = 0;
        self.region_ids = self
            .sorted_boundaries
            .iter()
            .map(|b| {
                if b.0 != family {
                    // Ranges never cross families: every one of the previous family has ended.
                    active.clear();
                    family = b.0;
                }
                if let Some(gone) = ends.get(b) {
                    active.retain(|r| !gone.contains(r));
                }
                if let Some(new) = starts.get(b) {
                    active.extend(new);
                    active.sort_unstable();
                }
                let next = ids.len() as u32;
                *ids.entry(active.clone()).or_insert(next)
            })
            .collect();
    }

    /// The region of `a`: the id of the set of ranges containing it.
    fn region(&self, a: Addr) -> u32 {
        match self.sorted_boundaries.partition_point(|b| *b <= a).checked_sub(1) {
            // Below the interval's start in another family: no range of `a`'s family starts
            // before `a`, so none contains it.
            Some(i) if self.sorted_boundaries[i].0 == a.0 => self.region_ids[i],
            _ => 0,
        }
    }

    /// Whether some Calico selector reads a ServiceAccount label.
    fn reads_service_accounts(&self) -> bool {
        self.label_keys.contains_key(CALICO_SERVICE_ACCOUNT_LABEL)
            || self
                .label_keys
                .range::<str, _>((std::ops::Bound::Included(CALICO_SERVICE_ACCOUNT_PREFIX), std::ops::Bound::Unbounded))
                .next()
                .is_some_and(|(k, _)| k.starts_with(CALICO_SERVICE_ACCOUNT_PREFIX))
    }

    /// The ServiceAccount part of a key: the name, and (when the ServiceAccount
    /// exists) its labels whose `pcsa.` keys some selector reads.
    fn service_account_key(&self, sa: &PodServiceAccount) -> (Option<String>, Option<Vec<(String, String)>>) {
        let read = |k: &str| self.label_keys.contains_key(&format!("{CALICO_SERVICE_ACCOUNT_PREFIX}{k}"));
        let labels = sa
            .labels
            .as_ref()
            .map(|l| l.iter().filter(|(k, _)| read(k)).map(|(k, v)| (k.to_string(), v.to_string())).collect());
        (sa.name.clone(), labels)
    }

    /// The class key of `pod` in this context.
    pub(crate) fn key(&self, pod: &Pod) -> ClassKey {
        let labels = pod
            .labels
            .iter()
            .filter(|(k, _)| self.label_keys.contains_key(*k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // Every number declared for each referenced name (several containers may
        // declare one name); hostNetwork pods are node traffic, whose ports have no names.
        let ports = if pod.host_network {
            Vec::new()
        } else {
            self.port_names
                .keys()
                .flat_map(|(name, protocol)| {
                    let mut numbers: Vec<u16> = pod.named_ports(name, *protocol).collect();
                    numbers.sort_unstable();
                    numbers.dedup();
                    numbers.into_iter().map(move |port| (name.clone(), *protocol, port))
                })
                .collect()
        };
        // hostNetwork pods' IPs are node IPs, which ipBlocks always match.
        let regions = if self.tiered_nets || IpBlock::sees(!pod.host_network, self.ipblock_matches_pods) {
            pod.ips
                .iter()
                .map(|ip| {
                    let a = addr(*ip);
                    (a.0, self.region(a))
                })
                .collect()
        } else {
            Vec::new()
        };
        ClassKey {
            namespace: pod.namespace.clone(),
            labels,
            ports,
            regions,
            first_family: pod.ips.first().map(|ip| addr(*ip).0),
            host_network: pod.host_network,
            service_account: self.reads_service_accounts().then(|| self.service_account_key(&pod.service_account)),
            nodes: if self.node_peers { self.node_names_of(pod) } else { Vec::new() },
        }
    }

    /// For `nodes` peers: the node of a hostNetwork pod (when declared), then
    /// the node each IP belongs to.
    fn node_names_of(&self, pod: &Pod) -> Vec<Option<String>> {
        let own = pod.node.clone().filter(|n| pod.host_network && self.node_names.contains(n));
        std::iter::once(own).chain(pod.ips.iter().map(|ip| self.nodes.get(ip).cloned())).collect()
    }
}

/// Counts `key` out of `map`; true when its last reference went.
fn release<K: Ord>(map: &mut BTreeMap<K, u32>, key: K) -> bool {
    match map.get_mut(&key) {
        Some(n) if *n > 1 => {
            *n -= 1;
            false
        }
        Some(_) => {
            map.remove(&key);
            true
        }
        None => false,
    }
}

/// What a class is: every pod with this key behaves the same under every policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ClassKey {
    pub(crate) namespace: String,
    /// Only the label keys some pod selector reads, sorted.
    pub(crate) labels: Vec<(String, String)>,
    /// `(name, protocol, port)` for every number the pods declare under a referenced port name.
    pub(crate) ports: Vec<(String, Protocol, u16)>,
    /// For each IP (in order), its family and the id of the set of ipBlock
    /// ranges containing it (empty when ipBlocks cannot match the pod).
    pub(crate) regions: Vec<(u8, u32)>,
    /// The family (4 or 6) of the first IP: the family of flows towards the pod.
    pub(crate) first_family: Option<u8>,
    pub(crate) host_network: bool,
    /// When a Calico selector reads a ServiceAccount label: the name, and the
    /// labels read (`None`: no such ServiceAccount).
    #[allow(clippy::type_complexity)]
    pub(crate) service_account: Option<(Option<String>, Option<Vec<(String, String)>>)>,
    /// With `nodes` peers only: the declared node of a hostNetwork pod, then
    /// the node each IP belongs to.
    pub(crate) nodes: Vec<Option<String>>,
}

impl ClassKey {
    /// The labels of the key as a label set, for selectors.
    pub(crate) fn label_set(&self) -> Labels {
        Labels::from_iter(self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// The ServiceAccount every member runs as, as far as selectors can tell.
    pub(crate) fn service_account(&self) -> PodServiceAccount {
        match &self.service_account {
            None => PodServiceAccount::UNSET,
            Some((name, labels)) => PodServiceAccount {
                name: name.clone(),
                labels: labels.as_ref().map(|l| Labels::from_iter(l.iter().map(|(k, v)| (k.as_str(), v.as_str())))),
            },
        }
    }

    /// Every number a named port stands for on the pods of this class.
    pub(crate) fn named_ports<'a>(&'a self, name: &'a str, protocol: Protocol) -> impl Iterator<Item = u16> + 'a {
        self.ports.iter().filter(move |(n, p, _)| n == name && *p == protocol).map(|(_, _, port)| *port)
    }

    /// Whether the named port `name`/`protocol` stands for `port` on this class.
    pub(crate) fn has_named_port(&self, name: &str, protocol: Protocol, port: u16) -> bool {
        self.ports.iter().any(|(n, p, q)| n == name && *p == protocol && *q == port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol_model::{IpBlock, Peer, Rule};

    fn context(blocks: &[(&str, &[&str])]) -> Context {
        let mut policy = netpol_model::NetworkPolicy {
            namespace: "ns".into(),
            name: "p".into(),
            pod_selector: LabelSelector::default(),
            policy_types: vec![netpol_model::Direction::Ingress],
            policy_types_defaulted: false,
            ingress: Vec::new(),
            egress: Vec::new(),
            meta: Default::default(),
            origin: None,
        };
        let peers = blocks
            .iter()
            .map(|(cidr, except)| {
                Peer::IpBlock(IpBlock::new(cidr.parse().unwrap(), except.iter().map(|e| e.parse().unwrap()).collect()))
            })
            .collect();
        policy.ingress.push(Rule { peers, ports: Vec::new(), origin: None });
        let mut c = Context::new(true);
        assert!(c.add(&policy));
        c
    }

    fn region(c: &Context, ip: &str) -> u32 {
        c.region(addr(ip.parse().unwrap()))
    }

    #[test]
    fn intervals_inside_the_same_ranges_are_one_region() {
        let c = context(&[("10.0.2.0/24", &[]), ("10.0.0.0/8", &["10.0.5.0/24"]), ("fd00::/64", &[])]);
        // Either side of 10.0.2.0/24, inside 10.0.0.0/8 only: one region, though two intervals.
        assert_eq!(region(&c, "10.0.1.7"), region(&c, "10.0.3.7"));
        assert_eq!(region(&c, "10.0.1.7"), region(&c, "10.200.0.1"));
        // Inside 10.0.2.0/24 too, or inside the except: other regions.
        assert_ne!(region(&c, "10.0.2.7"), region(&c, "10.0.1.7"));
        assert_ne!(region(&c, "10.0.5.7"), region(&c, "10.0.1.7"));
        assert_ne!(region(&c, "10.0.5.7"), region(&c, "10.0.2.7"));
        // Outside every range, in either family: region 0.
        for ip in ["9.0.0.1", "11.0.0.1", "255.255.255.255", "::1", "fe80::1"] {
            assert_eq!(region(&c, ip), 0, "{ip}");
        }
        assert_ne!(region(&c, "fd00::1"), 0);
    }

    #[test]
    fn a_range_to_the_top_of_ipv4_ends_with_the_family() {
        let c = context(&[("0.0.0.0/0", &["10.0.0.0/8"]), ("fd00::/8", &[])]);
        assert_eq!(region(&c, "1.1.1.1"), region(&c, "255.255.255.255"));
        assert_ne!(region(&c, "10.1.1.1"), region(&c, "1.1.1.1"));
        assert_eq!(region(&c, "::1"), 0);
        assert_ne!(region(&c, "fd00::1"), 0);
        assert_eq!(region(&c, "fe00::1"), 0);
    }
}

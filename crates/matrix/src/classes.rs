//! Equivalence classes of pods: what a pod's class key is made of, and the
//! context (label keys, port names, ipBlock boundaries) that decides it.
//!
//! Two pods get the same key exactly when no policy can tell them apart:
//! same namespace, same values for every label key some pod selector reads,
//! same resolution of every port name some rule uses, the same side of every
//! ipBlock boundary for each of their IPs, and the same hostNetwork flag.

use std::collections::BTreeMap;
use std::net::IpAddr;

use netpol_model::{IpBlock, LabelSelector, NetworkPolicy, Peer, Pod, PortRef, Protocol};

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
    /// Whether ipBlock peers match pod IPs (then every pod's IPs take part in
    /// keys; otherwise only hostNetwork pods').
    pub(crate) ipblock_matches_pods: bool,
}

/// The parts of a policy that feed the context.
#[derive(Default)]
struct Footprint {
    label_keys: Vec<String>,
    port_names: Vec<(String, Protocol)>,
    boundaries: Vec<Addr>,
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
                        let lo = addr(net.network());
                        f.boundaries.push(lo);
                        let hi = addr(net.broadcast());
                        if let Some(next) = hi.1.checked_add(1) {
                            let top = if hi.0 == 4 { u128::from(u32::MAX) } else { u128::MAX };
                            if hi.1 < top {
                                f.boundaries.push((hi.0, next));
                            }
                        }
                    }
                }
            }
        }
        for port in &rule.ports {
            if let Some(PortRef::Name(name)) = &port.port {
                f.port_names.push((name.clone(), port.protocol));
            }
        }
    }
    f
}

impl Context {
    pub(crate) fn new(ipblock_matches_pods: bool) -> Self {
        Context { ipblock_matches_pods, ..Context::default() }
    }

    /// Counts `policy`'s keys, names and boundaries in; true when the context changed.
    pub(crate) fn add(&mut self, policy: &NetworkPolicy) -> bool {
        let f = footprint(policy);
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
        if boundaries_changed {
            self.sorted_boundaries = self.boundaries.keys().copied().collect();
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
        if boundaries_changed {
            self.sorted_boundaries = self.boundaries.keys().copied().collect();
        }
        changed || boundaries_changed
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
        let regions = if IpBlock::sees(!pod.host_network, self.ipblock_matches_pods) {
            pod.ips
                .iter()
                .map(|ip| {
                    let a = addr(*ip);
                    (a.0, self.sorted_boundaries.partition_point(|b| *b <= a) as u32)
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
        }
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
    /// For each IP (in order), its family and the elementary interval between
    /// ipBlock boundaries it falls in (empty when ipBlocks cannot match the pod).
    pub(crate) regions: Vec<(u8, u32)>,
    /// The family (4 or 6) of the first IP: the family of flows towards the pod.
    pub(crate) first_family: Option<u8>,
    pub(crate) host_network: bool,
}

impl ClassKey {
    /// Every number a named port stands for on the pods of this class.
    pub(crate) fn named_ports<'a>(&'a self, name: &'a str, protocol: Protocol) -> impl Iterator<Item = u16> + 'a {
        self.ports.iter().filter(move |(n, p, _)| n == name && *p == protocol).map(|(_, _, port)| *port)
    }

    /// Whether the named port `name`/`protocol` stands for `port` on this class.
    pub(crate) fn has_named_port(&self, name: &str, protocol: Protocol, port: u16) -> bool {
        self.ports.iter().any(|(n, p, q)| n == name && *p == protocol && *q == port)
    }
}

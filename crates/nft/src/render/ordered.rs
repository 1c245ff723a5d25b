//! Ordered policies in the dataplane: one lookup per direction, of the allowed
//! set after every tier (docs/enforcement.md, "Ordered policies").
//!
//! A local pod to which some ordered policy applies for a direction gets a
//! chain of its own group, keyed by what its verdicts depend on: the ordered
//! policies applying to it, the v1 policies selecting it, which of the rules'
//! subject-side (`local`) entities it meets, and, for ingress, its named
//! ports. The group's sets hold, per family, the peer addresses and (protocol,
//! port) ranges the chain of tiers allows. They come from the engine
//! ([`netpol_engine::Engine::direction_connections`], the reference), evaluated
//! once per *address segment*: the address space cut at every pod and node
//! address and every CIDR edge any policy names, so every address of a segment
//! meets every peer the same way. Segments fall into classes, by peer key
//! ([`netpol_engine::PeerKey`]: the pod or node at the address, without its
//! name, address and the labels no peer selector reads) and CIDR region; the
//! engine evaluates one address per class for each group
//! ([`netpol_engine::Engine::direction_connections_many`], the group's own side
//! worked out once), so replicas cost one evaluation, not one each.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::rc::Rc;

use netpol_engine::{Engine, PeerKey};
use netpol_model::{Direction, PeerEnd, Pod, PodView, PortRange, PortSet, Protocol};

use super::groups::{everything, peer_field};
use super::Renderer;
use crate::ir::{Action, AddrRange, Chain, ChainRule, Element, Family, Match, NftVerdict, SetKey};
use crate::name::{comment, identifier};
use crate::select::{unique_name_for, GroupDef, Selection};

/// An address as a number on its family's line, and back.
fn num(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn ip(family: Family, n: u128) -> IpAddr {
    match family {
        Family::V4 => IpAddr::from((n as u32).to_be_bytes()),
        Family::V6 => IpAddr::from(n.to_be_bytes()),
    }
}

fn top(family: Family) -> u128 {
    match family {
        Family::V4 => u128::from(u32::MAX),
        Family::V6 => u128::MAX,
    }
}

/// The address segments of a family, each in a class: segments of one class
/// have equal peer keys ([`Engine::peer_key`]) and lie between the same CIDR
/// edges, so every chain gives them equal sets.
pub(super) struct Segments {
    list: Vec<Segment>,
    /// An address of each class, by class.
    representatives: Vec<IpAddr>,
}

/// Addresses `first..=last` of a family, and their class.
#[derive(Clone, Copy, Debug)]
struct Segment {
    first: u128,
    last: u128,
    class: usize,
}

impl<'a> Renderer<'a> {
    /// Moves every local pod under ordered policies (for a direction) to a
    /// group of its own key; returns the names of those groups and their members.
    pub(super) fn ordered_selection(
        &self,
        selection: &mut Selection,
        policies: &[&'a netpol_model::NetworkPolicy],
    ) -> BTreeMap<String, Vec<usize>> {
        let mut members: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        let tiered = &self.cluster.tiered;
        for (at, pod) in self.local.iter().enumerate() {
            let ns = &self.namespace_labels[pod.namespace.as_str()];
            let view = PodView::from(*pod);
            for direction in Direction::ALL {
                let applying: Vec<usize> = (0..tiered.len())
                    .filter(|&i| tiered[i].affects(direction) && tiered[i].subject.selects(view, ns))
                    .collect();
                if applying.is_empty() {
                    continue;
                }
                let by: Vec<usize> = (0..policies.len())
                    .filter(|&i| policies[i].affects(direction) && policies[i].selects(*pod))
                    .collect();
                let mut key = format!("ordered|{}|{applying:?}|{by:?}|", direction.rules_key());
                // Which subject-side entities it meets, with its address of each family.
                for &i in &applying {
                    for rule in tiered[i].rules(direction) {
                        if let Some(local) = &rule.local {
                            for family in Family::ALL {
                                let addr = pod.ips.iter().copied().find(|a| Family::of(*a) == family);
                                key.push(if local.matches(&PeerEnd::pod(view, ns, addr)) { '1' } else { '0' });
                            }
                        }
                    }
                }
                if direction == Direction::Ingress {
                    let mut ports: Vec<(Option<&str>, Protocol, u16)> =
                        pod.ports.iter().map(|p| (p.name.as_deref(), p.protocol, p.port)).collect();
                    ports.sort();
                    key.push_str(&format!("{ports:?}"));
                }
                let name = unique_name_for(&selection.groups, direction, &key);
                selection.chain_of.retain(|(p, d, _)| !(*p == at && *d == direction));
                selection.chain_of.push((at, direction, name.clone()));
                members.entry(name.clone()).or_default().push(at);
                selection.groups.entry(name).or_insert(GroupDef { key, direction, policies: by, representative: at });
            }
        }
        selection.chain_of.sort();
        // Groups no pod uses any more (every member moved to an ordered group).
        let used: BTreeSet<&String> = selection.chain_of.iter().map(|(_, _, n)| n).collect();
        selection.groups.retain(|name, _| used.contains(name));
        members
    }

    /// The segments of one family and their classes (computed once per render).
    fn segments(&mut self, family: Family, engine: &Engine<'_>) -> Rc<Segments> {
        if let Some(s) = self.segments.get(&family) {
            return s.clone();
        }
        let mut classes: HashMap<(PeerKey<'_>, usize), usize> = HashMap::new();
        let mut representatives = Vec::new();
        let list = self
            .compute_segments(family)
            .into_iter()
            .map(|(first, last, region)| {
                let at = ip(family, first);
                let next = classes.len();
                let class = *classes.entry((engine.peer_key(at), region)).or_insert_with(|| {
                    representatives.push(at);
                    next
                });
                Segment { first, last, class }
            })
            .collect();
        let s = Rc::new(Segments { list, representatives });
        self.segments.insert(family, s.clone());
        s
    }

    /// Every pod and node address alone, cut at every CIDR edge the policies
    /// name: (first, last, region), the region being which CIDR edges it lies between.
    fn compute_segments(&self, family: Family) -> Vec<(u128, u128, usize)> {
        let mut cuts: BTreeSet<u128> = BTreeSet::from([0]);
        let mut point = |start: u128, end: u128| {
            cuts.insert(start);
            if end < top(family) {
                cuts.insert(end + 1);
            }
        };
        let mut net = |n: &ipnet::IpNet| {
            if Family::of(n.network()) == family {
                point(num(n.network()), num(n.broadcast()));
            }
        };
        for p in &self.cluster.policies {
            for rule in p.ingress.iter().chain(&p.egress) {
                for peer in &rule.peers {
                    if let netpol_model::Peer::IpBlock(b) = peer {
                        net(&b.cidr);
                        b.except.iter().for_each(&mut net);
                    }
                }
            }
        }
        for p in &self.cluster.tiered {
            for rule in p.ingress.iter().chain(&p.egress) {
                let entities = rule.peers.iter().filter_map(|peer| match peer {
                    netpol_model::TieredPeer::Calico(e) => Some(e),
                    _ => None,
                });
                for e in entities.chain(rule.local.as_ref()) {
                    e.nets.iter().chain(&e.not_nets).for_each(&mut net);
                }
                for peer in &rule.peers {
                    if let netpol_model::TieredPeer::Networks(nets) = peer {
                        nets.iter().for_each(&mut net);
                    }
                }
            }
        }
        let regions: Vec<u128> = cuts.iter().copied().collect();
        let addrs =
            self.cluster.pods.iter().flat_map(|p| &p.ips).chain(self.cluster.nodes.iter().flat_map(|n| &n.addresses));
        for a in addrs.filter(|a| Family::of(**a) == family) {
            cuts.insert(num(*a));
            if num(*a) < top(family) {
                cuts.insert(num(*a) + 1);
            }
        }
        let cuts: Vec<u128> = cuts.into_iter().collect();
        cuts.iter()
            .enumerate()
            .map(|(i, &first)| {
                let last = cuts.get(i + 1).map_or(top(family), |next| next - 1);
                (first, last, regions.partition_point(|&edge| edge <= first))
            })
            .collect()
    }

    /// The chain (and sets) of a group under ordered policies.
    pub(super) fn ordered_chain(
        &mut self,
        engine: &Engine<'_>,
        name: &str,
        direction: Direction,
        members: &[&Pod],
    ) -> Chain {
        let field = peer_field(direction);
        let label = comment(&format!("{} through the ordered policies", direction.rules_key()));
        let mut rules = Vec::new();
        let mut everywhere = true;
        for family in Family::ALL {
            let mut addrs: Vec<(AddrRange, usize)> = Vec::new();
            let mut boxes: Vec<(AddrRange, Protocol, PortRange, usize)> = Vec::new();
            let mut last: Option<(u128, u128, PortSet)> = None;
            let mut flush = |seg: Option<(u128, u128, PortSet)>| {
                let Some((lo, hi, set)) = seg else { return };
                let range = AddrRange { start: ip(family, lo), end: ip(family, hi) };
                if set.is_all() {
                    addrs.push((range, 0));
                    return;
                }
                for protocol in Protocol::ALL {
                    for r in set.ranges(protocol) {
                        boxes.push((range, protocol, *r, 0));
                    }
                }
            };
            // Members share every input of the chain; a pod reaching itself passes
            // in the base chain, and `direction_connections` judges a member's own
            // address as any peer's. One evaluation per class of segments.
            let segments = self.segments(family, engine);
            let sets = engine
                .direction_connections_many(direction, &members[0].key(), &segments.representatives)
                .unwrap_or_else(|_| vec![PortSet::none(); segments.representatives.len()]);
            for &Segment { first: lo, last: hi, class } in &segments.list {
                let set = sets[class].clone();
                match &mut last {
                    Some((_, end, prev)) if *prev == set && *end + 1 == lo => *end = hi,
                    _ => {
                        flush(last.take());
                        last = Some((lo, hi, set));
                    }
                }
            }
            flush(last.take());
            everywhere &= addrs.len() == 1 && addrs[0].0 == everything(family);
            if !addrs.is_empty() {
                let items = addrs.into_iter().map(|(r, _)| (Element::Addr(r), label.clone())).collect();
                let set = self.add_set(identifier(&[name, family.suffix(), "any"]), SetKey::Addr(family), items);
                rules.push(ChainRule {
                    matches: vec![Match::AddrIn { field, family, set }],
                    action: Action::Verdict(NftVerdict::Accept),
                    comment: "a peer on any port, after every tier".to_string(),
                });
            }
            if !boxes.is_empty() {
                let items = boxes
                    .into_iter()
                    .map(|(r, p, ports, _)| (Element::AddrProtoPort(r, p, ports), label.clone()))
                    .collect();
                let set = self.add_set(identifier(&[name, family.suffix()]), SetKey::AddrProtoPort(family), items);
                rules.push(ChainRule {
                    matches: vec![Match::AddrProtoPortIn { field, family, set }],
                    action: Action::Verdict(NftVerdict::Accept),
                    comment: "a peer on a port, after every tier".to_string(),
                });
            }
        }
        if everywhere {
            rules = vec![ChainRule {
                matches: Vec::new(),
                action: Action::Verdict(NftVerdict::Accept),
                comment: label.clone(),
            }];
        }
        rules.push(ChainRule {
            matches: Vec::new(),
            action: Action::Verdict(NftVerdict::Drop),
            comment: comment(&format!("{}: the ordered policies allow nothing else", direction.rules_key())),
        });
        Chain { name: name.to_string(), base: None, rules }
    }
}

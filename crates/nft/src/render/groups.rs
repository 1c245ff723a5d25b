//! Subject groups: what the rules of the policies selecting a group allow,
//! as disjoint set elements, and the group's chain.

use std::collections::BTreeMap;
use std::net::IpAddr;

use netpol_model::{Direction, NetworkPolicy, Peer, Pod, PolicyPort, PortRange, PortRef, Protocol};

use super::{Renderer, IPBLOCK_MATCHES_PODS};
use crate::ir::{Action, AddrRange, Chain, ChainRule, Element, Family, Field, Match, NftVerdict, SetKey, EVERY_PORT};
use crate::name::{comment, identifier};
use crate::union::{disjoint_boxes, disjoint_ranges};

/// The field holding the *peer* address of a rule, and the one holding the subject.
pub(super) fn peer_field(direction: Direction) -> Field {
    match direction {
        Direction::Ingress => Field::Saddr,
        Direction::Egress => Field::Daddr,
    }
}

/// The whole address range of a family (`0.0.0.0/0`, `::/0`).
pub(super) fn everything(family: Family) -> AddrRange {
    match family {
        Family::V4 => AddrRange { start: IpAddr::from([0u8; 4]), end: IpAddr::from([255u8; 4]) },
        Family::V6 => AddrRange { start: IpAddr::from([0u8; 16]), end: IpAddr::from([255u8; 16]) },
    }
}

/// What the rules of a subject group allow, before it becomes sets.
#[derive(Default)]
pub(super) struct Allowed {
    /// `ns/policy ingress[i] peer[j] port[k]`, indexed by label (rule order).
    labels: Vec<String>,
    /// Labels of rules with neither peers nor ports: everything is allowed.
    anything: Vec<usize>,
    /// Peers with no ports: (peer range, label), by family.
    addrs: BTreeMap<Family, Vec<(AddrRange, usize)>>,
    /// (peer range, protocol, port range, label), by family.
    boxes: BTreeMap<Family, Vec<(AddrRange, Protocol, PortRange, usize)>>,
}

/// The pods of one node (or all) that share a subject key for a direction:
/// the same selecting policies and, for ingress, the same numbers for every
/// named port those policies use. One chain and one set lookup per family serve them all.
pub(super) struct Group<'a> {
    pub(super) direction: Direction,
    pub(super) policies: Vec<&'a NetworkPolicy>,
    /// A member: named ports resolve against it (ingress).
    pub(super) representative: &'a Pod,
}

impl<'a> Renderer<'a> {
    /// Everything the policies of `group` allow, labelled by rule.
    pub(super) fn allowed(&mut self, group: &Group<'a>) -> Allowed {
        let direction = group.direction;
        let subject = group.representative;
        let mut out = Allowed::default();
        for &family in &Family::ALL {
            out.addrs.entry(family).or_default();
            out.boxes.entry(family).or_default();
        }
        for policy in &group.policies {
            for (i, rule) in policy.rules(direction).iter().enumerate() {
                let peers: Vec<Option<(usize, &Peer)>> =
                    if rule.peers.is_empty() { vec![None] } else { rule.peers.iter().enumerate().map(Some).collect() };
                let ports: Vec<Option<(usize, &PolicyPort)>> =
                    if rule.ports.is_empty() { vec![None] } else { rule.ports.iter().enumerate().map(Some).collect() };
                for peer in &peers {
                    let peer_pods = match peer {
                        Some((j, pe)) => self.cached_peer_pods(policy, direction, i, *j, pe),
                        None => Vec::new(),
                    };
                    for port in &ports {
                        let label = out.labels.len();
                        out.labels.push(comment(&format!(
                            "{}/{} {}[{i}] peer[{}] port[{}]",
                            policy.namespace,
                            policy.name,
                            direction.rules_key(),
                            peer.map_or("*".to_string(), |(j, _)| j.to_string()),
                            port.map_or("*".to_string(), |(k, _)| k.to_string()),
                        )));
                        self.allow(
                            &mut out,
                            direction,
                            subject,
                            peer.map(|(_, p)| (p, peer_pods.as_slice())),
                            port.map(|(_, p)| p),
                            label,
                        );
                    }
                }
            }
        }
        out
    }

    /// Adds what one (rule, peer, port) allows to `out`.
    pub(super) fn allow(
        &mut self,
        out: &mut Allowed,
        direction: Direction,
        subject: &Pod,
        peer: Option<(&Peer, &[&'a Pod])>,
        port: Option<&PolicyPort>,
        label: usize,
    ) {
        let families = peer.map_or(Family::ALL.to_vec(), |(pe, _)| Self::peer_families(pe));
        for family in families {
            let ranges = match peer {
                Some((pe, pods)) => Self::peer_ranges(pe, pods, family),
                None => vec![everything(family)],
            };
            let Some(pp) = port else {
                if peer.is_none() {
                    out.anything.push(label);
                } else {
                    out.addrs.entry(family).or_default().extend(ranges.into_iter().map(|r| (r, label)));
                }
                continue;
            };
            let boxes = out.boxes.entry(family).or_default();
            match (&pp.port, direction) {
                (Some(PortRef::Name(name)), Direction::Ingress) => {
                    // The destination is the subject: every number it declares for the name.
                    for n in subject.named_ports(name, pp.protocol) {
                        boxes.extend(ranges.iter().map(|r| (*r, pp.protocol, PortRange::single(n), label)));
                    }
                }
                (Some(PortRef::Name(name)), Direction::Egress) => {
                    // The destination is the peer: each peer pod's own numbers.
                    let targets = match peer {
                        None => {
                            let pods = &self.pods;
                            self.named_everywhere
                                .entry((name.clone(), pp.protocol, family))
                                .or_insert_with(|| Self::named_port_targets(pods, name, pp.protocol, family))
                                .clone()
                        }
                        Some((Peer::Pods { .. }, pods)) => Self::named_port_targets(pods, name, pp.protocol, family),
                        Some((Peer::IpBlock(block), _)) => {
                            let inside: Vec<&Pod> = self
                                .pods
                                .iter()
                                .copied()
                                .filter(|p| p.ips.iter().any(|ip| block.matches_addr(*ip, true, IPBLOCK_MATCHES_PODS)))
                                .collect();
                            let mut targets = Self::named_port_targets(&inside, name, pp.protocol, family);
                            targets.retain(|(r, _)| block.matches_addr(r.start, true, IPBLOCK_MATCHES_PODS));
                            targets
                        }
                    };
                    boxes.extend(targets.into_iter().map(|(r, ports)| (r, pp.protocol, ports, label)));
                }
                _ => {
                    let range = Self::port_range(pp).unwrap_or(EVERY_PORT);
                    boxes.extend(ranges.iter().map(|r| (*r, pp.protocol, range, label)));
                }
            }
        }
    }

    /// Whether a rule of `policy` for `direction` can put elements of each kind
    /// in a family's sets: (peers without ports, peers with ports). Depends on
    /// the policies only, so pod churn never adds or removes a set.
    pub(super) fn set_kinds(policies: &[&NetworkPolicy], direction: Direction, family: Family) -> (bool, bool) {
        let mut kinds = (false, false);
        for policy in policies {
            for rule in policy.rules(direction) {
                let family_ok =
                    rule.peers.is_empty() || rule.peers.iter().any(|p| Self::peer_families(p).contains(&family));
                if !family_ok {
                    continue;
                }
                if rule.ports.is_empty() {
                    kinds.0 |= !rule.peers.is_empty();
                } else {
                    kinds.1 = true;
                }
            }
        }
        kinds
    }

    /// The chain (and sets) of one subject group.
    pub(super) fn group_chain(&mut self, name: &str, group: &Group<'a>) -> Chain {
        let direction = group.direction;
        let allowed = self.allowed(group);
        let mut rules = Vec::new();
        let accept = |matches: Vec<Match>, text: String| ChainRule {
            matches,
            action: Action::Verdict(NftVerdict::Accept),
            comment: text,
        };
        if let Some(&label) = allowed.anything.first() {
            rules.push(accept(Vec::new(), allowed.labels[label].clone()));
        } else {
            let field = peer_field(direction);
            for family in Family::ALL {
                let (addrs, boxes) = Self::set_kinds(&group.policies, direction, family);
                if addrs {
                    let items = disjoint_ranges(&allowed.addrs[&family])
                        .into_iter()
                        .map(|(r, l)| (Element::Addr(r), allowed.labels[l].clone()))
                        .collect();
                    let set = self.add_set(identifier(&[name, family.suffix(), "any"]), SetKey::Addr(family), items);
                    rules.push(accept(
                        vec![Match::AddrIn { field, family, set }],
                        "a peer on any port (the element names the rule)".to_string(),
                    ));
                }
                if boxes {
                    let items = disjoint_boxes(&allowed.boxes[&family])
                        .into_iter()
                        .map(|(r, p, ports, l)| (Element::AddrProtoPort(r, p, ports), allowed.labels[l].clone()))
                        .collect();
                    let set = self.add_set(identifier(&[name, family.suffix()]), SetKey::AddrProtoPort(family), items);
                    rules.push(accept(
                        vec![Match::AddrProtoPortIn { field, family, set }],
                        "a peer on a port (the element names the rule)".to_string(),
                    ));
                }
            }
        }
        let names: Vec<String> = group.policies.iter().map(|p| p.key()).collect();
        rules.push(ChainRule {
            matches: Vec::new(),
            action: Action::Verdict(NftVerdict::Drop),
            comment: comment(&format!("{} isolated by {}: no rule allowed", direction.rules_key(), names.join(","))),
        });
        Chain { name: name.to_string(), base: None, rules }
    }
}

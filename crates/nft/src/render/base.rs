//! Base chains and dispatch maps: every known pod address, the verdict maps
//! sending this node's isolated pods to their group chains, the pod-CIDR
//! fail-closed sets, and the `hook/…` chains.

use std::net::IpAddr;
use std::sync::Arc;

use netpol_model::{Direction, Pod};

use super::Renderer;
use crate::cache::Endpoints;
use crate::ir::{
    Action, AddrRange, BaseHook, Chain, ChainRule, CtState, Element, Family, Field, Hook, Map, MapEntry, Match,
    NftVerdict, Set, SetKey,
};
use crate::name::{comment, identifier};
use crate::range::merge;
use crate::select::Selection;

pub(super) fn subject_field(direction: Direction) -> Field {
    match direction {
        Direction::Ingress => Field::Daddr,
        Direction::Egress => Field::Saddr,
    }
}

pub(crate) fn dispatch_map_name(direction: Direction, family: Family) -> String {
    identifier(&["dispatch", direction.rules_key(), family.suffix()])
}

/// `ns/name`, the comment of a pod's elements.
pub(super) fn pod_comment(pod: &Pod) -> String {
    let mut text = String::with_capacity(pod.namespace.len() + pod.name.len() + 1);
    text.push_str(&pod.namespace);
    text.push('/');
    text.push_str(&pod.name);
    // Kubernetes names need no cleaning; lenient input might.
    if text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
        text
    } else {
        comment(&text)
    }
}

/// The set of every known pod address of a family (`pods/v4`).
pub(super) fn known_set_name(family: Family) -> String {
    identifier(&["pods", family.suffix()])
}

impl Renderer<'_> {
    /// Every known pod address with its owner, and the `pods/FAMILY` sets
    /// (each element commented with its pod), which pass the fail-closed check
    /// of the pod CIDRs. Depends on the pods alone.
    pub(super) fn endpoints(&self) -> Endpoints {
        // Every address once, sorted; the first pod (in key order) owns an address two pods claim.
        let mut owners: Vec<(IpAddr, &Pod)> =
            self.pods.iter().flat_map(|p| p.ips.iter().map(move |ip| (*ip, *p))).collect();
        owners.sort_by_key(|(ip, _)| *ip);
        let mut warnings = Vec::new();
        owners.dedup_by(|later, first| {
            let same = later.0 == first.0;
            if same && !std::ptr::eq(later.1, first.1) {
                let (ip, a, b) = (first.0, first.1.key(), later.1.key());
                warnings.push(format!("{ip} belongs to {a} and {b}: {a} is used"));
            }
            same
        });
        let known = Family::ALL
            .iter()
            .map(|&family| {
                let (elements, comments) = owners
                    .iter()
                    .filter(|(ip, _)| Family::of(*ip) == family)
                    .map(|(ip, pod)| (Element::Addr(AddrRange::single(*ip)), pod_comment(pod)))
                    .unzip();
                Arc::new(Set { name: known_set_name(family), key: SetKey::Host(family), elements, comments })
            })
            .collect();
        let mut known: Vec<Arc<Set>> = known;
        for family in Family::ALL {
            let mut pairs: Vec<Element> = self
                .local
                .iter()
                .flat_map(|p| p.ips.iter())
                .filter(|ip| Family::of(**ip) == family)
                .map(|ip| Element::AddrPair(*ip, *ip))
                .collect();
            pairs.sort();
            pairs.dedup();
            let name = identifier(&["self", family.suffix()]);
            known.push(Arc::new(Set { name, key: SetKey::AddrPair(family), elements: pairs, comments: Vec::new() }));
        }
        Endpoints { owners: owners.into_iter().map(|(ip, pod)| (ip, pod.key())).collect(), known, warnings }
    }

    /// One verdict map per direction and family: the addresses of this node's
    /// pods isolated for the direction, to their group chain. The maps stay as
    /// small as the node's isolated pods, whatever the size of the cluster;
    /// every other known pod passes through `pods/FAMILY`.
    pub(super) fn dispatch_maps(&self, selection: &Selection, endpoints: &Endpoints) -> Vec<Arc<Map>> {
        let owns = |pod: &Pod, ip: &IpAddr| {
            endpoints.owner(*ip).is_some_and(|o| o.namespace == pod.namespace && o.name == pod.name)
        };
        let mut maps = Vec::new();
        for direction in Direction::ALL {
            for family in Family::ALL {
                let mut entries: Vec<MapEntry> = selection
                    .chain_of
                    .iter()
                    .filter(|(_, d, _)| *d == direction)
                    .flat_map(|(at, _, chain)| {
                        let pod = self.local[*at];
                        pod.ips.iter().filter(move |ip| Family::of(**ip) == family && owns(pod, ip)).map(move |ip| {
                            MapEntry { addr: *ip, verdict: NftVerdict::Jump(chain.clone()), pod: pod.key() }
                        })
                    })
                    .collect();
                // One entry per address, even for a pod that lists an address twice
                // (built without the loader): the difference relies on it.
                entries.sort_by_key(|e| e.addr);
                entries.dedup_by_key(|e| e.addr);
                maps.push(Arc::new(Map { name: dispatch_map_name(direction, family), family, entries }));
            }
        }
        maps.sort_by(|a, b| a.name.cmp(&b.name));
        maps
    }

    /// Adds the known-pod sets and the address warnings.
    pub(super) fn use_endpoints(&mut self, endpoints: &Endpoints) {
        for set in &endpoints.known {
            self.sets.insert(set.name.clone(), Arc::clone(set));
        }
        self.warnings.extend(endpoints.warnings.iter().cloned());
    }

    /// `unknown/FAMILY` (pod CIDRs). (`self/FAMILY`, a local pod reaching
    /// itself, depends on the pods: see [`Self::endpoints`].)
    pub(super) fn fixed_sets(&mut self) {
        for family in Family::ALL {
            let cidrs = merge(
                self.options
                    .pod_cidrs
                    .iter()
                    .map(|n| n.trunc())
                    .filter(|n| Family::of(n.addr()) == family)
                    .map(|n| AddrRange { start: n.network(), end: n.broadcast() })
                    .collect(),
            );
            self.add_plain_set(
                identifier(&["unknown", family.suffix()]),
                SetKey::Addr(family),
                cidrs.into_iter().map(Element::Addr).collect(),
            );
        }
    }

    pub(super) fn base_chains(&mut self) {
        let mut hooks = vec![(Hook::Forward, Direction::Egress), (Hook::Forward, Direction::Ingress)];
        if self.options.filter_to_node {
            hooks.push((Hook::Input, Direction::Egress));
        }
        for (hook, direction) in hooks {
            let rule = |matches: Vec<Match>, verdict: NftVerdict, text: &str| ChainRule {
                matches,
                action: Action::Verdict(verdict),
                comment: text.to_string(),
            };
            let mut rules = vec![rule(
                vec![Match::CtState(vec![CtState::Established, CtState::Related])],
                NftVerdict::Accept,
                "established or related: replies and admitted connections",
            )];
            if hook == Hook::Forward {
                rules.push(rule(
                    vec![Match::CtState(vec![CtState::Invalid])],
                    NftVerdict::Drop,
                    "invalid connection state",
                ));
                // Routed pod traffic only: the input hook also sees the node's own
                // connections, whose behaviour is not ours to change.
                rules.push(rule(
                    vec![Match::CtState(vec![CtState::New]), Match::TcpWithoutSyn],
                    NftVerdict::Drop,
                    "new TCP connection without SYN: no mid-stream pickup (keeps --reset-denied connections dead)",
                ));
            }
            rules.push(rule(vec![Match::Icmpv6Nd], NftVerdict::Accept, "ICMPv6 neighbour discovery"));
            let field = subject_field(direction);
            for family in Family::ALL {
                if hook == Hook::Forward {
                    rules.push(rule(
                        vec![Match::AddrPairIn { family, set: identifier(&["self", family.suffix()]) }],
                        NftVerdict::Accept,
                        "a pod reaching itself",
                    ));
                }
                rules.push(ChainRule {
                    matches: Vec::new(),
                    action: Action::Dispatch { field, family, map: dispatch_map_name(direction, family) },
                    comment: format!("{} dispatch by pod address", direction.rules_key()),
                });
            }
            for family in Family::ALL {
                rules.push(rule(
                    vec![Match::AddrIn { field, family, set: known_set_name(family) }],
                    NftVerdict::Accept,
                    "a known pod, not isolated here",
                ));
            }
            for family in Family::ALL {
                rules.push(rule(
                    vec![Match::AddrIn { field, family, set: identifier(&["unknown", family.suffix()]) }],
                    NftVerdict::Drop,
                    "unknown address in a pod CIDR (fail closed)",
                ));
            }
            let priority = if direction == Direction::Egress { -1 } else { 0 };
            self.chains.push(Chain {
                name: identifier(&["hook", hook.as_str(), direction.rules_key()]),
                base: Some(BaseHook { hook, priority }),
                rules,
            });
        }
    }
}

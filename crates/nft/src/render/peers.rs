//! The peers of a rule: the pods a `from`/`to` peer matches (by the model's
//! selection predicate) and the address and port ranges they stand for.

use netpol_model::{Direction, NetworkPolicy, Peer, Pod, PodView, PolicyPort, PortRange, PortRef, Protocol};

use super::Renderer;
use crate::ir::{AddrRange, Family, EVERY_PORT};
use crate::range::{ipblock_ranges, merge};

impl<'a> Renderer<'a> {
    /// Pods (with or without addresses) a `Pods` peer of `policy` matches.
    pub(super) fn peer_pods(&self, policy: &NetworkPolicy, peer: &Peer) -> Vec<&'a Pod> {
        let Some(selection) = peer.selection(&policy.namespace) else { return Vec::new() };
        let namespaces: Vec<&str> = match selection.namespace() {
            Some(ns) => vec![ns],
            None => self
                .namespace_labels
                .iter()
                .filter(|(ns, l)| selection.matches_namespace(ns, l))
                .map(|(ns, _)| *ns)
                .collect(),
        };
        namespaces
            .into_iter()
            .filter_map(|ns| self.by_namespace.get(ns))
            .flatten()
            .copied()
            .filter(|pod| selection.matches_pod(PodView::from(*pod)))
            .collect()
    }

    /// [`Self::peer_pods`], computed once per (policy, direction, rule, peer).
    pub(super) fn cached_peer_pods(
        &mut self,
        policy: &NetworkPolicy,
        direction: Direction,
        i: usize,
        j: usize,
        peer: &Peer,
    ) -> Vec<&'a Pod> {
        let key = (policy.key(), direction, i, j);
        if let Some(pods) = self.peer_cache.get(&key) {
            return pods.clone();
        }
        let pods = self.peer_pods(policy, peer);
        self.peer_cache.insert(key, pods.clone());
        pods
    }

    /// Address ranges of one family a peer matches (`pods`: what [`Self::peer_pods`] gave).
    pub(super) fn peer_ranges(peer: &Peer, pods: &[&Pod], family: Family) -> Vec<AddrRange> {
        match peer {
            Peer::IpBlock(block) => ipblock_ranges(block).into_iter().filter(|r| r.family() == family).collect(),
            Peer::Pods { .. } => merge(
                pods.iter()
                    .flat_map(|p| p.ips.iter().copied())
                    .filter(|ip| Family::of(*ip) == family)
                    .map(AddrRange::single)
                    .collect(),
            ),
        }
    }

    /// Families a peer can match: an ipBlock only its own.
    pub(super) fn peer_families(peer: &Peer) -> Vec<Family> {
        match peer {
            Peer::IpBlock(block) => vec![Family::of(block.cidr.addr())],
            Peer::Pods { .. } => Family::ALL.to_vec(),
        }
    }

    /// (address, port) for every number each of `pods` declares for the named port.
    pub(super) fn named_port_targets(
        pods: &[&Pod],
        name: &str,
        protocol: Protocol,
        family: Family,
    ) -> Vec<(AddrRange, PortRange)> {
        pods.iter()
            .flat_map(|pod| {
                pod.named_ports(name, protocol).flat_map(move |n| {
                    pod.ips
                        .iter()
                        .filter(move |ip| Family::of(**ip) == family)
                        .map(move |ip| (AddrRange::single(*ip), PortRange::single(n)))
                })
            })
            .collect()
    }

    pub(super) fn port_range(port: &PolicyPort) -> Option<PortRange> {
        match (&port.port, port.end_port) {
            (None, _) => Some(EVERY_PORT),
            (Some(PortRef::Number(n)), None) => Some(PortRange::single(*n)),
            (Some(PortRef::Number(n)), Some(end)) => Some(PortRange { start: *n, end: end.max(*n) }),
            (Some(PortRef::Name(_)), _) => None,
        }
    }
}

//! Ordered policies in the compiled form: the chain of tiers around
//! NetworkPolicy v1 (docs/semantics.md, "Ordered policies"), over classes.
//!
//! Classes already tell apart everything ordered policies read (their label
//! keys, port names, `networks`/`nets` ranges and, with `nodes` peers, the node
//! of each address: [`crate::classes::Context::add_tiered`]). Each ordered
//! policy becomes a subject bitset and, per rule, peer bitsets and a `local`
//! (Calico's subject-side entity) bitset. A peer's match can depend on which of
//! its addresses the flow uses, so peer and local bitsets come in three
//! variants: the class's first IP, its IPv4, its IPv6 (the engine's choice of
//! the flow's family: the destination's first IP's, else the source's).
//!
//! The chain is then port-set algebra per pair (`connections`) or bitset
//! algebra per row (`port_table`): what is still undecided, what is allowed,
//! what a Pass hands to the next tier, a tier's default at its end.
//!
//! The layer is built from the whole cluster ([`Compiled::build`]) and rebuilt
//! after every [`Compiled::apply`] (ordered policies themselves do not change
//! through `apply`).

use std::collections::HashMap;
use std::net::IpAddr;

use netpol_model::{
    Action, Cluster, Direction, Labels, PeerEnd, PortSet, Protocol, RuleProtocol, TierDefault, TieredEnd, TieredPolicy,
    TieredRule, DEFAULT_TIER, V1_POLICY_ORDER,
};

use crate::bitset::Bitset;
use crate::compile::{ClassId, Compiled};

/// Which address of a class a match was evaluated with.
#[derive(Clone, Copy)]
enum Variant {
    First = 0,
    V4 = 1,
    V6 = 2,
}

#[derive(Clone, Debug)]
struct LayerRule {
    action: Action,
    /// Classes the rule's peers match, per [`Variant`]; `None`: any peer.
    peers: Option<[Bitset; 3]>,
    /// Classes (as the subject) that meet the rule's `local` entity, per variant.
    local: Option<[Bitset; 3]>,
    rule: TieredRule,
}

#[derive(Clone, Debug)]
struct LayerPolicy {
    types: Vec<Direction>,
    subject: Bitset,
    ingress: Vec<LayerRule>,
    egress: Vec<LayerRule>,
}

#[derive(Clone, Debug)]
enum Entry {
    V1,
    Policy(LayerPolicy),
}

#[derive(Clone, Debug)]
struct LayerTier {
    default_deny: bool,
    entries: Vec<Entry>,
}

/// What the rows of one port table share ([`Compiled::row_context`]).
pub(crate) struct RowContext {
    /// Classes whose first IP is of no family, IPv4, IPv6: indexed like [`Variant`]
    /// (a destination's family picks the variant of the source's address).
    families: [Bitset; 3],
    /// Per rule (by address in the layer), the destination classes its ports admit.
    ports_ok: HashMap<*const LayerRule, Bitset>,
}

/// The ordered policies of a cluster, and what the layer needs to rebuild itself.
#[derive(Clone, Debug)]
pub(crate) struct TierLayer {
    source: Cluster,
    tiers: Vec<LayerTier>,
}

fn ip_of(ips: &[IpAddr], v: Variant) -> Option<IpAddr> {
    match v {
        Variant::First => ips.first().copied(),
        Variant::V4 => ips.iter().find(|ip| ip.is_ipv4()).copied(),
        Variant::V6 => ips.iter().find(|ip| ip.is_ipv6()).copied(),
    }
}

const VARIANTS: [Variant; 3] = [Variant::First, Variant::V4, Variant::V6];

impl Compiled {
    /// Builds (or rebuilds) the layer from the ordered policies of `source`.
    pub(crate) fn build_tiers(&mut self, source: Cluster) {
        let n = self.classes.len();
        let nodes: HashMap<&str, &Labels> = source.nodes.iter().map(|nd| (nd.name.as_str(), &nd.labels)).collect();
        let live: Vec<ClassId> = self.live_classes().collect();
        let ns_labels: HashMap<ClassId, Labels> =
            live.iter().map(|&c| (c, self.namespace_labels(&self.class(c).key.namespace))).collect();
        // The node whose address class `c` uses with variant `v`.
        let node_of = |c: ClassId, v: Variant| -> Option<&Labels> {
            let class = self.class(c);
            let names = &class.key.nodes;
            if let Some(Some(own)) = names.first() {
                return nodes.get(own.as_str()).copied();
            }
            let ip = ip_of(&class.ips, v)?;
            let i = class.ips.iter().position(|x| *x == ip)?;
            names.get(1 + i).and_then(|n| n.as_deref()).and_then(|n| nodes.get(n).copied())
        };
        let end = |c: ClassId, v: Variant| -> TieredEnd<'_> {
            let class = self.class(c);
            TieredEnd { end: PeerEnd::pod(class.view(), &ns_labels[&c], ip_of(&class.ips, v)), node: node_of(c, v) }
        };
        let bits = |pred: &dyn Fn(ClassId) -> bool| {
            let mut b = Bitset::with_len(n);
            for &c in &live {
                b.set(c, pred(c));
            }
            b
        };
        let rules = |p: &TieredPolicy, d: Direction| -> Vec<LayerRule> {
            p.rules(d)
                .iter()
                .map(|r| LayerRule {
                    action: r.action,
                    peers: (!r.peers.is_empty())
                        .then(|| VARIANTS.map(|v| bits(&|c| r.peers.iter().any(|peer| peer.matches(&end(c, v)))))),
                    local: r.local.as_ref().map(|l| VARIANTS.map(|v| bits(&|c| l.matches(&end(c, v).end)))),
                    rule: r.clone(),
                })
                .collect()
        };
        let mut tiers = Vec::new();
        for tier in source.ordered_tiers() {
            let mut policies: Vec<&TieredPolicy> = source.tiered.iter().filter(|p| p.tier == tier.name).collect();
            policies.sort_by(|a, b| netpol_model::compare_order((a.order, &a.name), (b.order, &b.name)));
            let mut entries = Vec::new();
            let mut v1_placed = tier.name != DEFAULT_TIER;
            for p in policies {
                if !v1_placed && p.order.is_none_or(|o| o >= V1_POLICY_ORDER) {
                    entries.push(Entry::V1);
                    v1_placed = true;
                }
                entries.push(Entry::Policy(LayerPolicy {
                    types: p.types.clone(),
                    subject: bits(&|c| p.subject.selects(self.class(c).view(), &ns_labels[&c])),
                    ingress: rules(p, Direction::Ingress),
                    egress: rules(p, Direction::Egress),
                }));
            }
            if !v1_placed {
                entries.push(Entry::V1);
            }
            tiers.push(LayerTier { default_deny: tier.default_action == TierDefault::Deny, entries });
        }
        self.tiers = Some(Box::new(TierLayer { source, tiers }));
    }

    /// Rebuilds the layer over the current classes (after a change).
    pub(crate) fn rebuild_tiers(&mut self) {
        if let Some(layer) = self.tiers.take() {
            self.build_tiers(layer.source);
        }
    }

    /// The address variant of the source of a flow towards class `d`: the IP of
    /// `d`'s family, or, when `d` has no IP, the source's first. (The
    /// destination always uses its first IP.)
    fn source_variant(&self, d: ClassId) -> Variant {
        match self.class(d).key.first_family {
            Some(4) => Variant::V4,
            Some(_) => Variant::V6,
            None => Variant::First,
        }
    }

    /// Every (protocol, port) towards destination class `dst` that `rule`'s port fields admit.
    fn tiered_rule_ports(&self, rule: &TieredRule, dst: ClassId) -> PortSet {
        let mut set = match &rule.protocol {
            None => PortSet::all(),
            Some(RuleProtocol::Is(p)) => PortSet::all_of(*p),
            Some(RuleProtocol::Other(_)) => PortSet::none(),
        };
        if !rule.ports.is_empty() {
            set = set.intersection(&self.ports_on(&rule.ports, dst));
        }
        if !rule.not_ports.is_empty() {
            set = set.difference(&self.ports_on(&rule.not_ports, dst));
        }
        if let Some(RuleProtocol::Is(p)) = &rule.not_protocol {
            set = set.difference(&PortSet::all_of(*p));
        }
        set
    }

    /// The chain for one direction between classes `s` (source) and `d`
    /// (destination), over the whole port space.
    pub(crate) fn tiered_direction_connections(&self, direction: Direction, s: ClassId, d: ClassId) -> PortSet {
        let layer = self.tiers.as_ref().expect("the caller checked the layer");
        let (subject, peer) = match direction {
            Direction::Egress => (s, d),
            Direction::Ingress => (d, s),
        };
        let (vs, vd) = (self.source_variant(d), Variant::First);
        let (v_peer, v_local) = match direction {
            Direction::Egress => (vd, vs),
            Direction::Ingress => (vs, vd),
        };
        let mut undecided = PortSet::all();
        let mut allowed = PortSet::none();
        for tier in &layer.tiers {
            let mut applied = false;
            let mut passed = PortSet::none();
            for entry in &tier.entries {
                match entry {
                    Entry::V1 => {
                        if self.is_isolated(direction, subject) {
                            applied = true;
                            let v1 = self.v1_direction_connections(direction, s, d);
                            allowed.union_with(&v1.intersection(&undecided));
                            undecided = undecided.difference(&v1);
                        }
                    }
                    Entry::Policy(p) => {
                        if !p.types.contains(&direction) || !p.subject.contains(subject) {
                            continue;
                        }
                        applied = true;
                        let rules = if direction == Direction::Ingress { &p.ingress } else { &p.egress };
                        for r in rules {
                            if r.action == Action::Log
                                || r.peers.as_ref().is_some_and(|b| !b[v_peer as usize].contains(peer))
                                || r.local.as_ref().is_some_and(|b| !b[v_local as usize].contains(subject))
                            {
                                continue;
                            }
                            let hit = self.tiered_rule_ports(&r.rule, d).intersection(&undecided);
                            undecided = undecided.difference(&hit);
                            match r.action {
                                Action::Allow => allowed.union_with(&hit),
                                Action::Pass => passed.union_with(&hit),
                                Action::Deny | Action::Log => {}
                            }
                        }
                    }
                }
            }
            if applied && tier.default_deny {
                undecided = PortSet::none();
            }
            undecided.union_with(&passed);
        }
        allowed.union(&undecided)
    }

    /// What every row of one port table shares: the classes of each first-IP
    /// family, and per rule the destination classes its ports admit.
    pub(crate) fn row_context(&self, protocol: Protocol, port: u16) -> RowContext {
        let layer = self.tiers.as_ref().expect("the caller checked the layer");
        let n = self.classes.len();
        let live: Vec<ClassId> = self.live_classes().collect();
        let by_family = |f: Option<u8>| {
            let mut b = Bitset::with_len(n);
            for &c in &live {
                b.set(c, self.class(c).key.first_family == f);
            }
            b
        };
        let families = [by_family(None), by_family(Some(4)), by_family(Some(6))];
        let mut ports_ok = HashMap::new();
        for tier in &layer.tiers {
            for entry in &tier.entries {
                let Entry::Policy(p) = entry else { continue };
                for r in p.ingress.iter().chain(&p.egress) {
                    let mut b = Bitset::with_len(n);
                    for &c in &live {
                        b.set(c, self.tiered_rule_ports(&r.rule, c).contains(protocol, port));
                    }
                    ports_ok.insert(r as *const LayerRule, b);
                }
            }
        }
        RowContext { families, ports_ok }
    }

    /// One row of a port table through the chain: for egress, the destination
    /// classes `x` may send to; for ingress, the source classes that may send to `x`.
    pub(crate) fn tiered_row(&self, direction: Direction, x: ClassId, v1_row: &Bitset, ctx: &RowContext) -> Bitset {
        let layer = self.tiers.as_ref().expect("the caller checked the layer");
        let n = self.classes.len();
        let mut undecided = Bitset::full(n);
        let mut allowed = Bitset::with_len(n);
        for tier in &layer.tiers {
            let mut applied = false;
            let mut passed = Bitset::with_len(n);
            for entry in &tier.entries {
                match entry {
                    Entry::V1 => {
                        if self.is_isolated(direction, x) {
                            applied = true;
                            allowed.union_with_and(v1_row, &undecided);
                            undecided.difference_with(v1_row);
                        }
                    }
                    Entry::Policy(p) => {
                        if !p.types.contains(&direction) || !p.subject.contains(x) {
                            continue;
                        }
                        applied = true;
                        let rules = if direction == Direction::Ingress { &p.ingress } else { &p.egress };
                        for r in rules {
                            if r.action == Action::Log {
                                continue;
                            }
                            let mut hit = undecided.clone();
                            match direction {
                                Direction::Egress => {
                                    // Peers: destinations, with their first IP. Local: x, with the
                                    // address of each destination's family. Ports: per destination.
                                    if let Some(b) = &r.peers {
                                        hit.intersect_with(&b[Variant::First as usize]);
                                    }
                                    if let Some(l) = &r.local {
                                        let mut ok = Bitset::with_len(n);
                                        for v in VARIANTS {
                                            if l[v as usize].contains(x) {
                                                ok.union_with(&ctx.families[v as usize]);
                                            }
                                        }
                                        hit.intersect_with(&ok);
                                    }
                                    hit.intersect_with(&ctx.ports_ok[&(r as *const LayerRule)]);
                                }
                                Direction::Ingress => {
                                    let v_peer = self.source_variant(x);
                                    if let Some(b) = &r.peers {
                                        hit.intersect_with(&b[v_peer as usize]);
                                    }
                                    let local_ok =
                                        r.local.as_ref().is_none_or(|l| l[Variant::First as usize].contains(x));
                                    if !local_ok || !ctx.ports_ok[&(r as *const LayerRule)].contains(x) {
                                        continue;
                                    }
                                }
                            }
                            undecided.difference_with(&hit);
                            match r.action {
                                Action::Allow => allowed.union_with(&hit),
                                Action::Pass => passed.union_with(&hit),
                                Action::Deny | Action::Log => {}
                            }
                        }
                    }
                }
            }
            if applied && tier.default_deny {
                undecided = Bitset::with_len(n);
            }
            undecided.union_with(&passed);
        }
        allowed.union_with(&undecided);
        allowed
    }
}

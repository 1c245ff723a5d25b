//! Queries on a [`Compiled`]: one pair, one (protocol, port) for all pairs (a
//! [`PortTable`]), and the set of allowed connections of a pair over the whole
//! port space. ("Probe" is the lab's word for real packets; a computed
//! all-pairs answer for one port is a table.)
//!
//! A connection from `src` to `dst` needs egress allowed at `src` and ingress
//! allowed at `dst`; a pod reaching itself is always allowed. Direction by
//! direction: a class no policy isolates allows everything; an isolated class
//! allows the union of its policies' rules (peer matches, and port matches
//! with named ports resolved on the destination).

use std::collections::HashMap;

use netpol_model::{Direction, Pod, PolicyPort, PortRange, PortRef, PortSet, Protocol, WorkloadKind, MIN_PORT};

use crate::bitset::{BitMatrix, Bitset};
use crate::compile::{ClassId, Compiled, CompiledRule, PodId};

/// All-pairs verdicts for one (protocol, port), class by class: one truth table.
#[derive(Clone, Debug)]
pub struct PortTable {
    pub protocol: Protocol,
    pub port: u16,
    /// `allowed.get(s, d)`: pods of class `s` reach (distinct) pods of class `d`.
    allowed: BitMatrix,
}

impl PortTable {
    /// Whether pods of class `src` reach pods of class `dst` (distinct pods).
    pub fn class_allowed(&self, src: usize, dst: usize) -> bool {
        src < self.allowed.size() && dst < self.allowed.size() && self.allowed.get(src, dst)
    }
}

impl Compiled {
    /// One flow between two pods. A pod reaching itself is always allowed (a
    /// workload endpoint stands for its pods: to itself is one replica to
    /// another); so is a hostNetwork pod reaching a pod on its own node.
    /// `false` when either id is unknown or `port` is 0 (not a destination port).
    pub fn allowed(&self, src: PodId, dst: PodId, protocol: Protocol, port: u16) -> bool {
        let (Some(s), Some(d)) = (self.class_of(src), self.class_of(dst)) else { return false };
        if port < MIN_PORT {
            return false;
        }
        if self.always_allowed(src, dst) {
            return true;
        }
        self.direction_allows(Direction::Egress, s, d, protocol, port)
            && self.direction_allows(Direction::Ingress, s, d, protocol, port)
    }

    /// Every allowed (protocol, port) from `src` to `dst`, over the whole port space.
    pub fn connections(&self, src: PodId, dst: PodId) -> PortSet {
        let (Some(s), Some(d)) = (self.class_of(src), self.class_of(dst)) else { return PortSet::none() };
        if self.always_allowed(src, dst) {
            return PortSet::all();
        }
        self.class_connections(s, d)
    }

    /// [`Compiled::connections`] for every ordered pair of `pods` (`grid[i][j]`
    /// from `pods[i]` to `pods[j]`), each pair of classes computed once.
    pub fn connections_grid(&self, pods: &[PodId]) -> Vec<Vec<PortSet>> {
        let classes: Vec<Option<ClassId>> = pods.iter().map(|&p| self.class_of(p)).collect();
        let mut cache: HashMap<(ClassId, ClassId), PortSet> = HashMap::new();
        let mut cell = |i: usize, j: usize| -> PortSet {
            let (Some(s), Some(d)) = (classes[i], classes[j]) else { return PortSet::none() };
            // The pod-level exceptions are not a property of the classes: never cached.
            if self.always_allowed(pods[i], pods[j]) {
                return PortSet::all();
            }
            cache.entry((s, d)).or_insert_with(|| self.class_connections(s, d)).clone()
        };
        (0..pods.len()).map(|i| (0..pods.len()).map(|j| cell(i, j)).collect()).collect()
    }

    /// The verdict of `table` (from [`Compiled::port_table`]) for one pair of pods,
    /// with the pod-level exceptions of [`Compiled::allowed`].
    pub fn allowed_in(&self, table: &PortTable, src: PodId, dst: PodId) -> bool {
        let (Some(s), Some(d)) = (self.class_of(src), self.class_of(dst)) else { return false };
        self.always_allowed(src, dst) || table.class_allowed(s, d)
    }

    /// Pairs no policy can deny: a pod and itself, and a hostNetwork pod (node
    /// traffic) towards a pod on its own node.
    pub fn always_allowed(&self, src: PodId, dst: PodId) -> bool {
        let (Some(a), Some(b)) = (self.pod(src), self.pod(dst)) else { return false };
        if src == dst {
            return a.kind == WorkloadKind::Pod;
        }
        from_own_node(a, b)
    }

    /// Allowed connections between distinct pods of classes `s` and `d`.
    pub fn class_connections(&self, s: usize, d: usize) -> PortSet {
        let egress = self.direction_connections(Direction::Egress, s, d);
        if egress.is_empty() {
            return egress;
        }
        egress.intersection(&self.direction_connections(Direction::Ingress, s, d))
    }

    /// The verdict of every pair of classes for one (protocol, port).
    pub fn port_table(&self, protocol: Protocol, port: u16) -> PortTable {
        let n = self.classes.len();
        let mut named: HashMap<&str, Bitset> = HashMap::new();
        let ctx = self.tiers.as_ref().map(|_| self.row_context(protocol, port));
        let mut egress = Vec::with_capacity(n);
        let mut ingress = Vec::with_capacity(n);
        for c in 0..n {
            if self.classes[c].is_none() {
                egress.push(Bitset::with_len(n));
                ingress.push(Bitset::with_len(n));
                continue;
            }
            let (e, i) = (self.egress_row(c, protocol, port, &mut named), self.ingress_row(c, protocol, port));
            if let Some(ctx) = &ctx {
                egress.push(self.tiered_row(Direction::Egress, c, &e, ctx));
                ingress.push(self.tiered_row(Direction::Ingress, c, &i, ctx));
                continue;
            }
            egress.push(e);
            ingress.push(i);
        }
        let egress = BitMatrix::from_rows(n, egress);
        let ingress = BitMatrix::from_rows(n, ingress).transpose();
        PortTable { protocol, port, allowed: egress.and(&ingress) }
    }

    /// Ordered pairs of distinct pods allowed by `table` (from [`Compiled::port_table`]).
    pub fn allowed_pairs_in(&self, table: &PortTable) -> u64 {
        let n = table.allowed.size();
        let sizes: Vec<u64> = (0..n).map(|c| self.classes[c].as_ref().map_or(0, |c| c.size as u64)).collect();
        // Sum of sizes per 64-class word, for rows that allow a whole word.
        let word_sums: Vec<u64> = sizes.chunks(64).map(|w| w.iter().sum()).collect();
        let mut total = 0u64;
        for (s, &size) in sizes.iter().enumerate() {
            if size == 0 {
                continue;
            }
            let mut reach = 0u64;
            for (wi, &w) in table.allowed.row(s).words().iter().enumerate() {
                if w == u64::MAX {
                    reach += word_sums[wi];
                    continue;
                }
                let mut w = w;
                while w != 0 {
                    reach += sizes[wi * 64 + w.trailing_zeros() as usize];
                    w &= w - 1;
                }
            }
            total += size * reach;
            if table.allowed.get(s, s) {
                total -= size; // a pod and itself is not a pair
            }
        }
        // hostNetwork pods reach the pods of their own node whatever the policies say.
        for (h, pods) in self.own_node_pairs() {
            let hc = self.class_of(h).expect("live pod");
            total +=
                pods.iter().filter(|&&p| !table.class_allowed(hc, self.class_of(p).expect("live pod"))).count() as u64;
        }
        total
    }

    /// The class verdict of pods of `s` reaching (distinct) pods of `d` on (protocol, port).
    pub(crate) fn class_pair_allowed(&self, s: ClassId, d: ClassId, protocol: Protocol, port: u16) -> bool {
        self.direction_allows(Direction::Egress, s, d, protocol, port)
            && self.direction_allows(Direction::Ingress, s, d, protocol, port)
    }

    fn isolating(&self, direction: Direction, class: ClassId) -> impl Iterator<Item = &[CompiledRule]> {
        self.class(class).subject_of.iter().filter_map(move |&p| self.policies[p].as_ref()?.rules(direction))
    }

    pub(crate) fn is_isolated(&self, direction: Direction, class: ClassId) -> bool {
        self.isolating(direction, class).next().is_some()
    }

    /// Whether a rule's peers match class `peer`; `family` is the flow's address
    /// family when the rule's subject decides it (ingress at a pod with IPs).
    fn peer_matches(&self, rule: &CompiledRule, peer: ClassId, family: Option<u8>) -> bool {
        match &rule.peers {
            None => true,
            Some(atoms) => atoms.iter().any(|a| self.atom(a.for_family(family)).bits.contains(peer)),
        }
    }

    /// The family ipBlocks use for a flow between classes: the destination's first IP's.
    /// `None` defers to each source's own first IP.
    fn flow_family(&self, direction: Direction, d: ClassId) -> Option<u8> {
        match direction {
            Direction::Ingress => self.class(d).key.first_family,
            Direction::Egress => None,
        }
    }

    fn direction_allows(&self, direction: Direction, s: ClassId, d: ClassId, protocol: Protocol, port: u16) -> bool {
        if self.tiers.is_some() {
            return self.tiered_direction_connections(direction, s, d).contains(protocol, port);
        }
        let (subject, peer) = match direction {
            Direction::Egress => (s, d),
            Direction::Ingress => (d, s),
        };
        if !self.is_isolated(direction, subject) {
            return true;
        }
        let family = self.flow_family(direction, d);
        self.isolating(direction, subject)
            .flatten()
            .any(|rule| self.peer_matches(rule, peer, family) && self.rule_port_matches(rule, d, protocol, port))
    }

    fn direction_connections(&self, direction: Direction, s: ClassId, d: ClassId) -> PortSet {
        if self.tiers.is_some() {
            return self.tiered_direction_connections(direction, s, d);
        }
        self.v1_direction_connections(direction, s, d)
    }

    /// NetworkPolicy v1 alone, for one direction between classes `s` and `d`.
    pub(crate) fn v1_direction_connections(&self, direction: Direction, s: ClassId, d: ClassId) -> PortSet {
        let (subject, peer) = match direction {
            Direction::Egress => (s, d),
            Direction::Ingress => (d, s),
        };
        if !self.is_isolated(direction, subject) {
            return PortSet::all();
        }
        let family = self.flow_family(direction, d);
        let mut out = PortSet::none();
        for rule in self.isolating(direction, subject).flatten() {
            if self.peer_matches(rule, peer, family) {
                out.union_with(&self.rule_connections(rule, d));
                if out.is_all() {
                    break;
                }
            }
        }
        out
    }

    /// Whether `rule`'s ports admit (protocol, port) on a destination of class `dst`.
    fn rule_port_matches(&self, rule: &CompiledRule, dst: ClassId, protocol: Protocol, port: u16) -> bool {
        match &rule.ports {
            None => true,
            Some(ports) => ports.iter().any(|p| self.policy_port_matches(p, dst, protocol, port)),
        }
    }

    fn policy_port_matches(&self, p: &PolicyPort, dst: ClassId, protocol: Protocol, port: u16) -> bool {
        if p.protocol != protocol {
            return false;
        }
        match &p.port {
            None => true,
            Some(PortRef::Number(n)) => {
                let end = p.end_port.unwrap_or(*n);
                (*n).min(end) <= port && port <= (*n).max(end)
            }
            Some(PortRef::Name(name)) => self.class(dst).key.has_named_port(name, protocol, port),
        }
    }

    fn rule_connections(&self, rule: &CompiledRule, dst: ClassId) -> PortSet {
        match &rule.ports {
            None => PortSet::all(),
            Some(ports) => self.ports_on(ports, dst),
        }
    }

    /// Every (protocol, port) that one of `ports` stands for on a destination of
    /// class `dst` (named ports resolved there).
    pub(crate) fn ports_on(&self, ports: &[PolicyPort], dst: ClassId) -> PortSet {
        let mut out = PortSet::none();
        for p in ports {
            match &p.port {
                None => out.insert(p.protocol, PortRange::all()),
                Some(PortRef::Number(lo)) => out.insert(p.protocol, PortRange::new(*lo, p.end_port.unwrap_or(*lo))),
                Some(PortRef::Name(name)) => {
                    for port in self.class(dst).key.named_ports(name, p.protocol) {
                        out.insert(p.protocol, PortRange::single(port));
                    }
                }
            }
        }
        out
    }

    /// Source classes that may send to class `d` on (protocol, port), as far as `d`'s ingress goes.
    pub(crate) fn ingress_row(&self, d: ClassId, protocol: Protocol, port: u16) -> Bitset {
        let n = self.classes.len();
        if !self.is_isolated(Direction::Ingress, d) {
            return Bitset::full(n);
        }
        let family = self.flow_family(Direction::Ingress, d);
        let mut row = Bitset::with_len(n);
        for rule in self.isolating(Direction::Ingress, d).flatten() {
            if !self.rule_port_matches(rule, d, protocol, port) {
                continue;
            }
            match &rule.peers {
                None => return Bitset::full(n),
                Some(atoms) => {
                    for a in atoms {
                        row.union_with(&self.atom(a.for_family(family)).bits);
                    }
                }
            }
        }
        row
    }

    /// Destination classes class `s` may send to on (protocol, port), as far as `s`'s egress goes.
    fn egress_row<'a>(
        &'a self,
        s: ClassId,
        protocol: Protocol,
        port: u16,
        named: &mut HashMap<&'a str, Bitset>,
    ) -> Bitset {
        let mut words = vec![0u64; self.classes.len().div_ceil(64)];
        let len = words.len();
        self.egress_words(s, protocol, port, named, 0..len, &mut words);
        Bitset::from_words(words, self.classes.len())
    }

    /// [`Self::egress_row`] restricted to the words `range` (destination classes
    /// `64 * range.start..64 * range.end`), written into `out` (`range.len()` words).
    pub(crate) fn egress_words<'a>(
        &'a self,
        s: ClassId,
        protocol: Protocol,
        port: u16,
        named: &mut HashMap<&'a str, Bitset>,
        range: std::ops::Range<usize>,
        out: &mut [u64],
    ) {
        let n = self.classes.len();
        // Every destination of the range: all ones, the bits past `n` cleared.
        let all = |out: &mut [u64]| {
            out.fill(u64::MAX);
            if range.end == n.div_ceil(64) && !n.is_multiple_of(64) {
                if let Some(last) = out.last_mut() {
                    *last = (1u64 << (n % 64)) - 1;
                }
            }
        };
        if !self.is_isolated(Direction::Egress, s) {
            all(out);
            return;
        }
        out.fill(0);
        let mut scratch = vec![0u64; out.len()];
        for rule in self.isolating(Direction::Egress, s).flatten() {
            // Destinations the rule's ports admit: all of them (`None` inside), or
            // those whose named port resolves to `port`.
            let mut dsts: Option<Option<Bitset>> = None;
            match &rule.ports {
                None => dsts = Some(None),
                Some(ports) => {
                    for p in ports.iter().filter(|p| p.protocol == protocol) {
                        match &p.port {
                            Some(PortRef::Name(name)) => {
                                let bits = named
                                    .entry(name.as_str())
                                    .or_insert_with(|| self.named_port_classes(name, protocol, port));
                                match &mut dsts {
                                    Some(None) => {}
                                    Some(Some(d)) => d.union_with(bits),
                                    None => dsts = Some(Some(bits.clone())),
                                }
                            }
                            _ if self.policy_port_matches(p, s, protocol, port) => {
                                dsts = Some(None);
                                break;
                            }
                            _ => {}
                        }
                    }
                }
            }
            let Some(dsts) = dsts else { continue };
            // The rule's destinations over the range (an atom's or a named port's
            // bitset may be shorter than the classes: missing words are empty).
            let word = |b: &Bitset, k: usize| b.words().get(range.start + k).copied().unwrap_or(0);
            let dsts: &[u64] = match &dsts {
                Some(d) => {
                    for (k, w) in scratch.iter_mut().enumerate() {
                        *w = word(d, k);
                    }
                    &scratch
                }
                None => {
                    all(&mut scratch);
                    &scratch
                }
            };
            match &rule.peers {
                None => {
                    for (o, d) in out.iter_mut().zip(dsts) {
                        *o |= d;
                    }
                }
                Some(atoms) => {
                    for a in atoms {
                        let bits = &self.atom(a.first).bits;
                        for (k, (o, d)) in out.iter_mut().zip(dsts).enumerate() {
                            *o |= word(bits, k) & d;
                        }
                    }
                }
            }
        }
    }

    /// Classes whose pods declare `name`/`protocol` as `port`.
    fn named_port_classes(&self, name: &str, protocol: Protocol, port: u16) -> Bitset {
        let mut bits = Bitset::with_len(self.classes.len());
        for c in self.live_classes() {
            if self.class(c).key.has_named_port(name, protocol, port) {
                bits.set(c, true);
            }
        }
        bits
    }
}

/// A hostNetwork pod (node traffic) towards a pod on the same node: upstream,
/// pods cannot block access from their resident node.
pub(crate) fn from_own_node(src: &Pod, dst: &Pod) -> bool {
    src.host_network && !dst.host_network && src.node.is_some() && src.node == dst.node
}

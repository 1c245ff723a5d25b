//! Atoms: the deduplicated selectors and ipBlocks of every policy, each a
//! bitset over classes, and how a policy becomes atoms. Whether an atom selects
//! a class is the model's decision ([`PodSelection::matches`],
//! [`IpBlock::matches_addr`]); this module only indexes it.

use std::collections::HashMap;

use netpol_model::{Direction, IpBlock, Labels, NetworkPolicy, Peer, PodSelection};

use crate::bitset::Bitset;
use crate::compile::{place, AtomId, Class, ClassId, Compiled, CompiledPolicy, CompiledRule};

/// What an atom selects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AtomDef {
    /// A policy's subjects (its `podSelector` in its namespace).
    Subject(PodSelection<'static>),
    /// The pods a `podSelector` / `namespaceSelector` peer matches.
    Pods(PodSelection<'static>),
    /// An ipBlock, matched against one IP of each class: the first one
    /// (`Family::First`), or the first of one family.
    IpBlock(IpBlock, Family),
}

/// Which IP of a pod an ipBlock sees. A flow's family is that of the
/// destination's first IP (or the source's, when the destination has none), and
/// each end is matched by its first IP of that family, as the engine does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Family {
    First,
    V4,
    V6,
}

/// The atoms standing for one peer: the same atom three times for selectors,
/// three ipBlock atoms (one per [`Family`]) for an ipBlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PeerAtoms {
    pub(crate) first: AtomId,
    pub(crate) v4: AtomId,
    pub(crate) v6: AtomId,
}

impl PeerAtoms {
    /// The atom to test a peer with, when the flow's family is `family` (`None`: the peer's own first IP).
    pub(crate) fn for_family(&self, family: Option<u8>) -> AtomId {
        match family {
            Some(4) => self.v4,
            Some(6) => self.v6,
            _ => self.first,
        }
    }

    fn distinct(&self) -> Vec<AtomId> {
        let mut v = vec![self.first, self.v4, self.v6];
        v.dedup();
        v
    }
}

impl AtomDef {
    /// The one namespace whose classes this atom can select, if it is confined to one.
    pub(crate) fn namespace(&self) -> Option<&str> {
        match self {
            AtomDef::Subject(selection) | AtomDef::Pods(selection) => selection.namespace(),
            AtomDef::IpBlock(..) => None,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Atom {
    pub(crate) def: AtomDef,
    pub(crate) bits: Bitset,
    pub(crate) refs: usize,
}

impl Compiled {
    /// Registers the atoms of `policy`; with `evaluate`, new atoms are evaluated now.
    pub(crate) fn compile_policy(&mut self, policy: &NetworkPolicy, evaluate: bool) -> CompiledPolicy {
        let subject = self.intern_atom(AtomDef::Subject(policy.subjects().into_owned()), evaluate);
        let rules = |direction: Direction, this: &mut Self| -> Option<Vec<CompiledRule>> {
            if !policy.affects(direction) {
                return None;
            }
            Some(
                policy
                    .rules(direction)
                    .iter()
                    .map(|rule| CompiledRule {
                        peers: (!rule.peers.is_empty())
                            .then(|| rule.peers.iter().map(|peer| this.intern_peer(policy, peer, evaluate)).collect()),
                        ports: (!rule.ports.is_empty()).then(|| rule.ports.clone()),
                    })
                    .collect(),
            )
        };
        let ingress = rules(Direction::Ingress, self);
        let egress = rules(Direction::Egress, self);
        CompiledPolicy { policy: policy.clone(), subject, ingress, egress }
    }

    /// Drops the atom references of a policy, freeing atoms nobody uses any more.
    pub(crate) fn release_policy_atoms(&mut self, policy: &CompiledPolicy) {
        let mut ids = vec![policy.subject];
        for rules in [&policy.ingress, &policy.egress].into_iter().flatten() {
            for rule in rules {
                ids.extend(rule.peers.iter().flatten().flat_map(PeerAtoms::distinct));
            }
        }
        for id in ids {
            let atom = self.atoms[id].as_mut().expect("live atom");
            atom.refs -= 1;
            if atom.refs == 0 {
                let atom = self.atoms[id].take().expect("live atom");
                self.atom_ids.remove(&atom.def);
                match atom.def.namespace() {
                    Some(ns) => {
                        if let Some(v) = self.local_atoms.get_mut(ns) {
                            v.retain(|a| *a != id);
                        }
                    }
                    None => self.global_atoms.retain(|a| *a != id),
                }
                self.free_atoms.push(id);
            }
        }
    }

    fn intern_peer(&mut self, policy: &NetworkPolicy, peer: &Peer, evaluate: bool) -> PeerAtoms {
        match peer {
            Peer::IpBlock(block) => PeerAtoms {
                first: self.intern_atom(AtomDef::IpBlock(block.clone(), Family::First), evaluate),
                v4: self.intern_atom(AtomDef::IpBlock(block.clone(), Family::V4), evaluate),
                v6: self.intern_atom(AtomDef::IpBlock(block.clone(), Family::V6), evaluate),
            },
            Peer::Pods { .. } => {
                let selection = peer.selection(&policy.namespace).expect("a pods peer");
                let id = self.intern_atom(AtomDef::Pods(selection.into_owned()), evaluate);
                PeerAtoms { first: id, v4: id, v6: id }
            }
        }
    }

    fn intern_atom(&mut self, def: AtomDef, evaluate: bool) -> AtomId {
        if let Some(&id) = self.atom_ids.get(&def) {
            self.atoms[id].as_mut().expect("live atom").refs += 1;
            return id;
        }
        let atom = Atom { def: def.clone(), bits: Bitset::with_len(self.classes.len()), refs: 1 };
        let id = place(&mut self.atoms, &mut self.free_atoms, atom);
        match def.namespace() {
            Some(ns) => self.local_atoms.entry(ns.to_string()).or_default().push(id),
            None => self.global_atoms.push(id),
        }
        self.atom_ids.insert(def, id);
        if evaluate {
            self.evaluate_atom(id);
        }
        id
    }

    /// Computes an atom's bits over every class it can select.
    pub(crate) fn evaluate_atom(&mut self, id: AtomId) {
        let def = self.atom(id).def.clone();
        let candidates: Vec<ClassId> = match def.namespace() {
            Some(ns) => self.classes_in_namespace(ns),
            None => self.live_classes().collect(),
        };
        let mut bits = Bitset::with_len(self.classes.len());
        let mut ns_cache: HashMap<&str, bool> = HashMap::new();
        let no_labels = Labels::new();
        for c in candidates {
            let class = self.class(c);
            let hit = match &def {
                // A namespaceSelector is evaluated once per namespace.
                AtomDef::Pods(selection) if selection.namespace().is_none() => {
                    let ns = class.key.namespace.as_str();
                    *ns_cache.entry(ns).or_insert_with(|| selection.matches_namespace(ns, &self.namespace_labels(ns)))
                        && selection.matches_pod(class.view())
                }
                // Confined to one namespace: its labels are never read.
                _ => self.atom_matches(&def, class, &no_labels),
            };
            if hit {
                bits.set(c, true);
            }
        }
        self.atoms[id].as_mut().expect("live atom").bits = bits;
    }

    /// Whether every pod of `class` (in a namespace with `ns_labels`) is selected by `def`.
    pub(crate) fn atom_matches(&self, def: &AtomDef, class: &Class, ns_labels: &Labels) -> bool {
        match def {
            AtomDef::Subject(selection) | AtomDef::Pods(selection) => selection.matches(class.view(), ns_labels),
            AtomDef::IpBlock(block, family) => {
                let ip = match family {
                    Family::First => class.ips.first(),
                    Family::V4 => class.ips.iter().find(|ip| ip.is_ipv4()),
                    Family::V6 => class.ips.iter().find(|ip| ip.is_ipv6()),
                };
                let pod_ip = !class.key.host_network;
                ip.is_some_and(|ip| block.matches_addr(*ip, pod_ip, self.options.ipblock_matches_pods))
            }
        }
    }
}

//! The compiled form: pods grouped into classes, every selector and ipBlock a
//! bitset over classes ("atoms"), every policy rules over those atoms.
//!
//! Design. Model: `Compiled` holds the cluster's pods, namespaces and policies
//! in compiled form; each pod belongs to one class, each class has a key (see
//! [`crate::classes`]) and a representative (labels restricted to what
//! selectors read, its port names, its IPs). Atoms are deduplicated selectors
//! (`subject`, `podSelector` in the policy's namespace, `namespaceSelector`
//! with optional `podSelector`, ipBlock) evaluated once per class.
//! Goals: cost grows with classes x atoms, never pods x pods; one pod, namespace
//! or policy change touches only what it can affect (see [`crate::change`]).
//! Implementation: free lists for pod, class, atom and policy slots, so ids
//! stay stable; a class whose last pod leaves is freed and its bits cleared.
//! Threads: none; `Compiled` is plain data (`Send + Sync`).

use std::collections::HashMap;
use std::net::IpAddr;

use netpol_model::{
    Cluster, Direction, IpBlock, LabelSelector, Labels, Namespace, NetworkPolicy, Peer, Pod, PodKey, PolicyPort,
};

use crate::bitset::Bitset;
use crate::classes::{ClassKey, Context};

/// Choices where the Kubernetes documentation leaves behaviour to the network plugin.
/// Defaults follow the upstream e2e tests, as the engine's do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// ipBlock peers match pod IPs too (upstream e2e expects it; Cilium does not).
    pub ipblock_matches_pods: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { ipblock_matches_pods: true }
    }
}

pub(crate) type ClassId = usize;
pub(crate) type AtomId = usize;
pub(crate) type PolicyId = usize;

/// A handle on one pod of a [`Compiled`]; stable until that pod is removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PodId(pub(crate) usize);

#[derive(Clone, Debug)]
pub(crate) struct PodEntry {
    pub(crate) pod: Pod,
    pub(crate) class: ClassId,
}

#[derive(Clone, Debug)]
pub(crate) struct Class {
    pub(crate) key: ClassKey,
    /// `key.labels` as a label set, for selectors.
    pub(crate) labels: Labels,
    /// The IPs of one member (every member falls in the same ipBlock regions).
    pub(crate) ips: Vec<IpAddr>,
    pub(crate) size: usize,
    /// Policies whose subjects include this class.
    pub(crate) subject_of: Vec<PolicyId>,
}

/// What an atom selects.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AtomDef {
    /// A policy's `podSelector`: the pods it applies to (never hostNetwork pods).
    Subject { namespace: String, selector: LabelSelector },
    /// A peer with only `podSelector`: pods of the policy's namespace.
    PodsInNamespace { namespace: String, selector: LabelSelector },
    /// A peer with `namespaceSelector` (and `podSelector`, `{}` when absent).
    PodsInNamespaces { namespaces: LabelSelector, pods: LabelSelector },
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
    fn namespace(&self) -> Option<&str> {
        match self {
            AtomDef::Subject { namespace, .. } | AtomDef::PodsInNamespace { namespace, .. } => Some(namespace),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Atom {
    pub(crate) def: AtomDef,
    pub(crate) bits: Bitset,
    refs: usize,
}

/// One rule: `peers: None` is any peer, `ports: None` any port of any protocol.
#[derive(Clone, Debug)]
pub(crate) struct CompiledRule {
    pub(crate) peers: Option<Vec<PeerAtoms>>,
    pub(crate) ports: Option<Vec<PolicyPort>>,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledPolicy {
    pub(crate) policy: NetworkPolicy,
    pub(crate) subject: AtomId,
    /// `None` when the policy does not isolate for ingress.
    pub(crate) ingress: Option<Vec<CompiledRule>>,
    pub(crate) egress: Option<Vec<CompiledRule>>,
}

impl CompiledPolicy {
    pub(crate) fn rules(&self, direction: Direction) -> Option<&[CompiledRule]> {
        match direction {
            Direction::Ingress => self.ingress.as_deref(),
            Direction::Egress => self.egress.as_deref(),
        }
    }
}

/// A cluster compiled for all-pairs reachability. Build it with [`Compiled::build`],
/// query it (see [`crate::probe`]), keep it current with [`Compiled::apply`].
#[derive(Clone, Debug)]
pub struct Compiled {
    pub(crate) options: Options,
    pub(crate) context: Context,
    pub(crate) namespaces: HashMap<String, Labels>,
    pub(crate) pods: Vec<Option<PodEntry>>,
    pub(crate) pod_ids: HashMap<PodKey, usize>,
    free_pods: Vec<usize>,
    pub(crate) classes: Vec<Option<Class>>,
    pub(crate) class_ids: HashMap<ClassKey, ClassId>,
    free_classes: Vec<ClassId>,
    classes_by_namespace: HashMap<String, Vec<ClassId>>,
    pub(crate) atoms: Vec<Option<Atom>>,
    atom_ids: HashMap<AtomDef, AtomId>,
    free_atoms: Vec<AtomId>,
    /// Atoms that only select in one namespace, by namespace; the others are global.
    local_atoms: HashMap<String, Vec<AtomId>>,
    global_atoms: Vec<AtomId>,
    pub(crate) policies: Vec<Option<CompiledPolicy>>,
    pub(crate) policy_ids: HashMap<(String, String), PolicyId>,
    free_policies: Vec<PolicyId>,
}

impl Compiled {
    /// An empty cluster.
    pub fn new(options: Options) -> Self {
        Compiled {
            options,
            context: Context::new(options.ipblock_matches_pods),
            namespaces: HashMap::new(),
            pods: Vec::new(),
            pod_ids: HashMap::new(),
            free_pods: Vec::new(),
            classes: Vec::new(),
            class_ids: HashMap::new(),
            free_classes: Vec::new(),
            classes_by_namespace: HashMap::new(),
            atoms: Vec::new(),
            atom_ids: HashMap::new(),
            free_atoms: Vec::new(),
            local_atoms: HashMap::new(),
            global_atoms: Vec::new(),
            policies: Vec::new(),
            policy_ids: HashMap::new(),
            free_policies: Vec::new(),
        }
    }

    /// Compiles `cluster`. When two pods (or policies) share a `namespace/name`,
    /// the first one counts, as [`Cluster::pod`] finds it.
    pub fn build(cluster: &Cluster, options: Options) -> Self {
        let mut c = Compiled::new(options);
        for ns in cluster.namespaces.values() {
            c.namespaces.insert(ns.name.clone(), ns.labels.clone());
        }
        let mut policies = Vec::new();
        for p in &cluster.policies {
            let key = (p.namespace.clone(), p.name.clone());
            if c.policy_ids.contains_key(&key) {
                continue;
            }
            c.context.add(p);
            let id = c.policies.len();
            c.policy_ids.insert(key, id);
            c.policies.push(None);
            policies.push((id, p));
        }
        for pod in &cluster.pods {
            if c.pod_ids.contains_key(&pod.key()) {
                continue;
            }
            let key = c.context.key(pod);
            let class = match c.class_ids.get(&key) {
                Some(&id) => id,
                None => {
                    let ips = c.representative_ips(pod);
                    c.new_class(key, ips)
                }
            };
            c.class_mut(class).size += 1;
            let id = c.pods.len();
            c.pod_ids.insert(pod.key(), id);
            c.pods.push(Some(PodEntry { pod: pod.clone(), class }));
        }
        // Atoms are evaluated once each over the classes they can select.
        for (id, p) in policies {
            let compiled = c.compile_policy(p, false);
            c.policies[id] = Some(compiled);
        }
        let atom_ids: Vec<AtomId> = (0..c.atoms.len()).collect();
        for a in atom_ids {
            c.evaluate_atom(a);
        }
        c.recompute_subjects();
        c
    }

    pub fn options(&self) -> Options {
        self.options
    }

    /// The number of classes with at least one pod.
    pub fn classes(&self) -> usize {
        self.classes.iter().flatten().filter(|c| c.size > 0).count()
    }

    /// The number of pods.
    pub fn pod_count(&self) -> usize {
        self.pod_ids.len()
    }

    /// The number of distinct selectors and ipBlocks, each a bitset over classes.
    pub fn atom_count(&self) -> usize {
        self.atom_ids.len()
    }

    /// The number of policies.
    pub fn policy_count(&self) -> usize {
        self.policy_ids.len()
    }

    pub fn pod_id(&self, key: &PodKey) -> Option<PodId> {
        self.pod_ids.get(key).map(|&i| PodId(i))
    }

    pub fn pod(&self, id: PodId) -> Option<&Pod> {
        self.pods.get(id.0).and_then(Option::as_ref).map(|e| &e.pod)
    }

    /// Every pod, by id (ascending; ids of a fresh build follow the cluster's order).
    pub fn pods(&self) -> impl Iterator<Item = (PodId, &Pod)> {
        self.pods.iter().enumerate().filter_map(|(i, e)| e.as_ref().map(|e| (PodId(i), &e.pod)))
    }

    /// The class of a pod: two pods with the same class number are
    /// indistinguishable to every policy. Numbers are stable until the class empties.
    pub fn class_of(&self, id: PodId) -> Option<usize> {
        self.pods.get(id.0).and_then(Option::as_ref).map(|e| e.class)
    }

    /// For each hostNetwork pod on a known node, the other pods on that node
    /// (which it always reaches). Empty, and cheap, without hostNetwork pods.
    pub(crate) fn own_node_pairs(&self) -> Vec<(PodId, Vec<PodId>)> {
        let hosts: Vec<(PodId, &str)> = self
            .pods()
            .filter(|(_, p)| p.host_network)
            .filter_map(|(id, p)| p.node.as_deref().map(|n| (id, n)))
            .collect();
        if hosts.is_empty() {
            return Vec::new();
        }
        let mut by_node: HashMap<&str, Vec<PodId>> = HashMap::new();
        for (id, p) in self.pods() {
            if let (false, Some(node)) = (p.host_network, p.node.as_deref()) {
                by_node.entry(node).or_default().push(id);
            }
        }
        hosts.into_iter().map(|(h, node)| (h, by_node.get(node).cloned().unwrap_or_default())).collect()
    }

    pub(crate) fn class(&self, id: ClassId) -> &Class {
        self.classes[id].as_ref().expect("live class")
    }

    fn class_mut(&mut self, id: ClassId) -> &mut Class {
        self.classes[id].as_mut().expect("live class")
    }

    pub(crate) fn atom(&self, id: AtomId) -> &Atom {
        self.atoms[id].as_ref().expect("live atom")
    }

    /// The labels of a namespace; one nobody declared has only its name label,
    /// as the loader would create it.
    pub(crate) fn namespace_labels(&self, namespace: &str) -> Labels {
        self.namespaces.get(namespace).cloned().unwrap_or_else(|| Namespace::implicit(namespace).labels)
    }

    // ------------------------------------------------------------ classes

    /// The IPs ipBlocks are matched against for `pod`'s class: none when
    /// ipBlocks do not match pods (hostNetwork pods' node IPs always count).
    fn representative_ips(&self, pod: &Pod) -> Vec<IpAddr> {
        if self.options.ipblock_matches_pods || pod.host_network {
            pod.ips.clone()
        } else {
            Vec::new()
        }
    }

    /// Allocates an empty class (no atom bits evaluated yet).
    pub(crate) fn new_class(&mut self, key: ClassKey, ips: Vec<IpAddr>) -> ClassId {
        let labels = Labels::from_iter(key.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let class = Class { key: key.clone(), labels, ips, size: 0, subject_of: Vec::new() };
        let id = match self.free_classes.pop() {
            Some(id) => {
                self.classes[id] = Some(class);
                id
            }
            None => {
                self.classes.push(Some(class));
                self.classes.len() - 1
            }
        };
        self.classes_by_namespace.entry(key.namespace.clone()).or_default().push(id);
        self.class_ids.insert(key, id);
        id
    }

    /// Frees an empty class and clears its bits.
    pub(crate) fn free_class(&mut self, id: ClassId) {
        let Some(class) = self.classes[id].take() else { return };
        if self.class_ids.get(&class.key) == Some(&id) {
            self.class_ids.remove(&class.key);
        }
        if let Some(v) = self.classes_by_namespace.get_mut(&class.key.namespace) {
            v.retain(|c| *c != id);
            if v.is_empty() {
                self.classes_by_namespace.remove(&class.key.namespace);
            }
        }
        for atom in self.atoms.iter_mut().flatten() {
            atom.bits.set(id, false);
        }
        self.free_classes.push(id);
    }

    /// Sets class `id`'s bit in every atom that can select it, and its subject list.
    pub(crate) fn evaluate_class(&mut self, id: ClassId) {
        let namespace = self.class(id).key.namespace.clone();
        let mut atoms: Vec<AtomId> = self.global_atoms.clone();
        if let Some(local) = self.local_atoms.get(&namespace) {
            atoms.extend_from_slice(local);
        }
        let ns_labels = self.namespace_labels(&namespace);
        for a in atoms {
            let hit = atom_matches(&self.atom(a).def, self.class(id), &ns_labels);
            self.atoms[a].as_mut().expect("live atom").bits.set(id, hit);
        }
        let subject_of = self
            .policies
            .iter()
            .enumerate()
            .filter_map(|(pid, p)| p.as_ref().filter(|p| self.atom(p.subject).bits.contains(id)).map(|_| pid))
            .collect();
        self.class_mut(id).subject_of = subject_of;
    }

    /// Copies every atom bit and the subject list of class `from` to class `to`.
    pub(crate) fn copy_class_bits(&mut self, from: ClassId, to: ClassId) {
        for atom in self.atoms.iter_mut().flatten() {
            let hit = atom.bits.contains(from);
            atom.bits.set(to, hit);
        }
        let subject_of = self.class(from).subject_of.clone();
        self.class_mut(to).subject_of = subject_of;
    }

    pub(crate) fn live_classes(&self) -> impl Iterator<Item = ClassId> + '_ {
        self.classes.iter().enumerate().filter_map(|(i, c)| c.as_ref().map(|_| i))
    }

    pub(crate) fn classes_in_namespace(&self, namespace: &str) -> Vec<ClassId> {
        self.classes_by_namespace.get(namespace).cloned().unwrap_or_default()
    }

    // ------------------------------------------------------------ pods

    /// Adds a pod that is not present yet; a new class gets its bits evaluated.
    pub(crate) fn insert_pod(&mut self, pod: Pod) {
        let key = self.context.key(&pod);
        let class = match self.class_ids.get(&key) {
            Some(&id) => id,
            None => {
                let ips = self.representative_ips(&pod);
                let id = self.new_class(key, ips);
                self.evaluate_class(id);
                id
            }
        };
        self.class_mut(class).size += 1;
        let entry = Some(PodEntry { pod, class });
        let id = match self.free_pods.pop() {
            Some(id) => {
                self.pods[id] = entry;
                id
            }
            None => {
                self.pods.push(entry);
                self.pods.len() - 1
            }
        };
        let key = self.pods[id].as_ref().expect("just inserted").pod.key();
        self.pod_ids.insert(key, id);
    }

    /// Removes a pod; its class is freed when it was the last member.
    pub(crate) fn remove_pod(&mut self, key: &PodKey) -> Option<Pod> {
        let id = self.pod_ids.remove(key)?;
        let entry = self.pods[id].take()?;
        self.free_pods.push(id);
        let class = self.class_mut(entry.class);
        class.size -= 1;
        if class.size == 0 {
            self.free_class(entry.class);
        }
        Some(entry.pod)
    }

    /// Re-keys every pod after the context changed, splitting and merging classes.
    /// A merged class keeps the bits of one of its old classes (all agree on
    /// every atom still present); a split-off class copies its old class's bits.
    pub(crate) fn reclass(&mut self) {
        let old_keys: Vec<(ClassId, ClassKey)> =
            self.live_classes().map(|id| (id, self.class(id).key.clone())).collect();
        for (_, key) in &old_keys {
            self.class_ids.remove(key);
        }
        let mut claimed: HashMap<ClassId, ()> = HashMap::new();
        let mut new_ids: HashMap<ClassKey, ClassId> = HashMap::new();
        let mut sizes: HashMap<ClassId, usize> = HashMap::new();
        for slot in 0..self.pods.len() {
            let Some(entry) = &self.pods[slot] else { continue };
            let key = self.context.key(&entry.pod);
            let old = entry.class;
            let class = match new_ids.get(&key) {
                Some(&id) => id,
                None => {
                    let ips = self.representative_ips(&entry.pod);
                    let id = if claimed.insert(old, ()).is_none() {
                        let class = self.class_mut(old);
                        class.labels = Labels::from_iter(key.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                        class.key = key.clone();
                        class.ips = ips;
                        self.class_ids.insert(key.clone(), old);
                        old
                    } else {
                        let id = self.new_class(key.clone(), ips);
                        self.copy_class_bits(old, id);
                        id
                    };
                    new_ids.insert(key, id);
                    id
                }
            };
            *sizes.entry(class).or_insert(0) += 1;
            self.pods[slot].as_mut().expect("live pod").class = class;
        }
        let live: Vec<ClassId> = self.live_classes().collect();
        for id in live {
            let size = sizes.get(&id).copied().unwrap_or(0);
            self.class_mut(id).size = size;
            if size == 0 {
                self.free_class(id);
            }
        }
        self.classes_by_namespace.clear();
        for id in self.live_classes().collect::<Vec<_>>() {
            let ns = self.class(id).key.namespace.clone();
            self.classes_by_namespace.entry(ns).or_default().push(id);
        }
    }

    // ------------------------------------------------------------ policies and atoms

    /// Registers the atoms of `policy`; with `evaluate`, new atoms are evaluated now.
    pub(crate) fn compile_policy(&mut self, policy: &NetworkPolicy, evaluate: bool) -> CompiledPolicy {
        let subject = self.intern_atom(
            AtomDef::Subject { namespace: policy.namespace.clone(), selector: policy.pod_selector.clone() },
            evaluate,
        );
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
                let id = self.intern_atom(peer_def(policy, peer), evaluate);
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
        let id = match self.free_atoms.pop() {
            Some(id) => {
                self.atoms[id] = Some(atom);
                id
            }
            None => {
                self.atoms.push(Some(atom));
                self.atoms.len() - 1
            }
        };
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
    fn evaluate_atom(&mut self, id: AtomId) {
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
                AtomDef::PodsInNamespaces { namespaces, pods } => {
                    let ns = class.key.namespace.as_str();
                    *ns_cache.entry(ns).or_insert_with(|| namespaces.matches(&self.namespace_labels(ns)))
                        && !class.key.host_network
                        && pods.matches(&class.labels)
                }
                _ => atom_matches(&def, class, &no_labels),
            };
            if hit {
                bits.set(c, true);
            }
        }
        self.atoms[id].as_mut().expect("live atom").bits = bits;
    }

    /// Rebuilds every class's subject list from the subject atoms.
    pub(crate) fn recompute_subjects(&mut self) {
        for class in self.classes.iter_mut().flatten() {
            class.subject_of.clear();
        }
        for pid in 0..self.policies.len() {
            let Some(p) = &self.policies[pid] else { continue };
            let members: Vec<ClassId> = self.atom(p.subject).bits.iter().collect();
            for c in members {
                if let Some(class) = self.classes[c].as_mut() {
                    class.subject_of.push(pid);
                }
            }
        }
    }

    pub(crate) fn add_policy_slot(&mut self, compiled: CompiledPolicy) -> PolicyId {
        let key = (compiled.policy.namespace.clone(), compiled.policy.name.clone());
        let subject = compiled.subject;
        let id = match self.free_policies.pop() {
            Some(id) => {
                self.policies[id] = Some(compiled);
                id
            }
            None => {
                self.policies.push(Some(compiled));
                self.policies.len() - 1
            }
        };
        self.policy_ids.insert(key, id);
        let members: Vec<ClassId> = self.atom(subject).bits.iter().collect();
        for c in members {
            if let Some(class) = self.classes[c].as_mut() {
                class.subject_of.push(id);
                class.subject_of.sort_unstable();
            }
        }
        id
    }

    pub(crate) fn take_policy_slot(&mut self, namespace: &str, name: &str) -> Option<CompiledPolicy> {
        let id = self.policy_ids.remove(&(namespace.to_string(), name.to_string()))?;
        let compiled = self.policies[id].take()?;
        self.free_policies.push(id);
        let members: Vec<ClassId> = self.atom(compiled.subject).bits.iter().collect();
        for c in members {
            if let Some(class) = self.classes[c].as_mut() {
                class.subject_of.retain(|p| *p != id);
            }
        }
        Some(compiled)
    }
}

fn peer_def(policy: &NetworkPolicy, peer: &Peer) -> AtomDef {
    match peer {
        Peer::IpBlock(block) => AtomDef::IpBlock(block.clone(), Family::First),
        Peer::Pods { pod_selector, namespace_selector: Some(ns) } => {
            AtomDef::PodsInNamespaces { namespaces: ns.clone(), pods: pod_selector.clone().unwrap_or_default() }
        }
        Peer::Pods { pod_selector, namespace_selector: None } => AtomDef::PodsInNamespace {
            namespace: policy.namespace.clone(),
            selector: pod_selector.clone().unwrap_or_default(),
        },
    }
}

/// Whether every pod of `class` is selected by `def`. The semantics live here,
/// and must stay identical to the engine's.
pub(crate) fn atom_matches(def: &AtomDef, class: &Class, ns_labels: &Labels) -> bool {
    let key = &class.key;
    match def {
        AtomDef::Subject { namespace, selector } => {
            !key.host_network && key.namespace == *namespace && selector.matches(&class.labels)
        }
        AtomDef::PodsInNamespace { namespace, selector } => {
            !key.host_network && key.namespace == *namespace && selector.matches(&class.labels)
        }
        AtomDef::PodsInNamespaces { namespaces, pods } => {
            !key.host_network && namespaces.matches(ns_labels) && pods.matches(&class.labels)
        }
        AtomDef::IpBlock(block, family) => {
            let ip = match family {
                Family::First => class.ips.first(),
                Family::V4 => class.ips.iter().find(|ip| ip.is_ipv4()),
                Family::V6 => class.ips.iter().find(|ip| ip.is_ipv6()),
            };
            ip.is_some_and(|ip| block.contains(*ip))
        }
    }
}

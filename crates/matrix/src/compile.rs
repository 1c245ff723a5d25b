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
//!
//! This module holds the compiled form and its pods; the class arena is in
//! [`crate::arena`], atoms (and how a policy becomes atoms) in [`crate::atoms`],
//! policy slots in [`crate::slots`]. Whether an atom selects a class is decided
//! by the model's selection predicate ([`netpol_model::PodSelection`],
//! [`netpol_model::IpBlock::matches_addr`]), the one the engine and the nft
//! renderer use.

use std::collections::HashMap;
use std::net::IpAddr;

use netpol_model::{
    Cluster, Direction, Labels, Namespace, NetworkPolicy, Pod, PodKey, PodServiceAccount, PodView, PolicyPort,
};

use crate::atoms::{Atom, AtomDef, PeerAtoms};
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
    /// `key.service_account`, for Calico selectors.
    pub(crate) service_account: PodServiceAccount,
    /// The IPs of one member: every member falls in the same ipBlock regions,
    /// or ipBlocks do not see its IPs ([`netpol_model::IpBlock::sees`]).
    pub(crate) ips: Vec<IpAddr>,
    pub(crate) size: usize,
    /// Policies whose subjects include this class.
    pub(crate) subject_of: Vec<PolicyId>,
}

impl Class {
    /// What selectors see of every member.
    pub(crate) fn view(&self) -> PodView<'_> {
        PodView {
            namespace: &self.key.namespace,
            labels: &self.labels,
            host_network: self.key.host_network,
            service_account: &self.service_account,
        }
    }
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
    pub(crate) free_pods: Vec<usize>,
    pub(crate) classes: Vec<Option<Class>>,
    pub(crate) class_ids: HashMap<ClassKey, ClassId>,
    pub(crate) free_classes: Vec<ClassId>,
    pub(crate) classes_by_namespace: HashMap<String, Vec<ClassId>>,
    pub(crate) atoms: Vec<Option<Atom>>,
    pub(crate) atom_ids: HashMap<AtomDef, AtomId>,
    pub(crate) free_atoms: Vec<AtomId>,
    /// Atoms that only select in one namespace, by namespace; the others are global.
    pub(crate) local_atoms: HashMap<String, Vec<AtomId>>,
    pub(crate) global_atoms: Vec<AtomId>,
    pub(crate) policies: Vec<Option<CompiledPolicy>>,
    pub(crate) policy_ids: HashMap<(String, String), PolicyId>,
    pub(crate) free_policies: Vec<PolicyId>,
    /// Ordered policies, when the cluster has any ([`crate::tiers`]).
    pub(crate) tiers: Option<Box<crate::tiers::TierLayer>>,
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
            tiers: None,
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
        for p in &cluster.tiered {
            c.context.add_tiered(p, &cluster.nodes);
        }
        for pod in &cluster.pods {
            if c.pod_ids.contains_key(&pod.key()) {
                continue;
            }
            let key = c.context.key(pod);
            let class = match c.class_ids.get(&key) {
                Some(&id) => id,
                None => c.new_class(key, pod.ips.clone()),
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
        if !cluster.tiered.is_empty() {
            let source = Cluster {
                tiered: cluster.tiered.clone(),
                tiers: cluster.tiers.clone(),
                nodes: cluster.nodes.clone(),
                ..Cluster::default()
            };
            c.build_tiers(source);
        }
        c
    }

    /// Whether the cluster has ordered policies (then queries go through their chain).
    pub fn has_ordered_policies(&self) -> bool {
        self.tiers.is_some()
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

    pub(crate) fn class_mut(&mut self, id: ClassId) -> &mut Class {
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

    // ------------------------------------------------------------ pods

    /// Adds a pod that is not present yet; a new class gets its bits evaluated.
    pub(crate) fn insert_pod(&mut self, pod: Pod) {
        let key = self.context.key(&pod);
        let class = match self.class_ids.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.new_class(key, pod.ips.clone());
                self.evaluate_class(id);
                id
            }
        };
        self.class_mut(class).size += 1;
        let id = place(&mut self.pods, &mut self.free_pods, PodEntry { pod, class });
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
}

/// Puts `value` in a free slot of `slots` (or a new one at the end) and returns
/// its index: pods, classes, atoms and policies keep stable ids this way.
pub(crate) fn place<T>(slots: &mut Vec<Option<T>>, free: &mut Vec<usize>, value: T) -> usize {
    match free.pop() {
        Some(id) => {
            slots[id] = Some(value);
            id
        }
        None => {
            slots.push(Some(value));
            slots.len() - 1
        }
    }
}

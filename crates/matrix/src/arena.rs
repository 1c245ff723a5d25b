//! The class arena: allocating, freeing and re-keying the equivalence classes
//! of a [`Compiled`], and setting a class's bit in every atom.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::classes::ClassKey;
use crate::compile::{place, AtomId, Class, ClassId, Compiled};

impl Compiled {
    /// Allocates an empty class (no atom bits evaluated yet).
    pub(crate) fn new_class(&mut self, key: ClassKey, ips: Vec<IpAddr>) -> ClassId {
        let (labels, service_account) = (key.label_set(), key.service_account());
        let class = Class { key: key.clone(), labels, service_account, ips, size: 0, subject_of: Vec::new() };
        let id = place(&mut self.classes, &mut self.free_classes, class);
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
            let hit = self.atom_matches(&self.atom(a).def, self.class(id), &ns_labels);
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
                    let ips = entry.pod.ips.clone();
                    let id = if claimed.insert(old, ()).is_none() {
                        let class = self.class_mut(old);
                        class.labels = key.label_set();
                        class.service_account = key.service_account();
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
}

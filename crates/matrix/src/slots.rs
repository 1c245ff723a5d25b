//! Policy slots of a [`Compiled`]: which classes each policy has as subjects.

use crate::compile::{place, ClassId, Compiled, CompiledPolicy, PolicyId};

impl Compiled {
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
        let id = place(&mut self.policies, &mut self.free_policies, compiled);
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

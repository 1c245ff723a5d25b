//! Incremental updates: one pod, namespace or policy at a time, without a rebuild.
//!
//! Each change touches only what it can affect:
//! - a pod joins its class (a new class has every atom evaluated for it alone)
//!   or leaves it (an emptied class is freed);
//! - a namespace's labels re-evaluate the atoms of that namespace's classes;
//! - a policy interns and evaluates only its own atoms over the classes they can
//!   select. Only when it brings a label key, port name or ipBlock boundary no
//!   other policy used (or removes the last use of one) are pods re-keyed, which
//!   copies bits instead of evaluating selectors.
//!
//! The result is the same as [`Compiled::build`] on the changed cluster; the
//! state-sequence tests in `tests/differential.rs` check it.

use netpol_model::{Namespace, NetworkPolicy, Pod, PodKey};

use crate::compile::Compiled;

/// One change to the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Adds a pod, or replaces the pod with the same `namespace/name` (a relabel).
    UpsertPod(Pod),
    RemovePod(PodKey),
    /// Adds a namespace, or replaces its labels.
    UpsertNamespace(Namespace),
    /// Removes a namespace declaration; its pods then see it as undeclared
    /// (only the `kubernetes.io/metadata.name` label).
    RemoveNamespace(String),
    /// Adds a policy, or replaces the policy with the same `namespace/name`.
    UpsertPolicy(NetworkPolicy),
    RemovePolicy {
        namespace: String,
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("no pod {0} to remove")]
    NoSuchPod(PodKey),
    #[error("no namespace {0} to remove")]
    NoSuchNamespace(String),
    #[error("no policy {namespace}/{name} to remove")]
    NoSuchPolicy { namespace: String, name: String },
}

impl Compiled {
    /// Applies one change. On error nothing changed.
    pub fn apply(&mut self, change: Change) -> Result<(), ChangeError> {
        self.apply_v1(change)?;
        self.rebuild_tiers();
        Ok(())
    }

    fn apply_v1(&mut self, change: Change) -> Result<(), ChangeError> {
        match change {
            Change::UpsertPod(pod) => {
                self.remove_pod(&pod.key());
                self.insert_pod(pod);
            }
            Change::RemovePod(key) => {
                self.remove_pod(&key).ok_or(ChangeError::NoSuchPod(key))?;
            }
            Change::UpsertNamespace(ns) => {
                let changed = self.namespaces.get(&ns.name) != Some(&ns.labels);
                let name = ns.name.clone();
                self.namespaces.insert(ns.name, ns.labels);
                if changed {
                    self.reevaluate_namespace(&name);
                }
            }
            Change::RemoveNamespace(name) => {
                let labels = self.namespaces.remove(&name).ok_or_else(|| ChangeError::NoSuchNamespace(name.clone()))?;
                if labels != Namespace::implicit(&name).labels {
                    self.reevaluate_namespace(&name);
                }
            }
            Change::UpsertPolicy(policy) => {
                self.remove_policy(&policy.namespace, &policy.name);
                self.insert_policy(policy);
            }
            Change::RemovePolicy { namespace, name } => {
                if !self.remove_policy(&namespace, &name) {
                    return Err(ChangeError::NoSuchPolicy { namespace, name });
                }
            }
        }
        Ok(())
    }

    fn reevaluate_namespace(&mut self, namespace: &str) {
        for class in self.classes_in_namespace(namespace) {
            self.evaluate_class(class);
        }
    }

    fn insert_policy(&mut self, policy: NetworkPolicy) {
        if self.context.add(&policy) {
            self.reclass();
        }
        let compiled = self.compile_policy(&policy, true);
        self.add_policy_slot(compiled);
    }

    fn remove_policy(&mut self, namespace: &str, name: &str) -> bool {
        let Some(compiled) = self.take_policy_slot(namespace, name) else { return false };
        self.release_policy_atoms(&compiled);
        if self.context.remove(&compiled.policy) {
            self.reclass();
        }
        true
    }
}

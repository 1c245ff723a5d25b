//! The desired cluster as the API's watchers describe it, kept current one
//! watch event at a time.
//!
//! Design (model, goals, implementation):
//! - Model: one [`Projection`] holds the model objects of every watched
//!   kind ([`Kind`]: Namespaces, Pods, NetworkPolicies, Nodes,
//!   ServiceAccounts and the ordered-policy kinds), already converted (the API
//!   objects are dropped as soon as they arrive: memory follows the model, not
//!   the API's JSON), and the [`Cluster`] the sync loop renders.
//! - Goals: never expose a partial list. A kind counts as known once its
//!   watcher delivered a whole list (`Init`, `InitApply`..., `InitDone`); until
//!   every kind is known the projection is not [`Projection::ready`] and the
//!   agent applies nothing. An optional kind the server does not serve, or
//!   RBAC refuses, is known and empty instead ([`Change::Absent`]). A relist (after `410 Gone` or a lost watch) is
//!   buffered and replaces the kind's objects in one step at its `InitDone`, so
//!   objects deleted while the watch was down go away then, and the rules in
//!   place stay until then.
//! - Implementation: each kind's objects sit in the cluster's own lists; a map
//!   from key to position makes an upsert or a delete O(log n)
//!   ([`Keyed`]); namespaces are the cluster's map. A namespace some pod or
//!   policy uses but the API has not (yet) shown is added as implicit at read
//!   time, as a load of files does (Calico NetworkPolicies count as users).
//!   The ordered kinds share the cluster's `tiered` list, keyed by kind too.
//! - ServiceAccounts lend their labels to the pods that run as them
//!   ([`Cluster::link_service_accounts`]): a pod takes them as it arrives (one
//!   lookup, so a pod event costs no more than before and an unchanged pod is
//!   still no change), and a change of ServiceAccounts relinks every pod once
//!   per report (O(pods); ServiceAccounts seldom change). It bumps the pods
//!   version, and counts as a change, only when some pod's labels changed.

use std::collections::BTreeMap;
use std::time::Instant;

use netpol_model::{Cluster, Labels, Namespace, NetworkPolicy, Node, Pod, ServiceAccount, Tier, TieredPolicy};

pub use crate::kind::Kind;
use crate::kind::KINDS;

/// `(namespace, name)`; `("", name)` for a cluster-scoped object.
pub type Key = (String, String);

/// One object as the model holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Namespace(Namespace),
    Pod(Pod),
    Policy(NetworkPolicy),
    Node(Node),
    ServiceAccount(ServiceAccount),
    Tier(Tier),
    /// An ordered policy (of the kind its `kind` says).
    Tiered(TieredPolicy),
}

/// What a watcher reported, already converted.
#[derive(Clone, Debug)]
pub enum Change {
    /// Added or modified; `None`: present in the API but nothing to enforce
    /// (a pod that finished), the same as deleted for the rules.
    Apply(Key, Option<Object>),
    Delete(Key),
    /// A (re)list starts: the objects until [`Change::InitDone`] are the whole kind.
    Init,
    InitApply(Key, Option<Object>),
    /// In a (re)list, an object that could not be decoded: its last good
    /// version, if any, stays (it is not taken for deleted at `InitDone`).
    InitKeep(Key),
    InitDone,
    /// An optional kind the server does not serve (404) or RBAC refuses
    /// (403): known from now on; `empty` drops its objects (not served: they
    /// went with their CRD), otherwise what was listed before stays.
    Absent {
        empty: bool,
    },
}

/// A kind's objects in one of the cluster's lists, by key.
#[derive(Debug)]
struct Keyed<K = Key> {
    position: BTreeMap<K, usize>,
}

impl<K> Default for Keyed<K> {
    fn default() -> Self {
        Keyed { position: BTreeMap::new() }
    }
}

impl<K: Ord + Clone + std::fmt::Debug> Keyed<K> {
    /// Inserts or replaces `item` under `key` in `list`; true when it changed.
    fn upsert<T: PartialEq>(&mut self, list: &mut Vec<T>, key: K, item: T, key_of: impl Fn(&T) -> K) -> bool {
        match self.position.get(&key) {
            Some(&at) if list[at] == item => false,
            Some(&at) => {
                list[at] = item;
                true
            }
            None => {
                debug_assert_eq!(key_of(&item), key);
                self.position.insert(key, list.len());
                list.push(item);
                true
            }
        }
    }

    /// Removes `key` from `list`; true when it was there.
    fn remove<T>(&mut self, list: &mut Vec<T>, key: &K, key_of: impl Fn(&T) -> K) -> bool {
        let Some(at) = self.position.remove(key) else { return false };
        list.swap_remove(at);
        if let Some(moved) = list.get(at) {
            self.position.insert(key_of(moved), at);
        }
        true
    }

    fn keys(&self) -> Vec<K> {
        self.position.keys().cloned().collect()
    }
}

fn pod_key(p: &Pod) -> Key {
    (p.namespace.clone(), p.name.clone())
}

fn policy_key(p: &NetworkPolicy) -> Key {
    (p.namespace.clone(), p.name.clone())
}

fn node_key(n: &Node) -> Key {
    (String::new(), n.name.clone())
}

fn service_account_key(sa: &ServiceAccount) -> Key {
    (sa.namespace.clone(), sa.name.clone())
}

fn tier_key(t: &Tier) -> Key {
    (String::new(), t.name.clone())
}

/// The ordered kinds share one list: their keys carry the kind.
fn tiered_key(p: &TieredPolicy) -> (Kind, Key) {
    (Kind::of_tiered(p.kind), (p.namespace.clone().unwrap_or_default(), p.name.clone()))
}

/// The watched state, converted, and the cluster built from it.
#[derive(Debug, Default)]
pub struct Projection {
    cluster: Cluster,
    pods: Keyed,
    policies: Keyed,
    nodes: Keyed,
    service_accounts: Keyed,
    tiers: Keyed,
    tiered: Keyed<(Kind, Key)>,
    /// Namespaces added as implicit (used, not shown by the API).
    implicit: Vec<String>,
    /// Per kind: a whole list was delivered at least once (or, for an
    /// optional kind, the server said it has none to give).
    known: [bool; KINDS],
    /// Per kind: a relist in progress, buffered until its `InitDone`.
    relist: [Option<BTreeMap<Key, Object>>; KINDS],
    /// Bumped whenever a pod or namespace changes ([`netpol_agent::Snapshot::pods_version`]),
    /// a pod's ServiceAccount labels included.
    pods_version: u64,
    /// ServiceAccounts changed in the report being folded in: relink the pods.
    relink: bool,
    /// Something changed since the last [`Projection::take_change`], first seen then.
    changed_at: Option<Instant>,
    /// Implicit namespaces need another look: a pod or policy came into a
    /// namespace not known yet or left an implicit one, or a namespace changed.
    stale_namespaces: bool,
}

impl Projection {
    pub fn new() -> Self {
        Projection::default()
    }

    /// Every kind delivered a whole list.
    pub fn ready(&self) -> bool {
        self.known.iter().all(|k| *k)
    }

    /// Whether `kind`'s first whole list has arrived.
    pub fn known(&self, kind: Kind) -> bool {
        self.known[kind.index()]
    }

    /// The kinds whose first whole list has not arrived yet.
    pub fn waiting_for(&self) -> Vec<Kind> {
        Kind::ALL.into_iter().filter(|k| !self.known[k.index()]).collect()
    }

    pub fn pods_version(&self) -> u64 {
        self.pods_version
    }

    /// How many objects of `kind` the projection holds.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Namespaces => self.cluster.namespaces.values().filter(|n| n.declared).count(),
            Kind::Pods => self.cluster.pods.len(),
            Kind::NetworkPolicies => self.cluster.policies.len(),
            Kind::Nodes => self.cluster.nodes.len(),
            Kind::ServiceAccounts => self.cluster.service_accounts.len(),
            Kind::Tiers => self.cluster.tiers.len(),
            ordered => self.cluster.tiered.iter().filter(|p| Some(p.kind) == ordered.tiered()).count(),
        }
    }

    /// When the first change since the last call was seen, if any changed.
    pub fn take_change(&mut self) -> Option<Instant> {
        self.changed_at.take()
    }

    /// The cluster now, implicit namespaces included.
    pub fn cluster(&mut self) -> &Cluster {
        if self.stale_namespaces {
            self.stale_namespaces = false;
            self.refresh_implicit();
        }
        &self.cluster
    }

    /// Folds one watcher report in; `at` is when it arrived.
    pub fn apply(&mut self, kind: Kind, change: Change, at: Instant) {
        let mut changed = match change {
            Change::Apply(key, object) => self.set(kind, key, object),
            Change::Delete(key) => self.set(kind, key, None),
            Change::Init => {
                self.relist[kind.index()] = Some(BTreeMap::new());
                false
            }
            Change::InitApply(key, object) => {
                let buffer = self.relist[kind.index()].get_or_insert_with(BTreeMap::new);
                match object {
                    Some(object) => buffer.insert(key, object),
                    None => buffer.remove(&key),
                };
                false
            }
            Change::InitKeep(key) => {
                if let Some(object) = self.get(kind, &key) {
                    self.relist[kind.index()].get_or_insert_with(BTreeMap::new).insert(key, object);
                }
                false
            }
            Change::InitDone => {
                let listed = self.relist[kind.index()].take().unwrap_or_default();
                let first = !self.known[kind.index()];
                self.known[kind.index()] = true;
                self.replace(kind, listed) || first
            }
            Change::Absent { empty } => {
                self.relist[kind.index()] = None;
                let first = !self.known[kind.index()];
                self.known[kind.index()] = true;
                let emptied = (empty || first) && self.replace(kind, BTreeMap::new());
                emptied || first
            }
        };
        // ServiceAccounts reach the rules only through the pods' labels.
        if std::mem::take(&mut self.relink) && self.cluster.link_service_accounts() {
            self.pods_version += 1;
            changed = true;
        }
        if changed {
            self.changed_at.get_or_insert(at);
        }
    }

    /// The labels of the ServiceAccount `pod` runs as, if the projection holds it.
    fn service_account_labels(&self, pod: &Pod) -> Option<Labels> {
        let key = (pod.namespace.clone(), pod.service_account.name()?.to_string());
        self.service_accounts.position.get(&key).map(|&at| self.cluster.service_accounts[at].labels.clone())
    }

    /// The object of `kind` at `key`, if the projection holds it.
    fn get(&self, kind: Kind, key: &Key) -> Option<Object> {
        match kind {
            Kind::Namespaces => {
                self.cluster.namespaces.get(&key.1).filter(|n| n.declared).cloned().map(Object::Namespace)
            }
            Kind::Pods => self.pods.position.get(key).map(|&at| Object::Pod(self.cluster.pods[at].clone())),
            Kind::NetworkPolicies => {
                self.policies.position.get(key).map(|&at| Object::Policy(self.cluster.policies[at].clone()))
            }
            Kind::Nodes => self.nodes.position.get(key).map(|&at| Object::Node(self.cluster.nodes[at].clone())),
            Kind::ServiceAccounts => self
                .service_accounts
                .position
                .get(key)
                .map(|&at| Object::ServiceAccount(self.cluster.service_accounts[at].clone())),
            Kind::Tiers => self.tiers.position.get(key).map(|&at| Object::Tier(self.cluster.tiers[at].clone())),
            ordered => self
                .tiered
                .position
                .get(&(ordered, key.clone()))
                .map(|&at| Object::Tiered(self.cluster.tiered[at].clone())),
        }
    }

    /// Replaces every object of `kind` with `listed`; true when anything changed.
    fn replace(&mut self, kind: Kind, mut listed: BTreeMap<Key, Object>) -> bool {
        let current: Vec<Key> = match kind {
            Kind::Namespaces => self
                .cluster
                .namespaces
                .values()
                .filter(|n| n.declared)
                .map(|n| (String::new(), n.name.clone()))
                .collect(),
            Kind::Pods => self.pods.keys(),
            Kind::NetworkPolicies => self.policies.keys(),
            Kind::Nodes => self.nodes.keys(),
            Kind::ServiceAccounts => self.service_accounts.keys(),
            Kind::Tiers => self.tiers.keys(),
            ordered => self.tiered.keys().into_iter().filter(|(k, _)| *k == ordered).map(|(_, key)| key).collect(),
        };
        let mut changed = false;
        for key in current {
            if !listed.contains_key(&key) {
                changed |= self.set(kind, key, None);
            }
        }
        while let Some((key, object)) = listed.pop_first() {
            changed |= self.set(kind, key, Some(object));
        }
        changed
    }

    /// Sets (`Some`) or removes (`None`) one object; true when it changed
    /// (a ServiceAccount only marks the pods for relinking: see [`Projection::apply`]).
    fn set(&mut self, kind: Kind, key: Key, object: Option<Object>) -> bool {
        // Which namespaces are used changes only when a pod or policy appears in
        // a namespace not known yet, or leaves an implicit one (that one may be
        // unused now), or a namespace itself changes: not when an object is
        // replaced in place, which (keyed by namespace and name) stays where it was.
        let namespaces_may_change = match kind {
            Kind::Namespaces => true,
            Kind::Pods | Kind::NetworkPolicies => {
                let keyed = if kind == Kind::Pods { &self.pods } else { &self.policies };
                match (keyed.position.contains_key(&key), &object) {
                    (false, Some(_)) => !self.cluster.namespaces.contains_key(&key.0),
                    (true, None) => self.cluster.namespaces.get(&key.0).is_none_or(|n| !n.declared),
                    _ => false,
                }
            }
            // Few objects: any change looks at the namespaces again.
            Kind::CalicoNetworkPolicies => true,
            _ => false,
        };
        let changed = match (kind, object) {
            (Kind::Namespaces, Some(Object::Namespace(ns))) => {
                let same = self.cluster.namespaces.get(&key.1).is_some_and(|old| old.declared && *old == ns);
                if !same {
                    self.implicit.retain(|n| *n != key.1);
                    self.cluster.namespaces.insert(key.1, ns);
                }
                !same
            }
            (Kind::Namespaces, None) => {
                let declared = self.cluster.namespaces.get(&key.1).is_some_and(|n| n.declared);
                if declared {
                    self.cluster.namespaces.remove(&key.1);
                }
                declared
            }
            (Kind::Pods, Some(Object::Pod(mut pod))) => {
                // As linked: an unchanged pod stays no change.
                pod.service_account.labels = self.service_account_labels(&pod);
                self.pods.upsert(&mut self.cluster.pods, key, pod, pod_key)
            }
            (Kind::Pods, None) => self.pods.remove(&mut self.cluster.pods, &key, pod_key),
            (Kind::NetworkPolicies, Some(Object::Policy(np))) => {
                self.policies.upsert(&mut self.cluster.policies, key, np, policy_key)
            }
            (Kind::NetworkPolicies, None) => self.policies.remove(&mut self.cluster.policies, &key, policy_key),
            (Kind::Nodes, Some(Object::Node(node))) => self.nodes.upsert(&mut self.cluster.nodes, key, node, node_key),
            (Kind::Nodes, None) => self.nodes.remove(&mut self.cluster.nodes, &key, node_key),
            (Kind::ServiceAccounts, Some(Object::ServiceAccount(sa))) => {
                self.relink |=
                    self.service_accounts.upsert(&mut self.cluster.service_accounts, key, sa, service_account_key);
                return false;
            }
            (Kind::ServiceAccounts, None) => {
                self.relink |=
                    self.service_accounts.remove(&mut self.cluster.service_accounts, &key, service_account_key);
                return false;
            }
            (Kind::Tiers, Some(Object::Tier(tier))) => self.tiers.upsert(&mut self.cluster.tiers, key, tier, tier_key),
            (Kind::Tiers, None) => self.tiers.remove(&mut self.cluster.tiers, &key, tier_key),
            (kind, Some(Object::Tiered(p))) if kind.tiered() == Some(p.kind) => {
                self.tiered.upsert(&mut self.cluster.tiered, (kind, key), p, tiered_key)
            }
            (kind, Some(other)) => {
                debug_assert!(false, "{kind:?} watcher sent {other:?}");
                false
            }
            // Every other kind left is an ordered one.
            (kind, None) => self.tiered.remove(&mut self.cluster.tiered, &(kind, key), tiered_key),
        };
        if changed {
            // Nodes matter only to ordered policies, which are rendered whole.
            if matches!(kind, Kind::Namespaces | Kind::Pods) {
                self.pods_version += 1;
            }
            self.stale_namespaces |= namespaces_may_change;
        }
        changed
    }

    /// Drops the implicit namespaces and adds those still used and not shown.
    fn refresh_implicit(&mut self) {
        for name in std::mem::take(&mut self.implicit) {
            if self.cluster.namespaces.get(&name).is_some_and(|n| !n.declared) {
                self.cluster.namespaces.remove(&name);
            }
        }
        // As `Cluster::add_implicit_namespaces`, without a String per pod:
        // this runs after every pod change.
        let cluster = &mut self.cluster;
        let used = cluster
            .pods
            .iter()
            .map(|p| &p.namespace)
            .chain(cluster.policies.iter().map(|p| &p.namespace))
            .chain(cluster.tiered.iter().filter_map(|p| p.namespace.as_ref()));
        let missing: std::collections::BTreeSet<&String> =
            used.filter(|ns| !cluster.namespaces.contains_key(ns.as_str())).collect();
        let missing: Vec<String> = missing.into_iter().cloned().collect();
        for name in &missing {
            cluster.namespaces.insert(name.clone(), Namespace::implicit(name.clone()));
        }
        self.implicit = missing;
    }
}

#[cfg(test)]
#[path = "projection_tests.rs"]
mod tests;

//! The desired cluster as the API's watchers describe it, kept current one
//! watch event at a time.
//!
//! Design (model, goals, implementation):
//! - Model: one [`Projection`] holds the model objects of three watched
//!   kinds (Namespaces, Pods, NetworkPolicies), already converted (the API
//!   objects are dropped as soon as they arrive: memory follows the model, not
//!   the API's JSON), and the [`Cluster`] the sync loop renders.
//! - Goals: never expose a partial list. A kind counts as known once its
//!   watcher delivered a whole list (`Init`, `InitApply`..., `InitDone`); until
//!   every kind is known the projection is not [`Projection::ready`] and the
//!   agent applies nothing. A relist (after `410 Gone` or a lost watch) is
//!   buffered and replaces the kind's objects in one step at its `InitDone`, so
//!   objects deleted while the watch was down go away then, and the rules in
//!   place stay until then.
//! - Implementation: each kind's objects sit in the cluster's own lists; a map
//!   from key to position makes an upsert or a delete O(log n)
//!   ([`Keyed`]); namespaces are the cluster's map. A namespace some pod or
//!   policy uses but the API has not (yet) shown is added as implicit at read
//!   time, as a load of files does.

use std::collections::BTreeMap;
use std::time::Instant;

use netpol_model::{Cluster, Namespace, NetworkPolicy, Pod};

/// `(namespace, name)`; `("", name)` for a Namespace.
pub type Key = (String, String);

/// The kinds the agent watches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespaces,
    Pods,
    NetworkPolicies,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Namespaces, Kind::Pods, Kind::NetworkPolicies];

    /// The resource's plural name, as kubectl and RBAC spell it.
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Namespaces => "namespaces",
            Kind::Pods => "pods",
            Kind::NetworkPolicies => "networkpolicies",
        }
    }

    /// The kind's name, as the metrics label objects (`netpol_objects{kind}`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Namespaces => "Namespace",
            Kind::Pods => "Pod",
            Kind::NetworkPolicies => "NetworkPolicy",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One object as the model holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Object {
    Namespace(Namespace),
    Pod(Pod),
    Policy(NetworkPolicy),
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
}

/// A kind's objects in one of the cluster's lists, by key.
#[derive(Debug, Default)]
struct Keyed {
    position: BTreeMap<Key, usize>,
}

impl Keyed {
    /// Inserts or replaces `item` under `key` in `list`; true when it changed.
    fn upsert<T: PartialEq>(&mut self, list: &mut Vec<T>, key: Key, item: T, key_of: impl Fn(&T) -> Key) -> bool {
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
    fn remove<T>(&mut self, list: &mut Vec<T>, key: &Key, key_of: impl Fn(&T) -> Key) -> bool {
        let Some(at) = self.position.remove(key) else { return false };
        list.swap_remove(at);
        if let Some(moved) = list.get(at) {
            self.position.insert(key_of(moved), at);
        }
        true
    }

    fn keys(&self) -> Vec<Key> {
        self.position.keys().cloned().collect()
    }
}

fn pod_key(p: &Pod) -> Key {
    (p.namespace.clone(), p.name.clone())
}

fn policy_key(p: &NetworkPolicy) -> Key {
    (p.namespace.clone(), p.name.clone())
}

/// The watched state, converted, and the cluster built from it.
#[derive(Debug, Default)]
pub struct Projection {
    cluster: Cluster,
    pods: Keyed,
    policies: Keyed,
    /// Namespaces added as implicit (used, not shown by the API).
    implicit: Vec<String>,
    /// Per kind: a whole list was delivered at least once.
    known: [bool; 3],
    /// Per kind: a relist in progress, buffered until its `InitDone`.
    relist: [Option<BTreeMap<Key, Object>>; 3],
    /// Bumped whenever a pod or namespace changes ([`netpol_agent::Snapshot::pods_version`]).
    pods_version: u64,
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
        let changed = match change {
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
        };
        if changed {
            self.changed_at.get_or_insert(at);
        }
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

    /// Sets (`Some`) or removes (`None`) one object; true when it changed.
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
            (Kind::Pods, Some(Object::Pod(pod))) => self.pods.upsert(&mut self.cluster.pods, key, pod, pod_key),
            (Kind::Pods, None) => self.pods.remove(&mut self.cluster.pods, &key, pod_key),
            (Kind::NetworkPolicies, Some(Object::Policy(np))) => {
                self.policies.upsert(&mut self.cluster.policies, key, np, policy_key)
            }
            (Kind::NetworkPolicies, None) => self.policies.remove(&mut self.cluster.policies, &key, policy_key),
            (kind, Some(other)) => {
                debug_assert!(false, "{kind:?} watcher sent {other:?}");
                false
            }
        };
        if changed {
            if kind != Kind::NetworkPolicies {
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
        let used = cluster.pods.iter().map(|p| &p.namespace).chain(cluster.policies.iter().map(|p| &p.namespace));
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
mod tests {
    use super::*;
    use netpol_testkit::{namespace, pod, policy};

    fn at() -> Instant {
        Instant::now()
    }

    fn pod_obj(ns: &str, name: &str, ip: &str) -> (Key, Option<Object>) {
        ((ns.into(), name.into()), Some(Object::Pod(pod(ns, name).ip(ip).build())))
    }

    fn list(p: &mut Projection, kind: Kind, objects: Vec<(Key, Option<Object>)>) {
        p.apply(kind, Change::Init, at());
        for (key, object) in objects {
            p.apply(kind, Change::InitApply(key, object), at());
        }
        p.apply(kind, Change::InitDone, at());
    }

    fn names(p: &mut Projection) -> Vec<String> {
        let mut v: Vec<String> = p.cluster().pods.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect();
        v.sort();
        v
    }

    #[test]
    fn not_ready_until_every_kind_listed_once() {
        let mut p = Projection::new();
        assert_eq!(p.waiting_for(), Kind::ALL);
        list(&mut p, Kind::Pods, vec![pod_obj("a", "x", "10.0.0.1")]);
        list(&mut p, Kind::Namespaces, vec![]);
        assert!(!p.ready());
        assert_eq!(p.waiting_for(), [Kind::NetworkPolicies]);
        list(&mut p, Kind::NetworkPolicies, vec![]);
        assert!(p.ready());
        // An empty first list is still a change: the first apply must happen.
        assert!(p.take_change().is_some());
        // The pod's namespace was never shown: implicit, as in a load of files.
        assert!(p.cluster().namespaces.get("a").is_some_and(|n| !n.declared));
    }

    #[test]
    fn a_relist_is_buffered_and_replaces_the_kind_at_init_done() {
        let mut p = Projection::new();
        for kind in Kind::ALL {
            list(&mut p, kind, vec![]);
        }
        list(&mut p, Kind::Pods, vec![pod_obj("a", "x", "10.0.0.1"), pod_obj("a", "y", "10.0.0.2")]);
        p.take_change();
        let version = p.pods_version();
        // A relist that lost `x` and changed `y`: nothing moves until InitDone.
        p.apply(Kind::Pods, Change::Init, at());
        let (key, object) = pod_obj("a", "y", "10.0.0.9");
        p.apply(Kind::Pods, Change::InitApply(key, object), at());
        assert_eq!(names(&mut p), ["a/x", "a/y"]);
        assert!(p.take_change().is_none());
        p.apply(Kind::Pods, Change::InitDone, at());
        assert_eq!(names(&mut p), ["a/y"]);
        assert_eq!(p.cluster().pods[0].ips, ["10.0.0.9".parse::<std::net::IpAddr>().unwrap()]);
        assert!(p.take_change().is_some());
        assert!(p.pods_version() > version);
    }

    #[test]
    fn events_upsert_and_delete_in_any_order_like_a_rebuild() {
        // The same final state through events in two orders equals one list of it.
        let events = vec![
            (Kind::Pods, Change::Apply(("a".into(), "x".into()), pod_obj("a", "x", "10.0.0.1").1)),
            (Kind::Pods, Change::Apply(("a".into(), "y".into()), pod_obj("a", "y", "10.0.0.2").1)),
            (Kind::Pods, Change::Apply(("a".into(), "z".into()), pod_obj("a", "z", "10.0.0.3").1)),
            (Kind::Pods, Change::Delete(("a".into(), "x".into()))),
            (Kind::Pods, Change::Apply(("a".into(), "z".into()), None)),
            (
                Kind::NetworkPolicies,
                Change::Apply(("a".into(), "deny".into()), Some(Object::Policy(policy("a", "deny").build()))),
            ),
            (
                Kind::Namespaces,
                Change::Apply(("".into(), "a".into()), Some(Object::Namespace(namespace("a").label("t", "1").build()))),
            ),
        ];
        let mut forward = Projection::new();
        let mut backward = Projection::new();
        for kind in Kind::ALL {
            list(&mut forward, kind, vec![]);
            list(&mut backward, kind, vec![]);
        }
        for (kind, change) in events.iter().cloned() {
            forward.apply(kind, change, at());
        }
        // Per key the order matters; across keys it does not: apply key groups reversed.
        let mut groups: Vec<Vec<(Kind, Change)>> = Vec::new();
        for (kind, change) in events {
            let key = match &change {
                Change::Apply(k, _) | Change::Delete(k) => k.clone(),
                _ => unreachable!(),
            };
            match groups.iter_mut().find(|g| match &g[0].1 {
                Change::Apply(k, _) | Change::Delete(k) => *k == key && g[0].0 == kind,
                _ => false,
            }) {
                Some(g) => g.push((kind, change)),
                None => groups.push(vec![(kind, change)]),
            }
        }
        for group in groups.into_iter().rev() {
            for (kind, change) in group {
                backward.apply(kind, change, at());
            }
        }
        let mut rebuilt = Projection::new();
        list(&mut rebuilt, Kind::Pods, vec![pod_obj("a", "y", "10.0.0.2")]);
        list(
            &mut rebuilt,
            Kind::NetworkPolicies,
            vec![(("a".into(), "deny".into()), Some(Object::Policy(policy("a", "deny").build())))],
        );
        list(
            &mut rebuilt,
            Kind::Namespaces,
            vec![(("".into(), "a".into()), Some(Object::Namespace(namespace("a").label("t", "1").build())))],
        );
        for p in [&mut forward, &mut backward] {
            assert_eq!(names(p), ["a/y"]);
            assert_eq!(p.cluster().namespaces, rebuilt.cluster().namespaces);
            assert_eq!(p.cluster().policies, rebuilt.cluster().policies);
        }
    }

    #[test]
    fn an_undecodable_object_in_a_relist_keeps_its_last_good_version() {
        let mut p = Projection::new();
        for kind in Kind::ALL {
            list(&mut p, kind, vec![]);
        }
        list(&mut p, Kind::Pods, vec![pod_obj("a", "x", "10.0.0.1"), pod_obj("a", "y", "10.0.0.2")]);
        p.apply(Kind::Pods, Change::Init, at());
        p.apply(Kind::Pods, Change::InitKeep(("a".into(), "x".into())), at());
        p.apply(Kind::Pods, Change::InitKeep(("a".into(), "never-seen".into())), at());
        p.apply(Kind::Pods, Change::InitDone, at());
        // x stays (undecodable now, good before); y was not listed: deleted.
        assert_eq!(names(&mut p), ["a/x"]);
    }

    #[test]
    fn an_unchanged_object_is_no_change() {
        let mut p = Projection::new();
        for kind in Kind::ALL {
            list(&mut p, kind, vec![]);
        }
        let (key, object) = pod_obj("a", "x", "10.0.0.1");
        p.apply(Kind::Pods, Change::Apply(key.clone(), object.clone()), at());
        assert!(p.take_change().is_some());
        let version = p.pods_version();
        p.apply(Kind::Pods, Change::Apply(key, object), at());
        assert!(p.take_change().is_none());
        assert_eq!(p.pods_version(), version);
    }

    /// The projection's namespaces against a fresh projection listing the same objects.
    fn same_namespaces_as_a_rebuild(p: &mut Projection, step: &str) {
        let objects = |kind: Kind, p: &mut Projection| -> Vec<(Key, Option<Object>)> {
            let c = p.cluster();
            match kind {
                Kind::Namespaces => c
                    .namespaces
                    .values()
                    .filter(|n| n.declared)
                    .map(|n| ((String::new(), n.name.clone()), Some(Object::Namespace(n.clone()))))
                    .collect(),
                Kind::Pods => c.pods.iter().map(|x| (pod_key(x), Some(Object::Pod(x.clone())))).collect(),
                Kind::NetworkPolicies => {
                    c.policies.iter().map(|x| (policy_key(x), Some(Object::Policy(x.clone())))).collect()
                }
            }
        };
        let mut rebuilt = Projection::new();
        for kind in Kind::ALL {
            list(&mut rebuilt, kind, objects(kind, p));
        }
        assert_eq!(p.cluster().namespaces, rebuilt.cluster().namespaces, "after {step}");
    }

    #[test]
    fn implicit_namespaces_follow_pods_and_policies_like_a_rebuild() {
        // Issue 10: implicit namespaces are looked at again only when an object
        // enters or leaves one; a pod changed in place (at 100,000 pods, most
        // changes) no longer rescans every pod and policy. Same result as a rebuild.
        let mut p = Projection::new();
        for kind in Kind::ALL {
            list(&mut p, kind, vec![]);
        }
        let ns = |name: &str| ((String::new(), name.to_string()), namespace(name).label("team", "x").build());
        let deny = |ns: &str| ((ns.to_string(), "deny".to_string()), Object::Policy(policy(ns, "deny").build()));
        let relabelled = Object::Pod(pod("a", "x").ip("10.0.0.1").label("v", "2").build());
        let put = |(key, object): (Key, Option<Object>)| Change::Apply(key, object);
        let steps: Vec<(&str, Kind, Change)> = vec![
            ("a pod in a new namespace", Kind::Pods, put(pod_obj("a", "x", "10.0.0.1"))),
            ("a policy in another", Kind::NetworkPolicies, Change::Apply(deny("b").0, Some(deny("b").1))),
            ("the pod relabelled in place", Kind::Pods, Change::Apply(("a".into(), "x".into()), Some(relabelled))),
            ("a second pod in a third namespace", Kind::Pods, put(pod_obj("c", "y", "10.0.0.2"))),
            ("that pod finished", Kind::Pods, Change::Apply(("c".into(), "y".into()), None)),
            (
                "the first namespace declared",
                Kind::Namespaces,
                Change::Apply(ns("a").0, Some(Object::Namespace(ns("a").1))),
            ),
            ("its pod deleted", Kind::Pods, Change::Delete(("a".into(), "x".into()))),
            ("the declared namespace deleted", Kind::Namespaces, Change::Delete(ns("a").0)),
            (
                "a policy in a declared-then-deleted namespace",
                Kind::NetworkPolicies,
                Change::Apply(deny("a").0, Some(deny("a").1)),
            ),
            ("the other policy deleted", Kind::NetworkPolicies, Change::Delete(deny("b").0)),
        ];
        for (step, kind, change) in steps {
            p.apply(kind, change, at());
            same_namespaces_as_a_rebuild(&mut p, step);
        }
        let names: Vec<&String> = p.cluster().namespaces.keys().collect();
        assert_eq!(names, ["a"], "only the last policy's namespace is left, implicit");
        assert!(!p.cluster().namespaces["a"].declared);
    }

    #[test]
    fn a_declared_namespace_replaces_the_implicit_one_and_its_deletion_restores_it() {
        let mut p = Projection::new();
        for kind in Kind::ALL {
            list(&mut p, kind, vec![]);
        }
        let (key, object) = pod_obj("a", "x", "10.0.0.1");
        p.apply(Kind::Pods, Change::Apply(key, object), at());
        assert!(!p.cluster().namespaces["a"].declared);
        let ns = Object::Namespace(namespace("a").label("team", "x").build());
        p.apply(Kind::Namespaces, Change::Apply(("".into(), "a".into()), Some(ns)), at());
        assert!(p.cluster().namespaces["a"].declared);
        assert_eq!(p.count(Kind::Namespaces), 1);
        p.apply(Kind::Namespaces, Change::Delete(("".into(), "a".into())), at());
        assert!(!p.cluster().namespaces["a"].declared);
        assert_eq!(p.count(Kind::Namespaces), 0);
    }
}

//! What changed between two compiled clusters: for every ordered pair of
//! endpoints present in both, the connections gained and lost over the whole
//! port space, and the policy objects that could have caused each change.
//!
//! Design. Model: endpoints are matched by `namespace/name`; an endpoint on one
//! side only is listed as added or removed, and its pairs are not connection
//! changes (there is nothing to compare them with). Policies are matched by
//! `namespace/name` too and compared by spec (`podSelector`, `policyTypes`,
//! `ingress`, `egress`; metadata and origin do not count).
//! Goals: cost follows classes, not pods squared: endpoints are grouped by
//! their (OLD class, NEW class) pair, each pair of such groups is compared once
//! with [`Compiled::class_connections`] on both sides, and only groups whose
//! connections differ are expanded to their pods. The pod-level exceptions (a
//! pod to itself, a hostNetwork pod to a pod of its own node) are checked pair by
//! pair, as they are few.
//! Implementation: pure; both sides must be built with the same [`Options`](crate::Options).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use netpol_model::{Direction, NetworkPolicy, Origin, PodKey, PortSet};

use crate::compile::{ClassId, Compiled, PodId};

/// How a policy object differs between OLD and NEW.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyChangeKind {
    Added,
    Removed,
    /// Present on both sides with a different spec.
    Changed,
}

impl PolicyChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyChangeKind::Added => "added",
            PolicyChangeKind::Removed => "removed",
            PolicyChangeKind::Changed => "changed",
        }
    }
}

/// A policy object added, removed or changed, with where each side declared it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyChange {
    pub namespace: String,
    pub name: String,
    pub kind: PolicyChangeKind,
    pub old_origin: Option<Origin>,
    pub new_origin: Option<Origin>,
}

impl PolicyChange {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// One ordered pair of endpoints whose allowed connections changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairChange {
    pub src: PodKey,
    pub dst: PodKey,
    /// Every allowed (protocol, port) in OLD and in NEW.
    pub old: PortSet,
    pub new: PortSet,
    /// `new - old` and `old - new`; at least one is not empty.
    pub added: PortSet,
    pub removed: PortSet,
    /// Indices into [`Diff::policies`]: the changed policies that select `src`
    /// for egress or `dst` for ingress, in OLD or in NEW (what could have caused
    /// it). Empty when no policy changed there: labels or namespaces did.
    pub causes: Vec<usize>,
}

/// The difference between two clusters' all-pairs connections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Sorted by (src, dst).
    pub pairs: Vec<PairChange>,
    /// Endpoints only in NEW, and only in OLD, sorted.
    pub added_endpoints: Vec<PodKey>,
    pub removed_endpoints: Vec<PodKey>,
    /// Sorted by (namespace, name).
    pub policies: Vec<PolicyChange>,
}

impl Diff {
    /// True when OLD and NEW allow the same connections between the same endpoints.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty() && self.added_endpoints.is_empty() && self.removed_endpoints.is_empty()
    }

    /// Whether some pair gained a connection.
    pub fn has_added(&self) -> bool {
        self.pairs.iter().any(|p| !p.added.is_empty())
    }

    /// Whether some pair lost a connection.
    pub fn has_removed(&self) -> bool {
        self.pairs.iter().any(|p| !p.removed.is_empty())
    }
}

/// An endpoint present on both sides.
struct Common {
    key: PodKey,
    old: PodId,
    new: PodId,
}

impl Compiled {
    /// What changed from `self` (OLD) to `new`. See the module documentation.
    pub fn diff(&self, new: &Compiled) -> Diff {
        let old = self;
        let policies = policy_changes(old, new);
        let changed: HashMap<(&str, &str), usize> =
            policies.iter().enumerate().map(|(i, p)| ((p.namespace.as_str(), p.name.as_str()), i)).collect();

        let mut common: Vec<Common> = Vec::new();
        let mut removed_endpoints = Vec::new();
        for (id, pod) in old.pods() {
            let key = pod.key();
            match new.pod_id(&key) {
                Some(n) => common.push(Common { key, old: id, new: n }),
                None => removed_endpoints.push(key),
            }
        }
        let mut added_endpoints: Vec<PodKey> =
            new.pods().map(|(_, p)| p.key()).filter(|k| old.pod_id(k).is_none()).collect();
        common.sort_by(|a, b| a.key.cmp(&b.key));
        removed_endpoints.sort();
        added_endpoints.sort();

        // Endpoints grouped by (OLD class, NEW class): one group behaves alike on both sides.
        let mut group_of: HashMap<(ClassId, ClassId), usize> = HashMap::new();
        let mut groups: Vec<((ClassId, ClassId), Vec<usize>)> = Vec::new();
        for (i, c) in common.iter().enumerate() {
            let classes = (old.class_of(c.old).expect("live pod"), new.class_of(c.new).expect("live pod"));
            let g = *group_of.entry(classes).or_insert_with(|| {
                groups.push((classes, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(i);
        }

        let mut out: BTreeMap<(usize, usize), PairChange> = BTreeMap::new();
        let mut old_cache: HashMap<(ClassId, ClassId), PortSet> = HashMap::new();
        let mut new_cache: HashMap<(ClassId, ClassId), PortSet> = HashMap::new();
        let pair = |i: usize, j: usize, causes: &[usize]| -> Option<PairChange> {
            let (s, d) = (&common[i], &common[j]);
            let before = old.connections(s.old, d.old);
            let after = new.connections(s.new, d.new);
            (before != after).then(|| PairChange {
                src: s.key.clone(),
                dst: d.key.clone(),
                added: after.difference(&before),
                removed: before.difference(&after),
                old: before,
                new: after,
                causes: causes.to_vec(),
            })
        };
        for ((os, ns), srcs) in &groups {
            for ((od, nd), dsts) in &groups {
                let before = old_cache.entry((*os, *od)).or_insert_with(|| old.class_connections(*os, *od));
                let after = new_cache.entry((*ns, *nd)).or_insert_with(|| new.class_connections(*ns, *nd));
                if before == after {
                    continue;
                }
                let causes = causes(old, new, &changed, (*os, *od), (*ns, *nd));
                for &i in srcs {
                    for &j in dsts {
                        if let Some(change) = pair(i, j, &causes) {
                            out.insert((i, j), change);
                        }
                    }
                }
            }
        }

        // The pod-level exceptions, whose classes may compare equal.
        let index: HashMap<&PodKey, usize> = common.iter().enumerate().map(|(i, c)| (&c.key, i)).collect();
        let mut exceptions: BTreeSet<(usize, usize)> = (0..common.len()).map(|i| (i, i)).collect();
        for side in [old, new] {
            for (h, pods) in side.own_node_pairs() {
                let Some(&i) = side.pod(h).and_then(|p| index.get(&p.key())) else { continue };
                exceptions.extend(
                    pods.iter().filter_map(|p| side.pod(*p).and_then(|p| index.get(&p.key())).map(|&j| (i, j))),
                );
            }
        }
        for (i, j) in exceptions {
            if out.contains_key(&(i, j)) {
                continue;
            }
            let (s, d) = (&common[i], &common[j]);
            let classes_old = (old.class_of(s.old).expect("live pod"), old.class_of(d.old).expect("live pod"));
            let classes_new = (new.class_of(s.new).expect("live pod"), new.class_of(d.new).expect("live pod"));
            if let Some(mut change) = pair(i, j, &[]) {
                change.causes = causes(old, new, &changed, classes_old, classes_new);
                out.insert((i, j), change);
            }
        }

        Diff { pairs: out.into_values().collect(), added_endpoints, removed_endpoints, policies }
    }

    /// The policies isolating class `subject` for `direction`.
    fn isolating_policies(&self, direction: Direction, subject: ClassId) -> impl Iterator<Item = &NetworkPolicy> {
        self.class(subject)
            .subject_of
            .iter()
            .filter_map(move |&p| self.policies[p].as_ref())
            .filter(move |p| p.rules(direction).is_some())
            .map(|p| &p.policy)
    }
}

/// The changed policies (indices into `changed`'s list) that select the source
/// for egress or the destination for ingress, in OLD or in NEW; sorted.
fn causes(
    old: &Compiled,
    new: &Compiled,
    changed: &HashMap<(&str, &str), usize>,
    (os, od): (ClassId, ClassId),
    (ns, nd): (ClassId, ClassId),
) -> Vec<usize> {
    let mut out = BTreeSet::new();
    for (side, s, d) in [(old, os, od), (new, ns, nd)] {
        let policies =
            side.isolating_policies(Direction::Egress, s).chain(side.isolating_policies(Direction::Ingress, d));
        for p in policies {
            if let Some(&i) = changed.get(&(p.namespace.as_str(), p.name.as_str())) {
                out.insert(i);
            }
        }
    }
    out.into_iter().collect()
}

/// Policies added, removed, or changed in spec, sorted by (namespace, name).
fn policy_changes(old: &Compiled, new: &Compiled) -> Vec<PolicyChange> {
    let by_key = |c: &Compiled| -> BTreeMap<(String, String), NetworkPolicy> {
        c.policies
            .iter()
            .flatten()
            .map(|p| ((p.policy.namespace.clone(), p.policy.name.clone()), p.policy.clone()))
            .collect()
    };
    let (before, after) = (by_key(old), by_key(new));
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let (a, b) = (before.get(key), after.get(key));
        let kind = match (a, b) {
            (None, Some(_)) => PolicyChangeKind::Added,
            (Some(_), None) => PolicyChangeKind::Removed,
            (Some(a), Some(b)) if !same_spec(a, b) => PolicyChangeKind::Changed,
            _ => continue,
        };
        out.push(PolicyChange {
            namespace: key.0.clone(),
            name: key.1.clone(),
            kind,
            old_origin: a.and_then(|p| p.origin.clone()),
            new_origin: b.and_then(|p| p.origin.clone()),
        });
    }
    out
}

/// Whether two policies select and allow the same (origins and metadata aside).
fn same_spec(a: &NetworkPolicy, b: &NetworkPolicy) -> bool {
    let rules = |p: &NetworkPolicy| {
        let strip = |rules: &[netpol_model::Rule]| -> Vec<netpol_model::Rule> {
            rules.iter().map(|r| netpol_model::Rule { origin: None, ..r.clone() }).collect()
        };
        (strip(&p.ingress), strip(&p.egress))
    };
    a.pod_selector == b.pod_selector && a.policy_types == b.policy_types && rules(a) == rules(b)
}

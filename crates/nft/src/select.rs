//! Which of the node's pods each policy isolates, and the subject groups they
//! form. Pure; the renderer's first step, kept by [`crate::RenderCache`] while
//! the pods and what the policies select stay the same.
//!
//! A pod's *subject key* for a direction is the list of policies selecting it
//! that affect the direction (sorted by namespace and name) and, for ingress,
//! the numbers the pod declares for every named port those policies' ingress
//! rules use. Pods with one key share a chain, named by a hash of the key.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use netpol_model::{Direction, LabelSelector, NetworkPolicy, Pod, PortRef, Protocol};

use crate::name::{fnv64, identifier};

/// What of a policy the selection depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Selects {
    namespace: String,
    name: String,
    pod_selector: LabelSelector,
    ingress: bool,
    egress: bool,
    /// Named ports of its ingress rules, sorted.
    named: Vec<(String, Protocol)>,
}

impl Selects {
    fn of(policy: &NetworkPolicy) -> Selects {
        Selects {
            namespace: policy.namespace.clone(),
            name: policy.name.clone(),
            pod_selector: policy.pod_selector.clone(),
            ingress: policy.affects(Direction::Ingress),
            egress: policy.affects(Direction::Egress),
            named: named_ports(policy).into_iter().map(|(n, p)| (n.to_string(), p)).collect(),
        }
    }

    fn same(&self, policy: &NetworkPolicy) -> bool {
        self.namespace == policy.namespace
            && self.name == policy.name
            && self.pod_selector == policy.pod_selector
            && self.ingress == policy.affects(Direction::Ingress)
            && self.egress == policy.affects(Direction::Egress)
            && self.named.iter().map(|(n, p)| (n.as_str(), *p)).eq(named_ports(policy))
    }
}

/// The (name, protocol) of every named port in a policy's ingress rules, sorted.
fn named_ports(policy: &NetworkPolicy) -> BTreeSet<(&str, Protocol)> {
    policy
        .rules(Direction::Ingress)
        .iter()
        .flat_map(|r| &r.ports)
        .filter_map(|pp| match &pp.port {
            Some(PortRef::Name(n)) => Some((n.as_str(), pp.protocol)),
            _ => None,
        })
        .collect()
}

/// One subject group: its direction, its policies (positions in the sorted
/// policy list) and a member (position in the sorted local pods).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupDef {
    /// The subject key in full (the name is a hash of it).
    pub key: String,
    pub direction: Direction,
    pub policies: Vec<usize>,
    pub representative: usize,
}

/// The isolated local pods and their groups.
#[derive(Clone, Debug)]
pub(crate) struct Selection {
    /// What the policies looked like, to know when this still holds.
    selects: Vec<Selects>,
    /// (local pod position, direction, chain name), by pod then direction.
    pub chain_of: Vec<(usize, Direction, String)>,
    /// Chain name -> group.
    pub groups: BTreeMap<String, GroupDef>,
}

impl Selection {
    /// Whether this selection holds for `policies` (sorted) over the same local pods.
    pub fn holds_for(&self, policies: &[&NetworkPolicy]) -> bool {
        self.selects.len() == policies.len() && self.selects.iter().zip(policies).all(|(s, p)| s.same(p))
    }
}

/// `subjects/DIRECTION/HASH`: HASH a 64-bit FNV-1a of the subject key (and of
/// `salt`, when a different key took the plain name first).
fn chain_name(direction: Direction, key: &str, salt: u32) -> String {
    let hash = match salt {
        0 => fnv64(key.as_bytes()),
        n => fnv64(format!("{key}#{n}").as_bytes()),
    };
    identifier(&["subjects", direction.rules_key(), &format!("{hash:016x}")])
}

/// The chain name of `key`. Another key hashing to the same name (FNV is no
/// cryptographic hash: policy names could be chosen to collide) makes the
/// later key, in pod order, take a salted name of its own.
fn unique_name(groups: &BTreeMap<String, GroupDef>, direction: Direction, key: &str) -> String {
    let mut salt = 0u32;
    loop {
        let name = chain_name(direction, key, salt);
        match groups.get(&name) {
            Some(group) if group.key != key => salt += 1,
            _ => return name,
        }
    }
}

/// [`unique_name`], for the groups of pods under ordered policies.
pub(crate) fn unique_name_for(groups: &BTreeMap<String, GroupDef>, direction: Direction, key: &str) -> String {
    unique_name(groups, direction, key)
}

/// Selects: `policies` sorted by (namespace, name), `local` sorted by key.
pub(crate) fn select(policies: &[&NetworkPolicy], local: &[&Pod]) -> Selection {
    let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, policy) in policies.iter().enumerate() {
        by_namespace.entry(policy.namespace.as_str()).or_default().push(i);
    }
    // (direction, policies) -> the key text and the named ports to resolve per pod.
    type Memo<'p> = HashMap<(Direction, Vec<usize>), (String, BTreeSet<(&'p str, Protocol)>)>;
    let mut memo: Memo = HashMap::new();
    let mut chain_of = Vec::new();
    let mut groups = BTreeMap::new();
    for (at, pod) in local.iter().enumerate() {
        let selecting: Vec<usize> = by_namespace
            .get(pod.namespace.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&i| policies[i].selects(*pod))
            .collect();
        for direction in Direction::ALL {
            let by: Vec<usize> = selecting.iter().copied().filter(|&i| policies[i].affects(direction)).collect();
            if by.is_empty() {
                continue;
            }
            let (base, named) = memo.entry((direction, by.clone())).or_insert_with(|| {
                let mut key = format!("{}|", direction.rules_key());
                for &i in &by {
                    key.push_str(&policies[i].namespace);
                    key.push('/');
                    key.push_str(&policies[i].name);
                    key.push(',');
                }
                let named = match direction {
                    Direction::Ingress => by.iter().flat_map(|&i| named_ports(policies[i])).collect(),
                    Direction::Egress => BTreeSet::new(),
                };
                (key, named)
            });
            let mut key = base.clone();
            for (name, protocol) in named.iter() {
                let mut numbers: Vec<u16> = pod.named_ports(name, *protocol).collect();
                numbers.sort_unstable();
                numbers.dedup();
                key.push_str(&format!("|{name}/{protocol}={numbers:?}"));
            }
            let name = unique_name(&groups, direction, &key);
            chain_of.push((at, direction, name.clone()));
            groups.entry(name).or_insert(GroupDef { key, direction, policies: by, representative: at });
        }
    }
    Selection { selects: policies.iter().map(|p| Selects::of(p)).collect(), chain_of, groups }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colliding_name_gets_a_salted_one() {
        let key = "ingress|x/a,";
        let plain = chain_name(Direction::Ingress, key, 0);
        let mut groups = BTreeMap::new();
        assert_eq!(unique_name(&groups, Direction::Ingress, key), plain);
        // Pretend another key already holds this key's plain name.
        let other =
            GroupDef { key: "ingress|y/b,".into(), direction: Direction::Ingress, policies: vec![], representative: 0 };
        groups.insert(plain.clone(), other);
        let salted = unique_name(&groups, Direction::Ingress, key);
        assert_ne!(salted, plain);
        assert_eq!(salted, chain_name(Direction::Ingress, key, 1));
        // Once the key holds its salted name, it finds it again.
        let mine = GroupDef { key: key.into(), direction: Direction::Ingress, policies: vec![], representative: 0 };
        groups.insert(salted.clone(), mine);
        assert_eq!(unique_name(&groups, Direction::Ingress, key), salted);
    }
}

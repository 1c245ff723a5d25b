//! The cluster of a whole folder, kept up to date one file at a time.
//!
//! Each file contributes the objects of its last clean load. Across files the
//! merge is the one a single load of all of them would do: declared namespaces
//! over implicit ones, and for pods, services and policies with the same key
//! the one of the file latest in path order wins. A change costs the objects of
//! the changed file, not the size of the cluster: every key remembers which
//! files hold it and where its winner sits in the merged lists. The order of
//! objects in those lists is unspecified (everything downstream sorts).
//!
//! A pod takes the labels of its ServiceAccount, which may be in another
//! file: once the files changed, [`Merged::link`] relinks every pod (O(pods),
//! once per read, and only when some file's pods or ServiceAccounts changed).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use netpol_model::{
    Cluster, Namespace, NetworkPolicy, Node, Pod, Service, ServiceAccount, Tier, TieredKind, TieredPolicy,
};

/// Where a key's winner is in the merged list, and which files hold the key.
#[derive(Debug)]
struct Index<K> {
    position: BTreeMap<K, usize>,
    sources: BTreeMap<K, BTreeSet<PathBuf>>,
}

impl<K> Default for Index<K> {
    fn default() -> Self {
        Index { position: BTreeMap::new(), sources: BTreeMap::new() }
    }
}

type NamedId = (String, String);

/// A Pod and a workload of the same name are the same endpoint (as in one load).
fn pod_id(p: &Pod) -> NamedId {
    (p.namespace.clone(), p.name.clone())
}

fn service_id(s: &Service) -> NamedId {
    (s.namespace.clone(), s.name.clone())
}

fn policy_id(p: &NetworkPolicy) -> NamedId {
    (p.namespace.clone(), p.name.clone())
}

fn service_account_id(sa: &ServiceAccount) -> NamedId {
    (sa.namespace.clone(), sa.name.clone())
}

fn node_id(n: &Node) -> String {
    n.name.clone()
}

fn tier_id(t: &Tier) -> String {
    t.name.clone()
}

fn tiered_id(p: &TieredPolicy) -> (TieredKind, Option<String>, String) {
    (p.kind, p.namespace.clone(), p.name.clone())
}

/// The merged cluster and its indexes.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    cluster: Cluster,
    /// Changes whenever a pod or namespace of `cluster` changes.
    pods_version: u64,
    pods: Index<NamedId>,
    services: Index<NamedId>,
    policies: Index<NamedId>,
    nodes: Index<String>,
    service_accounts: Index<NamedId>,
    tiers: Index<String>,
    tiered: Index<(TieredKind, Option<String>, String)>,
    /// The files that declare each namespace.
    declared: BTreeMap<String, BTreeSet<PathBuf>>,
    /// How many files use each namespace without declaring it.
    implicit: BTreeMap<String, usize>,
    /// Some file's pods or ServiceAccounts changed since the last [`Merged::link`].
    relink: bool,
}

impl Merged {
    /// The merged cluster; [`Merged::link`] first, after any change.
    pub(crate) fn cluster(&self) -> &Cluster {
        debug_assert!(!self.relink, "read before Merged::link");
        &self.cluster
    }

    pub(crate) fn pods_version(&self) -> u64 {
        debug_assert!(!self.relink, "read before Merged::link");
        self.pods_version
    }

    /// Gives every pod the labels of its ServiceAccount in the merged cluster
    /// (as one load of every file does), if pods or ServiceAccounts changed;
    /// a pod that changed so is a change of pods.
    pub(crate) fn link(&mut self) {
        if std::mem::take(&mut self.relink) && self.cluster.link_service_accounts() {
            self.pods_version += 1;
        }
    }

    /// The file at `path` now contributes `new` instead of `old`. `of` gives
    /// a file's contribution (already `new` for `path`).
    pub(crate) fn replace<'a>(
        &mut self,
        path: &Path,
        old: Option<&Cluster>,
        new: Option<&Cluster>,
        of: impl Fn(&Path) -> Option<&'a Cluster>,
    ) {
        let empty = Cluster::default();
        let (old, new) = (old.unwrap_or(&empty), new.unwrap_or(&empty));
        if old.pods != new.pods || old.namespaces != new.namespaces {
            self.pods_version += 1;
        }
        // A file's pods are patched in as the file gives them, without the labels
        // of ServiceAccounts other files declare: relink whenever it has pods,
        // even unchanged ones (found by `whole_listings_merge_like_one_load`).
        self.relink |= !old.pods.is_empty() || !new.pods.is_empty() || old.service_accounts != new.service_accounts;
        patch(&mut self.cluster.pods, &mut self.pods, path, &old.pods, &new.pods, pod_id, |p| {
            of(p).map(|c| &c.pods[..])
        });
        patch(&mut self.cluster.services, &mut self.services, path, &old.services, &new.services, service_id, |p| {
            of(p).map(|c| &c.services[..])
        });
        patch(&mut self.cluster.policies, &mut self.policies, path, &old.policies, &new.policies, policy_id, |p| {
            of(p).map(|c| &c.policies[..])
        });
        patch(&mut self.cluster.nodes, &mut self.nodes, path, &old.nodes, &new.nodes, node_id, |p| {
            of(p).map(|c| &c.nodes[..])
        });
        patch(
            &mut self.cluster.service_accounts,
            &mut self.service_accounts,
            path,
            &old.service_accounts,
            &new.service_accounts,
            service_account_id,
            |p| of(p).map(|c| &c.service_accounts[..]),
        );
        patch(&mut self.cluster.tiers, &mut self.tiers, path, &old.tiers, &new.tiers, tier_id, |p| {
            of(p).map(|c| &c.tiers[..])
        });
        patch(&mut self.cluster.tiered, &mut self.tiered, path, &old.tiered, &new.tiered, tiered_id, |p| {
            of(p).map(|c| &c.tiered[..])
        });
        if old.namespaces != new.namespaces {
            self.patch_namespaces(path, old, new, |p| of(p).map(|c| &c.namespaces));
        }
    }

    /// As one load of every file: the namespace declared by the file latest in
    /// path order wins; an implicit one (only its name label) exists while any
    /// file uses the namespace and none declares it. Costs the namespaces of
    /// the changed file only.
    fn patch_namespaces<'a>(
        &mut self,
        path: &Path,
        old: &Cluster,
        new: &Cluster,
        of: impl Fn(&Path) -> Option<&'a BTreeMap<String, Namespace>>,
    ) {
        let names: BTreeSet<&String> = old.namespaces.keys().chain(new.namespaces.keys()).collect();
        for name in names {
            let (was, now) = (old.namespaces.get(name), new.namespaces.get(name));
            if was == now {
                continue;
            }
            if let Some(ns) = was {
                if ns.declared {
                    if let Some(files) = self.declared.get_mut(name) {
                        files.remove(path);
                        if files.is_empty() {
                            self.declared.remove(name);
                        }
                    }
                } else if let Some(n) = self.implicit.get_mut(name) {
                    *n -= 1;
                    if *n == 0 {
                        self.implicit.remove(name);
                    }
                }
            }
            if let Some(ns) = now {
                if ns.declared {
                    self.declared.entry(name.clone()).or_default().insert(path.to_path_buf());
                } else {
                    *self.implicit.entry(name.clone()).or_default() += 1;
                }
            }
            let declared = self.declared.get(name).and_then(|files| files.last()).and_then(|file| {
                if file == path {
                    now
                } else {
                    of(file).and_then(|namespaces| namespaces.get(name))
                }
            });
            let winner = declared
                .cloned()
                .or_else(|| self.implicit.contains_key(name).then(|| Namespace::implicit(name.clone())));
            match winner {
                Some(ns) => {
                    self.cluster.namespaces.insert(name.clone(), ns);
                }
                None => {
                    self.cluster.namespaces.remove(name);
                }
            }
        }
    }
}

/// Replaces the items one file contributes to a merged list.
fn patch<'a, T: Clone + 'a, K: Ord + Clone>(
    items: &mut Vec<T>,
    index: &mut Index<K>,
    path: &Path,
    old: &[T],
    new: &'a [T],
    key: impl Fn(&T) -> K,
    items_of: impl Fn(&Path) -> Option<&'a [T]>,
) {
    let mut affected = BTreeSet::new();
    for item in old {
        let k = key(item);
        if let Some(files) = index.sources.get_mut(&k) {
            files.remove(path);
            if files.is_empty() {
                index.sources.remove(&k);
            }
        }
        affected.insert(k);
    }
    // Within one file, a later object with the same key wins.
    let mut newest: BTreeMap<K, &T> = BTreeMap::new();
    for item in new {
        let k = key(item);
        index.sources.entry(k.clone()).or_default().insert(path.to_path_buf());
        newest.insert(k.clone(), item);
        affected.insert(k);
    }
    for k in affected {
        let winner = match index.sources.get(&k).and_then(|files| files.last()) {
            None => None,
            Some(file) if file == path => newest.get(&k).copied(),
            Some(file) => items_of(file).and_then(|items| items.iter().rev().find(|item| key(item) == k)),
        };
        match (winner, index.position.get(&k).copied()) {
            (Some(item), Some(i)) => items[i] = item.clone(),
            (Some(item), None) => {
                index.position.insert(k, items.len());
                items.push(item.clone());
            }
            (None, Some(i)) => {
                index.position.remove(&k);
                items.swap_remove(i);
                if let Some(moved) = items.get(i) {
                    index.position.insert(key(moved), i);
                }
            }
            (None, None) => {}
        }
    }
}

//! Memo of earlier renders, so that rendering again after a change costs what
//! changed. Pure: no I/O, only remembered values.
//!
//! What a subject group renders to (its chain and sets) depends on its
//! policies, on the numbers its pods give the named ports those policies use
//! (part of the group's name), and on every pod and namespace (peers, named
//! ports of peers). So a group is reused only when the pods, the namespaces and
//! the render options are those of the last render and the group's policies
//! are equal to the ones it was rendered from. Anything else renders afresh.
//!
//! "The same pods" is the caller's word: a *pods version* that it changes
//! whenever a pod or namespace changes (as a resourceVersion would), because
//! comparing or even hashing 10,000 pods costs more than the render it saves.
//! The agent's folder keeps that version. With a correct version,
//! `render_cached` gives what `render` gives (a proptest checks it).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use netpol_model::{NetworkPolicy, PodKey};

use crate::ir::{Chain, Map, Set};
use crate::render::RenderOptions;
use crate::select::Selection;

/// Remembers the groups of the last render (see the module docs).
#[derive(Clone, Debug, Default)]
pub struct RenderCache {
    /// The pods version and options of the last render.
    last: Option<(u64, RenderOptions)>,
    groups: BTreeMap<String, Rendered>,
    /// What depends on the pods alone.
    pub(crate) endpoints: Option<Arc<Endpoints>>,
    /// Which pods the policies isolate, and the dispatch maps that follow.
    pub(crate) selection: Option<Arc<Selection>>,
    pub(crate) maps: Option<Vec<Arc<Map>>>,
    /// Groups reused by the last render, and groups rendered by it.
    pub(crate) hits: usize,
    pub(crate) misses: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Rendered {
    /// The group's subject key (its name is a hash of it).
    pub key: String,
    pub policies: Vec<NetworkPolicy>,
    pub chain: Chain,
    pub sets: Vec<Arc<Set>>,
}

/// Every known pod address: its owner, and the `pods/FAMILY` and `self/FAMILY` sets.
#[derive(Debug)]
pub(crate) struct Endpoints {
    /// Sorted by address, one owner each (the first pod in key order).
    pub owners: Vec<(IpAddr, PodKey)>,
    /// `pods/FAMILY` and `self/FAMILY`.
    pub known: Vec<Arc<Set>>,
    /// Addresses claimed by two pods.
    pub warnings: Vec<String>,
}

impl Endpoints {
    pub fn owner(&self, ip: IpAddr) -> Option<&PodKey> {
        self.owners.binary_search_by_key(&ip, |(a, _)| *a).ok().map(|i| &self.owners[i].1)
    }
}

impl RenderCache {
    pub fn new() -> Self {
        RenderCache::default()
    }

    /// (groups reused, groups rendered) by the last render through this cache.
    pub fn last_reuse(&self) -> (usize, usize) {
        (self.hits, self.misses)
    }

    /// Starts a render: forgets every group unless the pods version and the options are unchanged.
    pub(crate) fn begin(&mut self, pods_version: u64, options: &RenderOptions) {
        self.hits = 0;
        self.misses = 0;
        if self.last.as_ref().is_none_or(|(v, o)| *v != pods_version || o != options) {
            self.groups.clear();
            self.endpoints = None;
            self.selection = None;
            self.maps = None;
            self.last = Some((pods_version, options.clone()));
        }
    }

    /// Takes the group `name` as rendered before, if its subject key is still
    /// `key` and its policies are still `policies`.
    pub(crate) fn take(&mut self, name: &str, key: &str, policies: &[&NetworkPolicy]) -> Option<Rendered> {
        let rendered = self.groups.get(name)?;
        let same = rendered.key == key
            && rendered.policies.len() == policies.len()
            && rendered.policies.iter().zip(policies).all(|(a, b)| a == *b);
        if same {
            self.hits += 1;
            self.groups.remove(name)
        } else {
            None
        }
    }

    /// Keeps only the groups of this render.
    pub(crate) fn finish(&mut self, rendered: BTreeMap<String, Rendered>) {
        self.groups = rendered;
    }
}

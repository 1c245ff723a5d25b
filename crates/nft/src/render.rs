//! Model -> ruleset IR. Pure and deterministic: inputs are sorted, names come
//! from identities (policy and pod names), addresses go only into set and map
//! elements.
//!
//! Layout of the table (see docs/enforcement.md):
//! - base chains `hook/forward/egress` (priority filter - 1), `hook/forward/ingress`
//!   (priority filter) and `hook/input/egress` (priority filter - 1): established
//!   and related accepted first, invalid dropped, ICMPv6 neighbour discovery and
//!   a pod reaching itself accepted, then a dispatch verdict map keyed by the
//!   pod address (source for egress, destination for ingress) holding this
//!   node's pods isolated for the direction, then `@pods/FAMILY` (every known
//!   pod address) accepted, then unknown addresses in the pod CIDRs dropped;
//! - the isolated pods of the node grouped by *subject key* (the policies
//!   selecting them for the direction and, for ingress, the numbers they give
//!   the named ports those policies use); per group one chain
//!   `subjects/DIRECTION/HASH` with, per family, at most two set lookups
//!   (`ip saddr @…/any` for peers allowed on every port, `ip saddr . meta
//!   l4proto . th dport @…` for the rest), then `drop`. The sets hold the
//!   union of what every selecting rule allows, as disjoint elements, each
//!   with the comment `ns/policy ingress[i] peer[j] port[k]` of the first rule
//!   allowing it. A new connection costs the same whatever the number of policies.
//!
//! `accept` ends only the base chain it happens in, so a forwarded packet must
//! be accepted by the egress base chain *and* the ingress one: exactly the
//! "egress allowed at the source and ingress allowed at the destination" of
//! NetworkPolicy.
//!
//! Modules: [`peers`] (the pods and ranges a peer matches, selected by the
//! model's predicate), [`groups`] (what a subject group allows, and its chain),
//! [`base`] (known pods, dispatch maps, base chains); this one runs them.

use std::collections::BTreeMap;
use std::sync::Arc;

use ipnet::IpNet;
use netpol_model::{Cluster, Direction, Namespace, NetworkPolicy, Pod, PortRange, Protocol, WorkloadKind};

use crate::cache::{RenderCache, Rendered};
use crate::ir::{AddrRange, Chain, Element, Family, Match, Ruleset, Set, SetKey};
use crate::select::select;

mod base;
mod groups;
mod ordered;
mod peers;

use groups::Group;

/// ipBlocks match every address they contain, pod IPs included: the engine's
/// default (`ipblock_matches_pods`, as the upstream e2e tests expect); the
/// dataplane has no other mode.
const IPBLOCK_MATCHES_PODS: bool = true;

/// What to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// Only pods with this `spec.nodeName` are subjects here (ingress and egress
    /// enforced on this node); `None` renders every pod.
    pub node: Option<String>,
    /// Where this node's pods get their addresses. A packet from or to an
    /// address inside these ranges that belongs to no known pod is dropped
    /// (fail closed: a pod not yet in the model is unreachable until its rules
    /// exist). Empty: unknown addresses pass (fail open).
    pub pod_cidrs: Vec<IpNet>,
    /// Also enforce pods' egress to the node itself (`input` hook). Traffic from
    /// the node to its pods is never filtered (kubelet probes).
    pub filter_to_node: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions { node: None, pod_cidrs: Vec::new(), filter_to_node: true }
    }
}

/// Renders the ruleset of one node (or of all pods) for `table inet netpol`.
pub fn render(cluster: &Cluster, options: &RenderOptions) -> Ruleset {
    Renderer::new(cluster, options).run(None)
}

/// [`render`], reusing what `cache` remembers of the last render through it
/// (see [`RenderCache`]): after a policy change only the subject groups that
/// policy touches are rendered again. `pods_version` stands for the pods and
/// namespaces of `cluster`: the caller must change it whenever any of them
/// changes (then everything is rendered again). The result is [`render`]'s.
pub fn render_cached(
    cluster: &Cluster,
    options: &RenderOptions,
    cache: &mut RenderCache,
    pods_version: u64,
) -> Ruleset {
    cache.begin(pods_version, options);
    Renderer::new(cluster, options).run(Some(cache))
}

/// The sets a chain's rules look up.
fn chain_sets(chain: &Chain) -> impl Iterator<Item = &str> {
    chain.rules.iter().flat_map(|r| &r.matches).filter_map(|m| match m {
        Match::AddrIn { set, .. } | Match::AddrProtoPortIn { set, .. } | Match::AddrPairIn { set, .. } => {
            Some(set.as_str())
        }
        _ => None,
    })
}

struct Renderer<'a> {
    cluster: &'a Cluster,
    options: &'a RenderOptions,
    /// Every non-hostNetwork pod, sorted by key: peers and dispatch entries.
    pods: Vec<&'a Pod>,
    /// Pods whose chains live on this node, sorted by key.
    local: Vec<&'a Pod>,
    /// `pods` by namespace, and every such namespace's labels.
    by_namespace: BTreeMap<&'a str, Vec<&'a Pod>>,
    namespace_labels: BTreeMap<&'a str, netpol_model::Labels>,
    /// (address, port number) of every pod declaring a named port (egress rules without peers).
    named_everywhere: BTreeMap<(String, Protocol, Family), Vec<(AddrRange, PortRange)>>,
    /// Pods a peer matches, by (policy, direction, rule, peer).
    peer_cache: BTreeMap<(String, Direction, usize, usize), Vec<&'a Pod>>,
    /// The address segments of each family for ordered chains (computed once).
    segments: BTreeMap<Family, std::rc::Rc<ordered::Segments>>,
    sets: BTreeMap<String, Arc<Set>>,
    chains: Vec<Chain>,
    warnings: Vec<String>,
}

impl<'a> Renderer<'a> {
    fn new(cluster: &'a Cluster, options: &'a RenderOptions) -> Self {
        let mut pods: Vec<&Pod> = cluster.pods.iter().filter(|p| !p.host_network).collect();
        pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let local = pods
            .iter()
            .copied()
            .filter(|p| p.kind == WorkloadKind::Pod)
            .filter(|p| options.node.as_ref().is_none_or(|n| p.node.as_ref() == Some(n)))
            .collect();
        let mut by_namespace: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
        for pod in &pods {
            by_namespace.entry(pod.namespace.as_str()).or_default().push(pod);
        }
        let namespace_labels = by_namespace
            .keys()
            .map(|ns| {
                let labels = cluster.namespace_labels(ns).cloned().unwrap_or_else(|| Namespace::implicit(*ns).labels);
                (*ns, labels)
            })
            .collect();
        Renderer {
            cluster,
            options,
            pods,
            local,
            by_namespace,
            namespace_labels,
            named_everywhere: BTreeMap::new(),
            peer_cache: BTreeMap::new(),
            segments: BTreeMap::new(),
            sets: BTreeMap::new(),
            chains: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn add_set(&mut self, name: String, key: SetKey, mut items: Vec<(Element, String)>) -> String {
        items.sort();
        items.dedup_by(|a, b| a.0 == b.0);
        let (elements, comments) = items.into_iter().unzip();
        self.sets.insert(name.clone(), Arc::new(Set { name: name.clone(), key, elements, comments }));
        name
    }

    fn add_plain_set(&mut self, name: String, key: SetKey, mut elements: Vec<Element>) -> String {
        elements.sort();
        elements.dedup();
        self.sets.insert(name.clone(), Arc::new(Set { name: name.clone(), key, elements, comments: Vec::new() }));
        name
    }

    fn run(mut self, mut cache: Option<&mut RenderCache>) -> Ruleset {
        // Ordered policies are rendered whole, without the cache.
        if !self.cluster.tiered.is_empty() {
            cache = None;
        }
        let mut policies: Vec<&NetworkPolicy> = self.cluster.policies.iter().collect();
        policies.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));

        // Which local pods each policy isolates, grouped by subject key.
        let selection = match cache.as_deref_mut() {
            Some(cache) => match &cache.selection {
                Some(before) if before.holds_for(&policies) => Arc::clone(before),
                _ => {
                    cache.maps = None;
                    Arc::clone(cache.selection.insert(Arc::new(select(&policies, &self.local))))
                }
            },
            None => Arc::new(select(&policies, &self.local)),
        };
        let mut ordered_members = BTreeMap::new();
        let selection = if self.cluster.tiered.is_empty() {
            selection
        } else {
            let mut moved = (*selection).clone();
            ordered_members = self.ordered_selection(&mut moved, &policies);
            Arc::new(moved)
        };
        let engine = (!self.cluster.tiered.is_empty()).then(|| {
            netpol_engine::Engine::new(
                self.cluster,
                netpol_engine::Options { ipblock_matches_pods: IPBLOCK_MATCHES_PODS },
            )
        });
        let groups: BTreeMap<&str, Group> = selection
            .groups
            .iter()
            .map(|(name, g)| {
                let group = Group {
                    direction: g.direction,
                    policies: g.policies.iter().map(|&i| policies[i]).collect(),
                    representative: self.local[g.representative],
                };
                (name.as_str(), group)
            })
            .collect();
        let mut rendered = BTreeMap::new();
        for (name, group) in &groups {
            if let (Some(members), Some(engine)) = (ordered_members.get(*name), &engine) {
                let pods: Vec<&Pod> = members.iter().map(|&i| self.local[i]).collect();
                let chain = self.ordered_chain(engine, name, group.direction, &pods);
                self.chains.push(chain);
                continue;
            }
            let Some(cache) = cache.as_deref_mut() else {
                let chain = self.group_chain(name, group);
                self.chains.push(chain);
                continue;
            };
            let group_rendered = match cache.take(name, &selection.groups[*name].key, &group.policies) {
                Some(before) => {
                    self.chains.push(before.chain.clone());
                    for set in &before.sets {
                        self.sets.insert(set.name.clone(), set.clone());
                    }
                    before
                }
                None => {
                    cache.misses += 1;
                    let chain = self.group_chain(name, group);
                    let sets = chain_sets(&chain).filter_map(|s| self.sets.get(s)).cloned().collect();
                    self.chains.push(chain.clone());
                    Rendered {
                        key: selection.groups[*name].key.clone(),
                        policies: group.policies.iter().map(|p| (*p).clone()).collect(),
                        chain,
                        sets,
                    }
                }
            };
            rendered.insert(name.to_string(), group_rendered);
        }
        self.chains.sort_by(|a, b| a.name.cmp(&b.name));
        // The dispatch maps follow from the selection and the pods alone.
        let maps = match cache {
            Some(cache) => {
                cache.finish(rendered);
                let endpoints = Arc::clone(cache.endpoints.get_or_insert_with(|| Arc::new(self.endpoints())));
                self.use_endpoints(&endpoints);
                cache.maps.get_or_insert_with(|| self.dispatch_maps(&selection, &endpoints)).clone()
            }
            None => {
                let endpoints = self.endpoints();
                self.use_endpoints(&endpoints);
                self.dispatch_maps(&selection, &endpoints)
            }
        };
        self.fixed_sets();
        self.base_chains();
        Ruleset { sets: self.sets.into_values().collect(), maps, chains: self.chains, warnings: self.warnings }
    }
}

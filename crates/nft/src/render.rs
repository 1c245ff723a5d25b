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

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use netpol_model::{
    Cluster, Direction, Namespace, NetworkPolicy, Peer, Pod, PolicyPort, PortRef, Protocol, WorkloadKind,
};

use crate::cache::{Endpoints, RenderCache, Rendered};
use crate::ir::{
    Action, AddrRange, BaseHook, Chain, CtState, Element, Family, Field, Hook, Map, MapEntry, Match, PortRange, Rule,
    Ruleset, Set, SetKey, Verdict,
};
use crate::name::{comment, identifier};
use crate::range::{ipblock_ranges, merge};
use crate::select::{select, Selection};
use crate::union::{disjoint_boxes, disjoint_ranges};

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

/// The field holding the *peer* address of a rule, and the one holding the subject.
fn peer_field(direction: Direction) -> Field {
    match direction {
        Direction::Ingress => Field::Saddr,
        Direction::Egress => Field::Daddr,
    }
}

fn subject_field(direction: Direction) -> Field {
    match direction {
        Direction::Ingress => Field::Daddr,
        Direction::Egress => Field::Saddr,
    }
}

pub(crate) fn dispatch_map_name(direction: Direction, family: Family) -> String {
    identifier(&["dispatch", direction.rules_key(), family.suffix()])
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

/// `ns/name`, the comment of a pod's elements.
fn pod_comment(pod: &Pod) -> String {
    let mut text = String::with_capacity(pod.namespace.len() + pod.name.len() + 1);
    text.push_str(&pod.namespace);
    text.push('/');
    text.push_str(&pod.name);
    // Kubernetes names need no cleaning; lenient input might.
    if text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\') {
        text
    } else {
        comment(&text)
    }
}

/// The set of every known pod address of a family (`pods/v4`).
fn known_set_name(family: Family) -> String {
    identifier(&["pods", family.suffix()])
}

/// The whole address range of a family (`0.0.0.0/0`, `::/0`).
fn everything(family: Family) -> AddrRange {
    match family {
        Family::V4 => AddrRange { start: IpAddr::from([0u8; 4]), end: IpAddr::from([255u8; 4]) },
        Family::V6 => AddrRange { start: IpAddr::from([0u8; 16]), end: IpAddr::from([255u8; 16]) },
    }
}

/// What the rules of a subject group allow, before it becomes sets.
#[derive(Default)]
struct Allowed {
    /// `ns/policy ingress[i] peer[j] port[k]`, indexed by label (rule order).
    labels: Vec<String>,
    /// Labels of rules with neither peers nor ports: everything is allowed.
    anything: Vec<usize>,
    /// Peers with no ports: (peer range, label), by family.
    addrs: BTreeMap<Family, Vec<(AddrRange, usize)>>,
    /// (peer range, protocol, port range, label), by family.
    boxes: BTreeMap<Family, Vec<(AddrRange, Protocol, PortRange, usize)>>,
}

/// The pods of one node (or all) that share a subject key for a direction:
/// the same selecting policies and, for ingress, the same numbers for every
/// named port those policies use. One chain and one set lookup per family serve them all.
struct Group<'a> {
    direction: Direction,
    policies: Vec<&'a NetworkPolicy>,
    /// A member: named ports resolve against it (ingress).
    representative: &'a Pod,
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
            sets: BTreeMap::new(),
            chains: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Pods (with or without addresses) a `Pods` peer of `policy` matches.
    fn peer_pods(&self, policy: &NetworkPolicy, peer: &Peer) -> Vec<&'a Pod> {
        let Peer::Pods { pod_selector, namespace_selector } = peer else { return Vec::new() };
        let namespaces: Vec<&str> = match namespace_selector {
            None => vec![policy.namespace.as_str()],
            Some(sel) => self.namespace_labels.iter().filter(|(_, l)| sel.matches(l)).map(|(ns, _)| *ns).collect(),
        };
        namespaces
            .into_iter()
            .filter_map(|ns| self.by_namespace.get(ns))
            .flatten()
            .copied()
            .filter(|pod| pod_selector.as_ref().is_none_or(|sel| sel.matches(&pod.labels)))
            .collect()
    }

    /// [`Self::peer_pods`], computed once per (policy, direction, rule, peer).
    fn cached_peer_pods(
        &mut self,
        policy: &NetworkPolicy,
        direction: Direction,
        i: usize,
        j: usize,
        peer: &Peer,
    ) -> Vec<&'a Pod> {
        let key = (policy.key(), direction, i, j);
        if let Some(pods) = self.peer_cache.get(&key) {
            return pods.clone();
        }
        let pods = self.peer_pods(policy, peer);
        self.peer_cache.insert(key, pods.clone());
        pods
    }

    /// Address ranges of one family a peer matches (`pods`: what [`Self::peer_pods`] gave).
    fn peer_ranges(peer: &Peer, pods: &[&Pod], family: Family) -> Vec<AddrRange> {
        match peer {
            Peer::IpBlock(block) => ipblock_ranges(block).into_iter().filter(|r| r.family() == family).collect(),
            Peer::Pods { .. } => merge(
                pods.iter()
                    .flat_map(|p| p.ips.iter().copied())
                    .filter(|ip| Family::of(*ip) == family)
                    .map(AddrRange::single)
                    .collect(),
            ),
        }
    }

    /// Families a peer can match: an ipBlock only its own.
    fn peer_families(peer: &Peer) -> Vec<Family> {
        match peer {
            Peer::IpBlock(block) => vec![Family::of(block.cidr.addr())],
            Peer::Pods { .. } => Family::ALL.to_vec(),
        }
    }

    /// (address, port) for every number each of `pods` declares for the named port.
    fn named_port_targets(
        pods: &[&Pod],
        name: &str,
        protocol: Protocol,
        family: Family,
    ) -> Vec<(AddrRange, PortRange)> {
        pods.iter()
            .flat_map(|pod| {
                pod.named_ports(name, protocol).flat_map(move |n| {
                    pod.ips
                        .iter()
                        .filter(move |ip| Family::of(**ip) == family)
                        .map(move |ip| (AddrRange::single(*ip), PortRange::single(n)))
                })
            })
            .collect()
    }

    fn port_range(port: &PolicyPort) -> Option<PortRange> {
        match (&port.port, port.end_port) {
            (None, _) => Some(PortRange::ALL),
            (Some(PortRef::Number(n)), None) => Some(PortRange::single(*n)),
            (Some(PortRef::Number(n)), Some(end)) => Some(PortRange { start: *n, end: end.max(*n) }),
            (Some(PortRef::Name(_)), _) => None,
        }
    }

    /// Everything the policies of `group` allow, labelled by rule.
    fn allowed(&mut self, group: &Group<'a>) -> Allowed {
        let direction = group.direction;
        let subject = group.representative;
        let mut out = Allowed::default();
        for &family in &Family::ALL {
            out.addrs.entry(family).or_default();
            out.boxes.entry(family).or_default();
        }
        for policy in &group.policies {
            for (i, rule) in policy.rules(direction).iter().enumerate() {
                let peers: Vec<Option<(usize, &Peer)>> =
                    if rule.peers.is_empty() { vec![None] } else { rule.peers.iter().enumerate().map(Some).collect() };
                let ports: Vec<Option<(usize, &PolicyPort)>> =
                    if rule.ports.is_empty() { vec![None] } else { rule.ports.iter().enumerate().map(Some).collect() };
                for peer in &peers {
                    let peer_pods = match peer {
                        Some((j, pe)) => self.cached_peer_pods(policy, direction, i, *j, pe),
                        None => Vec::new(),
                    };
                    for port in &ports {
                        let label = out.labels.len();
                        out.labels.push(comment(&format!(
                            "{}/{} {}[{i}] peer[{}] port[{}]",
                            policy.namespace,
                            policy.name,
                            direction.rules_key(),
                            peer.map_or("*".to_string(), |(j, _)| j.to_string()),
                            port.map_or("*".to_string(), |(k, _)| k.to_string()),
                        )));
                        self.allow(
                            &mut out,
                            direction,
                            subject,
                            peer.map(|(_, p)| (p, peer_pods.as_slice())),
                            port.map(|(_, p)| p),
                            label,
                        );
                    }
                }
            }
        }
        out
    }

    /// Adds what one (rule, peer, port) allows to `out`.
    fn allow(
        &mut self,
        out: &mut Allowed,
        direction: Direction,
        subject: &Pod,
        peer: Option<(&Peer, &[&'a Pod])>,
        port: Option<&PolicyPort>,
        label: usize,
    ) {
        let families = peer.map_or(Family::ALL.to_vec(), |(pe, _)| Self::peer_families(pe));
        for family in families {
            let ranges = match peer {
                Some((pe, pods)) => Self::peer_ranges(pe, pods, family),
                None => vec![everything(family)],
            };
            let Some(pp) = port else {
                if peer.is_none() {
                    out.anything.push(label);
                } else {
                    out.addrs.entry(family).or_default().extend(ranges.into_iter().map(|r| (r, label)));
                }
                continue;
            };
            let boxes = out.boxes.entry(family).or_default();
            match (&pp.port, direction) {
                (Some(PortRef::Name(name)), Direction::Ingress) => {
                    // The destination is the subject: every number it declares for the name.
                    for n in subject.named_ports(name, pp.protocol) {
                        boxes.extend(ranges.iter().map(|r| (*r, pp.protocol, PortRange::single(n), label)));
                    }
                }
                (Some(PortRef::Name(name)), Direction::Egress) => {
                    // The destination is the peer: each peer pod's own numbers.
                    let targets = match peer {
                        None => {
                            let pods = &self.pods;
                            self.named_everywhere
                                .entry((name.clone(), pp.protocol, family))
                                .or_insert_with(|| Self::named_port_targets(pods, name, pp.protocol, family))
                                .clone()
                        }
                        Some((Peer::Pods { .. }, pods)) => Self::named_port_targets(pods, name, pp.protocol, family),
                        Some((Peer::IpBlock(block), _)) => {
                            let inside: Vec<&Pod> = self
                                .pods
                                .iter()
                                .copied()
                                .filter(|p| p.ips.iter().any(|ip| block.contains(*ip)))
                                .collect();
                            let mut targets = Self::named_port_targets(&inside, name, pp.protocol, family);
                            targets.retain(|(r, _)| block.contains(r.start));
                            targets
                        }
                    };
                    boxes.extend(targets.into_iter().map(|(r, ports)| (r, pp.protocol, ports, label)));
                }
                _ => {
                    let range = Self::port_range(pp).unwrap_or(PortRange::ALL);
                    boxes.extend(ranges.iter().map(|r| (*r, pp.protocol, range, label)));
                }
            }
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

    /// Whether a rule of `policy` for `direction` can put elements of each kind
    /// in a family's sets: (peers without ports, peers with ports). Depends on
    /// the policies only, so pod churn never adds or removes a set.
    fn set_kinds(policies: &[&NetworkPolicy], direction: Direction, family: Family) -> (bool, bool) {
        let mut kinds = (false, false);
        for policy in policies {
            for rule in policy.rules(direction) {
                let family_ok =
                    rule.peers.is_empty() || rule.peers.iter().any(|p| Self::peer_families(p).contains(&family));
                if !family_ok {
                    continue;
                }
                if rule.ports.is_empty() {
                    kinds.0 |= !rule.peers.is_empty();
                } else {
                    kinds.1 = true;
                }
            }
        }
        kinds
    }

    /// The chain (and sets) of one subject group.
    fn group_chain(&mut self, name: &str, group: &Group<'a>) -> Chain {
        let direction = group.direction;
        let allowed = self.allowed(group);
        let mut rules = Vec::new();
        let accept = |matches: Vec<Match>, text: String| Rule {
            matches,
            action: Action::Verdict(Verdict::Accept),
            comment: text,
        };
        if let Some(&label) = allowed.anything.first() {
            rules.push(accept(Vec::new(), allowed.labels[label].clone()));
        } else {
            let field = peer_field(direction);
            for family in Family::ALL {
                let (addrs, boxes) = Self::set_kinds(&group.policies, direction, family);
                if addrs {
                    let items = disjoint_ranges(&allowed.addrs[&family])
                        .into_iter()
                        .map(|(r, l)| (Element::Addr(r), allowed.labels[l].clone()))
                        .collect();
                    let set = self.add_set(identifier(&[name, family.suffix(), "any"]), SetKey::Addr(family), items);
                    rules.push(accept(
                        vec![Match::AddrIn { field, family, set }],
                        "a peer on any port (the element names the rule)".to_string(),
                    ));
                }
                if boxes {
                    let items = disjoint_boxes(&allowed.boxes[&family])
                        .into_iter()
                        .map(|(r, p, ports, l)| (Element::AddrProtoPort(r, p, ports), allowed.labels[l].clone()))
                        .collect();
                    let set = self.add_set(identifier(&[name, family.suffix()]), SetKey::AddrProtoPort(family), items);
                    rules.push(accept(
                        vec![Match::AddrProtoPortIn { field, family, set }],
                        "a peer on a port (the element names the rule)".to_string(),
                    ));
                }
            }
        }
        let names: Vec<String> = group.policies.iter().map(|p| p.key()).collect();
        rules.push(Rule {
            matches: Vec::new(),
            action: Action::Verdict(Verdict::Drop),
            comment: comment(&format!("{} isolated by {}: no rule allowed", direction.rules_key(), names.join(","))),
        });
        Chain { name: name.to_string(), base: None, rules }
    }

    fn run(mut self, mut cache: Option<&mut RenderCache>) -> Ruleset {
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

    /// Every known pod address with its owner, and the `pods/FAMILY` sets
    /// (each element commented with its pod), which pass the fail-closed check
    /// of the pod CIDRs. Depends on the pods alone.
    fn endpoints(&self) -> Endpoints {
        // Every address once, sorted; the first pod (in key order) owns an address two pods claim.
        let mut owners: Vec<(IpAddr, &Pod)> =
            self.pods.iter().flat_map(|p| p.ips.iter().map(move |ip| (*ip, *p))).collect();
        owners.sort_by_key(|(ip, _)| *ip);
        let mut warnings = Vec::new();
        owners.dedup_by(|later, first| {
            let same = later.0 == first.0;
            if same && !std::ptr::eq(later.1, first.1) {
                let (ip, a, b) = (first.0, first.1.key(), later.1.key());
                warnings.push(format!("{ip} belongs to {a} and {b}: {a} is used"));
            }
            same
        });
        let known = Family::ALL
            .iter()
            .map(|&family| {
                let (elements, comments) = owners
                    .iter()
                    .filter(|(ip, _)| Family::of(*ip) == family)
                    .map(|(ip, pod)| (Element::Addr(AddrRange::single(*ip)), pod_comment(pod)))
                    .unzip();
                Arc::new(Set { name: known_set_name(family), key: SetKey::Host(family), elements, comments })
            })
            .collect();
        let mut known: Vec<Arc<Set>> = known;
        for family in Family::ALL {
            let mut pairs: Vec<Element> = self
                .local
                .iter()
                .flat_map(|p| p.ips.iter())
                .filter(|ip| Family::of(**ip) == family)
                .map(|ip| Element::AddrPair(*ip, *ip))
                .collect();
            pairs.sort();
            pairs.dedup();
            let name = identifier(&["self", family.suffix()]);
            known.push(Arc::new(Set { name, key: SetKey::AddrPair(family), elements: pairs, comments: Vec::new() }));
        }
        Endpoints { owners: owners.into_iter().map(|(ip, pod)| (ip, pod.key())).collect(), known, warnings }
    }

    /// One verdict map per direction and family: the addresses of this node's
    /// pods isolated for the direction, to their group chain. The maps stay as
    /// small as the node's isolated pods, whatever the size of the cluster;
    /// every other known pod passes through `pods/FAMILY`.
    fn dispatch_maps(&self, selection: &Selection, endpoints: &Endpoints) -> Vec<Arc<Map>> {
        let owns = |pod: &Pod, ip: &IpAddr| {
            endpoints.owner(*ip).is_some_and(|o| o.namespace == pod.namespace && o.name == pod.name)
        };
        let mut maps = Vec::new();
        for direction in Direction::ALL {
            for family in Family::ALL {
                let mut entries: Vec<MapEntry> = selection
                    .chain_of
                    .iter()
                    .filter(|(_, d, _)| *d == direction)
                    .flat_map(|(at, _, chain)| {
                        let pod = self.local[*at];
                        pod.ips.iter().filter(move |ip| Family::of(**ip) == family && owns(pod, ip)).map(move |ip| {
                            MapEntry { addr: *ip, verdict: Verdict::Jump(chain.clone()), pod: pod.key() }
                        })
                    })
                    .collect();
                // One entry per address, even for a pod that lists an address twice
                // (built without the loader): the difference relies on it.
                entries.sort_by_key(|e| e.addr);
                entries.dedup_by_key(|e| e.addr);
                maps.push(Arc::new(Map { name: dispatch_map_name(direction, family), family, entries }));
            }
        }
        maps.sort_by(|a, b| a.name.cmp(&b.name));
        maps
    }

    /// Adds the known-pod sets and the address warnings.
    fn use_endpoints(&mut self, endpoints: &Endpoints) {
        for set in &endpoints.known {
            self.sets.insert(set.name.clone(), Arc::clone(set));
        }
        self.warnings.extend(endpoints.warnings.iter().cloned());
    }

    /// `unknown/FAMILY` (pod CIDRs). (`self/FAMILY`, a local pod reaching
    /// itself, depends on the pods: see [`Self::endpoints`].)
    fn fixed_sets(&mut self) {
        for family in Family::ALL {
            let cidrs = merge(
                self.options
                    .pod_cidrs
                    .iter()
                    .map(|n| n.trunc())
                    .filter(|n| Family::of(n.addr()) == family)
                    .map(|n| AddrRange { start: n.network(), end: n.broadcast() })
                    .collect(),
            );
            self.add_plain_set(
                identifier(&["unknown", family.suffix()]),
                SetKey::Addr(family),
                cidrs.into_iter().map(Element::Addr).collect(),
            );
        }
    }

    fn base_chains(&mut self) {
        let mut hooks = vec![(Hook::Forward, Direction::Egress), (Hook::Forward, Direction::Ingress)];
        if self.options.filter_to_node {
            hooks.push((Hook::Input, Direction::Egress));
        }
        for (hook, direction) in hooks {
            let rule = |matches: Vec<Match>, verdict: Verdict, text: &str| Rule {
                matches,
                action: Action::Verdict(verdict),
                comment: text.to_string(),
            };
            let mut rules = vec![rule(
                vec![Match::CtState(vec![CtState::Established, CtState::Related])],
                Verdict::Accept,
                "established or related: replies and admitted connections",
            )];
            if hook == Hook::Forward {
                rules.push(rule(
                    vec![Match::CtState(vec![CtState::Invalid])],
                    Verdict::Drop,
                    "invalid connection state",
                ));
                // Routed pod traffic only: the input hook also sees the node's own
                // connections, whose behaviour is not ours to change.
                rules.push(rule(
                    vec![Match::CtState(vec![CtState::New]), Match::TcpWithoutSyn],
                    Verdict::Drop,
                    "new TCP connection without SYN: no mid-stream pickup (keeps --reset-denied connections dead)",
                ));
            }
            rules.push(rule(vec![Match::Icmpv6Nd], Verdict::Accept, "ICMPv6 neighbour discovery"));
            let field = subject_field(direction);
            for family in Family::ALL {
                if hook == Hook::Forward {
                    rules.push(rule(
                        vec![Match::AddrPairIn { family, set: identifier(&["self", family.suffix()]) }],
                        Verdict::Accept,
                        "a pod reaching itself",
                    ));
                }
                rules.push(Rule {
                    matches: Vec::new(),
                    action: Action::Dispatch { field, family, map: dispatch_map_name(direction, family) },
                    comment: format!("{} dispatch by pod address", direction.rules_key()),
                });
            }
            for family in Family::ALL {
                rules.push(rule(
                    vec![Match::AddrIn { field, family, set: known_set_name(family) }],
                    Verdict::Accept,
                    "a known pod, not isolated here",
                ));
            }
            for family in Family::ALL {
                rules.push(rule(
                    vec![Match::AddrIn { field, family, set: identifier(&["unknown", family.suffix()]) }],
                    Verdict::Drop,
                    "unknown address in a pod CIDR (fail closed)",
                ));
            }
            let priority = if direction == Direction::Egress { -1 } else { 0 };
            self.chains.push(Chain {
                name: identifier(&["hook", hook.as_str(), direction.rules_key()]),
                base: Some(BaseHook { hook, priority }),
                rules,
            });
        }
    }
}

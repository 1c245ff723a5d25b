//! The engine: an index over a [`Cluster`] and the evaluation of flows against it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use netpol_model::{
    Cluster, Direction, Namespace, NetworkPolicy, Peer, PeerEnd, Pod, PodKey, PodView, Protocol, Rule, WorkloadKind,
};

use crate::decision::{
    Check, Decision, DirectionDecision, EndpointInfo, EndpointKind, PolicyCheck, PolicyRef, RuleCheck, RuleMatch,
    Status, Verdict,
};
use crate::peer::peer_spec;
use crate::port::{check_port, port_set, port_spec};
use crate::tiers::{StepAction, TierStep, V1};
use crate::{Endpoint, EngineError, Flow, PortSet};

/// Choices where network plugins differ (see docs/semantics.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Whether ipBlock peers match the IPs of pods (default `true`, as the upstream
    /// e2e tests, kube-network-policies, Calico and most plugins do; Cilium applies
    /// ipBlocks to traffic from outside the cluster only, which `false` models).
    pub ipblock_matches_pods: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { ipblock_matches_pods: true }
    }
}

/// Evaluates flows over one [`Cluster`]. Building it indexes pods by key and
/// IP and policies by namespace; each evaluation then reads only the policies
/// of the two endpoints' namespaces.
pub struct Engine<'c> {
    cluster: &'c Cluster,
    pub(crate) options: Options,
    pods_by_key: HashMap<(&'c str, &'c str), &'c Pod>,
    pods_by_ip: HashMap<IpAddr, &'c Pod>,
    host_pods_by_ip: HashMap<IpAddr, &'c Pod>,
    policies_by_ns: HashMap<&'c str, Vec<&'c NetworkPolicy>>,
    /// Namespaces that pods or policies use but the cluster does not hold.
    implicit: HashMap<String, Namespace>,
    /// The pod label keys that peer selectors read (for [`Engine::peer_key`]);
    /// owned, since a cell of borrows would make `Engine` invariant in `'c`.
    pub(crate) peer_label_keys: std::sync::OnceLock<(std::collections::HashSet<String>, bool)>,
}

/// One direction's verdicts for a subject, as far as they do not depend on the peer.
struct Plan<'c> {
    isolating: Vec<&'c NetworkPolicy>,
    isolated_by: Vec<String>,
    tiers: Vec<(netpol_model::Tier, Vec<crate::tiers::Entry<'c>>)>,
}

/// One end of a flow, resolved.
pub(crate) struct Side<'c> {
    pub endpoint: Endpoint,
    /// The pod (or workload, or hostNetwork pod); `None` for an external IP.
    pub pod: Option<&'c Pod>,
    /// The address that ipBlock peers are matched against.
    pub addr: Option<IpAddr>,
}

impl<'c> Engine<'c> {
    pub fn new(cluster: &'c Cluster, options: Options) -> Self {
        let mut pods_by_key = HashMap::with_capacity(cluster.pods.len());
        let mut pods_by_ip = HashMap::with_capacity(cluster.pods.len());
        let mut host_pods_by_ip = HashMap::new();
        let mut implicit = HashMap::new();
        for pod in &cluster.pods {
            pods_by_key.entry((pod.namespace.as_str(), pod.name.as_str())).or_insert(pod);
            let by_ip = if pod.host_network { &mut host_pods_by_ip } else { &mut pods_by_ip };
            for ip in &pod.ips {
                by_ip.entry(*ip).or_insert(pod);
            }
            if !cluster.namespaces.contains_key(&pod.namespace) {
                implicit.entry(pod.namespace.clone()).or_insert_with(|| Namespace::implicit(&pod.namespace));
            }
        }
        let mut policies_by_ns: HashMap<&str, Vec<&NetworkPolicy>> = HashMap::new();
        for policy in &cluster.policies {
            policies_by_ns.entry(policy.namespace.as_str()).or_default().push(policy);
        }
        Engine {
            cluster,
            options,
            pods_by_key,
            pods_by_ip,
            host_pods_by_ip,
            policies_by_ns,
            implicit,
            peer_label_keys: std::sync::OnceLock::new(),
        }
    }

    pub fn cluster(&self) -> &'c Cluster {
        self.cluster
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The namespace `name`, or the implicit one (only `kubernetes.io/metadata.name`).
    pub(crate) fn namespace(&self, name: &str) -> Cow<'_, Namespace> {
        match self.cluster.namespaces.get(name).or_else(|| self.implicit.get(name)) {
            Some(ns) => Cow::Borrowed(ns),
            None => Cow::Owned(Namespace::implicit(name)),
        }
    }

    /// Every namespace the input knows: declared, or used by a pod or a policy.
    pub(crate) fn namespace_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.cluster.namespaces.keys().cloned().collect();
        names.extend(self.implicit.keys().cloned());
        names.extend(self.policies_by_ns.keys().map(|n| n.to_string()));
        names.sort();
        names.dedup();
        names
    }

    /// The policies of namespace `name`, in input order.
    pub(crate) fn policies_in(&self, name: &str) -> &[&'c NetworkPolicy] {
        self.policies_by_ns.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The pods a policy selects as subjects (hostNetwork pods never are).
    pub fn subjects(&self, policy: &NetworkPolicy) -> Vec<PodKey> {
        self.cluster.pods.iter().filter(|p| policy.selects(*p)).map(Pod::key).collect()
    }

    /// The pods one peer of `policy` matches (for ipBlock peers: pods with any IP inside it).
    pub fn peer_pods(&self, policy: &NetworkPolicy, peer: &Peer) -> Vec<PodKey> {
        self.cluster
            .pods
            .iter()
            .filter(|pod| {
                let ns = self.namespace(&pod.namespace);
                let end = |addr| PeerEnd::pod(PodView::from(*pod), &ns.labels, addr);
                let ipblock = self.options.ipblock_matches_pods;
                match pod.ips.as_slice() {
                    [] => peer.matches(&policy.namespace, &end(None), ipblock),
                    ips => ips.iter().any(|ip| peer.matches(&policy.namespace, &end(Some(*ip)), ipblock)),
                }
            })
            .map(Pod::key)
            .collect()
    }

    /// The policies of the pod's namespace whose podSelector selects it (any direction).
    pub fn selecting_policies(&self, pod: &Pod) -> Vec<&'c NetworkPolicy> {
        self.policies_by_ns
            .get(pod.namespace.as_str())
            .map(|ps| ps.iter().copied().filter(|p| p.selects(pod)).collect())
            .unwrap_or_default()
    }

    pub(crate) fn resolve(&self, endpoint: &Endpoint) -> Result<(Option<&'c Pod>, Option<IpAddr>), EngineError> {
        match endpoint {
            Endpoint::Pod(key) => match self.pods_by_key.get(&(key.namespace.as_str(), key.name.as_str())) {
                Some(pod) => Ok((Some(pod), None)),
                None => Err(EngineError::UnknownPod { key: key.clone(), suggestions: self.suggest(key) }),
            },
            Endpoint::Ip(ip) => {
                let pod = self.pods_by_ip.get(ip).or_else(|| self.host_pods_by_ip.get(ip)).copied();
                Ok((pod, Some(*ip)))
            }
        }
    }

    /// Up to three pod keys close to `key` (same name in another namespace, or a small edit distance).
    fn suggest(&self, key: &PodKey) -> Vec<PodKey> {
        let wanted = key.to_string();
        let limit = (wanted.len() / 3).max(2);
        let mut scored: Vec<(usize, PodKey)> = self
            .cluster
            .pods
            .iter()
            .filter_map(|p| {
                let d = if p.name == key.name { 1 } else { edit_distance(&wanted, &p.key().to_string()) };
                (d <= limit).then(|| (d, p.key()))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        // Only the closest candidates: a near miss should not drown in far ones.
        let best = scored.first().map(|s| s.0).unwrap_or(0);
        scored.into_iter().take_while(|s| s.0 == best).take(3).map(|(_, k)| k).collect()
    }

    /// Resolves both ends. A pod named by key uses its IP of the flow's address
    /// family: the family of a literal IP endpoint, else of the destination pod's
    /// first IP, else of the source pod's.
    fn sides(&self, src: &Endpoint, dst: &Endpoint) -> Result<(Side<'c>, Side<'c>), EngineError> {
        let (spod, sip) = self.resolve(src)?;
        let (dpod, dip) = self.resolve(dst)?;
        if let (Some(a), Some(b)) = (sip, dip) {
            if a.is_ipv4() != b.is_ipv4() {
                return Err(EngineError::MixedFamilies { src: a, dst: b });
            }
        }
        let first = |p: Option<&Pod>| p.and_then(|p| p.ips.first()).map(IpAddr::is_ipv4);
        let v4 = sip.or(dip).map(|ip| ip.is_ipv4()).or_else(|| first(dpod)).or_else(|| first(spod));
        let addr = |pod: Option<&Pod>, lit: Option<IpAddr>| {
            lit.or_else(|| pod.and_then(|p| p.ips.iter().find(|ip| Some(ip.is_ipv4()) == v4).copied()))
        };
        Ok((
            Side { endpoint: src.clone(), pod: spod, addr: addr(spod, sip) },
            Side { endpoint: dst.clone(), pod: dpod, addr: addr(dpod, dip) },
        ))
    }

    /// Is `flow` allowed, and why? Egress is evaluated at the source, ingress at the destination.
    pub fn evaluate(&self, flow: &Flow) -> Result<Decision, EngineError> {
        if flow.port == 0 {
            return Err(EngineError::PortZero);
        }
        let (src, dst) = self.sides(&flow.src, &flow.dst)?;
        let self_traffic = is_self(&src, &dst);
        let (mut egress, mut ingress) = if self_traffic {
            (self_decision(Direction::Egress, &src), self_decision(Direction::Ingress, &dst))
        } else if let Some(node) = from_own_node(&src, &dst) {
            (
                self.direction(Direction::Egress, &src, &dst, &dst, flow.protocol, flow.port),
                own_node_decision(&src, &dst, node),
            )
        } else {
            (
                self.direction(Direction::Egress, &src, &dst, &dst, flow.protocol, flow.port),
                self.direction(Direction::Ingress, &dst, &src, &dst, flow.protocol, flow.port),
            )
        };
        if let Some(note) = replicas_note(&src, &dst) {
            egress.notes.insert(0, note.clone());
            ingress.notes.insert(0, note);
        }
        Ok(Decision {
            flow: flow.clone(),
            verdict: Verdict::from_allowed(egress.allowed && ingress.allowed),
            src: endpoint_info(&src),
            dst: endpoint_info(&dst),
            egress,
            ingress,
        })
    }

    /// Every (protocol, port) on which `src` may open a connection to `dst`,
    /// computed exactly over ports 1-65535 of TCP, UDP and SCTP.
    pub fn allowed_connections(&self, src: &Endpoint, dst: &Endpoint) -> Result<PortSet, EngineError> {
        let (s, d) = self.sides(src, dst)?;
        if is_self(&s, &d) {
            return Ok(PortSet::all());
        }
        let egress = self.direction_ports(Direction::Egress, &s, &d, &d);
        if egress.is_empty() || from_own_node(&s, &d).is_some() {
            return Ok(egress);
        }
        let ingress = self.direction_ports(Direction::Ingress, &d, &s, &d);
        Ok(egress.intersection(&ingress))
    }

    /// What one direction allows between a pod (where it is enforced) and an
    /// address, over the whole port space: egress from `subject` to `peer`, or
    /// ingress to `subject` from `peer`. No pod-level exception applies (a pod
    /// reaching itself, traffic from its own node): a dataplane filtering
    /// forwarded packets never sees those. What the nft renderer puts in the
    /// sets of a pod under ordered policies.
    pub fn direction_connections(
        &self,
        direction: Direction,
        subject: &PodKey,
        peer: IpAddr,
    ) -> Result<PortSet, EngineError> {
        let (s, p) = self.sides(&Endpoint::Pod(subject.clone()), &Endpoint::Ip(peer))?;
        Ok(match direction {
            Direction::Egress => self.direction_ports(Direction::Egress, &s, &p, &p),
            Direction::Ingress => self.direction_ports(Direction::Ingress, &s, &p, &s),
        })
    }

    /// [`Engine::direction_connections`] of one subject towards many peers (in
    /// order), what depends on the subject alone (the policies that select it,
    /// the ordered policies that apply to it) worked out once.
    pub fn direction_connections_many(
        &self,
        direction: Direction,
        subject: &PodKey,
        peers: &[IpAddr],
    ) -> Result<Vec<PortSet>, EngineError> {
        let mut plan = None;
        let mut out = Vec::with_capacity(peers.len());
        for &peer in peers {
            let (s, p) = self.sides(&Endpoint::Pod(subject.clone()), &Endpoint::Ip(peer))?;
            let dst = match direction {
                Direction::Egress => &p,
                Direction::Ingress => &s,
            };
            let Some(pod) = s.pod.filter(|p| !p.host_network) else {
                out.push(PortSet::all());
                continue;
            };
            let plan = plan.get_or_insert_with(|| self.plan(direction, pod, &s));
            out.push(self.planned_ports(plan, direction, &s, &p, dst));
        }
        Ok(out)
    }

    /// What one direction's verdicts for `pod` (its side `subject`) depend on besides the peer.
    fn plan(&self, direction: Direction, pod: &Pod, subject: &Side) -> Plan<'c> {
        let isolating = self.isolating(direction, pod);
        let tiers = if self.cluster.tiered.is_empty() { Vec::new() } else { self.tiers_for(direction, subject) };
        Plan { isolated_by: isolating.iter().map(|p| p.key()).collect(), isolating, tiers }
    }

    fn planned_ports(&self, plan: &Plan<'c>, direction: Direction, subject: &Side, peer: &Side, dst: &Side) -> PortSet {
        let ports = self.v1_ports(&plan.isolating, direction, peer, dst);
        if self.cluster.tiered.is_empty() {
            return ports;
        }
        let v1 = V1 { isolated_by: plan.isolated_by.clone(), allowed: false, ports };
        self.tiers_ports(&plan.tiers, direction, subject, peer, dst, &v1)
    }

    fn isolating(&self, direction: Direction, pod: &Pod) -> Vec<&'c NetworkPolicy> {
        let mut v = self.selecting_policies(pod);
        v.retain(|p| p.affects(direction));
        v
    }

    fn direction_ports(&self, direction: Direction, subject: &Side, peer: &Side, dst: &Side) -> PortSet {
        // Not a pod, or never selected (a hostNetwork pod): nothing isolates it.
        let Some(pod) = subject.pod.filter(|p| !p.host_network) else {
            return PortSet::all();
        };
        if self.cluster.tiered.is_empty() {
            return self.direction_ports_v1(direction, subject, peer, dst);
        }
        let plan = self.plan(direction, pod, subject);
        self.planned_ports(&plan, direction, subject, peer, dst)
    }

    fn direction_ports_v1(&self, direction: Direction, subject: &Side, peer: &Side, dst: &Side) -> PortSet {
        let Some(pod) = subject.pod else {
            return PortSet::all();
        };
        self.v1_ports(&self.isolating(direction, pod), direction, peer, dst)
    }

    /// What the v1 policies `isolating` the subject allow for `direction` with `peer`.
    fn v1_ports(&self, isolating: &[&'c NetworkPolicy], direction: Direction, peer: &Side, dst: &Side) -> PortSet {
        if isolating.is_empty() {
            return PortSet::all();
        }
        let ns = peer.pod.map(|p| self.namespace(&p.namespace));
        let end =
            PeerEnd { pod: peer.pod.zip(ns.as_deref()).map(|(p, ns)| (PodView::from(p), &ns.labels)), addr: peer.addr };
        let ipblock = self.options.ipblock_matches_pods;
        let mut allowed = PortSet::none();
        for policy in isolating {
            for rule in policy.rules(direction) {
                if !rule.peers.is_empty() && !rule.peers.iter().any(|p| p.matches(&policy.namespace, &end, ipblock)) {
                    continue;
                }
                if rule.ports.is_empty() {
                    return PortSet::all();
                }
                for p in &rule.ports {
                    if let Ok(set) = port_set(p, dst) {
                        allowed = allowed.union(&set);
                    }
                }
            }
        }
        allowed
    }

    /// One direction: NetworkPolicy v1, then (when the cluster has any) the
    /// chain of ordered policies around it.
    fn direction(
        &self,
        direction: Direction,
        subject: &Side,
        peer: &Side,
        dst: &Side,
        protocol: Protocol,
        port: u16,
    ) -> DirectionDecision {
        let mut d = self.direction_v1(direction, subject, peer, dst, protocol, port);
        if self.cluster.tiered.is_empty() || subject.pod.is_none_or(|p| p.host_network) {
            return d;
        }
        let v1 = V1 { isolated_by: d.isolated_by.clone(), allowed: d.allowed, ports: PortSet::none() };
        let chain = self.tier_chain(direction, subject, peer, dst, protocol, port, &v1);
        d.allowed = chain.verdict.unwrap_or(true);
        let decided_by_v1 = chain.steps.last().is_some_and(|s| s.action == StepAction::V1Allowed);
        if !chain.steps.is_empty() && !decided_by_v1 {
            d.status = Status::Ordered;
        }
        if !chain.steps.is_empty() {
            let mut text = chain.steps.iter().map(TierStep::describe).collect::<Vec<_>>().join(" -> ");
            if chain.verdict.is_none() {
                text.push_str(" -> no tier decided: allowed");
            }
            d.summary = text;
        }
        d.tiers = chain.steps;
        d
    }

    fn direction_v1(
        &self,
        direction: Direction,
        subject: &Side,
        peer: &Side,
        dst: &Side,
        protocol: Protocol,
        port: u16,
    ) -> DirectionDecision {
        let dir = direction.as_str().to_lowercase();
        let mut d = DirectionDecision {
            direction,
            endpoint: subject.endpoint.clone(),
            status: Status::NotIsolated,
            allowed: true,
            summary: String::new(),
            selected_by: Vec::new(),
            isolated_by: Vec::new(),
            allowed_by: Vec::new(),
            policies: Vec::new(),
            notes: Vec::new(),
            tiers: Vec::new(),
        };
        let Some(pod) = subject.pod else {
            d.status = Status::NotAPod;
            d.summary = format!("not enforced here: {} is not a pod", subject.endpoint);
            return d;
        };
        let key = format!("{}/{}", pod.namespace, pod.name);
        if pod.host_network {
            d.status = Status::HostNetwork;
            d.summary = format!("not enforced here: {key} is a hostNetwork pod (node traffic, never selected)");
            d.notes.push("hostNetwork pods are node traffic: no policy selects them as subjects".to_string());
            return d;
        }
        let selecting = self.selecting_policies(pod);
        d.selected_by = selecting.iter().map(|p| policy_ref(p)).collect();
        let isolating: Vec<&NetworkPolicy> = selecting.iter().copied().filter(|p| p.affects(direction)).collect();
        d.isolated_by = isolating.iter().map(|p| p.key()).collect();
        if isolating.is_empty() {
            d.summary = format!(
                "not isolated for {dir}: no policy in {} selects {key} for {}",
                pod.namespace,
                direction.as_str()
            );
            if !selecting.is_empty() {
                let names = selecting.iter().map(|p| p.key()).collect::<Vec<_>>().join(", ");
                d.summary.push_str(&format!(" (selected by {names}, whose policyTypes omit {})", direction.as_str()));
            }
            return d;
        }
        d.status = Status::Isolated;
        for policy in &isolating {
            let mut check = PolicyCheck { policy: policy.key(), origin: policy.origin.clone(), rules: Vec::new() };
            for (i, rule) in policy.rules(direction).iter().enumerate() {
                let (rc, matches) =
                    self.check_rule(policy, direction, i, rule, peer, dst, protocol, port, &mut d.notes);
                check.rules.push(rc);
                d.allowed_by.extend(matches);
            }
            d.policies.push(check);
        }
        d.allowed = !d.allowed_by.is_empty();
        let by = isolating.iter().map(|p| p.key()).collect::<Vec<_>>().join(", ");
        d.summary = if d.allowed {
            let n = d.allowed_by.len();
            format!("isolated for {dir} by {by}; allowed by {n} rule match{}", if n == 1 { "" } else { "es" })
        } else {
            format!(
                "isolated for {dir} by {by}; no rule allows {port}/{protocol} {} {}",
                if direction == Direction::Ingress { "from" } else { "to" },
                peer.endpoint
            )
        };
        d
    }

    #[allow(clippy::too_many_arguments)]
    fn check_rule(
        &self,
        policy: &NetworkPolicy,
        direction: Direction,
        index: usize,
        rule: &Rule,
        peer: &Side,
        dst: &Side,
        protocol: Protocol,
        port: u16,
        notes: &mut Vec<String>,
    ) -> (RuleCheck, Vec<RuleMatch>) {
        let mut peers = Vec::new();
        let mut matched_peers: Vec<(Option<usize>, String)> = Vec::new();
        if rule.peers.is_empty() {
            matched_peers.push((None, format!("rule has no `{}`: every peer matches", direction.peers_key())));
        }
        for (i, p) in rule.peers.iter().enumerate() {
            let o = self.check_peer(policy, p, peer);
            if let Some(note) = o.note {
                if !notes.contains(&note) {
                    notes.push(note);
                }
            }
            if o.matched {
                matched_peers.push((Some(i), o.reason.clone()));
            }
            peers.push(Check { index: i, spec: peer_spec(p), matched: o.matched, reason: o.reason });
        }
        let mut ports = Vec::new();
        let mut matched_ports: Vec<(Option<usize>, String)> = Vec::new();
        let mut unresolved = Vec::new();
        let mut allows = Vec::new();
        if rule.ports.is_empty() {
            matched_ports.push((None, "rule has no `ports`: every port matches".to_string()));
        }
        for (j, p) in rule.ports.iter().enumerate() {
            let o = check_port(p, dst, protocol, port);
            if let Some(note) = &o.note {
                if !notes.contains(note) {
                    notes.push(note.clone());
                }
            }
            if o.matched {
                matched_ports.push((Some(j), o.reason.clone()));
            }
            allows.push(o.allows);
            if o.unresolved {
                unresolved.push(format!("port[{j}] {}", o.reason));
            }
            ports.push(Check { index: j, spec: port_spec(p), matched: o.matched, reason: o.reason });
        }
        let origin = rule.origin.clone().or_else(|| policy.origin.clone());
        let mut matches = Vec::new();
        for (pi, pr) in &matched_peers {
            for (qi, qr) in &matched_ports {
                matches.push(RuleMatch {
                    policy: policy.key(),
                    direction,
                    rule: index,
                    peer: *pi,
                    port: *qi,
                    origin: origin.clone(),
                    peer_reason: pr.clone(),
                    port_reason: qr.clone(),
                });
            }
        }
        let mut reasons = Vec::new();
        if matched_peers.is_empty() {
            reasons.extend(peers.iter().map(|c| format!("peer[{}] {}", c.index, c.reason)));
        }
        if matched_ports.is_empty() {
            let allows = allows.join(", ");
            let lead = if matched_peers.is_empty() { "and port" } else { "peer matched but port" };
            reasons.push(format!("{lead}: rule allows {allows}; flow is {port}/{protocol}"));
            reasons.extend(unresolved);
        }
        let allowed = !matches.is_empty();
        (RuleCheck { index, origin, allowed, peers, ports, reasons }, matches)
    }
}

/// A pod reaching itself. A workload endpoint stands for its pods, so a flow from
/// a workload to itself is one replica reaching another: not self traffic.
fn is_self(src: &Side, dst: &Side) -> bool {
    matches!((src.pod, dst.pod), (Some(a), Some(b)) if std::ptr::eq(a, b) && a.kind == WorkloadKind::Pod)
}

/// For a flow from a workload to itself, what the flow stands for.
fn replicas_note(src: &Side, dst: &Side) -> Option<String> {
    match (src.pod, dst.pod) {
        (Some(a), Some(b)) if std::ptr::eq(a, b) && a.kind != WorkloadKind::Pod => Some(format!(
            "{}/{} is a {}: this flow is one of its pods reaching another (a pod reaching itself is always allowed)",
            a.namespace,
            a.name,
            a.kind.as_str()
        )),
        _ => None,
    }
}

/// The node, when the source is a hostNetwork pod (node traffic) on the node the
/// destination pod runs on: upstream, pods cannot block access from their resident node.
fn from_own_node<'a>(src: &Side<'a>, dst: &Side<'a>) -> Option<&'a str> {
    let (s, d) = (src.pod?, dst.pod?);
    if !s.host_network || d.host_network {
        return None;
    }
    match (s.node.as_deref(), d.node.as_deref()) {
        (Some(a), Some(b)) if a == b => Some(a),
        _ => None,
    }
}

fn own_node_decision(src: &Side, dst: &Side, node: &str) -> DirectionDecision {
    let key = |side: &Side| side.pod.map(|p| format!("{}/{}", p.namespace, p.name)).unwrap_or_default();
    DirectionDecision {
        direction: Direction::Ingress,
        endpoint: dst.endpoint.clone(),
        status: Status::OwnNode,
        allowed: true,
        summary: format!(
            "allowed: {} is node traffic from {node}, the node of {}, which no policy can block",
            key(src),
            key(dst)
        ),
        selected_by: Vec::new(),
        isolated_by: Vec::new(),
        allowed_by: Vec::new(),
        policies: Vec::new(),
        tiers: Vec::new(),
        notes: vec![
            "traffic from a pod's own node is always allowed (upstream: pods cannot block access from their resident node)"
                .to_string(),
        ],
    }
}

fn policy_ref(p: &NetworkPolicy) -> PolicyRef {
    PolicyRef { policy: p.key(), policy_types: p.policy_types.clone(), origin: p.origin.clone() }
}

fn self_decision(direction: Direction, side: &Side) -> DirectionDecision {
    DirectionDecision {
        direction,
        endpoint: side.endpoint.clone(),
        status: Status::SelfTraffic,
        allowed: true,
        summary: format!("allowed: {} is connecting to itself", side.endpoint),
        selected_by: Vec::new(),
        isolated_by: Vec::new(),
        allowed_by: Vec::new(),
        policies: Vec::new(),
        tiers: Vec::new(),
        notes: vec!["a pod can always reach itself (upstream: a pod cannot block access to itself)".to_string()],
    }
}

fn endpoint_info(side: &Side) -> EndpointInfo {
    let (kind, pod) = match side.pod {
        None => (EndpointKind::External, None),
        Some(p) if p.host_network => (EndpointKind::HostNetworkPod, Some(p)),
        Some(p) if p.kind != WorkloadKind::Pod => (EndpointKind::Workload, Some(p)),
        Some(p) => (EndpointKind::Pod, Some(p)),
    };
    let key = pod.map(|p| format!("{}/{}", p.namespace, p.name));
    let note = match (&side.endpoint, pod) {
        (Endpoint::Ip(ip), Some(p)) if p.host_network => {
            Some(format!("{ip} is the IP of hostNetwork pod {}/{} (node traffic)", p.namespace, p.name))
        }
        (Endpoint::Ip(ip), Some(p)) => Some(format!("{ip} is the IP of {}/{}", p.namespace, p.name)),
        (Endpoint::Ip(ip), None) => Some(format!("{ip} is not the IP of any pod: external")),
        (Endpoint::Pod(_), Some(p)) if p.kind != WorkloadKind::Pod => Some(format!(
            "{}/{} is a {}: it stands for its pods, whose IPs are not known",
            p.namespace,
            p.name,
            p.kind.as_str()
        )),
        (Endpoint::Pod(_), Some(p)) if p.ips.len() > 1 => {
            side.addr.map(|a| format!("{}/{} has several IPs; this flow uses {a}", p.namespace, p.name))
        }
        _ => None,
    };
    EndpointInfo { endpoint: side.endpoint.clone(), kind, pod: key, address: side.addr, note }
}

/// Levenshtein distance, for "did you mean" suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

//! The graph: what `netpol graph` draws, built from the compiled matrix (pod to
//! pod) and the engine (pods and ipBlock addresses), never guessed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use netpol_engine::{Endpoint, Engine};
use netpol_matrix::{Compiled, PodId};
use netpol_model::{Cluster, Direction, PortRange, PortSet, Protocol, WorkloadKind};

use crate::external::{regions, External};

/// What to build.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Whether ipBlock peers match pod IPs (see `netpol check --ipblock-ignores-pods`).
    pub ipblock_ignores_pods: bool,
    /// Only connections on this port (every protocol).
    pub port: Option<u16>,
}

/// Nodes (classes of pods, and ipBlock regions), and allowed connections as edges.
#[derive(Clone, Debug)]
pub struct Graph {
    /// The namespaces that have pods, sorted: one cluster (subgraph) each.
    pub namespaces: Vec<String>,
    /// Pod nodes by namespace and first pod, then external nodes.
    pub nodes: Vec<Node>,
    /// By source node, then destination node, then kind.
    pub edges: Vec<Edge>,
    /// The `--port` the edges are restricted to.
    pub port: Option<u16>,
}

/// One node: `node-<index>` in every output.
#[derive(Clone, Debug)]
pub struct Node {
    pub id: String,
    pub what: What,
}

#[derive(Clone, Debug)]
pub enum What {
    /// Pods (and workload endpoints) no policy can tell apart: one class of the matrix.
    Pods(Pods),
    /// Addresses outside the pod network, named by ipBlocks.
    External(External),
}

#[derive(Clone, Debug)]
pub struct Pods {
    pub namespace: String,
    /// `(kind, name)`, sorted by name. Never empty.
    pub members: Vec<(WorkloadKind, String)>,
    pub host_network: bool,
    pub ingress_isolated: bool,
    pub egress_isolated: bool,
}

/// One allowed connection between two nodes: `edge-<index>`.
#[derive(Clone, Debug)]
pub struct Edge {
    pub id: String,
    /// Indices into [`Graph::nodes`]; `from` opens the connections.
    pub from: usize,
    pub to: usize,
    /// Every (protocol, port) allowed, restricted to [`Graph::port`]. Never empty.
    pub ports: PortSet,
    /// A hostNetwork pod reaching pods of its own node, which no policy can deny
    /// (only those pairs; the other pairs of the two nodes have their own edge, if any).
    pub own_node: bool,
    /// The flow the edge stands for: one pod (or address) of each node (two
    /// distinct pods for a node to itself). The explanation is the engine's for it.
    pub src: Endpoint,
    pub dst: Endpoint,
}

impl Node {
    /// `default/frontend` for pods (the first pod), the region for addresses.
    pub fn key(&self) -> String {
        match &self.what {
            What::Pods(p) => format!("{}/{}", p.namespace, p.members[0].1),
            What::External(e) => e.to_string(),
        }
    }

    /// What a person reads for the node: its pods (at most three, then how many
    /// more), or the region.
    pub fn title(&self) -> String {
        let pods = self.pods();
        match pods.len() {
            0 => self.key(),
            1..=3 => pods.join(", "),
            n => format!("{}, ... ({n} pods)", pods[..2].join(", ")),
        }
    }

    /// Every pod key of a pods node; empty for addresses.
    pub fn pods(&self) -> Vec<String> {
        match &self.what {
            What::Pods(p) => p.members.iter().map(|(_, name)| format!("{}/{name}", p.namespace)).collect(),
            What::External(_) => Vec::new(),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        match &self.what {
            What::Pods(p) => Some(&p.namespace),
            What::External(_) => None,
        }
    }

    /// The lines of the node's label: its pods (at most four, then how many more), or
    /// `ipBlock` and the region; then its isolation.
    pub fn label_lines(&self) -> Vec<String> {
        match &self.what {
            What::Pods(p) => {
                let mut lines: Vec<String> = p
                    .members
                    .iter()
                    .take(4)
                    .map(|(kind, name)| match kind {
                        WorkloadKind::Pod => name.clone(),
                        kind => format!("{} {name}", kind.as_str()),
                    })
                    .collect();
                if p.members.len() > 4 {
                    lines.push(format!("+{} more ({} pods)", p.members.len() - 4, p.members.len()));
                }
                lines.push(p.isolation().to_string());
                lines
            }
            What::External(e) => {
                let mut lines = vec!["ipBlock".to_string()];
                lines.extend(e.within.iter().map(ToString::to_string));
                if !e.outside.is_empty() {
                    let outside = e.outside.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
                    lines.push(format!("not in {outside}"));
                }
                lines
            }
        }
    }

    /// The isolation marker: `isolated-both`, `isolated-ingress`, `isolated-egress`,
    /// `not-isolated`, `host-network` or `external` (a CSS class and a style).
    pub fn style(&self) -> &'static str {
        match &self.what {
            What::Pods(p) if p.host_network => "host-network",
            What::Pods(p) => match (p.ingress_isolated, p.egress_isolated) {
                (true, true) => "isolated-both",
                (true, false) => "isolated-ingress",
                (false, true) => "isolated-egress",
                (false, false) => "not-isolated",
            },
            What::External(_) => "external",
        }
    }
}

impl Pods {
    /// `isolated: ingress, egress`, `isolated: ingress`, `isolated: egress`,
    /// `not isolated`, or `hostNetwork (never isolated)`.
    pub fn isolation(&self) -> &'static str {
        if self.host_network {
            return "hostNetwork (never isolated)";
        }
        match (self.ingress_isolated, self.egress_isolated) {
            (true, true) => "isolated: ingress, egress",
            (true, false) => "isolated: ingress",
            (false, true) => "isolated: egress",
            (false, false) => "not isolated",
        }
    }
}

impl Graph {
    /// `default/frontend -> default/backend`, or for a node to itself
    /// `between the pods of shop/web-0, shop/web-1`.
    pub fn edge_title(&self, edge: &Edge) -> String {
        let (from, to) = (&self.nodes[edge.from], &self.nodes[edge.to]);
        if edge.from == edge.to {
            let of = if from.pods().len() > 1 { "the pods" } else { "the replicas" };
            return format!("between {of} of {}", from.title());
        }
        let own = if edge.own_node { " (hostNetwork pods to pods of their own node)" } else { "" };
        format!("{} -> {}{own}", from.title(), to.title())
    }
}

impl Edge {
    /// `TCP 80`, `UDP 53`, `TCP 8000-8080`: one line per protocol (`all` for every port of every protocol).
    pub fn port_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.ports.to_string().split("; ").map(str::to_string).collect();
        if self.own_node {
            lines.push("(own node)".to_string());
        }
        lines
    }
}

/// The ports `--port P` keeps: P of every protocol.
pub fn port_filter(port: Option<u16>) -> PortSet {
    match port {
        Some(p) => Protocol::ALL.into_iter().map(|proto| (proto, PortRange::single(p))).collect(),
        None => PortSet::all(),
    }
}

impl Graph {
    /// Builds the graph of `cluster`: pod edges from the compiled matrix (class to
    /// class), edges to and from ipBlock regions from the engine.
    pub fn build(cluster: &Cluster, options: Options) -> Graph {
        let ipblock_matches_pods = !options.ipblock_ignores_pods;
        let compiled = Compiled::build(cluster, netpol_matrix::Options { ipblock_matches_pods });
        let engine = Engine::new(cluster, netpol_engine::Options { ipblock_matches_pods });
        let keep = port_filter(options.port);

        // Pods by class, each class's pods sorted by name; classes by namespace and first pod.
        let mut classes: BTreeMap<usize, Vec<PodId>> = BTreeMap::new();
        for (id, _) in compiled.pods() {
            classes.entry(compiled.class_of(id).expect("a live pod")).or_default().push(id);
        }
        let pod = |id: PodId| compiled.pod(id).expect("a live pod");
        let mut classes: Vec<(usize, Vec<PodId>)> = classes.into_iter().collect();
        for (_, ids) in &mut classes {
            ids.sort_by(|a, b| pod(*a).name.cmp(&pod(*b).name));
        }
        classes.sort_by(|a, b| {
            let (pa, pb) = (pod(a.1[0]), pod(b.1[0]));
            (&pa.namespace, &pa.name).cmp(&(&pb.namespace, &pb.name))
        });

        let mut nodes = Vec::new();
        for (_, ids) in &classes {
            let first = pod(ids[0]);
            let isolated = |direction: Direction| {
                !first.host_network && engine.selecting_policies(first).iter().any(|p| p.affects(direction))
            };
            nodes.push(What::Pods(Pods {
                namespace: first.namespace.clone(),
                members: ids.iter().map(|&id| (pod(id).kind, pod(id).name.clone())).collect(),
                host_network: first.host_network,
                ingress_isolated: isolated(Direction::Ingress),
                egress_isolated: isolated(Direction::Egress),
            }));
        }
        let externals = regions(cluster);
        let first_external = nodes.len();
        nodes.extend(externals.iter().cloned().map(What::External));
        let nodes: Vec<Node> =
            nodes.into_iter().enumerate().map(|(i, what)| Node { id: format!("node-{i}"), what }).collect();

        let endpoint = |id: PodId| Endpoint::Pod(pod(id).key());
        let mut edges: Vec<Edge> = Vec::new();
        let mut add = |from: usize, to: usize, ports: PortSet, own_node: bool, src: Endpoint, dst: Endpoint| {
            let ports = ports.intersection(&keep);
            if !ports.is_empty() {
                edges.push(Edge { id: String::new(), from, to, ports, own_node, src, dst });
            }
        };
        // Pod to pod: the class verdict, between distinct pods (a class to itself only
        // when it has two pods, or is a workload: one replica to another).
        for (s, (sc, sids)) in classes.iter().enumerate() {
            for (d, (dc, dids)) in classes.iter().enumerate() {
                let (src, dst) = if s == d {
                    match sids.as_slice() {
                        [one] if pod(*one).kind == WorkloadKind::Pod => continue,
                        [one] => (*one, *one),
                        [a, b, ..] => (*a, *b),
                        [] => continue,
                    }
                } else {
                    (sids[0], dids[0])
                };
                add(s, d, compiled.class_connections(*sc, *dc), false, endpoint(src), endpoint(dst));
            }
        }
        // hostNetwork pods reach the pods of their own node whatever the policies say.
        let node_of: HashMap<usize, usize> = classes.iter().enumerate().map(|(i, (c, _))| (*c, i)).collect();
        let mut own: BTreeSet<(usize, usize)> = BTreeSet::new();
        for (h, host) in compiled.pods().filter(|(_, p)| p.host_network && p.node.is_some()) {
            for (p, other) in compiled.pods() {
                if p == h || other.host_network || other.node != host.node {
                    continue;
                }
                let (hc, pc) = (compiled.class_of(h).expect("live"), compiled.class_of(p).expect("live"));
                let (from, to) = (node_of[&hc], node_of[&pc]);
                let class_ports = compiled.class_connections(hc, pc).intersection(&keep);
                if class_ports != keep && own.insert((from, to)) {
                    add(from, to, PortSet::all(), true, endpoint(h), endpoint(p));
                }
            }
        }
        // Pods to and from addresses: the engine, at each region's example address.
        for (s, (_, sids)) in classes.iter().enumerate() {
            let rep = endpoint(sids[0]);
            for (k, region) in externals.iter().enumerate() {
                let ip = Endpoint::Ip(region.example);
                let out = engine.allowed_connections(&rep, &ip).expect("a pod of the cluster");
                add(s, first_external + k, out, false, rep.clone(), ip.clone());
                let back = engine.allowed_connections(&ip, &rep).expect("a pod of the cluster");
                add(first_external + k, s, back, false, ip, rep.clone());
            }
        }
        edges.sort_by_key(|e| (e.from, e.to, e.own_node));
        for (i, e) in edges.iter_mut().enumerate() {
            e.id = format!("edge-{i}");
        }
        let namespaces: BTreeSet<String> = nodes.iter().filter_map(|n| n.namespace().map(str::to_string)).collect();
        Graph { namespaces: namespaces.into_iter().collect(), nodes, edges, port: options.port }
    }

    /// The nodes of one namespace, in order.
    pub fn nodes_in<'a>(&'a self, namespace: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes.iter().filter(move |n| n.namespace() == Some(namespace))
    }

    /// The nodes outside every namespace (ipBlock regions).
    pub fn external_nodes(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.namespace().is_none())
    }

    /// `ns-<namespace>`: the id of a namespace's cluster in every output.
    pub fn namespace_id(namespace: &str) -> String {
        format!("ns-{namespace}")
    }

    /// One sentence on what the picture shows (the `--port` restriction included).
    pub fn caption(&self) -> String {
        let pods: usize = self.nodes.iter().map(|n| n.pods().len()).sum();
        let what = match self.port {
            Some(p) => format!("allowed connections on port {p}"),
            None => "allowed connections".to_string(),
        };
        format!(
            "netpol graph: {pods} pod{} in {} node{}, {} edge{} ({what}; arrows point from the side that opens the connection)",
            plural(pods),
            self.nodes.len(),
            plural(self.nodes.len()),
            self.edges.len(),
            plural(self.edges.len()),
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

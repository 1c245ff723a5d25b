//! Why an edge is there: the engine's decision (the text `netpol check`
//! prints, with the file and line of every policy and rule) for the edge's
//! flow, once for each part of its ports that the same rules allow.
//!
//! The ports of an edge are cut at every port boundary of the rules of the two
//! ends' namespaces (numbers, ranges, named ports resolved on the destination);
//! within a piece the same rules match every port, so one decision per piece is
//! exact. Pieces whose decisions name the same rules are shown once.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use netpol_engine::{explain, Decision, DirectionDecision, Endpoint, Engine, Flow, Status};
use netpol_model::{Cluster, Direction, PortRange, PortRef, PortSet, Protocol, MAX_PORT};

use crate::graph::{Edge, Graph};

/// One part of an edge's ports and the decision that explains it.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// The ports this decision stands for (every one allowed by the same rules).
    pub ports: PortSet,
    /// The decision, evaluated on the first of `ports`.
    pub decision: Decision,
}

/// The explanations of every part of `edge`'s ports, in protocol and port order.
pub fn explain_edge(engine: &Engine, edge: &Edge) -> Vec<Explanation> {
    let cuts = cuts(engine.cluster(), &edge.src, &edge.dst);
    let mut out: Vec<(Signature, Explanation)> = Vec::new();
    for (k, protocol) in Protocol::ALL.into_iter().enumerate() {
        for range in edge.ports.ranges(protocol) {
            let mut starts: Vec<u16> = vec![range.start];
            if range.start < range.end {
                // Every cut in (start, end] is a port, so it fits a u16.
                starts.extend(cuts[k].range(u32::from(range.start) + 1..=u32::from(range.end)).map(|&c| c as u16));
            }
            for (i, &start) in starts.iter().enumerate() {
                let end = starts.get(i + 1).map_or(range.end, |next| next - 1);
                let flow = Flow { src: edge.src.clone(), dst: edge.dst.clone(), protocol, port: start };
                let decision = engine.evaluate(&flow).expect("the edge's endpoints are in the cluster");
                let signature = signature(&decision);
                match out.iter_mut().find(|(s, _)| *s == signature) {
                    Some((_, e)) => e.ports.insert(protocol, PortRange::new(start, end)),
                    None => out.push((
                        signature,
                        Explanation { ports: PortSet::from_iter([(protocol, PortRange::new(start, end))]), decision },
                    )),
                }
            }
        }
    }
    out.into_iter().map(|(_, e)| e).collect()
}

/// The text of an edge's explanations: a heading, then for each part of its
/// ports the `netpol check` text.
pub fn explain_text(graph: &Graph, engine: &Engine, edge: &Edge) -> String {
    let (from, to) = (&graph.nodes[edge.from], &graph.nodes[edge.to]);
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", graph.edge_title(edge), edge.ports);
    if from.pods().len() > 1 || to.pods().len() > 1 || edge.from == edge.to {
        let _ =
            writeln!(out, "(evaluated for {} -> {}: the pods of a node are alike to every policy)", edge.src, edge.dst);
    }
    for part in explain_edge(engine, edge) {
        let f = &part.decision.flow;
        let many = part.ports.len() > 1;
        let _ = write!(out, "\n== {}", part.ports);
        if many {
            let _ =
                write!(out, " (the same rules allow every one of these ports; shown for {}/{})", f.port, f.protocol);
        }
        out.push_str(" ==\n");
        out.push_str(&explain(&part.decision));
    }
    out
}

/// What makes two decisions the same explanation: per direction, how it was
/// decided and every (policy, rule, peer, port) that allowed it.
type Signature = Vec<(Status, Vec<(String, usize, Option<usize>, Option<usize>)>)>;

fn signature(d: &Decision) -> Signature {
    let side = |dd: &DirectionDecision| {
        (dd.status, dd.allowed_by.iter().map(|m| (m.policy.clone(), m.rule, m.peer, m.port)).collect())
    };
    vec![side(&d.egress), side(&d.ingress)]
}

/// Per protocol (in [`Protocol::ALL`] order), the ports where some rule of the
/// two ends' namespaces starts or stops matching.
fn cuts(cluster: &Cluster, src: &Endpoint, dst: &Endpoint) -> [BTreeSet<u32>; 3] {
    let pod = |e: &Endpoint| match e {
        Endpoint::Pod(key) => cluster.pod(key),
        Endpoint::Ip(ip) => cluster.pod_by_ip(*ip),
    };
    let (src_pod, dst_pod) = (pod(src), pod(dst));
    let namespaces: BTreeSet<&str> = [src_pod, dst_pod].into_iter().flatten().map(|p| p.namespace.as_str()).collect();
    let mut cuts: [BTreeSet<u32>; 3] = Default::default();
    let index = |p: Protocol| Protocol::ALL.iter().position(|&q| q == p).expect("a protocol");
    for policy in cluster.policies.iter().filter(|p| namespaces.contains(p.namespace.as_str())) {
        for direction in [Direction::Ingress, Direction::Egress] {
            for port in policy.rules(direction).iter().flat_map(|r| &r.ports) {
                let set = &mut cuts[index(port.protocol)];
                match &port.port {
                    None => {}
                    Some(PortRef::Number(n)) => {
                        set.insert(u32::from(*n));
                        set.insert(u32::from(port.end_port.unwrap_or(*n)) + 1);
                    }
                    Some(PortRef::Name(name)) => {
                        for n in dst_pod.iter().flat_map(|p| p.named_ports(name, port.protocol)) {
                            set.insert(u32::from(n));
                            set.insert(u32::from(n) + 1);
                        }
                    }
                }
            }
        }
    }
    for set in &mut cuts {
        set.retain(|&c| c <= u32::from(MAX_PORT));
    }
    cuts
}

//! Graphviz DOT: a cluster per namespace (`id="ns-<namespace>"`), a node per
//! class of pods or ipBlock region (`id="node-<n>"`), an edge per allowed
//! connection (`id="edge-<n>"`), labelled with its ports. Graphviz copies the
//! `id` and `class` attributes into its SVG, so the HTML page (and a test) can
//! find every namespace, node and edge.

use std::fmt::Write as _;

use crate::graph::{Graph, Node, What};

/// The font of every label.
const FONT: &str = "Helvetica,Arial,sans-serif";

/// How a node is filled, by [`Node::style`].
pub(crate) fn fill(style: &str) -> &'static str {
    match style {
        "isolated-both" => "#f4cccc",
        "isolated-ingress" => "#fce5cd",
        "isolated-egress" => "#fff2cc",
        "not-isolated" => "#d9ead3",
        "host-network" => "#d9d2e9",
        _ => "#ffffff",
    }
}

/// What the colours and shapes mean (the graph's label, under the picture).
pub(crate) const LEGEND: [&str; 3] = [
    "Nodes: pods no policy can tell apart. Fill: red isolated for ingress and egress, orange for ingress only, yellow for egress only, green not isolated, purple hostNetwork.",
    "Dashed nodes: addresses outside the pod network named by ipBlocks. Arrows: allowed connections, from the side that opens them, with their ports.",
    "A pod always reaches itself; an arrow from a node to itself is between distinct pods of the node.",
];

/// A DOT quoted string's content.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Lines joined with DOT's centred line break.
fn lines(lines: &[String]) -> String {
    lines.iter().map(|l| escape(l)).collect::<Vec<_>>().join("\\n")
}

/// The graph in DOT. With `links`, every edge (and its label) links to
/// `#explain-<edge id>`, the edge's explanation on the HTML page.
pub fn dot(graph: &Graph, links: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "// {}", graph.caption());
    out.push_str("digraph netpol {\n");
    let legend: String = LEGEND.iter().map(|l| format!("{}\\l", escape(l))).collect();
    let _ = writeln!(
        out,
        "  graph [id=\"netpol-graph\", rankdir=LR, nodesep=0.3, ranksep=1.1, fontname=\"{FONT}\", fontsize=10, labelloc=b, labeljust=l, label=\"{legend}\"];"
    );
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname=\"{FONT}\", fontsize=10, color=\"#555555\"];"
    );
    let _ = writeln!(out, "  edge [fontname=\"{FONT}\", fontsize=9, color=\"#34495e\", fontcolor=\"#1f3a5a\"];");
    for ns in &graph.namespaces {
        let _ = writeln!(out, "  subgraph \"cluster_{}\" {{", escape(&Graph::namespace_id(ns)));
        let _ = writeln!(
            out,
            "    id=\"{}\"; class=\"namespace\"; label=\"namespace {}\"; style=\"rounded\"; color=\"#888888\"; fontsize=11; labelloc=t; labeljust=l;",
            escape(&Graph::namespace_id(ns)),
            escape(ns)
        );
        for node in graph.nodes_in(ns) {
            let _ = writeln!(out, "    {}", node_line(node));
        }
        out.push_str("  }\n");
    }
    for node in graph.external_nodes() {
        let _ = writeln!(out, "  {}", node_line(node));
    }
    for edge in &graph.edges {
        let (from, to) = (&graph.nodes[edge.from], &graph.nodes[edge.to]);
        let mut attrs = vec![
            format!("id=\"{}\"", edge.id),
            format!("class=\"connection{}\"", if edge.own_node { " own-node" } else { "" }),
            format!("label=\"{}\"", lines(&edge.port_lines())),
            format!("tooltip=\"{}\"", escape(&format!("{}: {}", graph.edge_title(edge), edge.ports))),
        ];
        if edge.own_node {
            attrs.push("style=dashed".to_string());
        }
        if links {
            attrs.push(format!("URL=\"#explain-{}\"", edge.id));
        }
        let _ = writeln!(out, "  \"{}\" -> \"{}\" [{}];", from.id, to.id, attrs.join(", "));
    }
    out.push_str("}\n");
    out
}

fn node_line(node: &Node) -> String {
    let style = node.style();
    let tooltip = match &node.what {
        What::Pods(_) => node.pods().join(", "),
        What::External(e) => format!("{e} (e.g. {})", e.example),
    };
    let mut attrs = vec![
        format!("id=\"{}\"", node.id),
        match node.namespace() {
            Some(_) => format!("class=\"pods {style}\""),
            None => "class=\"external\"".to_string(),
        },
        format!("label=\"{}\"", lines(&node.label_lines())),
        format!("fillcolor=\"{}\"", fill(style)),
        format!("tooltip=\"{}\"", escape(&tooltip)),
    ];
    if style == "external" {
        attrs.push("style=\"rounded,dashed,filled\"".to_string());
    }
    format!("\"{}\" [{}];", node.id, attrs.join(", "))
}

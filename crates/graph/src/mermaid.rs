//! Mermaid: a `flowchart` for Markdown, a `subgraph` per namespace, the same
//! nodes, edges and isolation styles as the DOT output.

use std::fmt::Write as _;

use crate::dot::fill;
use crate::graph::{Graph, Node};

/// Mermaid's identifier of a node: `node-3` -> `node3`.
fn ident(node: &Node) -> String {
    node.id.replace('-', "")
}

/// A quoted label's content (Mermaid's entity codes), lines joined with `<br/>`.
fn label(lines: &[String]) -> String {
    let escape = |s: &str| s.replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;");
    lines.iter().map(|l| escape(l)).collect::<Vec<_>>().join("<br/>")
}

/// The styles of [`Node::style`] as Mermaid class names (`isolated-both` -> `isolated_both`).
const STYLES: [&str; 6] =
    ["isolated-both", "isolated-ingress", "isolated-egress", "not-isolated", "host-network", "external"];

/// The graph as a Mermaid flowchart.
pub fn mermaid(graph: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "%% {}", graph.caption());
    out.push_str("flowchart LR\n");
    for (i, ns) in graph.namespaces.iter().enumerate() {
        let _ = writeln!(out, "  subgraph ns{i}[\"namespace {}\"]", label(std::slice::from_ref(ns)));
        for node in graph.nodes_in(ns) {
            let _ = writeln!(out, "    {}[\"{}\"]", ident(node), label(&node.label_lines()));
        }
        out.push_str("  end\n");
    }
    for node in graph.external_nodes() {
        let _ = writeln!(out, "  {}{{{{\"{}\"}}}}", ident(node), label(&node.label_lines()));
    }
    for edge in &graph.edges {
        let arrow = if edge.own_node { "-.->" } else { "-->" };
        let (from, to) = (&graph.nodes[edge.from], &graph.nodes[edge.to]);
        let _ = writeln!(out, "  {} {arrow}|\"{}\"| {}", ident(from), label(&edge.port_lines()), ident(to));
    }
    for style in STYLES {
        let members: Vec<String> = graph.nodes.iter().filter(|n| n.style() == style).map(ident).collect();
        if members.is_empty() {
            continue;
        }
        let name = style.replace('-', "_");
        let dashed = if style == "external" { ",stroke-dasharray:4 3" } else { "" };
        let _ = writeln!(out, "  classDef {name} fill:{},stroke:#555555{dashed}", fill(style));
        let _ = writeln!(out, "  class {} {name}", members.join(","));
    }
    out
}

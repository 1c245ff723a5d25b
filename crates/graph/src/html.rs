//! One self-contained HTML page: the SVG Graphviz drew (inlined), a legend, the
//! list of connections, and for every edge its explanation. Nothing is fetched:
//! the style and the script are inline.
//!
//! Without scripts, clicking an edge (Graphviz links it, see [`crate::dot`]'s
//! `links`) or a connection of the list shows its explanation (`:target`).
//! The script adds what a test or a person can query in the DOM: on each
//! namespace cluster `data-namespace`, on each node `data-node`, `data-pods`
//! and `data-isolation`, on each edge `data-from`, `data-to`, `data-ports` and
//! `data-explanation` (the id of its explanation), then marks the page
//! `<body data-ready="true">`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::dot::{fill, LEGEND};
use crate::graph::Graph;

/// What the script reads: the graph's namespaces, nodes and edges.
#[derive(Serialize)]
struct Data<'a> {
    namespaces: Vec<NamespaceData<'a>>,
    nodes: Vec<NodeData>,
    edges: Vec<EdgeData<'a>>,
}

#[derive(Serialize)]
struct NamespaceData<'a> {
    id: String,
    name: &'a str,
}

#[derive(Serialize)]
struct NodeData {
    id: String,
    key: String,
    namespace: Option<String>,
    pods: Vec<String>,
    isolation: &'static str,
}

#[derive(Serialize)]
struct EdgeData<'a> {
    id: &'a str,
    from: String,
    to: String,
    ports: String,
    own_node: bool,
}

/// Text for HTML content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The SVG element of Graphviz's output, without its XML prolog and DOCTYPE.
fn svg_element(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..]).trim_end()
}

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #222; }
header { padding: 0.6rem 1rem; border-bottom: 1px solid #ddd; }
header h1 { font-size: 1.1rem; margin: 0 0 0.3rem 0; }
header p { margin: 0.2rem 0; font-size: 0.85rem; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #555; vertical-align: middle; margin: 0 0.25em 0 0.7em; border-radius: 2px; }
.swatch.external { border-style: dashed; }
main { display: grid; grid-template-columns: minmax(0, 3fr) minmax(18rem, 2fr); gap: 1rem; padding: 1rem; }
#graph { overflow: auto; }
aside { position: sticky; top: 0.5rem; align-self: start; max-height: calc(100vh - 1rem); overflow: auto; }
#graph svg { max-width: 100%; height: auto; }
g.edge { cursor: pointer; }
g.edge:hover path, g.edge.selected path { stroke: #c0392b; stroke-width: 2.5; }
g.edge.selected polygon, g.edge:hover polygon { fill: #c0392b; stroke: #c0392b; }
g.edge.selected text { fill: #c0392b; font-weight: bold; }
aside h2 { font-size: 1rem; margin: 0.8rem 0 0.4rem 0; }
#connections ol { padding-left: 1.5rem; margin: 0; font-size: 0.85rem; }
#connections a { color: #1f3a5a; text-decoration: none; }
#connections a:hover, #connections a.selected { color: #c0392b; text-decoration: underline; }
.explanation { display: none; }
.explanation:target, .explanation.shown { display: block; }
.explanation pre { white-space: pre-wrap; font-size: 12px; background: #f7f7f7; padding: 0.5rem; border: 1px solid #e5e5e5; }
"#;

const SCRIPT: &str = r##"
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("netpol-graph-data").textContent);
  function set(id, attrs) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    Object.keys(attrs).forEach(function (k) { if (attrs[k] !== null) { el.setAttribute("data-" + k, attrs[k]); } });
    return el;
  }
  data.namespaces.forEach(function (ns) { set(ns.id, { namespace: ns.name }); });
  data.nodes.forEach(function (n) {
    set(n.id, { node: n.key, namespace: n.namespace, pods: n.pods.join(" "), isolation: n.isolation });
  });
  function show(id) {
    document.querySelectorAll(".shown, .selected").forEach(function (el) {
      el.classList.remove("shown");
      el.classList.remove("selected");
    });
    var article = document.getElementById("explain-" + id);
    var edge = document.getElementById(id);
    var link = document.querySelector('#connections a[data-edge="' + id + '"]');
    if (article) { article.classList.add("shown"); }
    if (edge) { edge.classList.add("selected"); }
    if (link) { link.classList.add("selected"); }
  }
  data.edges.forEach(function (e) {
    var el = set(e.id, { from: e.from, to: e.to, ports: e.ports, "own-node": String(e.own_node), explanation: "explain-" + e.id });
    if (!el) { return; }
    el.addEventListener("click", function (event) {
      event.preventDefault();
      if (location.hash !== "#explain-" + e.id) { location.hash = "explain-" + e.id; } else { show(e.id); }
    });
  });
  function fromHash() {
    var m = /^#explain-(edge-[0-9]+)$/.exec(location.hash);
    if (m) { show(m[1]); }
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
  document.body.setAttribute("data-ready", "true");
})();
"##;

/// The page: `svg` is what Graphviz drew from [`crate::dot`] with links,
/// `explanations[i]` the text of `graph.edges[i]` (from [`crate::explain_text`]).
pub fn html(graph: &Graph, svg: &str, explanations: &[String]) -> String {
    let data = Data {
        namespaces: graph.namespaces.iter().map(|ns| NamespaceData { id: Graph::namespace_id(ns), name: ns }).collect(),
        nodes: graph
            .nodes
            .iter()
            .map(|n| NodeData {
                id: n.id.clone(),
                key: n.key(),
                namespace: n.namespace().map(str::to_string),
                pods: n.pods(),
                isolation: n.style(),
            })
            .collect(),
        edges: graph
            .edges
            .iter()
            .map(|e| EdgeData {
                id: &e.id,
                from: graph.nodes[e.from].key(),
                to: graph.nodes[e.to].key(),
                ports: e.ports.to_string(),
                own_node: e.own_node,
            })
            .collect(),
    };
    // `</` cannot end the script element from inside a JSON string.
    let json = serde_json::to_string(&data).expect("plain data serialises").replace("</", "<\\/");

    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>netpol graph</title>\n");
    let _ = writeln!(out, "<style>{STYLE}</style>");
    out.push_str("</head>\n<body>\n<header>\n<h1>netpol graph</h1>\n");
    let _ = writeln!(out, "<p class=\"caption\">{}</p>", escape(&graph.caption()));
    out.push_str("<p class=\"legend\">");
    for (style, text) in [
        ("isolated-both", "isolated for ingress and egress"),
        ("isolated-ingress", "ingress only"),
        ("isolated-egress", "egress only"),
        ("not-isolated", "not isolated"),
        ("host-network", "hostNetwork"),
        ("external", "ipBlock addresses"),
    ] {
        let _ =
            write!(out, "<span class=\"swatch {style}\" style=\"background:{}\"></span>{}", fill(style), escape(text));
    }
    out.push_str("</p>\n");
    for line in &LEGEND[2..] {
        let _ = writeln!(out, "<p>{}</p>", escape(line));
    }
    out.push_str("</header>\n<main>\n<div id=\"graph\">\n");
    out.push_str(svg_element(svg));
    out.push_str("\n</div>\n<aside id=\"panel\">\n");
    out.push_str(
        "<p id=\"hint\">Click an edge, or a connection below, to see why it is allowed: the policies and rules \
         on each side, with their file and line.</p>\n",
    );
    out.push_str("<section id=\"explanations\">\n");
    for (edge, text) in graph.edges.iter().zip(explanations) {
        let _ = writeln!(
            out,
            "<article class=\"explanation\" id=\"explain-{id}\" data-edge=\"{id}\">\n<h2>{}</h2>\n<pre>{}</pre>\n</article>",
            escape(&format!("{}: {}", graph.edge_title(edge), edge.ports)),
            escape(text.trim_end()),
            id = edge.id,
        );
    }
    out.push_str("</section>\n<nav id=\"connections\">\n<h2>Connections</h2>\n<ol>\n");
    for edge in &graph.edges {
        let _ = writeln!(
            out,
            "<li><a href=\"#explain-{id}\" data-edge=\"{id}\">{}</a></li>",
            escape(&format!("{}: {}", graph.edge_title(edge), edge.ports)),
            id = edge.id,
        );
    }
    out.push_str("</ol>\n</nav>\n</aside>\n</main>\n");
    let _ = writeln!(out, "<script type=\"application/json\" id=\"netpol-graph-data\">{json}</script>");
    let _ = writeln!(out, "<script>{SCRIPT}</script>");
    out.push_str("</body>\n</html>\n");
    out
}

//! `netpol graph`: every output format, the errors (no Graphviz, bad flags),
//! the README's picture kept current, and the HTML page as a person sees it:
//! headless Chromium runs its scripts, takes a screenshot, and the DOM it dumps
//! must hold every namespace and every edge that `netpol matrix` reports.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use support::run::{netpol, root};

fn ok(args: &[&str]) -> String {
    let out = netpol(args);
    assert_eq!(out.status.code(), Some(0), "netpol {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

const STEP_10: &str = "examples/seed-000-walkthrough/step-10-default-labelled";
const NAMESPACES: [&str; 3] = ["cassandra", "default", "kube-system"];

/// The README's picture and the DOT it was drawn from.
const PICTURE_DOT: &str = "docs/img/seed000-step10.dot";
const PICTURE_SVG: &str = "docs/img/seed000-step10.svg";

/// XML's escapes as Graphviz and Chromium write them.
fn unescape(s: &str) -> String {
    s.replace("&#45;", "-")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The attributes of every start tag `<NAME ...>` in `markup`, unescaped.
fn tags(markup: &str, name: &str) -> Vec<BTreeMap<String, String>> {
    let open = format!("<{name} ");
    let mut out = Vec::new();
    let mut rest = markup;
    while let Some(i) = rest.find(&open) {
        let tag = &rest[i + open.len()..];
        let end = tag.find('>').expect("a closed tag");
        let mut attrs = BTreeMap::new();
        let mut body = &tag[..end];
        while let Some(eq) = body.find("=\"") {
            let key = body[..eq].trim().to_string();
            let value_end = body[eq + 2..].find('"').expect("a closed value");
            attrs.insert(key, unescape(&body[eq + 2..eq + 2 + value_end]));
            body = &body[eq + 2 + value_end + 1..];
        }
        out.push(attrs);
        rest = &tag[end..];
    }
    out
}

/// The edges `netpol matrix -o json` reports: `(from, to, ports)` of every
/// ordered pair of distinct pods with a connection.
fn matrix_edges(folder: &str) -> BTreeSet<(String, String, String)> {
    let json: serde_json::Value = serde_json::from_str(&ok(&["matrix", "-f", folder, "-o", "json"])).expect("JSON");
    let pods: Vec<&str> = json["pods"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    let mut out = BTreeSet::new();
    for (i, row) in json["connections"].as_array().unwrap().iter().enumerate() {
        for (j, cell) in row.as_array().unwrap().iter().enumerate() {
            let ports = cell.as_str().unwrap();
            if i != j && ports != "none" {
                out.insert((pods[i].to_string(), pods[j].to_string(), ports.to_string()));
            }
        }
    }
    out
}

#[test]
fn graph_dot_and_mermaid() {
    let dot = ok(&["graph", "-f", STEP_10]);
    assert_eq!(dot, ok(&["graph", "-f", STEP_10, "-o", "dot"]), "dot is the default");
    for ns in NAMESPACES {
        assert!(dot.contains(&format!("subgraph \"cluster_ns-{ns}\" {{\n    id=\"ns-{ns}\";")), "{dot}");
    }
    insta::assert_snapshot!("graph_mermaid_step_10", ok(&["graph", "-f", STEP_10, "-o", "mermaid"]));
    insta::assert_snapshot!("graph_dot_step_10_port_53", ok(&["graph", "-f", STEP_10, "--port", "53"]));
}

#[test]
fn graph_svg() {
    netpol_testkit::require_tools!("dot");
    let svg = ok(&["graph", "-f", STEP_10, "-o", "svg"]);
    assert!(svg.contains("<svg"), "{svg}");
    let ids: BTreeSet<String> = tags(&svg, "g").into_iter().filter_map(|mut a| a.remove("id")).collect();
    for ns in NAMESPACES {
        assert!(ids.contains(&format!("ns-{ns}")), "{ids:?}");
    }
    assert_eq!(ids.iter().filter(|id| id.starts_with("edge-")).count(), matrix_edges(STEP_10).len(), "{ids:?}");
}

#[test]
fn graph_html() {
    netpol_testkit::require_tools!("dot");
    let html = ok(&["graph", "-f", STEP_10, "-o", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<svg"), "the SVG is inlined");
    assert!(html.contains("xlink:href=\"#explain-edge-0\""), "edges link to their explanations");
    assert!(html.contains("step-10-default-labelled/backend.yaml:19:5"), "explanations name files and lines");
}

#[test]
fn graph_without_graphviz_says_how_to_install_it() {
    let empty = tempfile::tempdir().expect("temp dir");
    for format in ["svg", "html"] {
        let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
            .current_dir(root())
            .env("PATH", empty.path())
            .args(["graph", "-f", STEP_10, "-o", format])
            .output()
            .expect("run netpol");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{format}: {stderr}");
        assert!(stderr.contains("Graphviz's `dot`, which is not on PATH"), "{format}: {stderr}");
        assert!(stderr.contains("apt-get install graphviz"), "{format}: {stderr}");
        assert!(out.stdout.is_empty(), "{format}: nothing on stdout");
    }
    // DOT and Mermaid need no Graphviz.
    let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .current_dir(root())
        .env("PATH", empty.path())
        .args(["graph", "-f", STEP_10, "-o", "mermaid"])
        .output()
        .expect("run netpol");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn graph_errors_exit_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}, protoco: TCP}\n")
        .unwrap();
    let bad = bad.to_str().unwrap();
    let cases: [(&str, &[&str], &str); 5] = [
        ("port 0", &["graph", "-f", STEP_10, "--port", "0"], "--port"),
        ("a port too large", &["graph", "-f", STEP_10, "--port", "65536"], "--port"),
        ("unknown format", &["graph", "-f", STEP_10, "-o", "png"], "png"),
        ("missing input", &["graph", "-f", "no/such/folder"], "no/such/folder"),
        ("input with errors", &["graph", "-f", bad], "error"),
    ];
    for (name, args, says) in cases {
        let out = netpol(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
}

/// Every `id` of a namespace, node or edge, and every text line, of DOT: what
/// Graphviz must draw from it, whatever its version.
fn dot_summary(dot: &str) -> (BTreeSet<String>, Vec<String>) {
    let mut ids = BTreeSet::new();
    let mut texts = Vec::new();
    for line in dot.lines() {
        for (key, into_ids) in [("id=\"", true), ("label=\"", false)] {
            let mut rest = line;
            while let Some(i) = rest.find(key) {
                let value = &rest[i + key.len()..];
                let mut end = 0;
                let bytes = value.as_bytes();
                while bytes[end] != b'"' || (end > 0 && bytes[end - 1] == b'\\') {
                    end += 1;
                }
                let value = &value[..end];
                if into_ids {
                    ids.insert(value.to_string());
                } else {
                    texts.extend(
                        value.split("\\n").flat_map(|l| l.split("\\l")).filter(|l| !l.is_empty()).map(str::to_string),
                    );
                }
                rest = &rest[i + key.len() + end..];
            }
        }
    }
    ids.remove("netpol-graph");
    texts.sort();
    (ids, texts)
}

/// The same of an SVG Graphviz drew.
fn svg_summary(svg: &str) -> (BTreeSet<String>, Vec<String>) {
    let ids = tags(svg, "g")
        .into_iter()
        .filter_map(|mut a| a.remove("id"))
        .filter(|id| ["ns-", "node-", "edge-"].iter().any(|p| id.starts_with(p)))
        .collect();
    let mut texts: Vec<String> = svg
        .split("<text ")
        .skip(1)
        .map(|t| {
            let start = t.find('>').unwrap() + 1;
            unescape(&t[start..t.find("</text>").unwrap()])
        })
        .collect();
    texts.sort();
    (ids, texts)
}

/// The README's picture: its DOT is what the current code renders, and its SVG
/// was drawn from that DOT (every namespace, node and edge, every label line).
/// Regenerate both with the commands in docs/graph.md.
#[test]
fn readme_picture_is_current() {
    let committed_dot = std::fs::read_to_string(root().join(PICTURE_DOT)).expect(PICTURE_DOT);
    assert_eq!(
        ok(&["graph", "-f", STEP_10, "-o", "dot"]),
        committed_dot,
        "{PICTURE_DOT} is stale: netpol graph -f {STEP_10} -o dot > {PICTURE_DOT} (and -o svg > {PICTURE_SVG})"
    );
    let committed_svg = std::fs::read_to_string(root().join(PICTURE_SVG)).expect(PICTURE_SVG);
    assert_eq!(
        svg_summary(&committed_svg),
        dot_summary(&committed_dot),
        "{PICTURE_SVG} was not drawn from {PICTURE_DOT}: netpol graph -f {STEP_10} -o svg > {PICTURE_SVG}"
    );
}

/// Runs headless Chromium on `url` with `args`; its stdout.
fn chromium(args: &[&str], url: &str) -> String {
    let out = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1000"])
        .args(args)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium {args:?} {url}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.canonicalize().unwrap().display())
}

#[test]
fn graph_html_in_a_browser() {
    netpol_testkit::require_tools!("dot", "chromium");
    let dir = tempfile::tempdir().expect("temp dir");
    let svg = dir.path().join("graph.svg");
    let html = dir.path().join("graph.html");
    std::fs::write(&svg, ok(&["graph", "-f", STEP_10, "-o", "svg"])).unwrap();
    std::fs::write(&html, ok(&["graph", "-f", STEP_10, "-o", "html"])).unwrap();

    // A screenshot of the page, as a person would look at it.
    let png = dir.path().join("graph.png");
    chromium(&[&format!("--screenshot={}", png.display())], &file_url(&html));
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(bytes.len() > 1000 && bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG of {} bytes", bytes.len());
    let svg_png = dir.path().join("graph-svg.png");
    chromium(&[&format!("--screenshot={}", svg_png.display())], &file_url(&svg));
    assert!(std::fs::read(&svg_png).expect("a screenshot of the SVG").starts_with(b"\x89PNG"));

    // The DOM after the scripts ran: every namespace, and every edge the matrix reports.
    let dom = chromium(&["--dump-dom"], &file_url(&html));
    assert!(dom.contains("<body data-ready=\"true\">"), "the script ran:\n{dom}");
    let groups = tags(&dom, "g");
    for ns in NAMESPACES {
        let cluster = groups.iter().find(|g| g.get("id").map(String::as_str) == Some(&format!("ns-{ns}")));
        let cluster = cluster.unwrap_or_else(|| panic!("namespace {ns} is not in the DOM"));
        assert_eq!(cluster.get("class").map(String::as_str), Some("cluster namespace"), "{cluster:?}");
        assert_eq!(cluster.get("data-namespace").map(String::as_str), Some(ns), "{cluster:?}");
    }
    let edges: Vec<&BTreeMap<String, String>> =
        groups.iter().filter(|g| g.get("class").is_some_and(|c| c.split(' ').any(|c| c == "edge"))).collect();
    let drawn: BTreeSet<(String, String, String)> =
        edges.iter().map(|g| (g["data-from"].clone(), g["data-to"].clone(), g["data-ports"].clone())).collect();
    assert_eq!(drawn, matrix_edges(STEP_10), "the edges in the page are the matrix's connections");
    assert_eq!(edges.len(), drawn.len(), "one edge per connection");

    // Each edge clicks through to its explanation: the engine's, with files and lines.
    let articles: BTreeMap<String, BTreeMap<String, String>> =
        tags(&dom, "article").into_iter().map(|a| (a["id"].clone(), a)).collect();
    for edge in &edges {
        let target = &edge["data-explanation"];
        assert_eq!(articles[target]["data-edge"], edge["id"], "{edge:?}");
    }
    let backend_cassandra = edges
        .iter()
        .find(|g| g["data-from"] == "default/backend" && g["data-to"] == "cassandra/cassandra")
        .expect("backend reaches cassandra");
    let id = &backend_cassandra["id"];
    let clicked = chromium(&["--dump-dom"], &format!("{}#explain-{id}", file_url(&html)));
    let shown = tags(&clicked, "article").into_iter().find(|a| a["id"] == format!("explain-{id}")).unwrap();
    assert_eq!(shown["class"], "explanation shown", "the explanation is shown: {shown:?}");
    let selected = tags(&clicked, "g").into_iter().find(|g| g.get("id") == Some(id)).unwrap();
    assert!(selected["class"].split(' ').any(|c| c == "selected"), "the edge is highlighted: {selected:?}");
    let article = &clicked[clicked.find(&format!("id=\"explain-{id}\"")).unwrap()..];
    let article = &article[..article.find("</article>").unwrap()];
    for why in [
        "ALLOWED: default/backend -&gt; cassandra/cassandra",
        "allowed by default/backend egress[0] peer[0] (any port) (examples/seed-000-walkthrough/step-10-default-labelled/backend.yaml:19:5)",
        "allowed by cassandra/cassandra ingress[0] peer[0] (any port) (examples/seed-000-walkthrough/step-10-default-labelled/cassandra.yaml:13:5)",
    ] {
        assert!(article.contains(why), "{why}\n{article}");
    }
}

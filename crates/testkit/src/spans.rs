//! Where each document and field of a YAML stream is: the lines a document
//! covers and the lines of every node under a field path, for tests that
//! hold an outside answer (an API server's `spec.ingress[0].from[0]:
//! Required value`) against netpol's `file:line:col` findings.
//!
//! Independent of netpol-manifest's loader on purpose: it reads the text
//! with the YAML event parser alone (granit-parser, the parser under
//! serde-saphyr), so the judge of a finding's position is not the code that
//! found it.
//!
//! ```
//! use netpol_testkit::spans::{documents, Seg};
//!
//! let docs = documents("a: 1\n---\nspec:\n  ingress:\n  - from:\n    - {}\n").unwrap();
//! assert_eq!((docs[1].first_line, docs[1].last_line), (3, 6));
//! let path = Seg::parse_path("spec.ingress[0].from[0]");
//! assert_eq!(docs[1].locate(&path), Some((6, 6, true)));
//! // A field that is not there: its nearest ancestor that is.
//! assert_eq!(docs[1].locate(&Seg::parse_path("spec.ingress[0].ports")), Some((5, 6, false)));
//! ```

use granit_parser::{Event, Options, Parser, Span, StrInput, StructureStyle};

/// One step of a field path: `spec.ingress[0]` is `[Key(spec), Key(ingress), Index(0)]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

impl Seg {
    /// Parses a Kubernetes field path: `spec.ingress[0].ports[1].port`,
    /// `metadata.labels[app.kubernetes.io/name]` (a bracket that is not a number is a key).
    pub fn parse_path(path: &str) -> Vec<Seg> {
        let mut segs = Vec::new();
        let mut rest = path;
        while !rest.is_empty() {
            if let Some(inner) = rest.strip_prefix('[') {
                let end = inner.find(']').unwrap_or(inner.len());
                let key = &inner[..end];
                segs.push(key.parse().map_or_else(|_| Seg::Key(key.to_string()), Seg::Index));
                rest = inner.get(end + 1..).unwrap_or("");
            } else {
                let rest_trimmed = rest.strip_prefix('.').unwrap_or(rest);
                let end = rest_trimmed.find(['.', '[']).unwrap_or(rest_trimmed.len());
                if end > 0 {
                    segs.push(Seg::Key(rest_trimmed[..end].to_string()));
                }
                rest = &rest_trimmed[end..];
            }
        }
        segs
    }
}

/// One document of a stream: its lines and the lines of each of its nodes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    /// The first and last line (1-based) with content of the document.
    pub first_line: usize,
    pub last_line: usize,
    /// Every node by its path (the root is `[]`), with the first and last line
    /// it covers (a mapping value's range starts at its key).
    pub nodes: Vec<(Vec<Seg>, usize, usize)>,
}

impl Document {
    /// The lines of the node at `path`, and whether it is exactly there:
    /// `(first, last, true)`; else the lines of its nearest ancestor that is
    /// there, `(first, last, false)`. `None` for an empty document.
    pub fn locate(&self, path: &[Seg]) -> Option<(usize, usize, bool)> {
        (0..=path.len()).rev().find_map(|n| {
            self.nodes
                .iter()
                .find(|(p, _, _)| p.as_slice() == &path[..n])
                .map(|(_, first, last)| (*first, *last, n == path.len()))
        })
    }

    /// Whether `line` is one of this document's lines.
    pub fn contains(&self, line: usize) -> bool {
        (self.first_line..=self.last_line).contains(&line)
    }
}

/// A container being read: its path, first line, and what comes next.
struct Open {
    path: Vec<Seg>,
    first: usize,
    last: usize,
    flow: bool,
    /// A mapping: the key whose value comes next (`None`: a key comes next).
    /// A sequence: unused.
    key: Option<(String, usize)>,
    is_map: bool,
    next_index: usize,
}

/// The documents of a YAML stream, or the parser's error (`line N: ...`).
pub fn documents(text: &str) -> Result<Vec<Document>, String> {
    let mut docs = Vec::new();
    let mut doc: Option<Document> = None;
    let mut stack: Vec<Open> = Vec::new();
    // Comments are no nodes: not emitted, so that none is buffered either (a
    // build that emits them refuses a long run of comment lines before a key).
    let mut options = Options::default();
    options.set_emit_comments(false);
    for next in Parser::with_options(StrInput::new(text), options) {
        let (event, span) = next.map_err(|e| e.to_string())?;
        match event {
            Event::DocumentStart(..) => doc = Some(Document::default()),
            Event::DocumentEnd => {
                if let Some(d) = doc.take() {
                    if !d.nodes.is_empty() {
                        docs.push(d);
                    }
                }
            }
            Event::MappingStart(style, ..) | Event::SequenceStart(style, ..) => {
                let is_map = matches!(event, Event::MappingStart(..));
                let (path, first) = child(&mut stack, span_first(&span));
                let flow = matches!(style, StructureStyle::Flow);
                stack.push(Open { path, first, last: span_last(&span), flow, key: None, is_map, next_index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let Some(mut open) = stack.pop() else { continue };
                if open.flow {
                    open.last = open.last.max(span_last(&span));
                }
                finish(&mut stack, doc.as_mut(), open.path, open.first, open.last);
            }
            Event::Scalar(ref value, ..) => {
                if stack.is_empty() && span.start.index() == span.end.index() {
                    continue; // an empty document (nothing, or only comments)
                }
                let line = span_first(&span);
                if let Some(top) = stack.last_mut() {
                    if top.is_map && top.key.is_none() {
                        top.key = Some((value.to_string(), line));
                        top.last = top.last.max(span_last(&span));
                        continue;
                    }
                }
                let (path, first) = child(&mut stack, line);
                finish(&mut stack, doc.as_mut(), path, first, span_last(&span));
            }
            Event::Alias(..) => {
                let (path, first) = child(&mut stack, span_first(&span));
                finish(&mut stack, doc.as_mut(), path, first, span_last(&span));
            }
            _ => {}
        }
    }
    Ok(docs)
}

/// The path and first line of the node that starts now at `line`, taking
/// the pending key (or next index) of the container it belongs to.
fn child(stack: &mut [Open], line: usize) -> (Vec<Seg>, usize) {
    let Some(top) = stack.last_mut() else { return (Vec::new(), line) };
    let mut path = top.path.clone();
    if top.is_map {
        let (key, key_line) = top.key.clone().unwrap_or_default();
        path.push(Seg::Key(key));
        (path, key_line.min(line).max(1))
    } else {
        path.push(Seg::Index(top.next_index));
        top.next_index += 1;
        (path, line)
    }
}

/// Records a finished node and widens its container (and the document) to its last line.
fn finish(stack: &mut [Open], doc: Option<&mut Document>, path: Vec<Seg>, first: usize, last: usize) {
    if let Some(top) = stack.last_mut() {
        top.last = top.last.max(last);
        if top.is_map {
            top.key = None;
        }
    }
    if let Some(doc) = doc {
        if doc.nodes.is_empty() || first < doc.first_line {
            doc.first_line = first;
        }
        doc.last_line = doc.last_line.max(last);
        doc.nodes.push((path, first, last));
    }
}

fn span_first(span: &Span) -> usize {
    span.start.line()
}

/// The last line a span has content on (an end at column 0 belongs to the line before).
fn span_last(span: &Span) -> usize {
    let end = span.end;
    if end.col() == 0 && end.line() > span.start.line() {
        end.line() - 1
    } else {
        end.line().max(span.start.line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_like_the_api_server_prints_them() {
        use Seg::{Index, Key};
        let k = |s: &str| Key(s.to_string());
        assert_eq!(
            Seg::parse_path("spec.ingress[0].ports[1].port"),
            [k("spec"), k("ingress"), Index(0), k("ports"), Index(1), k("port")]
        );
        assert_eq!(
            Seg::parse_path("metadata.labels[app.kubernetes.io/name]"),
            [k("metadata"), k("labels"), k("app.kubernetes.io/name")]
        );
        assert_eq!(Seg::parse_path(""), []);
    }

    #[test]
    fn block_and_flow_nodes_have_their_lines() {
        let text = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: prod}
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - podSelector: {}
    ports:
    - port: 80
      protocol: TCP
---
# only a comment
---
kind: Namespace
";
        let docs = documents(text).unwrap();
        assert_eq!(docs.len(), 2, "{docs:?}");
        let d = &docs[0];
        assert_eq!((d.first_line, d.last_line), (1, 13));
        let at = |p: &str| d.locate(&Seg::parse_path(p));
        assert_eq!(at("metadata.namespace"), Some((3, 3, true)));
        assert_eq!(at("spec.podSelector.matchLabels"), Some((6, 7, true)));
        assert_eq!(at("spec.ingress[0]"), Some((9, 13, true)));
        assert_eq!(at("spec.ingress[0].from[0]"), Some((10, 10, true)));
        assert_eq!(at("spec.ingress[0].ports[0].protocol"), Some((13, 13, true)));
        assert_eq!(at("spec.ingress[0].ports[0].endPort"), Some((12, 13, false)));
        assert_eq!(at("spec.egress"), Some((4, 13, false)));
        assert_eq!((docs[1].first_line, docs[1].last_line), (17, 17));
    }

    #[test]
    fn a_syntax_error_is_an_error() {
        assert!(documents("kind: [Pod\n").is_err());
    }
}

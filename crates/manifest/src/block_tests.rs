//! The line scanner against granit-parser's events and serde-saphyr: it takes
//! the block YAML manifests use, gives the same trees, positions and scalar
//! costs, and leaves everything else to the event parser.

use proptest::prelude::*;

use super::*;
use crate::node::parse_documents;
use crate::parse::{parse_events, split};

/// Whether the scanner took every chunk of `text` (whole, and cut before
/// every document); where it did, its trees are the event parser's and
/// serde-saphyr's.
fn same_as_events(text: &str) -> bool {
    let mut took = true;
    for target in [usize::MAX, 0] {
        for chunk in split(text, target) {
            match parse_block(chunk) {
                Some((docs, cost)) => {
                    let (events, events_cost) = parse_events(chunk).expect("the scanner took what the events refuse");
                    assert_eq!(docs, events, "target {target}: {text:?}");
                    assert_eq!(cost.scalar_bytes, events_cost.scalar_bytes, "{text:?}");
                }
                None => took = false,
            }
        }
    }
    if took {
        let whole = parse_block(Chunk { text, line_offset: 0, followed: false }).unwrap().0;
        assert_eq!(Ok(whole), parse_documents(text), "{text:?}");
    }
    took
}

#[test]
fn takes_the_yaml_manifests_are_written_in() {
    let cases = [
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    app: web\n",
        "---\napiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Service\n",
        "spec:\n  containers:\n  - name: main\n    ports:\n    - containerPort: 80\n      name: http\n      protocol: TCP\n",
        "spec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n  ingress:\n  - {}\n",
        "values: [api, cache, 'db', \"x y\"]\nm: {a: 1, b: [x, {c: d}]}\n",
        "a:\nb: 1\nc: # none\nd:\n- x\n-\n- y\n",
        "- \n- x\n-   \n- # c\n-\n",
        "a:\n  # c\n\n  b: 1   # trailing\n# top\nc: 'it''s'\n",
        "items:\n- kind: Pod\n  metadata:\n    name: a\n- kind: Pod\n  metadata: {name: b}\n",
        "a:\n    b:\n        - 1\n        - -2\n        - 0x1F\n        - 0127\n        - yes\n        - ~\n",
        "image: registry.example/app:1.0\nurl: http://x/y#frag\nk: a#b\n",
        "  indented: 1\n  root: 2\n",
        "'quoted key': 1\n\"dq key\": 2\n- : 3\n",
        "name: caf\u{e9}\nafter: [\u{e9}t\u{e9}, x]\n",
        "a:\n- k: v\n  l: w\n- k: v2\nb: 1\n",
        "a:\n-\n  k: v\n- x\nb:\n",
        "---\n---\na: 1\n---\n# only a comment\n---\n",
        "1: a\ntrue: b\nnull: c\n~: d\n1.5: e\n'': f\n",
    ];
    // The last but five has a `- : 3` line the scanner leaves to the events.
    for (i, text) in cases.iter().enumerate() {
        let took = same_as_events(text);
        assert!(took || i == 12, "case {i} not taken: {text:?}");
    }
}

#[test]
fn leaves_the_rest_to_the_event_parser() {
    let cases = [
        "a:\n\tb: 1\n",
        "a: 1\r\nb: 2\r\n",
        "a: |\n  text\n",
        "a: >-\n  text\n",
        "a: plain\n  continued\n",
        "a: 'single\n  quoted'\n",
        "a: \"esc\\t\"\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "? a\n: b\n",
        "<<: {a: 1}\n",
        "[a, b]\n",
        "plain root\n",
        "a: [1, 2\n  , 3]\n",
        "%YAML 1.2\n---\na: 1\n",
        "--- a: 1\n",
        "a: 1\n...\n",
        "a: b: c\n",
        "a: 1\n b: 2\n",
        "- - x\n",
        "a: {b}\n",
        "a: [x, ]\n",
        "a: {\"b\":1}\n",
        "a: @x\n",
        "\u{feff}a: 1\n",
        "a:\n  b: 1\n c: 2\n",
        // Found in review: collection and merge keys in flow mappings, characters
        // YAML refuses, a flow key past the simple-key limit.
        "a: {[x]: y}\n",
        "a: {{}: y}\n",
        "a: {<<: {b: 1}, c: 2}\n",
        "a: b\u{1}c\n",
        "a: x\u{7f}\n",
        "a: '\u{9f}'\n",
        "# \u{1}\na: 1\n",
        "a: \u{feff}x\n",
        "a:\n  \u{feff}b: 1\n",
        "- \u{feff}x\n",
        "a: x\u{85}y\n",
    ];
    let long_key = format!("a: {{{}: v}}\n", "k".repeat(1100));
    assert!(!same_as_events(&long_key));
    for text in cases {
        assert!(!same_as_events(text), "taken: {text:?}");
    }
}

#[test]
fn takes_every_example_the_events_take_as_they_do() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut stack = vec![root];
    let (mut files, mut taken) = (0, 0);
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let text = std::fs::read_to_string(&path).unwrap();
                files += 1;
                taken += usize::from(same_as_events(&text));
            }
        }
    }
    // Most examples are plain block YAML; some have block scalars or typos on purpose.
    assert!(files > 20 && taken * 10 >= files * 8, "{taken} of {files} example files taken");
}

/// A random document in the block style, written with the layout choices
/// people and tools make (indent widths, indentless or indented sequences,
/// flow one-liners, quoting, comments, blank lines).
#[derive(Clone, Debug)]
enum Tree {
    Scalar(String),
    Seq(Vec<Tree>),
    Map(Vec<(String, Tree)>),
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9.-]{0,8}",
        Just("8080".to_string()),
        Just("-1".to_string()),
        Just("0127".to_string()),
        Just("yes".to_string()),
        Just("No".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("1.5".to_string()),
        Just("10.0.0.0/8".to_string()),
        Just("'quoted x'".to_string()),
        Just("'it''s'".to_string()),
        Just("\"double\"".to_string()),
        Just("''".to_string()),
        Just("a:b".to_string()),
        Just("x#y".to_string()),
        Just("caf\u{e9}".to_string()),
    ]
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = word().prop_map(Tree::Scalar);
    leaf.prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Tree::Seq),
            prop::collection::vec(("[a-z][a-z0-9/._-]{0,6}", inner), 0..4).prop_map(Tree::Map),
        ]
    })
}

#[derive(Clone, Copy, Debug)]
struct Layout {
    width: usize,
    indentless: bool,
    comments: bool,
    flow_leaves: bool,
}

fn flow(t: &Tree) -> Option<String> {
    match t {
        Tree::Scalar(s) if s.contains(':') || s.contains('#') => None,
        Tree::Scalar(s) => Some(s.clone()),
        Tree::Seq(items) => Some(format!("[{}]", items.iter().map(flow).collect::<Option<Vec<_>>>()?.join(", "))),
        Tree::Map(entries) => Some(format!(
            "{{{}}}",
            entries.iter().map(|(k, v)| Some(format!("{k}: {}", flow(v)?))).collect::<Option<Vec<_>>>()?.join(", ")
        )),
    }
}

/// Writes `t` as the value that follows `key:` or `-` (the indicator is already written).
fn value(out: &mut String, t: &Tree, indent: usize, l: Layout, after_key: bool) {
    let empty = matches!(t, Tree::Seq(v) if v.is_empty()) || matches!(t, Tree::Map(v) if v.is_empty());
    match t {
        Tree::Scalar(s) => {
            out.push(' ');
            out.push_str(s);
            if l.comments && s.len() % 3 == 0 {
                out.push_str("  # note");
            }
            out.push('\n');
        }
        _ if empty || (l.flow_leaves && flow(t).is_some_and(|f| f.len() < 30)) => {
            out.push(' ');
            out.push_str(&flow(t).unwrap_or_else(|| if matches!(t, Tree::Seq(_)) { "[]".into() } else { "{}".into() }));
            out.push('\n');
        }
        Tree::Seq(_) if after_key && l.indentless => {
            out.push('\n');
            block(out, t, indent, l);
        }
        _ => {
            out.push('\n');
            if l.comments {
                out.push_str(&" ".repeat(indent + l.width));
                out.push_str("# inside\n\n");
            }
            block(out, t, indent + l.width, l);
        }
    }
}

fn block(out: &mut String, t: &Tree, indent: usize, l: Layout) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Scalar(_) => unreachable!("scalars are written as values"),
        Tree::Seq(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    // A compact mapping: its first key on the dash's line.
                    Tree::Map(entries) if !entries.is_empty() && !l.flow_leaves => {
                        out.push(' ');
                        let inner = indent + 2;
                        for (i, (k, v)) in entries.iter().enumerate() {
                            if i > 0 {
                                out.push_str(&" ".repeat(inner));
                            }
                            out.push_str(k);
                            out.push(':');
                            value(out, v, inner, l, true);
                        }
                    }
                    _ => value(out, item, indent, l, false),
                }
            }
        }
        Tree::Map(entries) => {
            for (k, v) in entries {
                out.push_str(&pad);
                out.push_str(k);
                out.push(':');
                value(out, v, indent, l, true);
            }
        }
    }
}

fn document(t: &Tree, l: Layout) -> String {
    let mut out = String::new();
    match t {
        Tree::Scalar(_) => {}
        Tree::Seq(v) if v.is_empty() => {}
        Tree::Map(v) if v.is_empty() => {}
        _ => block(&mut out, t, 0, l),
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn block_documents_parse_as_serde_saphyr_parses_them(
        docs in prop::collection::vec(tree(), 1..4),
        width in 1usize..5,
        indentless: bool,
        comments: bool,
        flow_leaves: bool,
    ) {
        let l = Layout { width: width.max(2), indentless, comments, flow_leaves };
        let text: String = docs.iter().map(|t| format!("---\n{}", document(t, l))).collect();
        // Every document the generator writes is one the scanner must take.
        prop_assert!(same_as_events(&text), "not taken: {text}");
    }

    #[test]
    fn token_soup_is_taken_as_the_events_take_it(text in "([a-z]{1,4}|: |:|- |-|\\n|  | |\\{|\\}|\\[|\\]|, |---\\n|'|\"|[0-9]{1,3}|#|x#|~|yes|\u{e9}){0,50}") {
        same_as_events(&text);
    }
}

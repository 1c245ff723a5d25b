//! Differential test against Calico's own parser: `testdata/calico_oracle.jsonl`
//! records, for each of ~2,100 texts, whether Calico parses it, its canonical
//! `String()`, and its evaluation over [`LABEL_SETS`] (see `testdata/README.md`).

use serde::Deserialize;

use super::ast::Node;
use super::*;

/// `labelSets` in `testdata/oracle.go`, in order.
const LABEL_SETS: &[&[(&str, &str)]] = &[
    &[],
    &[("a", "x")],
    &[("a", "y")],
    &[("a", "")],
    &[("b", "x")],
    &[("a", "x"), ("b", "y")],
    &[("a", "xy"), ("b", "x"), ("c", "z")],
    &[("a", "y"), ("b", "y"), ("c", "y")],
    &[("c", "x")],
    &[("a", "yx"), ("c", "")],
];

#[derive(Deserialize)]
struct Verdict {
    #[serde(rename = "in")]
    text: String,
    ok: bool,
    #[serde(default)]
    canon: String,
    #[serde(default)]
    eval: String,
}

/// Our canonical text with Calico's one difference put back: Calico prints `!(!x)`
/// as `!!x` (which reads back as `x`; see `Display for Node`).
fn calico_text(node: &Node) -> String {
    match node {
        Node::Not(inner) => format!("!{}", calico_text(inner)),
        Node::And(operands) | Node::Or(operands) => {
            let sep = if matches!(node, Node::And(_)) { " && " } else { " || " };
            format!("({})", operands.iter().map(calico_text).collect::<Vec<_>>().join(sep))
        }
        leaf => leaf.to_string(),
    }
}

#[test]
fn agrees_with_calicos_parser() {
    let corpus = include_str!("testdata/calico_oracle.jsonl");
    let sets: Vec<Labels> = LABEL_SETS.iter().map(|s| s.iter().copied().collect()).collect();
    let mut failures = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for line in corpus.lines() {
        let calico: Verdict = serde_json::from_str(line).expect("corpus line");
        let ours = CalicoSelector::parse(&calico.text);
        match (&ours, calico.ok) {
            (Ok(sel), true) => {
                accepted += 1;
                let text = calico_text(&sel.root);
                if text != calico.canon {
                    failures.push(format!("{:?}: we print {text:?}, Calico {:?}", calico.text, calico.canon));
                }
                // Calico's tree evaluates global() to true; ours to false (pods have a namespace).
                if !sel.uses_global() {
                    let eval: String = sets.iter().map(|l| if sel.matches_labels(l) { '1' } else { '0' }).collect();
                    if eval != calico.eval {
                        failures.push(format!("{:?}: we evaluate {eval}, Calico {}", calico.text, calico.eval));
                    }
                }
            }
            (Err(_), false) => rejected += 1,
            (Ok(sel), false) => failures.push(format!("{:?}: we accept ({sel}), Calico rejects", calico.text)),
            (Err(e), true) => failures.push(format!("{:?}: we reject ({e}), Calico accepts", calico.text)),
        }
    }
    assert!(failures.is_empty(), "{} disagreements:\n{}", failures.len(), failures.join("\n"));
    assert!(accepted > 500 && rejected > 500, "corpus too one-sided: {accepted} accepted, {rejected} rejected");
}

//! Properties: no input panics; errors point inside the input; every tree prints to
//! text that parses back to the same tree.

use proptest::prelude::*;

use super::ast::{CompareOp, Node, SetOp};
use super::*;

/// What must hold for any input.
fn check(text: &str) -> Result<(), TestCaseError> {
    match CalicoSelector::parse(text) {
        Ok(sel) => {
            let canonical = sel.to_string();
            let again = CalicoSelector::parse(&canonical)
                .map_err(|e| TestCaseError::fail(format!("{canonical:?} from {text:?}: {e}")))?;
            prop_assert_eq!(&again, &sel, "{:?} -> {:?}", text, canonical);
            prop_assert_eq!(again.to_string(), canonical);
            let _ = sel.keys();
        }
        Err(e) => {
            prop_assert!(e.offset <= text.len(), "{:?}: offset {} past the end", text, e.offset);
            prop_assert!(text.is_char_boundary(e.offset), "{:?}: offset {} inside a character", text, e.offset);
            prop_assert!(!e.message.is_empty());
        }
    }
    Ok(())
}

/// The tokens of the language, some near misses, and characters it does not know.
const PIECES: &[&str] = &[
    "a",
    "b",
    "app.kubernetes.io/name",
    "in",
    "not",
    "has",
    "all",
    "'x'",
    "\"y\"",
    "''",
    "'it\"s'",
    "==",
    "!=",
    "=",
    "!",
    "&&",
    "||",
    "&",
    "|",
    "(",
    ")",
    "{",
    "}",
    ",",
    "in",
    "not in",
    "notin",
    "contains",
    "starts with",
    "startswith",
    "ends  with",
    "has(a)",
    "has( b )",
    "has(",
    "all()",
    "global()",
    "all(",
    "global(",
    "'",
    "\"",
    "\n",
    "%",
    "é",
    "\u{2018}",
];

fn token_soup() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(PIECES);
    let blank = prop::sample::select(&["", " ", " ", "\t"][..]);
    prop::collection::vec((piece, blank), 0..16)
        .prop_map(|parts| parts.into_iter().flat_map(|(p, b)| [p, b]).collect::<String>())
}

const KEYS: &[&str] = &["a", "b", "c", "app.kubernetes.io/name"];
const VALUES: &[&str] = &["", "x", "y", "xy", "it's", "say \"hi\""];

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(KEYS).prop_map(str::to_string)
}

fn value() -> impl Strategy<Value = String> {
    prop::sample::select(VALUES).prop_map(str::to_string)
}

fn leaf() -> impl Strategy<Value = Node> {
    let compare = prop::sample::select(
        &[CompareOp::Eq, CompareOp::Ne, CompareOp::Contains, CompareOp::StartsWith, CompareOp::EndsWith][..],
    );
    let set_op = prop::sample::select(&[SetOp::In, SetOp::NotIn][..]);
    prop_oneof![
        Just(Node::All),
        Just(Node::Global),
        key().prop_map(Node::Has),
        (key(), compare, value()).prop_map(|(k, op, v)| Node::Compare(k, op, v)),
        (key(), set_op, prop::collection::btree_set(value(), 0..4)).prop_map(|(k, op, vs)| Node::Set(
            k,
            op,
            vs.into_iter().collect()
        )),
    ]
}

/// Trees as the parser builds them: `&&`/`||` with two or more operands, sets sorted.
fn tree() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|n| Node::Not(Box::new(n))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Node::And),
            prop::collection::vec(inner, 2..4).prop_map(Node::Or),
        ]
    })
}

fn label_set() -> impl Strategy<Value = Labels> {
    prop::collection::vec((key(), value()), 0..4).prop_map(|pairs| pairs.into_iter().collect())
}

/// A second evaluator, written from Calico's `Evaluate` methods independently of `ast.rs`.
fn reference(node: &Node, labels: &Labels) -> bool {
    match node {
        Node::All => true,
        Node::Global => false,
        Node::Has(k) => labels.contains_key(k),
        Node::Compare(k, op, v) => {
            let Some(have) = labels.get(k) else { return *op == CompareOp::Ne };
            match op {
                CompareOp::Eq => have == v,
                CompareOp::Ne => have != v,
                CompareOp::Contains => have.contains(v.as_str()),
                CompareOp::StartsWith => have.starts_with(v.as_str()),
                CompareOp::EndsWith => have.ends_with(v.as_str()),
            }
        }
        Node::Set(k, op, vs) => {
            let inside = labels.get(k).is_some_and(|have| vs.iter().any(|v| v == have));
            match op {
                SetOp::In => inside,
                SetOp::NotIn => !inside,
            }
        }
        Node::Not(n) => !reference(n, labels),
        Node::And(ns) => ns.iter().all(|n| reference(n, labels)),
        Node::Or(ns) => ns.iter().any(|n| reference(n, labels)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn selector_alphabet_never_panics(text in "[ \ta-c(){}'\",=!&|./_-]{0,40}") {
        check(&text)?;
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check(&text)?;
    }

    #[test]
    fn trees_round_trip_through_text(root in tree(), labels in prop::collection::vec(label_set(), 1..6)) {
        let sel = CalicoSelector { root };
        let text = sel.to_string();
        let again = CalicoSelector::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?}: {e} {:?}", e.hint)))?;
        prop_assert_eq!(&again, &sel, "{}", text);
        for l in &labels {
            let want = reference(&sel.root, l);
            prop_assert_eq!(sel.matches_labels(l), want, "{} on {:?}", text, l);
            prop_assert_eq!(again.matches_labels(l), want, "{} on {:?}", text, l);
        }
    }
}

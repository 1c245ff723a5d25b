//! Issue 14 (proof): generated YAML with anchors, aliases, merge keys, tags,
//! deep nesting, YAML 1.1 numbers and hostile encodings. The loader never
//! panics; one bad document never hides the valid policies around it; and
//! anchors, merge keys, number spellings, a BOM and CRLF give the same model
//! as the plain spelling.

use netpol_manifest::{load, LoadOptions, Loaded};
use netpol_model::NetworkPolicy;
use proptest::prelude::*;

/// `n` cases, or `PROPTEST_CASES` when it is set.
fn cases(n: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(n);
    ProptestConfig::with_cases(n)
}

fn load_one(text: &str, lenient: bool) -> Loaded {
    load([("f.yaml", text)], &LoadOptions { lenient, ..LoadOptions::default() })
}

fn positions_are_one_based(loaded: &Loaded) -> Result<(), TestCaseError> {
    for d in &loaded.diagnostics {
        prop_assert!(d.line >= 1 && d.column >= 1, "{}", d);
    }
    Ok(())
}

/// A YAML value, rendered as block or flow text.
#[derive(Clone, Debug)]
enum Y {
    Scalar(&'static str),
    Alias(u8),
    Tagged(&'static str, Box<Y>),
    Anchored(u8, Box<Y>),
    Seq(Vec<Y>),
    Map(Vec<(&'static str, Y)>),
    /// A mapping with `<<: *aN` (one anchor) or `<<: [*aN, ...]`.
    Merge(Vec<u8>, Vec<(&'static str, Y)>),
    /// Nested `n` levels deep, in flow (`[[1]]`) or block (`a:\n  a:`) form.
    Deep(usize, bool),
}

const SCALARS: &[&str] = &[
    "80",
    "0120",
    "0o17",
    "0x50",
    "1_000",
    "+80",
    "-1",
    "1.5",
    "1e999",
    ".inf",
    ".nan",
    "yes",
    "on",
    "n",
    "~",
    "null",
    "true",
    "''",
    "'q'",
    "\"dq\\t\\u202e\\0\"",
    "10.0.0.0/8",
    "a b",
    "TCP",
    "x",
];
const TAGS: &[&str] =
    &["!!str", "!!int", "!!map", "!!seq", "!!bool", "!!null", "!foo", "!<tag:yaml.org,2002:str>", "!"];
const KEYS: &[&str] = &["a", "b", "port", "kind", "name", "0120", "true", "'q'"];

fn value() -> impl Strategy<Value = Y> {
    let leaf = prop_oneof![
        4 => prop::sample::select(SCALARS).prop_map(Y::Scalar),
        1 => (0u8..3).prop_map(Y::Alias),
        1 => (prop::sample::select(&[1usize, 10, 60, 999, 1000, 1001, 1200][..]), any::<bool>())
            .prop_map(|(n, flow)| Y::Deep(n, flow)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        let key = prop::sample::select(KEYS);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Y::Seq),
            prop::collection::vec((key.clone(), inner.clone()), 0..4).prop_map(Y::Map),
            (prop::collection::vec(0u8..3, 1..3), prop::collection::vec((key, inner.clone()), 0..3))
                .prop_map(|(a, m)| Y::Merge(a, m)),
            (prop::sample::select(TAGS), inner.clone()).prop_map(|(t, v)| Y::Tagged(t, Box::new(v))),
            (0u8..3, inner).prop_map(|(a, v)| Y::Anchored(a, Box::new(v))),
        ]
    })
}

impl Y {
    fn is_collection(&self) -> bool {
        match self {
            Y::Seq(v) => !v.is_empty(),
            Y::Map(m) => !m.is_empty(),
            Y::Merge(..) => true,
            Y::Deep(n, flow) => !flow && *n > 0,
            Y::Tagged(_, v) | Y::Anchored(_, v) => v.is_collection(),
            _ => false,
        }
    }

    /// Flow form, on one line.
    fn flow(&self, out: &mut String) {
        match self {
            Y::Scalar(s) => out.push_str(s),
            Y::Alias(a) => out.push_str(&format!("*a{a}")),
            Y::Tagged(t, v) => {
                out.push_str(t);
                out.push(' ');
                v.flow(out);
            }
            Y::Anchored(a, v) => {
                out.push_str(&format!("&a{a} "));
                v.flow(out);
            }
            Y::Seq(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.flow(out);
                }
                out.push(']');
            }
            Y::Map(m) => flow_map(out, None, m),
            Y::Merge(a, m) => flow_map(out, Some(a), m),
            Y::Deep(n, _) => {
                out.push_str(&"[".repeat(*n));
                out.push('1');
                out.push_str(&"]".repeat(*n));
            }
        }
    }

    /// Block form at `indent`; `out` ends just after `key: ` or `- ` (or at a line start).
    fn block(&self, out: &mut String, indent: usize) {
        let pad = " ".repeat(indent);
        match self {
            Y::Tagged(t, v) if v.is_collection() => {
                out.push_str(&format!("{t}\n"));
                v.block(out, indent);
            }
            Y::Anchored(a, v) if v.is_collection() => {
                out.push_str(&format!("&a{a}\n"));
                v.block(out, indent);
            }
            Y::Seq(items) if !items.is_empty() => {
                for v in items {
                    out.push_str(&format!("{pad}- "));
                    if v.is_collection() {
                        out.push('\n');
                        v.block(out, indent + 2);
                    } else {
                        v.flow(out);
                        out.push('\n');
                    }
                }
            }
            Y::Map(m) if !m.is_empty() => block_map(out, indent, None, m),
            Y::Merge(a, m) => block_map(out, indent, Some(a), m),
            Y::Deep(n, false) if *n > 0 => {
                for i in 0..*n {
                    out.push_str(&format!("{}a:\n", " ".repeat(indent + i)));
                }
                out.push_str(&format!("{}leaf: 1\n", " ".repeat(indent + n)));
            }
            _ => {
                self.flow(out);
                out.push('\n');
            }
        }
    }
}

fn merge_value(anchors: &[u8]) -> String {
    match anchors {
        [one] => format!("*a{one}"),
        many => format!("[{}]", many.iter().map(|a| format!("*a{a}")).collect::<Vec<_>>().join(", ")),
    }
}

fn flow_map(out: &mut String, merge: Option<&Vec<u8>>, m: &[(&str, Y)]) {
    out.push('{');
    let mut first = true;
    if let Some(a) = merge {
        out.push_str(&format!("<<: {}", merge_value(a)));
        first = false;
    }
    for (k, v) in m {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(k);
        out.push_str(": ");
        v.flow(out);
    }
    out.push('}');
}

fn block_map(out: &mut String, indent: usize, merge: Option<&Vec<u8>>, m: &[(&str, Y)]) {
    let pad = " ".repeat(indent);
    if let Some(a) = merge {
        out.push_str(&format!("{pad}<<: {}\n", merge_value(a)));
    }
    for (k, v) in m {
        out.push_str(&format!("{pad}{k}: "));
        if v.is_collection() {
            out.push('\n');
            v.block(out, indent + 2);
        } else {
            v.flow(out);
            out.push('\n');
        }
    }
}

/// A document: the value at the top, in block or flow form.
fn render(v: &Y, flow: bool) -> String {
    let mut out = String::new();
    if flow || !v.is_collection() {
        v.flow(&mut out);
        out.push('\n');
    } else {
        v.block(&mut out, 0);
    }
    out
}

/// What may happen to a document's text on its way to the loader.
#[derive(Clone, Debug)]
enum Encoding {
    Plain,
    Bom,
    Crlf,
    /// A character inserted at a byte position (rounded to a char boundary).
    Insert(usize, char),
}

const HOSTILE_CHARS: &[char] =
    &['\t', '\0', '\u{1}', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{202e}', '\u{2066}', '\u{feff}', '\r', '\u{2028}'];

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        2 => Just(Encoding::Plain),
        1 => Just(Encoding::Bom),
        1 => Just(Encoding::Crlf),
        2 => (any::<usize>(), prop::sample::select(HOSTILE_CHARS)).prop_map(|(i, c)| Encoding::Insert(i, c)),
    ]
}

fn encode(text: &str, e: &Encoding) -> String {
    match e {
        Encoding::Plain => text.to_string(),
        Encoding::Bom => format!("\u{feff}{text}"),
        Encoding::Crlf => text.replace('\n', "\r\n"),
        Encoding::Insert(i, c) => {
            let mut at = i % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            format!("{}{c}{}", &text[..at], &text[at..])
        }
    }
}

proptest! {
    #![proptest_config(cases(128))]

    /// Property 1: generated YAML never panics the loader, and every finding has a position.
    #[test]
    fn generated_yaml_never_panics(docs in prop::collection::vec((value(), any::<bool>(), encoding()), 1..4)) {
        let text: String = docs.iter().map(|(v, flow, e)| format!("---\n{}", encode(&render(v, *flow), e))).collect();
        for lenient in [false, true] {
            positions_are_one_based(&load_one(&text, lenient))?;
        }
    }
}

fn policy(name: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: default}}\nspec:\n  podSelector: {{matchLabels: {{app: web}}}}\n  ingress:\n  - ports:\n    - {{protocol: TCP, port: 80}}\n"
    )
}

/// A bad document: one that is an error, goes beyond a limit, or is not YAML.
fn bad_document() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(
        &[
            "a: [1, 2\n",
            "a: {b: 1\n",
            "a: \"unterminated\n",
            "a: 'unterminated\n",
            "a:\n  b: 1\n c: 2\n",
            "a:\n\tb: 1\n",
            "]\n",
            ": : :\n",
            "- a\nb: c\n",
            "a: *undefined\n",
            "a: &x 1\na: &x 2\nb: *x\n",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: default}\nspec: {podSelector: 5}\n",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: default}\nspec: {podSelector: {}, ingress: [{ports: [{port: [1]}]}]}\n",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: {x: 1}}\nspec: {podSelector: {}}\n",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: !!str {name: bad}\n",
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: default}\nspec: {podSelector: {}, policyTypes: Ingress}\n",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
            "kind: [NetworkPolicy]\n",
            "!foo {a: 1}\n",
            "%YAML 1.1\n---\na: 1\n",
            "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
            "a: 1\n...\nb: [\n",
            "--- |\n  text\n",
            "\u{feff}a: 1\n",
            "a: 1\r\nb: [\r\n",
            "a: 1\rb: [\r",
            "a: \"\\x00\\u202e\"\n\0\n",
            "a: \u{202e}b\u{1b}[31m\n",
        ][..],
    )
    .prop_map(String::from);
    let deep = (1usize..1300, any::<bool>()).prop_map(|(n, flow)| {
        let head = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nspec:\n";
        let mut out = head.to_string();
        Y::Deep(n, flow).block(&mut out, 2);
        out
    });
    let bomb = (3usize..6).prop_map(|levels| {
        let mut out = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n".to_string();
        for i in 1..levels {
            let prev = format!("*l{}", i - 1);
            out.push_str(&format!("l{i}: &l{i} [{}]\n", vec![prev; 9].join(", ")));
        }
        out
    });
    let generated = (value(), any::<bool>(), encoding()).prop_map(|(v, flow, e)| encode(&render(&v, flow), &e));
    prop_oneof![3 => fixed, 1 => deep, 1 => bomb, 3 => generated]
}

/// Whether the loader promises the documents around `bad` still load: its
/// stream is cut before every `---` line, and each piece is read on its own,
/// unless a line starts with `%` (a directive belongs to the stream: a stream
/// with one stays whole) or a carriage return is not followed by a line feed
/// (YAML counts it as a line break, the cut does not). A `---` or `...` line,
/// an unterminated flow collection or quoted scalar are contained: the cut is by lines.
fn contained(bad: &str) -> bool {
    let lone_cr = bad.match_indices('\r').any(|(i, _)| bad.as_bytes().get(i + 1) != Some(&b'\n'));
    !lone_cr && !bad.lines().any(|l| l.starts_with('%'))
}

fn stream(names: &[String], bad: &str, at: usize) -> String {
    let mut docs: Vec<String> = names.iter().map(|n| policy(n)).collect();
    let bad = if bad.ends_with('\n') { bad.to_string() } else { format!("{bad}\n") };
    docs.insert(at % (names.len() + 1), bad);
    docs.iter().map(|d| format!("---\n{d}")).collect()
}

proptest! {
    #![proptest_config(cases(96))]

    /// Property 2: one bad document among N valid policies hides none of them (strict mode).
    #[test]
    fn one_bad_document_hides_no_valid_policy(n in 1usize..5, bad in bad_document(), at in any::<usize>()) {
        let names: Vec<String> = (0..n).map(|i| format!("p{i}")).collect();
        let text = stream(&names, &bad, at);
        let loaded = load_one(&text, false);
        positions_are_one_based(&loaded)?;
        let got: Vec<&str> = loaded.cluster.policies.iter().map(|p| p.name.as_str()).collect();
        if contained(&bad) {
            for name in &names {
                prop_assert!(got.contains(&name.as_str()), "{name} lost: {got:?}\n{:?}", loaded.diagnostics);
            }
        } else {
            prop_assert!(!loaded.diagnostics.is_empty() || got.len() == n);
        }
    }
}

/// The policy without its positions.
fn model(loaded: &Loaded) -> Vec<NetworkPolicy> {
    let mut policies = loaded.cluster.policies.clone();
    for p in &mut policies {
        p.origin = None;
        for rule in p.ingress.iter_mut().chain(p.egress.iter_mut()) {
            rule.origin = None;
        }
    }
    policies
}

fn same_model(plain: &str, other: &str) -> Result<(), TestCaseError> {
    for lenient in [false, true] {
        let (a, b) = (load_one(plain, lenient), load_one(other, lenient));
        prop_assert!(!a.has_errors(), "{:?}", a.diagnostics);
        prop_assert!(!b.has_errors(), "{other:?}: {:?}", b.diagnostics);
        prop_assert_eq!(model(&a), model(&b), "{:?}", other);
    }
    Ok(())
}

const PORT_SPELLINGS: &[(&str, u16)] =
    &[("80", 80), ("0120", 80), ("0o120", 80), ("0x50", 80), ("+80", 80), ("8_0", 80), ("1_000", 1000), ("0o17", 15)];

fn labelled(labels: &str, port: &str, with_anchor: bool) -> String {
    let spec = if with_anchor {
        format!("spec:\n  podSelector: &sel\n    matchLabels: {{{labels}}}\n  ingress:\n  - from:\n    - podSelector:\n        <<: *sel\n    ports:\n    - port: {port}\n")
    } else {
        format!("spec:\n  podSelector:\n    matchLabels: {{{labels}}}\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels: {{{labels}}}\n    ports:\n    - port: {port}\n")
    };
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: web, namespace: default}}\n{spec}"
    )
}

proptest! {
    #![proptest_config(cases(64))]

    /// Property 3: an anchor reused through a merge key, an alias, and YAML 1.1
    /// port spellings load to the same model as the plain spelling.
    #[test]
    fn anchors_merge_keys_and_number_forms_load_the_same_model(
        labels in prop::collection::btree_map("[a-z]{1,5}", "[a-z0-9]{1,5}", 1..4),
        spelling in prop::sample::select(PORT_SPELLINGS),
    ) {
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}: v{v}")).collect();
        let labels = labels.join(", ");
        let plain = labelled(&labels, &spelling.1.to_string(), false);
        same_model(&plain, &labelled(&labels, spelling.0, true))?;
        same_model(&plain, &labelled(&labels, spelling.0, false))?;
        let alias = plain.replacen("podSelector:\n    matchLabels", "podSelector: &sel\n    matchLabels", 1);
        let alias = alias.replacen(&format!("    - podSelector:\n        matchLabels: {{{labels}}}\n"), "    - podSelector: *sel\n", 1);
        prop_assert!(alias.contains("*sel"));
        same_model(&plain, &alias)?;
    }

    /// Property 4: a BOM at the start and CRLF line ends load the same model as plain.
    #[test]
    fn bom_and_crlf_load_the_same_model(n in 1usize..4, bom in any::<bool>(), crlf in any::<bool>()) {
        let plain: String = (0..n).map(|i| format!("---\n{}", policy(&format!("p{i}")))).collect();
        let mut other = if crlf { plain.replace('\n', "\r\n") } else { plain.clone() };
        if bom {
            other.insert(0, '\u{feff}');
        }
        same_model(&plain, &other)?;
    }
}

#[test]
fn issue14_crlf_syntax_error_refuses_its_document_only() {
    let text = format!("---\n{}---\na: [1, 2\n---\n{}", policy("before"), policy("after")).replace('\n', "\r\n");
    for lenient in [false, true] {
        let loaded = load_one(&text, lenient);
        let got: Vec<&str> = loaded.cluster.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(got, ["before", "after"], "{:?}", loaded.diagnostics);
        assert_eq!(loaded.errors().count(), 1, "{:?}", loaded.diagnostics);
    }
}

#[test]
fn issue14_bom_between_documents_loads_both() {
    let text = format!("\u{feff}---\n{}\u{feff}---\n{}", policy("a"), policy("b"));
    let loaded = load_one(&text, false);
    let got: Vec<&str> = loaded.cluster.policies.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(got, ["a", "b"], "{:?}", loaded.diagnostics);
}

#[test]
fn issue14_small_file_the_fast_path_refuses_loads_on_a_plain_thread() {
    // 62 levels with an anchor: small and shallow, but serde-saphyr must parse
    // it, and it overflowed a std thread's 2 MiB stack (abort) in debug builds.
    let mut deep = "a: &x\n".to_string();
    Y::Deep(61, false).block(&mut deep, 2);
    let text = format!("{deep}---\n{}", policy("p"));
    std::thread::spawn(move || {
        let loaded = load_one(&text, false);
        let got: Vec<&str> = loaded.cluster.policies.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(got, ["p"], "{:?}", loaded.diagnostics);
    })
    .join()
    .expect("loads on a std thread");
}

//! The loader never panics: on arbitrary text, on YAML-ish token soup, and on
//! random mutations (deleted, duplicated, re-indented lines) of the seed examples.

use std::fs;
use std::path::Path;

use netpol_manifest::{load, LoadOptions};
use proptest::prelude::*;

fn seeds() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds");
    let mut files: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|p| fs::read_to_string(p).unwrap()).collect()
}

fn check(text: &str) {
    for lenient in [false, true] {
        let loaded = load([("f.yaml", text)], &LoadOptions { lenient, ..LoadOptions::default() });
        for d in &loaded.diagnostics {
            assert!(d.line >= 1 && d.column >= 1, "{d}");
        }
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Indent(usize, usize),
    Dedent(usize),
    Replace(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), 1usize..6).prop_map(|(i, n)| Mutation::Indent(i, n)),
        any::<usize>().prop_map(Mutation::Dedent),
        (any::<usize>(), "[ a-zA-Z0-9:{}\\[\\],&*!|>'\"#.-]{0,24}").prop_map(|(i, s)| Mutation::Replace(i, s)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match m {
            Mutation::Delete(i) => {
                lines.remove(i % n);
            }
            Mutation::Duplicate(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Mutation::Indent(i, k) => lines[i % n] = format!("{}{}", " ".repeat(*k), lines[i % n]),
            Mutation::Dedent(i) => lines[i % n] = lines[i % n].trim_start().to_string(),
            Mutation::Replace(i, s) => lines[i % n] = s.clone(),
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn yaml_token_soup_never_panics(text in "([a-zA-Z]{1,8}|: |- |\\n|  |\\{|\\}|\\[|\\]|, |---\\n|&a |\\*a|!!str |'|\"|[0-9]{1,6}|null|true|kind: |apiVersion: |NetworkPolicy|v1|ipBlock|port){0,60}") {
        check(&text);
    }

    #[test]
    fn seed_mutations_never_panic(seed in 0usize..64, mutations in prop::collection::vec(mutation(), 1..6)) {
        let seeds = seeds();
        let text = mutate(&seeds[seed % seeds.len()], &mutations);
        check(&text);
    }
}

#[test]
fn deep_nesting_and_alias_bombs_are_refused_not_fatal() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    check(&deep);
    let deep_block: String = (0..400).map(|i| format!("{}a:\n", " ".repeat(i))).collect();
    check(&deep_block);
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    check(bomb);
}

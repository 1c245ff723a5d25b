//! Table tests: evaluation, canonical text, errors.

use super::*;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().copied().collect()
}

fn parse(text: &str) -> CalicoSelector {
    CalicoSelector::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e} ({:?})", e.hint))
}

/// Labels for a table row.
type Given = &'static [(&'static str, &'static str)];

#[test]
fn evaluation_table() {
    let none: Given = &[];
    let web: Given = &[("app", "web")];
    let web_prod: Given = &[("app", "web"), ("env", "prod")];
    let api_dev: Given = &[("app", "api"), ("env", "dev")];
    let empty_value: Given = &[("app", "")];
    #[rustfmt::skip]
    let cases: &[(&str, &str, Given, bool)] = &[
        // (name, selector, labels, want)
        ("empty selector", "", none, true),
        ("blank selector", " \t ", web, true),
        ("all()", "all()", none, true),
        ("all() with blanks inside", "all( )", web, true),
        ("global() matches no pod", "global()", none, false),
        ("!global()", "!global()", web, true),
        ("== hit", "app == 'web'", web, true),
        ("== other value", "app == 'api'", web, false),
        ("== absent", "app == 'web'", none, false),
        ("== empty value", "app == ''", empty_value, true),
        ("== empty string does not match absent", "app == ''", none, false),
        ("!= other value", "app != 'api'", web, true),
        ("!= same value", "app != 'web'", web, false),
        ("!= absent matches", "app != 'web'", none, true),
        ("has present", "has(app)", web, true),
        ("has absent", "has(env)", web, false),
        ("has with empty value", "has(app)", empty_value, true),
        ("!has absent", "!has(env)", web, true),
        ("!has present", "!has(app)", web, false),
        ("in hit", "app in {'api', 'web'}", web, true),
        ("in miss", "app in {'api', 'db'}", web, false),
        ("in absent", "app in {'web'}", none, false),
        ("in empty set", "app in {}", web, false),
        ("in trailing comma", "app in {'web',}", web, true),
        ("in duplicates", "app in {'web', 'web'}", web, true),
        ("not in miss matches", "app not in {'api'}", web, true),
        ("not in hit", "app not in {'web', 'api'}", web, false),
        ("not in absent matches", "env not in {'prod'}", web, true),
        ("not in empty set", "app not in {}", web, true),
        ("notin one word", "app notin {'api'}", web, true),
        ("contains", "app contains 'e'", web, true),
        ("contains whole", "app contains 'web'", web, true),
        ("contains empty", "app contains ''", web, true),
        ("contains miss", "app contains 'x'", web, false),
        ("contains absent", "env contains ''", web, false),
        ("starts with", "app starts with 'we'", web, true),
        ("starts with miss", "app starts with 'eb'", web, false),
        ("startswith one word", "app startswith 'w'", web, true),
        ("starts  with two blanks", "app starts  with 'w'", web, true),
        ("starts with absent", "env starts with ''", web, false),
        ("ends with", "app ends with 'eb'", web, true),
        ("ends with miss", "app ends with 'we'", web, false),
        ("endswith one word", "app endswith 'b'", web, true),
        ("ends with absent", "env ends with ''", web, false),
        ("case matters", "app == 'Web'", web, false),
        ("! negates", "!app == 'web'", web, false),
        ("! negates the whole comparison", "!app == 'api'", web, true),
        ("!! cancels", "!!has(app)", web, true),
        ("!!! negates", "!!! has(app)", web, false),
        ("! before parens", "!(has(app) && has(env))", web, true),
        ("&& both", "app == 'web' && env == 'prod'", web_prod, true),
        ("&& one", "app == 'web' && env == 'prod'", web, false),
        ("|| one", "app == 'api' || env == 'prod'", web_prod, true),
        ("|| none", "app == 'api' || env == 'dev'", web_prod, false),
        ("&& binds tighter than || (left)", "app == 'web' || app == 'x' && env == 'x'", web, true),
        ("&& binds tighter than || (right)", "app == 'x' && env == 'x' || app == 'web'", web, true),
        ("parens regroup", "(app == 'web' || app == 'x') && env == 'x'", web, false),
        ("! binds tighter than &&", "!has(env) && has(app)", web, true),
        ("! binds tighter than ||", "!has(app) || has(env)", web, false),
        ("nested", "((app in {'web'}) && !(env == 'dev' || has(zone)))", web_prod, true),
        ("nested miss", "((app in {'api'}) && !(env == 'dev' || has(zone)))", api_dev, false),
        ("double quotes", "app == \"web\"", web, true),
        ("single quote inside double", "app == \"it's\"", &[("app", "it's")], true),
        ("double quote inside single", "app == '\"q\"'", &[("app", "\"q\"")], true),
        ("blanks inside strings count", "app == ' web'", web, false),
        ("no blanks needed", "app=='web'&&env!='dev'", web_prod, true),
        ("tabs are blanks", "app\t==\t'web'", web, true),
        ("Calico keys", "projectcalico.org/namespace == 'ns' && calico/k8s_ns == 'ns'",
            &[("projectcalico.org/namespace", "ns"), ("calico/k8s_ns", "ns")], true),
        ("dotted key", "app.kubernetes.io/name starts with 'web'", &[("app.kubernetes.io/name", "web-1")], true),
        ("keyword-named labels", "in in {'x'} && contains contains 'x' && has == 'x'",
            &[("in", "x"), ("contains", "x"), ("has", "x")], true),
        ("unicode value", "app == 'wéb'", &[("app", "wéb")], true),
    ];
    for (name, text, given, want) in cases {
        assert_eq!(parse(text).matches_labels(&labels(given)), *want, "{name}: {text}");
    }
}

#[test]
fn matches_takes_any_lookup() {
    let sel = parse("tier != 'db' && has(app)");
    assert!(sel.matches(&|k| (k == "app").then_some("x")));
    assert!(!sel.matches(&|_| Some("db")));
}

#[test]
fn canonical_text_table() {
    // Calico's Selector.String() for each (checked against Calico's parser; see oracle_tests).
    let cases = [
        ("", "all()"),
        (" (all() )", "all()"),
        ("!!all()", "all()"),
        ("app=='web'", r#"app == "web""#),
        (r#"a == "'""#, r#"a == "'""#),
        (r#"a == '"'"#, r#"a == '"'"#),
        ("a startswith 'x'", r#"a starts with "x""#),
        ("a endswith 'x'", r#"a ends with "x""#),
        ("a notin {}", "a not in {}"),
        ("a in {'z', 'x', 'z', 'a',}", r#"a in {"a", "x", "z"}"#),
        ("! (has( b)||! has(a ))", "!(has(b) || !has(a))"),
        ("a == 'x' && b == 'y' || c == 'z'", r#"((a == "x" && b == "y") || c == "z")"#),
        ("a == 'x' || b == 'y' && c == 'z'", r#"(a == "x" || (b == "y" && c == "z"))"#),
        ("(a == 'x' && b == 'y') && c == 'z'", r#"((a == "x" && b == "y") && c == "z")"#),
        // Calico prints `!!has(a)` here, which would parse back to `has(a)`.
        ("!(!has(a))", "!(!has(a))"),
        ("global()", "global()"),
    ];
    for (text, want) in cases {
        let sel = parse(text);
        assert_eq!(sel.to_string(), want, "{text}");
        assert_eq!(parse(want), sel, "{text}: canonical text parses back");
    }
}

#[test]
fn keys_are_sorted_and_deduplicated() {
    let sel = parse("(zone in {'a'} || has(app)) && !app == 'x' && tier not in {} && global() || all()");
    assert_eq!(sel.keys(), ["app", "tier", "zone"]);
    assert!(CalicoSelector::all().keys().is_empty());
}

#[test]
fn all_and_global() {
    for text in ["", "   ", "all()", "(all())", "!!all()", "all(\t)"] {
        assert!(parse(text).is_all(), "{text:?}");
        assert_eq!(parse(text), CalicoSelector::all());
    }
    assert!(!parse("!all()").is_all());
    assert!(!parse("all() && all()").is_all());
    assert!(parse("global()").is_global());
    assert!(parse("(global())").is_global());
    assert!(!parse("global() || has(a)").is_global());
    assert!(parse("global() || has(a)").uses_global());
    assert!(parse("!(has(a) && !global())").uses_global());
    assert!(!parse("has(global)").uses_global());
    assert_eq!(CalicoSelector::default(), CalicoSelector::all());
}

#[test]
fn serde_as_canonical_string() {
    let sel = parse("b == 'y' && a in {'2', '1'}");
    let json = serde_json::to_string(&sel).unwrap();
    assert_eq!(json, r#""(b == \"y\" && a in {\"1\", \"2\"})""#);
    assert_eq!(serde_json::from_str::<CalicoSelector>(&json).unwrap(), sel);
    let err = serde_json::from_str::<CalicoSelector>(r#""app = 'x'""#).unwrap_err();
    assert!(err.to_string().contains("expected `==`, found `=`"), "{err}");
}

#[test]
fn label_length_limit() {
    let key = "k".repeat(512);
    assert!(CalicoSelector::parse(&format!("{key} == 'v'")).is_ok());
    assert!(CalicoSelector::parse(&format!("has({key})")).is_ok());
    let err = CalicoSelector::parse(&format!("x == 'v' && k{key} == 'v'")).unwrap_err();
    assert_eq!((err.offset, err.message.as_str()), (12, "label key is 513 bytes long; Calico allows at most 512"));
}

#[test]
fn deep_nesting() {
    // 1024 bytes (the CRD limit) build trees at most ~340 deep; each shape must
    // survive parse, print, evaluate, compare, clone and drop at the limit.
    let max = parser::MAX_DEPTH;
    // (opening, closing, innermost, deepest repeat that parses)
    let shapes = [
        ("!(", ")", "has(a)", max - 1),
        ("(a == 'x' || b != 'y' && !", ")", "has(a)", (max - 1) / 3),
        ("(has(a) && ", ")", "has(b)", max - 1),
        ("(has(a) || !", ")", "has(b)", (max - 1) / 2),
    ];
    for (open, close, inner, deepest) in shapes {
        let text = format!("{}{inner}{}", open.repeat(deepest), close.repeat(deepest));
        let sel = CalicoSelector::parse(&text).unwrap_or_else(|e| panic!("{open}...: {e}"));
        let again = CalicoSelector::parse(&sel.to_string()).unwrap_or_else(|e| panic!("{open}... printed: {e}"));
        assert_eq!(sel.clone(), again);
        let _ = sel.matches_labels(&labels(&[("a", "x")]));
        let _ = format!("{sel:?}");
        let text = format!("{}{inner}{}", open.repeat(deepest + 1), close.repeat(deepest + 1));
        let err = CalicoSelector::parse(&text).expect_err(open);
        assert_eq!(err.message, "expression nested more than 512 deep", "{open}...");
    }
    // Parentheses alone add no depth, however many.
    let text = format!("{}has(a){}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(parse(&text), parse("has(a)"));
    let text = format!("{}has(a){}", "!(".repeat(100_000), ")".repeat(100_000));
    assert!(CalicoSelector::parse(&text).is_err());
}

#[test]
fn error_table() {
    #[rustfmt::skip]
    let cases: &[(&str, usize, &str, Option<&str>)] = &[
        // (selector, offset, message, hint)
        ("app == web", 7, "expected a quoted string after `==`, found `web`", Some("quote the value: `app == 'web'`")),
        ("app != web", 7, "expected a quoted string after `!=`, found `web`", Some("quote the value: `app != 'web'`")),
        ("app contains web", 13, "expected a quoted string after `contains`, found `web`", Some("quote the value: `app contains 'web'`")),
        ("app starts with web", 16, "expected a quoted string after `starts with`, found `web`", Some("quote the value: `app starts with 'web'`")),
        ("app == ", 7, "expected a quoted string after `==`, found the end of the selector", Some("for example `app == 'value'`")),
        ("app == {'a'}", 7, "expected a quoted string after `==`, found `{`", Some("to match one of several values, write `app in {...}`")),
        ("app = 'web'", 4, "expected `==`, found `=`", Some("Calico compares with `==`: `app == 'web'`")),
        ("a == 'x' & b == 'y'", 9, "expected `&&`, found `&`", Some("write `&&` for and")),
        ("a == 'x' | b == 'y'", 9, "expected `||`, found `|`", Some("write `||` for or")),
        ("app == 'web", 7, "unterminated string", Some("close it with a matching ' (Calico strings have no escapes)")),
        ("app == \"web'", 7, "unterminated string", Some("close it with a matching \" (Calico strings have no escapes)")),
        ("(app == 'web'", 13, "unbalanced parenthesis: the `(` at byte 0 is never closed", Some("add `)`")),
        ("app == 'web')", 12, "unbalanced parenthesis: this `)` has no matching `(`", Some("remove it, or add the `(` it closes")),
        ("(has(a) has(b))", 8, "expected `)` to close the `(` at byte 0, found `has(b)`", Some("join expressions with `&&` or `||`")),
        ("()", 1, "expected an expression, found `)`", Some("`()` is empty: write `all()` to match everything")),
        ("has(a) has(b)", 7, "unexpected `has(b)` after a complete expression", Some("join expressions with `&&` or `||`")),
        ("has(a) &&", 9, "expected an expression, found the end of the selector", Some("remove the trailing operator, or add an expression after it")),
        ("!", 1, "expected an expression, found the end of the selector", None),
        ("'b1' == b", 0, "expected an expression, found `'b1'`", Some("the label key comes first and is not quoted: `key == 'value'`")),
        ("app in 'a'", 7, "expected `{` after `in`, found `'a'`", Some("put the values in braces: `app in {'a'}`")),
        ("app in ('a', 'b')", 7, "expected `{` after `in`, found `(`", Some("use braces, not parentheses: `app in {'a', 'b'}`")),
        ("app not in x", 11, "expected `{` after `not in`, found `x`", Some("put the values in braces: `app not in {'x'}`")),
        ("app in {'a' 'b'}", 12, "expected `,` or `}` in the set, found `'b'`", Some("separate the values with commas")),
        ("app in {a}", 8, "expected a quoted string or `}` in the set, found `a`", Some("quote the value: `'a'`")),
        ("app in {'a',", 12, "unbalanced brace: the `{` at byte 7 is never closed", Some("close the set with `}`")),
        ("app in {,}", 8, "expected a quoted string or `}` in the set, found `,`", None),
        ("app", 3, "expected an operator after label `app`, found the end of the selector", Some("to test that the label exists, write `has(app)`")),
        ("app && has(b)", 4, "expected an operator after label `app`, found `&&`", Some("to test that the label exists, write `has(app)`")),
        ("all", 3, "expected an operator after label `all`, found the end of the selector", Some("call it: `all()`")),
        ("app 'web'", 4, "expected an operator after label `app`, found `'web'`", Some("add an operator: `app == 'web'`")),
        ("app IN {'a'}", 4, "expected an operator after label `app`, found `IN`", Some("operators are lower-case: `in`")),
        ("app not == 'a'", 4, "expected an operator after label `app`, found `not`", Some("`not` only appears in `not in`; to negate, write `!` first: `!app == '...'`")),
        ("app starts 'a'", 4, "expected an operator after label `app`, found `starts`", Some("write `starts with`")),
        ("app < 'a'", 4, "expected an operator after label `app`, found `<`", Some("Calico's operators are `==`, `!=`, `in`, `not in`, `contains`, `starts with`, `ends with`")),
        ("app inx {'a'}", 4, "expected an operator after label `app`, found `inx`", Some("Calico's operators are `==`, `!=`, `in`, `not in`, `contains`, `starts with`, `ends with`")),
        ("foo(a)", 0, "unknown function `foo()`", Some("Calico's functions are `all()`, `global()` and `has(key)`")),
        ("Has(a)", 0, "unknown function `Has()`", Some("function names are lower-case: `has(`")),
        ("has (a)", 0, "unknown function `has()`", Some("write `has(` with no space before the `(`")),
        ("has()", 4, "expected a label key inside `has(`, found `)`", Some("name the label: `has(app)`")),
        ("has('app')", 4, "expected a label key inside `has(`, found `'`", Some("label keys are not quoted: `has(app)`")),
        ("has(a b)", 6, "expected `)` to close `has(`, found `b`", Some("`has()` takes one label key: `has(app)`")),
        ("all(x)", 4, "expected `)` after `all(`, found `x`", Some("`all()` takes no arguments")),
        ("global(", 7, "expected `)` after `global(`, found the end of the selector", Some("`global()` takes no arguments")),
        ("%", 0, "unexpected character `%`", None),
        ("a == 'b' && %", 12, "unexpected character `%`", None),
        ("app == 'web'\n", 12, "unexpected character `\\n`", Some(lexer_newline_hint())),
        ("app\n== 'web'", 3, "expected an operator after label `app`, found `\\n`", Some(lexer_newline_hint())),
        ("é == 'x'", 0, "unexpected character `é`", Some("label keys may contain only ASCII letters, digits, `_`, `.`, `/` and `-`")),
        ("app == \u{2018}web\u{2019}", 7, "unexpected character `\u{2018}`", Some("use a plain `'` or `\"` quote")),
        ("== 'x'", 0, "expected an expression, found `==`", None),
    ];
    for (text, offset, message, hint) in cases {
        let err = CalicoSelector::parse(text).expect_err(text);
        assert_eq!((err.offset, err.message.as_str(), err.hint.as_deref()), (*offset, *message, *hint), "{text:?}");
        assert!(err.offset <= text.len() && text.is_char_boundary(err.offset), "{text:?}");
    }
}

fn lexer_newline_hint() -> &'static str {
    "Calico allows only spaces and tabs between tokens: write the selector on one line \
     (a YAML `|` block keeps its last newline; use `>-` or a quoted string)"
}

#[test]
fn error_display_names_the_byte() {
    let err = CalicoSelector::parse("app == web").unwrap_err();
    assert_eq!(err.to_string(), "expected a quoted string after `==`, found `web` (at byte 7 of the selector)");
}

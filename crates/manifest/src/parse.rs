//! The fast path from YAML text to spanned documents: the events of
//! granit-parser (the parser serde-saphyr is built on, with the options
//! serde-saphyr gives it) go straight into [`Node`]s, without serde, and a
//! stream is cut at its `---` lines so its documents parse on every core.
//!
//! Design: the tree must be exactly the one serde-saphyr builds through
//! `Spanned<Value>` (same positions, same scalar types), so this path takes only
//! the YAML that manifests use: mappings with scalar keys, sequences, and
//! untagged scalars without anchors. Anything else (tags, anchors, aliases,
//! complex or `<<` keys, non-finite floats, directives, a syntax error, anything
//! near a budget) makes [`parse_fast`] return `None`, and the caller parses the
//! file through serde-saphyr, which decides, and words every error, as before.
//! Scalars resolve by serde-saphyr's rules for `deserialize_any` with the options
//! of [`crate::node::parse_documents`] (YAML 1.1 booleans and octals, as
//! kubectl's decoder reads them: `0120` is 80; non-finite floats rejected); `tests` checks both paths give the same trees.

use std::borrow::Cow;

use serde_saphyr::granit_parser::{Event, Marker, Options, Parser, ScalarStyle, Span, StrInput};

use crate::node::{Node, Value, FLOW_NESTING_LIMIT, MAX_DEPTH, MAX_SCALAR_BYTES};

/// Deeper than this, serde-saphyr's depth budget decides.
const FAST_MAX_DEPTH: usize = MAX_DEPTH - 8;

/// Scalar text the fast path takes in one chunk (and so in each of its
/// documents). The fast path counts it as serde-saphyr's budget does (the text
/// of every scalar event, keys included), so this could be
/// [`MAX_SCALAR_BYTES`]; the margin is against serde-saphyr changing how it
/// counts. Beyond it serde-saphyr decides, and refuses a document past 64 MiB.
pub(crate) const FAST_MAX_SCALAR_BYTES: usize = MAX_SCALAR_BYTES - 4 * 1024 * 1024;

/// A run of whole documents of a stream, the line it starts on (0-based), and
/// whether another document follows it in its file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chunk<'a> {
    pub text: &'a str,
    pub line_offset: u32,
    /// A `---` line follows the chunk ([`split`] cut there): an empty block
    /// scalar that ends the chunk is placed on that line, as serde-saphyr
    /// places it when it reads the file whole ([`parse_fast`]).
    pub followed: bool,
}

/// Cuts `text` before `---` lines into chunks of about `target` bytes; a
/// document of `target` bytes or more is a chunk of its own (a large `List` is
/// then cut at its items, [`crate::list`]). A stream
/// with directives (`%`) or a carriage return not followed by a line feed stays
/// whole: cutting could change what it means or how its lines are counted
/// (YAML counts a lone `\r` as a line break). CRLF line ends are cut as LF ones.
pub(crate) fn split(text: &str, target: usize) -> Vec<Chunk<'_>> {
    let whole = vec![Chunk { text, line_offset: 0, followed: false }];
    if text.len() <= target || lone_carriage_return(text.as_bytes()) {
        return whole;
    }
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let (mut start, mut start_line) = (0usize, 0u32);
    // The document being read: where it starts.
    let (mut doc, mut doc_line) = (0usize, 0u32);
    let (mut pos, mut line) = (0usize, 0u32);
    while pos < bytes.len() {
        let end = memchr_newline(bytes, pos);
        let row = &bytes[pos..end];
        if row.first() == Some(&b'%') {
            return whole;
        }
        // A BOM may open any document (YAML 1.2 `l-document-prefix`): cut before it.
        let row = row.strip_prefix("\u{feff}".as_bytes()).unwrap_or(row);
        let marker = row.starts_with(b"---") && matches!(row.get(3), None | Some(b' ' | b'\t' | b'\r'));
        if marker && pos > start {
            if doc > start && pos - doc >= target {
                chunks.push(Chunk { text: &text[start..doc], line_offset: start_line, followed: true });
                (start, start_line) = (doc, doc_line);
            }
            if pos - start >= target {
                chunks.push(Chunk { text: &text[start..pos], line_offset: start_line, followed: true });
                (start, start_line) = (pos, line);
            }
        }
        if marker {
            (doc, doc_line) = (pos, line);
        }
        pos = end + 1;
        line = line.saturating_add(1);
    }
    if doc > start && text.len() - doc >= target {
        chunks.push(Chunk { text: &text[start..doc], line_offset: start_line, followed: true });
        (start, start_line) = (doc, doc_line);
    }
    chunks.push(Chunk { text: &text[start..], line_offset: start_line, followed: false });
    chunks
}

pub(crate) fn lone_carriage_return(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
}

pub(crate) fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| from + i)
}

/// What a chunk cost, to stay far inside serde-saphyr's budgets for each of its documents.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Cost {
    pub events: usize,
    pub scalar_bytes: usize,
}

impl Cost {
    /// Whether a chunk of `len` bytes that cost this stays inside the budgets
    /// [`crate::node::parse_documents`] sets for each document in it (events,
    /// nodes and documents scale with the input; scalar text is capped at 64 MiB
    /// a document, so a chunk's sum below [`FAST_MAX_SCALAR_BYTES`] keeps every
    /// document below). Depth is checked as the chunk is parsed. The size of
    /// the text itself is no limit: a 100 MB document takes the fast path.
    pub fn within_budget(&self, len: usize) -> bool {
        self.events <= len.saturating_add(5_000) && self.scalar_bytes <= FAST_MAX_SCALAR_BYTES
    }

    pub fn add(self, other: Cost) -> Cost {
        Cost {
            events: self.events.saturating_add(other.events),
            scalar_bytes: self.scalar_bytes.saturating_add(other.scalar_bytes),
        }
    }
}

/// The parser options serde-saphyr derives from the options of `parse_documents`,
/// comments not emitted included.
fn parser_options() -> Options {
    let mut options = Options::default();
    options.set_emit_comments(false);
    options.simple_key_max_lookahead = serde_saphyr::budget::Budget::default().simple_key_max_lookahead;
    options.flow_nesting_limit = FLOW_NESTING_LIMIT;
    options.block_nesting_limit = options.block_nesting_limit.max(MAX_DEPTH + 1);
    options
}

/// A collection being built: its position, and where its items start in the
/// builder's one list of pending items (a mapping's alternate key, value).
struct Open {
    line: u32,
    column: u32,
    map: bool,
    start: usize,
}

fn position(at: &Marker, line_offset: u32) -> (u32, u32) {
    let line = u32::try_from(at.line()).unwrap_or(u32::MAX).saturating_add(line_offset);
    let column = u32::try_from(at.col().saturating_add(1)).unwrap_or(u32::MAX);
    (line, column)
}

/// Where serde-saphyr, reading the whole file, places a scalar of `chunk`.
/// granit-parser starts a block scalar at its first content line, or, when it
/// has none, where its scan stopped: at the chunk's end, the indicator (`|`),
/// but in the file the next line, the `---` that follows the chunk. So an
/// empty block scalar (nothing but line breaks kept) that the chunk's end
/// closes is placed at that end when a document follows. `None`: not sure.
fn scalar_start<'s>(chunk: &Chunk<'_>, span: &'s Span, text: &str, style: ScalarStyle) -> Option<&'s Marker> {
    let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
    if !(chunk.followed && block && text.bytes().all(|b| b == b'\n')) {
        return Some(&span.start);
    }
    Some(if span.end.byte_offset()? == chunk.text.len() { &span.end } else { &span.start })
}

/// Whether every tree of `text` is at most `depth` deep, by its events alone
/// (no tree is built, nothing recurses). Aliases (which replay a subtree
/// elsewhere) and syntax errors answer `false`: then the caller takes no chances.
pub(crate) fn shallow(text: &str, depth: usize) -> bool {
    let mut open = 0usize;
    for item in Parser::with_options(StrInput::new(text), parser_options()) {
        match item {
            Ok((Event::SequenceStart(..) | Event::MappingStart(..), _)) => {
                open += 1;
                if open > depth {
                    return false;
                }
            }
            Ok((Event::SequenceEnd | Event::MappingEnd, _)) => open = open.saturating_sub(1),
            Ok((Event::Alias(..), _)) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    true
}

/// Parses one chunk into its non-null documents, or `None` when serde-saphyr
/// must decide: by the line scanner ([`crate::block`]) when it takes the
/// chunk, else by granit-parser's events.
pub(crate) fn parse_fast(chunk: Chunk<'_>) -> Option<(Vec<Node<'_>>, Cost)> {
    crate::block::parse_block(chunk).or_else(|| parse_events(chunk))
}

/// [`parse_fast`] by granit-parser's events alone.
pub(crate) fn parse_events(chunk: Chunk<'_>) -> Option<(Vec<Node<'_>>, Cost)> {
    let mut parser = Parser::with_options(StrInput::new(chunk.text), parser_options());
    let mut docs = Vec::new();
    let mut cost = Cost::default();
    let mut stack: Vec<Open> = Vec::with_capacity(16);
    // Items of every open collection, innermost last: each collection gets one
    // allocation of its exact size when it ends.
    let mut items: Vec<Node<'_>> = Vec::with_capacity(64);
    for item in &mut parser {
        let (event, span) = item.ok()?;
        cost.events += 1;
        let expecting_key = stack.last().is_some_and(|open| open.map && (items.len() - open.start).is_multiple_of(2));
        let node = match event {
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                cost.scalar_bytes = cost.scalar_bytes.saturating_add(text.len());
                if expecting_key && style == ScalarStyle::Plain && text == "<<" {
                    return None;
                }
                let (line, column) = position(scalar_start(&chunk, &span, &text, style)?, chunk.line_offset);
                Node { line, column, value: scalar(text, style)? }
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                // A tag, an anchor, too deep, or a complex key.
                if anchor != 0 || tag.is_some() || stack.len() >= FAST_MAX_DEPTH || expecting_key {
                    return None;
                }
                let (line, column) = position(&span.start, chunk.line_offset);
                stack.push(Open { line, column, map: matches!(event, Event::MappingStart(..)), start: items.len() });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let open = stack.pop()?;
                let value = if open.map {
                    if !(items.len() - open.start).is_multiple_of(2) {
                        return None;
                    }
                    let mut entries = Vec::with_capacity((items.len() - open.start) / 2);
                    let mut drain = items.drain(open.start..);
                    while let (Some(k), Some(v)) = (drain.next(), drain.next()) {
                        entries.push((k, v));
                    }
                    Value::Map(entries)
                } else {
                    Value::Seq(items.drain(open.start..).collect())
                };
                Node { line: open.line, column: open.column, value }
            }
            // Comments are not emitted (`parser_options`); were they, they are no nodes.
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(..)
            | Event::DocumentEnd
            | Event::Comment(..) => continue,
            _ => return None,
        };
        if stack.is_empty() {
            if !node.is_null() {
                docs.push(node);
            }
        } else {
            items.push(node);
        }
    }
    (stack.is_empty() && items.is_empty()).then_some((docs, cost))
}

/// An untagged plain scalar as serde-saphyr's `deserialize_any` reads it.
pub(crate) fn scalar_value(text: Cow<'_, str>) -> Option<Value<'_>> {
    scalar(text, ScalarStyle::Plain)
}

/// An untagged scalar as serde-saphyr's `deserialize_any` reads it; `None` for
/// a non-finite float, which it rejects.
fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Option<Value<'_>> {
    if style != ScalarStyle::Plain {
        return Some(Value::Str(text));
    }
    if matches!(&*text, "" | "~" | "null" | "Null" | "NULL") {
        return Some(Value::Null);
    }
    let t = trim(&text);
    // Every typed spelling starts with a digit, a sign, a dot, or a boolean's letter.
    let first = t.as_bytes().first().copied().unwrap_or(b' ');
    if !(first.is_ascii_digit()
        || matches!(first, b'+' | b'-' | b'.' | b'y' | b'Y' | b'n' | b'N' | b'o' | b'O' | b't' | b'T' | b'f' | b'F'))
    {
        return Some(Value::Str(text));
    }
    if let Some(b) = yaml11_bool(t) {
        return Some(Value::Bool(b));
    }
    if t.starts_with('-') {
        if let Some(v) = int_signed(t) {
            return Some(Value::Int(v));
        }
    } else if let Some(v) = int_unsigned(t) {
        return Some(Value::UInt(v));
    }
    match float(t) {
        Some(x) if x.is_finite() => Some(Value::Float(x)),
        Some(_) => None,
        None => Some(Value::Str(text)),
    }
}

fn trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

fn yaml11_bool(t: &str) -> Option<bool> {
    let is = |w: &str| t.eq_ignore_ascii_case(w);
    if is("true") || is("yes") || is("y") || is("on") {
        Some(true)
    } else if is("false") || is("no") || is("n") || is("off") {
        Some(false)
    } else {
        None
    }
}

/// Digits in `radix` with single `_` between them.
fn digits(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut val: u128 = 0;
    let mut saw = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let prev_ok = i > 0 && bytes[i - 1] != b'_';
            let next_ok = i + 1 < bytes.len() && bytes[i + 1] != b'_';
            if !prev_ok || !next_ok {
                return None;
            }
            continue;
        }
        let d = (b as char).to_digit(16).filter(|d| *d < radix)?;
        val = val.checked_mul(u128::from(radix))?.checked_add(u128::from(d))?;
        saw = true;
    }
    saw.then_some(val)
}

/// serde-saphyr's radix rules with `legacy_octal_numbers`: a leading `0` is
/// octal (YAML 1.1, as kubectl reads `0120`: 80), and one `_` may follow a prefix.
fn radix_and_digits(rest: &str) -> (u32, &str) {
    fn strip(d: &str) -> &str {
        d.strip_prefix('_').unwrap_or(d)
    }
    for (prefix, radix) in [("0x", 16), ("0X", 16), ("0o", 8), ("0O", 8), ("0b", 2), ("0B", 2)] {
        if let Some(r) = rest.strip_prefix(prefix) {
            return (radix, strip(r));
        }
    }
    match rest.strip_prefix('0') {
        Some("") => (8, "0"),
        Some(r) => (8, strip(r)),
        None => (10, rest),
    }
}

fn int_unsigned(t: &str) -> Option<u64> {
    if t.starts_with('-') {
        return None;
    }
    let (radix, ds) = radix_and_digits(t.strip_prefix('+').unwrap_or(t));
    u64::try_from(digits(ds, radix)?).ok()
}

fn int_signed(t: &str) -> Option<i64> {
    let (neg, rest) = match t.strip_prefix('+') {
        Some(r) => (false, r),
        None => t.strip_prefix('-').map_or((false, t), |r| (true, r)),
    };
    let (radix, ds) = radix_and_digits(rest);
    let mag = digits(ds, radix)?;
    let value: i128 = if neg {
        if mag == (i128::MAX as u128) + 1 {
            i128::MIN
        } else {
            i128::try_from(mag).ok()?.checked_neg()?
        }
    } else {
        i128::try_from(mag).ok()?
    };
    i64::try_from(value).ok()
}

/// YAML 1.2 floats as serde-saphyr reads them: `.inf`/`.nan` spellings, Rust's
/// grammar for finite values, and a digit-led literal that overflows to infinity.
fn float(t: &str) -> Option<f64> {
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" => return Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY }),
        _ => {}
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        Ok(v)
            if v.is_infinite() && t.strip_prefix(['+', '-']).unwrap_or(t).starts_with(|c: char| c.is_ascii_digit()) =>
        {
            Some(v)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::parse_documents;

    /// Both paths on `text`, whole and cut before every document.
    fn same(text: &str) {
        let slow = parse_documents(text);
        for target in [usize::MAX, 0] {
            let mut fast = Vec::new();
            let mut ok = true;
            for chunk in split(text, target) {
                // Both fast paths, each when it takes the chunk.
                let block = crate::block::parse_block(chunk);
                match parse_events(chunk) {
                    Some((docs, _)) => {
                        if let Some((block, _)) = block {
                            assert_eq!(block, docs, "line scanner, target {target}: {text:?}");
                        }
                        fast.extend(docs)
                    }
                    None => {
                        assert!(block.is_none(), "line scanner took what the events refuse: {text:?}");
                        ok = false
                    }
                }
            }
            if ok {
                assert_eq!(slow.as_ref().ok(), Some(&fast), "target {target}: {text:?}");
            }
        }
    }

    #[test]
    fn scalars_resolve_as_serde_saphyr_resolves_them() {
        let words = [
            "a",
            "1",
            "-1",
            "+1",
            "0",
            "-0",
            "+0",
            "00",
            "0127",
            "-0127",
            "+0127",
            "1_000",
            "1__0",
            "_1",
            "1_",
            "0x1F",
            "0X1f",
            "-0x10",
            "0o17",
            "0b101",
            "0x",
            "0xg",
            "1.5",
            "-1.5",
            "+.5",
            ".5",
            "5.",
            "1e3",
            "1E+3",
            "1e999",
            "-1e999",
            ".inf",
            "-.inf",
            "+.INF",
            ".nan",
            ".NaN",
            "inf",
            "nan",
            "infinity",
            "NaN",
            "y",
            "Y",
            "yes",
            "No",
            "ON",
            "off",
            "true",
            "False",
            "TRUE",
            "n",
            "null",
            "Null",
            "NULL",
            "nULL",
            "~",
            "''",
            "\"1\"",
            "'true'",
            "10.0.0.0/8",
            "10.0.0.1",
            "v1",
            "2024-01-01T00:00:00Z",
            "18446744073709551615",
            "18446744073709551616",
            "-9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999999999999999999999",
            "1.0e-400",
            "0.0",
            "-0.0",
            "1e",
            "e1",
            ".",
            "-",
            "+",
            "-.",
            "0o",
            "0b2",
            "1:2",
            "a b",
            "*",
            "a*",
        ];
        for w in words {
            same(&format!("k: {w}\n"));
            same(&format!("{w}: v\n"));
            same(&format!("- [{w}, {{k: {w}}}]\n"));
        }
    }

    #[test]
    fn structures_and_streams() {
        let cases = [
            "",
            "---\n",
            "---\n---\n",
            "a: 1\n---\nb: [1, 2]\n...\n---\n- x\n",
            "# only a comment\n",
            "a:\nb:\n  c:\n  - \n  -\n",
            "a: |\n  text\n\n---\nb: >+\n  x\n\n\n---\nc: 1\n",
            "a: |+\n  keep\n\n\n---\nb: 2\n",
            "a: plain\n  continued\n---\nb: 'single\n  quoted'\n---\nc: \"dq\\tx\\u0041\"\n",
            "{a: 1, b: [x, {c: d}], e: }\n",
            "a: 1\na: 2\n",
            "? a\n: b\n",
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "<<: {a: 1}\n",
            "? [a]\n: b\n",
            "a: [1, 2\n---\nb: 1]\n",
            "a: \"x\n---\n y\"\n",
            "%YAML 1.2\n---\na: 1\n",
            "--- a: 1\n--- b\n---\n",
            "- - - - x\n",
            "a:\n\tb: 1\n",
            "\u{feff}a: 1\n---\nb: 2\n",
            "a: 1\r\n---\r\nb: 2\r\n",
            "kind: Pod\nspec:\n  ports:\n  - port: 80\n    protocol: TCP\n",
            "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\", \"labels\": {\"x\": \"1\"}}}",
            "a: .inf\n",
            "1: a\ntrue: b\nnull: c\n~: d\n1.5: e\n'': f\n: g\n",
        ];
        for text in cases {
            same(text);
        }
    }

    #[test]
    fn seeds_parse_the_same_both_ways() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds");
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            same(&text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn token_soup_parses_the_same_both_ways(text in "([a-zA-Z]{1,8}|: |- |\\n|  |\\{|\\}|\\[|\\]|, |---\\n|\\.\\.\\.\\n|&a |\\*a|!!str |'|\"|[0-9]{1,6}|[+-]|\\.|_|null|true|yes|~|\\||>|#|\\t|kind: |apiVersion: |v1|port){0,60}") {
            same(&text);
        }

        #[test]
        fn arbitrary_text_parses_the_same_both_ways(text in "\\PC{0,120}") {
            same(&text);
        }
    }

    #[test]
    fn fast_path_takes_manifests() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {x: '1'}}\nspec:\n  containers:\n  - name: c\n    ports: [{containerPort: 80}]\n---\nb: 0127\n";
        let chunks = split(text, 0);
        assert_eq!(chunks.len(), 2);
        assert!(chunks.into_iter().all(|c| parse_fast(c).is_some()));
        assert!(parse_fast(Chunk { text: "a: 1e999\n", line_offset: 0, followed: false }).is_none());
    }

    /// Commented manifests, and documents that end in an empty block scalar
    /// where a cut at `---` ends a chunk: the fast path takes them, whole and
    /// cut before every document, and gives serde-saphyr's trees.
    #[test]
    fn fast_path_takes_commented_yaml_and_empty_block_scalars() {
        struct Case {
            name: &'static str,
            given: String,
        }
        let case = |name, given: &str| Case { name, given: given.to_string() };
        // Found by token_soup_parses_the_same_both_ways: serde-saphyr places the empty
        // scalar on line 2 (the `---`), the chunk cut before the `---` on line 1 (its `|`).
        let found = "|  \n---\n\t.#  &a ]port~[[-\t- '- port";
        let cases = [
            case("comment line before a key", "apiVersion: v1\nkind: Pod\n# who\nmetadata:\n  # the name\n  name: a\n"),
            case(
                "trailing comment after a value",
                "kind: Pod # a pod\nmetadata: {name: a}  # flow\nspec:\n  ports: [80] #one\n  x: 'q' # c\n",
            ),
            case(
                "comment inside a List",
                "apiVersion: v1\nkind: List\nitems:  # pods\n# first\n- kind: Pod  # a pod\n  # name next\n  metadata: {name: a}\n# between\n- kind: Pod\n  metadata: {name: b}\n",
            ),
            case("comments around documents", "# head\n---\na: 1 # x\n--- # doc\nb: 2\n...\n# tail\n---\n# only a comment\n"),
            // With comments emitted, serde-saphyr refuses this ("too many buffered comments").
            case("40 comment lines before an indented key", &format!("metadata:\n{}  name: a\n", "# off\n".repeat(40))),
            case("proptest: empty block scalar before ---", found),
            case("empty block scalars before ---", "a: |\n---\nb: >+\n\n\n---\n- |-\n  \n---\n? |\n---\nc:\n  d: >2\n--- e\n"),
            case("empty block scalar before --- (CRLF)", "a: |\r\n---\r\nb: 1\r\n"),
            case("empty block scalar and a comment before ---", "a: |  # none\n# x\n---\nb: 1\n"),
            case("block scalars with text before ---", "a: |\n  x\n\n---\nb: >-\n  y\n---\n|+\n z\n\n"),
        ];
        for Case { name, given } in &cases {
            for target in [usize::MAX, 0] {
                for chunk in split(given, target) {
                    assert!(parse_fast(chunk).is_some(), "{name}: target {target}, {chunk:?}");
                }
            }
            same(given);
        }
        let (docs, _) = parse_fast(split(found, 0)[0]).unwrap();
        assert_eq!((docs[0].line, docs[0].column, &docs[0].value), (2, 1, &Value::Str("".into())));
    }

    #[test]
    fn chunks_start_at_document_markers_and_count_lines() {
        let text = "a: 1\n---\nb: 2\n--- c\n----\n---\t\nd: 3\n";
        let chunks = split(text, 0);
        let got: Vec<(&str, u32, bool)> = chunks.iter().map(|c| (c.text, c.line_offset, c.followed)).collect();
        assert_eq!(
            got,
            [("a: 1\n", 0, true), ("---\nb: 2\n", 1, true), ("--- c\n----\n", 3, true), ("---\t\nd: 3\n", 5, false)]
        );
        assert!(!split(text, usize::MAX)[0].followed);
        assert_eq!(split("%YAML 1.2\n---\na: 1\n---\nb: 2\n", 0).len(), 1);
        let crlf = split("a: 1\r\n---\r\nb: 2\r\n", 0);
        let got: Vec<(&str, u32)> = crlf.iter().map(|c| (c.text, c.line_offset)).collect();
        assert_eq!(got, [("a: 1\r\n", 0), ("---\r\nb: 2\r\n", 1)]);
        assert_eq!(split("a: 1\r---\nb: 2\n", 0).len(), 1);
        assert_eq!(split("a: 1\n\u{feff}---\nb: 2\n", 0).len(), 2);
    }
}

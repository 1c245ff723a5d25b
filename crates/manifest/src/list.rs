//! A large `List` document (what `kubectl get pods -A -o yaml` writes: one
//! document, 100,000 `items`) cut at its items, so that they parse on the fast
//! path and are checked on every core, as the documents of a stream are.
//!
//! Design. Model: a document whose top-level mapping has a key `items:` alone
//! on its line at column 1, followed by a block sequence whose entries start
//! with `-` at one indentation `n`. Cut: the lines of the sequence go into
//! runs of whole items (cut only before a line of `n` spaces and `- `), and
//! the document with those lines left blank is its *skeleton*, where `items`
//! is null and every other node is where it was. Why that is the same tree:
//! in block context a line at indentation `n` that starts an entry closes
//! everything the entry before it opened, and the constructs that are not
//! closed by indentation (flow collections, quoted scalars) would be left open
//! at the end of their run, which the parser refuses; so each run parsed on
//! its own after a line `items:` (lines counted from its place in the file,
//! columns unchanged) gives the items the whole document gives. Checks: the
//! skeleton must parse to one mapping with that `items` key and a null value,
//! and each run to `items:` and one sequence starting on its first line;
//! anything else (and a document past a budget, counted over all its parts)
//! goes back to parsing the document whole. `tests` compares the parts put
//! together with serde-saphyr's tree of the whole document.

use crate::node::{Node, Value};
use crate::parse::{self, Chunk, Cost};

/// A List document cut at its items.
#[derive(Clone, Debug)]
pub(crate) struct Cut<'a> {
    /// The whole document, for when the cut is refused.
    pub doc: Chunk<'a>,
    /// The document up to the first item (the `items:` line and any blank or
    /// comment lines after it).
    head: &'a str,
    /// Lines of items, left blank in the skeleton.
    blank_lines: usize,
    /// The document after its items.
    tail: &'a str,
    /// The line of `items:` in the file (0-based).
    items_line: u32,
    /// Where the sequence starts: its first `-` (0-based line in the file, 1-based column).
    seq_line: u32,
    seq_column: u32,
    /// Runs of whole items, each a block sequence at the items' indentation.
    pub runs: Vec<Run<'a>>,
}

/// A run of whole items, and the start of what follows it in the document.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run<'a> {
    pub items: Chunk<'a>,
    /// The next line up to its `-` when the next item follows, the next line
    /// when the List's mapping goes on, `---` at the document's end when
    /// another document follows it, or nothing at the end of the file. It is
    /// parsed after the run (and dropped): where a node that ends the run
    /// without text of its own (an empty block scalar) is placed depends on it.
    after: &'a str,
}

/// What a line is, to the cut.
enum Line {
    /// Only spaces and tabs, or a comment (whitespace then `#`).
    Blank,
    /// `n` spaces (its indentation), then anything else.
    Text(usize),
    /// `n` spaces then `-` and a space or the line's end: a sequence entry.
    Entry(usize),
}

fn classify(row: &[u8]) -> Line {
    let row = row.strip_suffix(b"\r").unwrap_or(row);
    let indent = row.iter().take_while(|&&b| b == b' ').count();
    match row[indent..].iter().find(|&&b| b != b' ' && b != b'\t') {
        None | Some(b'#') => Line::Blank,
        Some(_) if row[indent] == b'-' && matches!(row.get(indent + 1), None | Some(b' ')) => Line::Entry(indent),
        Some(_) => Line::Text(indent),
    }
}

/// Whether a line is `items:`, with only spaces, tabs or a comment after it.
fn items_key(row: &[u8]) -> bool {
    let Some(rest) = row.strip_prefix(b"items:") else { return false };
    let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
    match rest.iter().position(|&b| b != b' ' && b != b'\t') {
        None => true,
        Some(i) => rest[i] == b'#' && i > 0,
    }
}

/// Cuts a document of a chunk at its items into runs of about `target` bytes,
/// or `None` when it is not a block `List` the cut can take.
pub(crate) fn cut(doc: Chunk<'_>, target: usize) -> Option<Cut<'_>> {
    let text = doc.text;
    let bytes = text.as_bytes();
    // Lines would be counted otherwise than YAML counts them.
    if parse::lone_carriage_return(bytes) {
        return None;
    }
    let line_at = |line: usize| doc.line_offset.saturating_add(u32::try_from(line).unwrap_or(u32::MAX));
    // Each line: (start, end before its `\n`).
    let mut lines = {
        let mut pos = 0usize;
        std::iter::from_fn(move || {
            (pos < bytes.len()).then(|| {
                let end = parse::memchr_newline(bytes, pos);
                let row = (pos, end);
                pos = end + 1;
                row
            })
        })
        .enumerate()
    };
    let row = |(start, end): (usize, usize)| &bytes[start..end];
    // The `items:` line; nothing that could start another document before it.
    let items_line = loop {
        let (i, at) = lines.next()?;
        let r = row(at);
        if r.first() == Some(&b'%') || (i > 0 && (r.starts_with(b"---") || r.starts_with(b"..."))) {
            return None;
        }
        if items_key(r) {
            break i;
        }
    };
    // The first entry, after blank and comment lines.
    let (first, indent, start) = loop {
        let (i, at) = lines.next()?;
        match classify(row(at)) {
            Line::Blank => {}
            Line::Entry(indent) => break (i, indent, at.0),
            Line::Text(_) => return None,
        }
    };
    let mut runs = Vec::new();
    let (mut run, mut run_line) = (start, first);
    let mut end = (bytes.len(), None);
    for (i, at) in lines {
        match classify(row(at)) {
            Line::Blank => {}
            Line::Text(n) if n > indent => {}
            Line::Entry(n) if n > indent => {}
            Line::Entry(n) if n == indent => {
                if at.0 - run >= target {
                    let items = Chunk { text: &text[run..at.0], line_offset: line_at(run_line), followed: false };
                    runs.push(Run { items, after: &text[at.0..=at.0 + indent] });
                    (run, run_line) = (at.0, i);
                }
            }
            // The end of the sequence: a key of the List's mapping (at column 1).
            Line::Text(0) if !matches!(bytes[at.0], b'\t' | b'-') => {
                end = (at.0, Some(i));
                break;
            }
            _ => return None,
        }
    }
    let (tail_start, tail_line) = end;
    // At the document's end: the `---` line of the document that follows, if one does.
    let after = match tail_line {
        None if doc.followed => "---",
        _ => &text[tail_start..parse::memchr_newline(bytes, tail_start)],
    };
    let items = Chunk { text: &text[run..tail_start], line_offset: line_at(run_line), followed: false };
    runs.push(Run { items, after });
    let blank_lines = match tail_line {
        Some(tail_line) => tail_line - first,
        None => bytes[start..].iter().filter(|&&b| b == b'\n').count(),
    };
    Some(Cut {
        doc,
        head: &text[..start],
        blank_lines,
        tail: &text[tail_start..],
        items_line: line_at(items_line),
        seq_line: line_at(first),
        seq_column: u32::try_from(indent).ok()?.checked_add(1)?,
        runs,
    })
}

impl<'a> Cut<'a> {
    /// The document with its items' lines left blank.
    pub fn skeleton(&self) -> String {
        let mut s = String::with_capacity(self.head.len() + self.blank_lines + self.tail.len());
        s.push_str(self.head);
        s.extend(std::iter::repeat_n('\n', self.blank_lines));
        s.push_str(self.tail);
        s
    }

    /// Parses the skeleton (from [`Cut::skeleton`]) on the fast path: the List's
    /// mapping with `items` an empty sequence (placed at the first `-`: no
    /// check reads where a sequence of objects starts), or `None` when the cut
    /// was wrong or serde-saphyr must decide.
    pub fn head<'s>(&self, skeleton: &'s str) -> Option<(Node<'s>, Cost)> {
        let (mut docs, cost) = parse::parse_fast(Chunk { text: skeleton, ..self.doc })?;
        let mut doc = docs.pop().filter(|_| docs.is_empty())?;
        let Value::Map(entries) = &mut doc.value else { return None };
        let mut items = entries.iter_mut().filter(|(k, _)| k.as_str() == Some("items"));
        let (key, value) = items.next()?;
        if items.next().is_some() || (key.line, key.column) != (self.items_line + 1, 1) || !value.is_null() {
            return None;
        }
        *value = Node { line: self.seq_line + 1, column: self.seq_column, value: Value::Seq(Vec::new()) };
        Some((doc, cost))
    }

    /// What [`Cut::items`] parses for one of [`Cut::runs`]: the run after a
    /// line `items:` and before what follows it, so that its sequence is read
    /// in the context it has in the document.
    pub fn run_text(run: &Run<'_>) -> String {
        let mut text = String::with_capacity(run.items.text.len() + run.after.len() + 8);
        text.push_str("items:\n");
        text.push_str(run.items.text);
        // Not after the end of the file: a kept block scalar (`|+`) would keep one more line break.
        if !run.after.is_empty() {
            text.push_str(run.after);
            text.push('\n');
        }
        text
    }

    /// Parses a run's text (from [`Cut::run_text`]) on the fast path into its
    /// items' sequence, or `None` when the cut was wrong or serde-saphyr must decide.
    pub fn items<'s>(run: &Run<'_>, text: &'s str) -> Option<(Node<'s>, Cost)> {
        let first = run.items.line_offset;
        // The line of what follows the run (1-based).
        let after = first.checked_add(u32::try_from(run.items.text.matches('\n').count()).ok()?)?.checked_add(1)?;
        let (mut docs, cost) = parse::parse_fast(Chunk { text, line_offset: first.checked_sub(1)?, followed: false })?;
        let doc = docs.pop().filter(|_| docs.is_empty())?;
        let Value::Map(mut entries) = doc.value else { return None };
        // What follows: a key of the List's mapping, or an empty item.
        if entries.len() == 2 && entries[1].0.line >= after {
            entries.pop();
        }
        let (key, mut seq) = entries.pop().filter(|_| entries.is_empty())?;
        if (key.as_str(), key.line, key.column, seq.line) != (Some("items"), first, 1, first + 1) {
            return None;
        }
        let Value::Seq(items) = &mut seq.value else { return None };
        if !run.after.is_empty() && run.after.trim_start_matches(' ') == "-" {
            items.pop().filter(|last| last.is_null() && last.line >= after)?;
        }
        (!items.is_empty()).then_some((seq, cost))
    }

    /// The whole document from its parts, as parsing it whole gives it, or
    /// `None` when the fast path must parse it whole.
    #[cfg(test)]
    fn assemble<'s>(&self, skeleton: &'s str, runs: &'s [String]) -> Option<Node<'s>> {
        let (mut doc, mut cost) = self.head(skeleton)?;
        let mut all = Vec::new();
        let mut at = None;
        for (run, text) in self.runs.iter().zip(runs) {
            let (seq, c) = Self::items(run, text)?;
            at.get_or_insert((seq.line, seq.column));
            let Value::Seq(items) = seq.value else { return None };
            all.extend(items);
            cost = cost.add(c);
        }
        if !cost.within_budget(self.doc.text.len()) {
            return None;
        }
        let Value::Map(entries) = &mut doc.value else { return None };
        let (_, value) = entries.iter_mut().find(|(k, _)| k.as_str() == Some("items"))?;
        (value.line, value.column) = at?;
        value.value = Value::Seq(all);
        Some(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::parse_documents;

    /// Cuts `text` (one document, starting on line `offset` of its file, the
    /// last of the file or followed by another) into runs of every size, and
    /// checks the parts give serde-saphyr's tree of the file. Returns whether
    /// the cut took it.
    fn same(text: &str, offset: u32) -> bool {
        let mut took = false;
        for followed in [false, true] {
            // `split` cuts a document followed by another after its last line break.
            if followed && !text.ends_with('\n') {
                continue;
            }
            let next = if followed { "---\nnext: 1\n" } else { "" };
            let padded = format!("{}{text}{next}", "\n".repeat(offset as usize));
            let slow = parse_documents(&padded);
            // The document's tree, without the next document's.
            let slow = slow.as_ref().ok().map(|docs| &docs[..docs.len().saturating_sub(usize::from(followed))]);
            let doc = Chunk { text, line_offset: offset, followed };
            for target in [0, 1, 40, usize::MAX] {
                let Some(cut) = cut(doc, target) else { continue };
                let skeleton = cut.skeleton();
                let runs: Vec<String> = cut.runs.iter().map(Cut::run_text).collect();
                let Some(fast) = cut.assemble(&skeleton, &runs) else { continue };
                took = true;
                assert_eq!(slow, Some(&[fast][..]), "target {target}, followed {followed}: {text:?}");
            }
        }
        took
    }

    const POD: &str = "\
- apiVersion: v1
  kind: Pod
  metadata:
    name: web-1
    namespace: shop
    labels: {app: web, 'tier': \"front\"}
  spec:
    containers:
    - name: c
      ports:
      - containerPort: 80
      - {containerPort: 53, protocol: UDP}
  status: {podIP: 10.0.0.1}
";

    #[test]
    fn lists_cut_at_their_items_parse_as_whole_documents() {
        let two = format!("{POD}{POD}");
        let indented: String = POD.lines().map(|l| format!("  {l}\n")).collect();
        let cases = [
            // kubectl's layout: items at column 1, `kind` and `metadata` after them.
            format!("apiVersion: v1\nitems:\n{two}kind: List\nmetadata:\n  resourceVersion: \"\"\n"),
            format!("apiVersion: v1\nkind: PodList\nitems:\n{indented}{indented}"),
            format!("---\napiVersion: v1\nkind: List\nitems:  # the pods\n\n# first\n{two}\n# between\n{POD}"),
            format!("apiVersion: v1\r\nkind: List\r\nitems:\r\n{}", two.replace('\n', "\r\n")),
            "kind: List\nitems:\n- a\n-\n- - x\n  - y\n- ? not\n- |\n  text\n- >+\n  kept\n\n\n- 'q'\nz: 1\n"
                .to_string(),
            "kind: List\nitems:\n- a: |\n    ---\n    - b\n    items:\n  c: \"x\n    y\"\n- d\n".to_string(),
            "kind: List\nitems:\n- a: 1\n# a comment at the items' indentation\n  b: 2\n- c\n".to_string(),
            "kind: List\nitems:\n- [a, {b: c}]\n- {d: [e,\n    f]}\n- \"x\n  y\"\n".to_string(),
            "kind: List\nitems:\n- a\nitems:\n- b\n".to_string(),
            "kind: List\nitems:\n- a: 1\n  a: 2\n- 0127\n- 1e3\n- yes\n- ~\n".to_string(),
            // A kept block scalar at the end of the file keeps the line breaks it has, no more.
            "kind: List\nitems:\n- a\n- b: >+\n\n\n".to_string(),
            // An empty block scalar at the document's end: placed on the line after it
            // when another document follows (`same` tries both).
            "kind: List\nitems:\n- a\n- |\n".to_string(),
        ];
        for (i, text) in cases.iter().enumerate() {
            for offset in [0, 7] {
                same(text, offset);
            }
            // All but the duplicated `items` take the cut.
            assert_eq!(same(text, 0), i != 8, "{text:?}");
        }
    }

    #[test]
    fn what_the_cut_refuses_parses_whole() {
        let cases = [
            // Not a block List, or not the whole document.
            "kind: List\nitems: [a, b]\n",
            "kind: List\nitems:\n  a: 1\n",
            "kind: List\n  items:\n- a\n",
            "kind: List\n\"items\":\n- a\n",
            "a: 1\n---\nitems:\n- a\n",
            "%YAML 1.2\n---\nitems:\n- a\n",
            "kind: List\nitems:\n- a\r- b\n",
            // Lines at odd indentations, tabs, sequences that end oddly.
            "kind: List\nitems:\n  - a\n - b\n",
            "kind: List\nitems:\n- a\n\t- b\n",
            "kind: List\nitems:\n-\ta\n",
            "kind: List\nitems:\n- a\n-b\n",
            "kind: List\nitems:\n  - a\n- b\n",
            // Errors: the cut may or may not take them; both paths must agree.
            "kind: List\nitems:\n- a: \"open\n- b\"\n",
            "kind: List\nitems:\n- [a,\n- b]\n",
            "kind: List\nitems:\n- a: 1\n   b: 2\n- c\n",
            "kind: List\nitems:\n- &x a\n- *x\n",
            "kind: List\nitems:\n- !!str a\n",
            "kind: List\nitems:\n- a\n  - b\n",
            "kind: List\nitems:\n- a: 1e999\n",
            "a: \"x\nitems:\n- b\n y\"\n",
            "a: [x,\nitems:\n- b\n]\n",
        ];
        for text in cases {
            same(text, 3);
        }
        assert!(cut(Chunk { text: "kind: List\nitems: [a, b]\n", line_offset: 0, followed: false }, 0).is_none());
        assert!(cut(Chunk { text: "kind: List\nitems:\n  - a\n - b\n", line_offset: 0, followed: false }, 0).is_none());
    }

    #[test]
    fn runs_hold_whole_items_of_about_the_target_size() {
        let text = format!("apiVersion: v1\nkind: List\nitems:\n{POD}{POD}{POD}metadata: {{}}\n");
        let c = cut(Chunk { text: &text, line_offset: 10, followed: false }, POD.len()).unwrap();
        let got: Vec<(usize, u32)> = c.runs.iter().map(|r| (r.items.text.len(), r.items.line_offset)).collect();
        let lines = u32::try_from(POD.lines().count()).unwrap();
        assert_eq!(got, [(POD.len(), 13), (POD.len(), 13 + lines), (POD.len(), 13 + 2 * lines)]);
        assert_eq!(c.skeleton().lines().count(), text.lines().count());
        assert_eq!(cut(Chunk { text: &text, line_offset: 0, followed: false }, usize::MAX).unwrap().runs.len(), 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Lists of token-soup items: cut or not, the parts give serde-saphyr's tree.
        #[test]
        fn token_soup_lists_parse_the_same_both_ways(
            items in proptest::collection::vec("([a-z]{1,4}|: |- |\\n  |\\n|\\n- |  |\\{|\\}|\\[|\\]|, |'|\"|[0-9]{1,3}|#|\\||>|\\|\\+|>-|\\t|---|items:|\\r\\n){0,14}", 1..6),
            indent in 0usize..3,
        ) {
            let pad = " ".repeat(indent);
            let body: String = items.iter().map(|i| format!("{pad}- {i}\n")).collect();
            same(&format!("apiVersion: v1\nkind: List\nitems:\n{body}kind: List\n"), 2);
            same(&format!("kind: List\nitems:\n{body}"), 0);
        }
    }
}

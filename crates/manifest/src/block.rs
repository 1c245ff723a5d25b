//! The fastest path: a line scanner for the block-style YAML that `kubectl get
//! -o yaml`, `netpol synth` and people write (nested block mappings and
//! sequences, one-line flow collections, single-line plain and quoted scalars,
//! comments), building the same [`Node`]s as [`crate::parse::parse_fast`]
//! without an event parser.
//!
//! Design: it takes only what it is sure of and answers `None` for anything
//! else (tabs, carriage returns, block and multi-line scalars, escapes, anchors,
//! tags, complex keys, directives, anything that would be a syntax error), and
//! the chunk then goes through granit-parser as before, which decides. So it
//! never words an error and never accepts what the event parser would refuse:
//! the differential tests (`tests` below, and every test of `parse`, which runs
//! both) hold its trees, positions and costs to the event parser's.

use std::borrow::Cow;

use crate::node::{Node, Value};
use crate::parse::{scalar_value, Chunk, Cost};

/// Deeper than this the event parser decides (built-in objects nest about 15 deep).
const MAX_NESTING: usize = 64;

/// Longer keys go to the event parser (YAML's simple keys stop at 1024 characters).
const MAX_KEY_BYTES: usize = 1000;

/// One line that holds something: not blank, not only a comment.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    end: usize,
    /// Leading spaces.
    indent: usize,
    /// 0-based, in the chunk.
    number: u32,
    /// A `---` line: a document starts.
    marker: bool,
    ascii: bool,
}

struct Scanner<'a> {
    text: &'a str,
    lines: Vec<Line>,
    /// The next line not yet read.
    at: usize,
    line_offset: u32,
    cost: Cost,
}

/// Parses one chunk, or `None` when the event parser must decide.
pub(crate) fn parse_block(chunk: Chunk<'_>) -> Option<(Vec<Node<'_>>, Cost)> {
    let lines = lines(chunk.text)?;
    let mut s = Scanner { text: chunk.text, lines, at: 0, line_offset: chunk.line_offset, cost: Cost::default() };
    s.cost.events = 2; // stream start and end
    let mut docs = Vec::new();
    while s.at < s.lines.len() {
        let line = s.lines[s.at];
        // Each document: its start and end, and an empty one's null (`~`).
        s.cost.events += 3;
        if line.marker {
            s.at += 1;
            if s.lines.get(s.at).is_none_or(|l| l.marker) {
                s.cost.scalar_bytes += 1;
                continue;
            }
        }
        let line = s.lines[s.at];
        docs.push(s.block(line.start + line.indent, line.indent, 0)?);
        // One root a document: anything after it is the event parser's to word.
        if s.lines.get(s.at).is_some_and(|l| !l.marker) {
            return None;
        }
    }
    Some((docs, s.cost))
}

/// The chunk's lines with content, or `None` for what the scanner leaves to the event parser.
fn lines(text: &str) -> Option<Vec<Line>> {
    let bytes = text.as_bytes();
    // Tabs, carriage returns, and what YAML does not allow in a stream (C0
    // controls, DEL): the event parser decides.
    if bytes.iter().any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f) {
        return None;
    }
    if !bytes.is_ascii() && text.chars().any(unsure_char) {
        return None;
    }
    let mut lines = Vec::with_capacity(bytes.len() / 16);
    let (mut pos, mut number) = (0usize, 0u32);
    while pos < bytes.len() {
        let end = crate::parse::memchr_newline(bytes, pos);
        let row = &bytes[pos..end];
        let indent = row.iter().take_while(|&&b| b == b' ').count();
        match row.get(indent) {
            None | Some(b'#') => {}
            // A directive, a document end, a byte-order mark: the event parser decides.
            Some(b'%') if indent == 0 => return None,
            // A byte-order mark is an `unsure_char`, refused above.
            Some(_) if indent == 0 && row.starts_with(b"...") => return None,
            Some(_) => {
                let marker = indent == 0 && row.starts_with(b"---") && matches!(row.get(3), None | Some(b' '));
                if marker && !rest_is_blank(row, 3) {
                    return None;
                }
                lines.push(Line { start: pos, end, indent, number, marker, ascii: row.is_ascii() });
            }
        }
        pos = end + 1;
        number = number.checked_add(1)?;
    }
    Some(lines)
}

/// Characters the scanner leaves to the event parser: C1 controls (NEL
/// included), the line and paragraph separators, a byte-order mark anywhere,
/// and the non-characters U+FFFE and U+FFFF.
fn unsure_char(c: char) -> bool {
    matches!(c, '\u{80}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// Whether `row[from..]` is spaces and perhaps a comment (after a space).
fn rest_is_blank(row: &[u8], from: usize) -> bool {
    let rest = &row[from.min(row.len())..];
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    match rest.get(spaces) {
        None => true,
        Some(b'#') => spaces > 0 || from == 0,
        Some(_) => false,
    }
}

impl<'a> Scanner<'a> {
    fn position(&self, line: &Line, at: usize) -> (u32, u32) {
        let column = if line.ascii { at - line.start } else { self.text[line.start..at].chars().count() };
        (line.number.saturating_add(self.line_offset).saturating_add(1), u32::try_from(column + 1).unwrap_or(u32::MAX))
    }

    /// The indent of the next line of this document, if any.
    fn next_indent(&self) -> Option<usize> {
        self.lines.get(self.at).filter(|l| !l.marker).map(|l| l.indent)
    }

    fn scalar(&mut self, line: &Line, at: usize, text: Cow<'a, str>, quoted: bool) -> Option<Node<'a>> {
        self.cost.events += 1;
        self.cost.scalar_bytes += text.len();
        let (line, column) = self.position(line, at);
        let value = if quoted { Value::Str(text) } else { scalar_value(text)? };
        Some(Node { line, column, value })
    }

    /// The block node that starts at byte `at` of the current line, at column `indent` (0-based).
    fn block(&mut self, at: usize, indent: usize, depth: usize) -> Option<Node<'a>> {
        if depth > MAX_NESTING {
            return None;
        }
        if self.dash_at(indent) {
            self.sequence(at, indent, depth)
        } else {
            self.mapping(at, indent, depth)
        }
    }

    fn sequence(&mut self, at: usize, indent: usize, depth: usize) -> Option<Node<'a>> {
        let first = self.lines[self.at];
        let (line_no, column) = self.position(&first, at);
        self.cost.events += 2;
        let mut items = Vec::new();
        let mut at = at;
        loop {
            let line = self.lines[self.at];
            let bytes = self.text.as_bytes();
            // `at` is the dash; what follows it on the line.
            let spaces = bytes[at + 1..line.end].iter().take_while(|&&b| b == b' ').count();
            let content = at + 1 + spaces;
            if content == line.end || (bytes[content] == b'#' && spaces > 0) {
                self.at += 1;
                items.push(self.nested_or_null(&line, line.end, indent, depth, false)?);
            } else if bytes[content] == b'-' && matches!(bytes.get(content + 1), Some(b' ' | b'\n') | None) {
                return None;
            } else if self.key_end(&line, content).is_some() {
                items.push(self.mapping(content, content - line.start, depth + 1)?);
            } else {
                items.push(self.inline_value(&line, content, indent)?);
            }
            match self.next_indent() {
                Some(i) if i == indent => {
                    if !self.dash_at(i) {
                        break;
                    }
                    at = self.lines[self.at].start + i;
                }
                Some(i) if i > indent => return None,
                _ => break,
            }
        }
        Some(Node { line: line_no, column, value: Value::Seq(items) })
    }

    fn mapping(&mut self, at: usize, indent: usize, depth: usize) -> Option<Node<'a>> {
        let first = self.lines[self.at];
        let (line_no, column) = self.position(&first, at);
        self.cost.events += 2;
        let mut entries = Vec::new();
        let mut at = at;
        loop {
            let line = self.lines[self.at];
            let (key, after) = self.key(&line, at)?;
            let bytes = self.text.as_bytes();
            let spaces = bytes[after..line.end].iter().take_while(|&&b| b == b' ').count();
            let content = after + spaces;
            let value = if content == line.end || (bytes[content] == b'#' && spaces > 0) {
                self.at += 1;
                self.nested_or_null(&line, after - 1, indent, depth, true)?
            } else {
                self.inline_value(&line, content, indent)?
            };
            entries.push((key, value));
            match self.next_indent() {
                Some(i) if i == indent => {
                    // A dash at the mapping's indent: the end of the parent's
                    // indentless sequence item, or an error the parent finds.
                    if self.dash_at(i) {
                        break;
                    }
                    at = self.lines[self.at].start + i;
                }
                Some(i) if i > indent => return None,
                _ => break,
            }
        }
        Some(Node { line: line_no, column, value: Value::Map(entries) })
    }

    /// The value of `key:` or `-` that stands on its line at `at` ([`Self::inline`]),
    /// the line read; `None` when the next line continues it (more indented
    /// than the collection at `indent`: a multi-line scalar, or an error).
    fn inline_value(&mut self, line: &Line, at: usize, indent: usize) -> Option<Node<'a>> {
        let value = self.inline(line, at)?;
        self.at += 1;
        self.next_indent().is_none_or(|i| i <= indent).then_some(value)
    }

    /// The value of `key:` or `-` with nothing after it on its line; `null_at`:
    /// where the event parser places it when it is empty (a key's colon, the dash line's end).
    fn nested_or_null(
        &mut self,
        line: &Line,
        null_at: usize,
        indent: usize,
        depth: usize,
        key: bool,
    ) -> Option<Node<'a>> {
        match self.next_indent() {
            Some(i) if i > indent => {
                let next = self.lines[self.at];
                self.block(next.start + i, i, depth + 1)
            }
            // An indentless sequence, the value of a key at the key's indent: the
            // event parser places it after its first dash (at what follows on
            // the line, or at the line's end).
            Some(i) if i == indent && key && self.dash_at(i) => {
                let next = self.lines[self.at];
                let bytes = self.text.as_bytes();
                let content = skip_spaces(&bytes[..next.end], next.start + i + 1);
                let at = if content == next.end || bytes[content] == b'#' { next.end } else { content };
                let mut seq = self.sequence(next.start + i, i, depth + 1)?;
                (seq.line, seq.column) = self.position(&next, at);
                Some(seq)
            }
            _ => {
                // The event parser's empty scalar reads `~`.
                self.cost.events += 1;
                self.cost.scalar_bytes += 1;
                let (line, column) = self.position(line, null_at);
                Some(Node { line, column, value: Value::Null })
            }
        }
    }

    /// Whether the current line holds a sequence's dash at column `indent`.
    fn dash_at(&self, indent: usize) -> bool {
        let line = self.lines[self.at];
        let row = &self.text.as_bytes()[line.start + indent..line.end];
        row[0] == b'-' && matches!(row.get(1), None | Some(b' '))
    }

    /// Where a plain or quoted key at `at` ends (`:` followed by a space or the line's end).
    fn key_end(&self, line: &Line, at: usize) -> Option<usize> {
        let bytes = &self.text.as_bytes()[..line.end];
        match bytes[at] {
            q @ (b'\'' | b'"') => {
                let close = quoted_end(bytes, at, q)?;
                (bytes.get(close) == Some(&b':') && matches!(bytes.get(close + 1), None | Some(b' '))).then_some(close)
            }
            _ => {
                if !plain_start(bytes, at, false) {
                    return None;
                }
                let mut i = at;
                while i < bytes.len() {
                    match bytes[i] {
                        b':' if matches!(bytes.get(i + 1), None | Some(b' ')) => return Some(i),
                        b'#' if bytes[i - 1] == b' ' => return None,
                        _ => i += 1,
                    }
                }
                None
            }
        }
    }

    /// The key at `at` and the byte after its `:`.
    fn key(&mut self, line: &Line, at: usize) -> Option<(Node<'a>, usize)> {
        let end = self.key_end(line, at)?;
        if end - at > MAX_KEY_BYTES {
            return None;
        }
        let text = &self.text[at..end];
        let node = match text.as_bytes()[0] {
            b'\'' | b'"' => self.quoted(line, at, end)?,
            _ => {
                let text = text.trim_end_matches(' ');
                if text == "<<" {
                    return None;
                }
                self.scalar(line, at, Cow::Borrowed(text), false)?
            }
        };
        Some((node, end + 1))
    }

    /// A quoted scalar from `at` (its quote) to `close` (the byte after its closing quote).
    fn quoted(&mut self, line: &Line, at: usize, close: usize) -> Option<Node<'a>> {
        let inner = &self.text[at + 1..close - 1];
        let text = if self.text.as_bytes()[at] == b'\'' {
            if inner.contains("''") {
                Cow::Owned(inner.replace("''", "'"))
            } else {
                Cow::Borrowed(inner)
            }
        } else {
            Cow::Borrowed(inner)
        };
        self.scalar(line, at, text, true)
    }

    /// A value that starts and ends on this line: a plain or quoted scalar, or a flow collection.
    fn inline(&mut self, line: &Line, at: usize) -> Option<Node<'a>> {
        let bytes = &self.text.as_bytes()[..line.end];
        let (node, end) = match bytes[at] {
            b'[' | b'{' => self.flow(line, at, 0)?,
            q @ (b'\'' | b'"') => {
                let close = quoted_end(bytes, at, q)?;
                (self.quoted(line, at, close)?, close)
            }
            _ => {
                if !plain_start(bytes, at, false) {
                    return None;
                }
                let mut end = at;
                let mut i = at;
                while i < bytes.len() {
                    match bytes[i] {
                        b':' if matches!(bytes.get(i + 1), None | Some(b' ')) => return None,
                        b'#' if bytes[i - 1] == b' ' => break,
                        b' ' => {}
                        _ => end = i + 1,
                    }
                    i += 1;
                }
                (self.scalar(line, at, Cow::Borrowed(&self.text[at..end]), false)?, end)
            }
        };
        rest_is_blank(&bytes[line.start..], end - line.start).then_some(node)
    }

    /// A flow collection on one line from its bracket at `at`; the node and the byte after it.
    fn flow(&mut self, line: &Line, at: usize, depth: usize) -> Option<(Node<'a>, usize)> {
        if depth > MAX_NESTING {
            return None;
        }
        let bytes = &self.text.as_bytes()[..line.end];
        let map = bytes[at] == b'{';
        let close = if map { b'}' } else { b']' };
        let (line_no, column) = self.position(line, at);
        self.cost.events += 2;
        let (mut items, mut entries) = (Vec::new(), Vec::new());
        let mut i = skip_spaces(bytes, at + 1);
        if bytes.get(i) == Some(&close) {
            i += 1;
        } else {
            loop {
                // A flow mapping's key: a scalar of at most MAX_KEY_BYTES, not a merge key.
                if map && (matches!(bytes.get(i), Some(b'[' | b'{')) || bytes[i..].starts_with(b"<<")) {
                    return None;
                }
                let (item, end) = self.flow_item(line, i, depth)?;
                let next = skip_spaces(bytes, end);
                if map {
                    if bytes.get(next) != Some(&b':') || bytes.get(next + 1) != Some(&b' ') || next - i > MAX_KEY_BYTES
                    {
                        return None;
                    }
                    let (value, end) = self.flow_item(line, skip_spaces(bytes, next + 1), depth)?;
                    entries.push((item, value));
                    i = skip_spaces(bytes, end);
                } else {
                    items.push(item);
                    i = next;
                }
                match bytes.get(i) {
                    Some(b',') => {
                        i = skip_spaces(bytes, i + 1);
                        if matches!(bytes.get(i), Some(b']' | b'}' | b',') | None) {
                            return None;
                        }
                    }
                    Some(&b) if b == close => {
                        i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let value = if map { Value::Map(entries) } else { Value::Seq(items) };
        Some((Node { line: line_no, column, value }, i))
    }

    /// One item of a flow collection at `at`: the node and the byte after it.
    fn flow_item(&mut self, line: &Line, at: usize, depth: usize) -> Option<(Node<'a>, usize)> {
        let bytes = &self.text.as_bytes()[..line.end];
        match *bytes.get(at)? {
            b'[' | b'{' => self.flow(line, at, depth + 1),
            q @ (b'\'' | b'"') => {
                let close = quoted_end(bytes, at, q)?;
                Some((self.quoted(line, at, close)?, close))
            }
            _ => {
                if !plain_start(bytes, at, true) {
                    return None;
                }
                let mut end = at;
                let mut i = at;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b',' | b']' | b'}' | b'[' | b'{' => break,
                        b':' if matches!(bytes.get(i + 1), None | Some(b' ')) => break,
                        b':' | b'#' => return None,
                        b' ' => {}
                        _ => end = i + 1,
                    }
                    i += 1;
                }
                Some((self.scalar(line, at, Cow::Borrowed(&self.text[at..end]), false)?, end))
            }
        }
    }
}

fn skip_spaces(bytes: &[u8], from: usize) -> usize {
    from + bytes[from.min(bytes.len())..].iter().take_while(|&&b| b == b' ').count()
}

/// Whether a plain scalar may start at `at` (not an indicator; `-` only
/// before a non-space, and in a flow collection not before a flow indicator).
fn plain_start(bytes: &[u8], at: usize, in_flow: bool) -> bool {
    match bytes[at] {
        b'-' => match bytes.get(at + 1) {
            None | Some(b' ') => false,
            Some(b',' | b'[' | b']' | b'{' | b'}') => !in_flow,
            Some(_) => true,
        },
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\'' | b'"'
        | b'%' | b'@' | b'`' => false,
        _ => true,
    }
}

/// The byte after the closing quote of the scalar quoted by `q` at `at`, on
/// this line, or `None` (not closed on the line, or a double-quoted escape).
fn quoted_end(bytes: &[u8], at: usize, q: u8) -> Option<usize> {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if q == b'"' => return None,
            b if b == q => {
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return Some(i + 1);
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
#[path = "block_tests.rs"]
mod tests;

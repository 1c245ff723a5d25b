//! Calico's selector tokenizer, rule for rule
//! (`libcalico-go/lib/selector/tokenizer/tokenizer.go`), with byte offsets.
//!
//! What it takes from Calico:
//! - whitespace is only space and tab (a newline is an error);
//! - strings are `"..."` or `'...'` with no escapes, running to the next quote of the
//!   same kind;
//! - `==`, `!=`, `!`, `&&`, `||`, `(`, `)`, `{`, `}`, `,`; a lone `=`, `&` or `|` is an error;
//! - right after a label, and only there, an operator word must follow: `contains`,
//!   `starts with`, `ends with`, `not in`, `in`, tried in that order (the two-word ones
//!   allow any run of spaces or tabs between the words, or none: `startswith`, `notin`)
//!   and each must end at a word boundary (a byte that is not a label byte);
//! - elsewhere `has(` key `)`, `all(` `)`, `global(` `)` (no space before the `(`; spaces
//!   and tabs allowed inside), or a label: a run of `a-z A-Z 0-9 _ . / -`, at most 512 bytes.

use super::SelectorError;

/// Calico's `MaxLabelLength`.
pub(super) const MAX_LABEL_LEN: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind<'a> {
    Label(&'a str),
    Str(&'a str),
    LBrace,
    RBrace,
    Comma,
    Eq,
    Ne,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    Not,
    All,
    Global,
    Has(&'a str),
    LParen,
    RParen,
    And,
    Or,
    Eof,
}

/// A token and the bytes `at..end` of the expression it was read from.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token<'a> {
    pub kind: Kind<'a>,
    pub at: usize,
    pub end: usize,
}

pub(super) fn is_label_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-')
}

fn skip_blanks(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && matches!(bytes[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}

fn label_end(bytes: &[u8], pos: usize) -> usize {
    pos + bytes[pos..].iter().take_while(|b| is_label_byte(**b)).count()
}

fn at_word_boundary(bytes: &[u8], pos: usize) -> bool {
    bytes.get(pos).is_none_or(|b| !is_label_byte(*b))
}

/// The operator words tried after a label, in Calico's order.
const OPERATORS: [(&[&str], Kind<'static>); 5] = [
    (&["contains"], Kind::Contains),
    (&["starts", "with"], Kind::StartsWith),
    (&["ends", "with"], Kind::EndsWith),
    (&["not", "in"], Kind::NotIn),
    (&["in"], Kind::In),
];

enum WordMatch {
    No,
    /// Matched: the operator's last byte, and where the next token may start.
    Yes(usize, usize),
    /// The words are there but a label byte follows, at the given offset.
    NoBoundary(usize),
}

/// Calico's `cutPrefixCheckBreak` (one word: no blank skipped after it) and
/// `cutMultiWordPrefixCheckBreak` (blanks skipped after every word, the boundary
/// checked after the blanks).
fn match_words(bytes: &[u8], pos: usize, words: &[&str]) -> WordMatch {
    let mut p = pos;
    let mut word_end = pos;
    for word in words {
        if !bytes[p..].starts_with(word.as_bytes()) {
            return WordMatch::No;
        }
        word_end = p + word.len();
        p = if words.len() > 1 { skip_blanks(bytes, word_end) } else { word_end };
    }
    if at_word_boundary(bytes, p) {
        WordMatch::Yes(word_end, p)
    } else {
        WordMatch::NoBoundary(p)
    }
}

pub(super) fn tokenize(src: &str) -> Result<Vec<Token<'_>>, SelectorError> {
    let bytes = src.as_bytes();
    let mut tokens: Vec<Token<'_>> = Vec::new();
    let mut pos = 0;
    loop {
        pos = skip_blanks(bytes, pos);
        let at = pos;
        if pos == bytes.len() {
            tokens.push(Token { kind: Kind::Eof, at, end: at });
            return Ok(tokens);
        }
        let rest = &bytes[pos..];
        let (kind, end, next) = match rest[0] {
            b'(' => (Kind::LParen, pos + 1, pos + 1),
            b')' => (Kind::RParen, pos + 1, pos + 1),
            b'{' => (Kind::LBrace, pos + 1, pos + 1),
            b'}' => (Kind::RBrace, pos + 1, pos + 1),
            b',' => (Kind::Comma, pos + 1, pos + 1),
            quote @ (b'"' | b'\'') => match src[pos + 1..].find(quote as char) {
                Some(len) => {
                    let end = pos + 1 + len + 1;
                    (Kind::Str(&src[pos + 1..end - 1]), end, end)
                }
                None => {
                    let q = quote as char;
                    return Err(SelectorError::new(at, "unterminated string")
                        .hint(format!("close it with a matching {q} (Calico strings have no escapes)")));
                }
            },
            b'=' if rest.starts_with(b"==") => (Kind::Eq, pos + 2, pos + 2),
            b'=' => {
                return Err(SelectorError::new(at, "expected `==`, found `=`")
                    .hint("Calico compares with `==`: `app == 'web'`"));
            }
            b'!' if rest.starts_with(b"!=") => (Kind::Ne, pos + 2, pos + 2),
            b'!' => (Kind::Not, pos + 1, pos + 1),
            b'&' if rest.starts_with(b"&&") => (Kind::And, pos + 2, pos + 2),
            b'&' => return Err(SelectorError::new(at, "expected `&&`, found `&`").hint("write `&&` for and")),
            b'|' if rest.starts_with(b"||") => (Kind::Or, pos + 2, pos + 2),
            b'|' => return Err(SelectorError::new(at, "expected `||`, found `|`").hint("write `||` for or")),
            _ => match tokens.last().map(|t| t.kind) {
                Some(Kind::Label(key)) => operator(src, pos, key)?,
                _ => function_or_label(src, pos)?,
            },
        };
        tokens.push(Token { kind, at, end });
        pos = next;
    }
}

/// The operator that must follow a label.
fn operator<'a>(src: &'a str, pos: usize, key: &str) -> Result<(Kind<'a>, usize, usize), SelectorError> {
    let bytes = src.as_bytes();
    let mut first_mismatch = None;
    for (words, kind) in OPERATORS {
        match match_words(bytes, pos, words) {
            WordMatch::Yes(end, next) => return Ok((kind, end, next)),
            WordMatch::NoBoundary(p) => {
                first_mismatch.get_or_insert((words, p));
            }
            WordMatch::No => {}
        }
    }
    // Not an operator. Say what probably went wrong.
    if let Some((words, p)) = first_mismatch {
        let op = words.join(" ");
        // `starts with web`, `not in x`: the operator is right but the value is bare.
        if words.len() > 1 && bytes[p - 1].is_ascii_whitespace() {
            let value = &src[p..label_end(bytes, p)];
            return Err(if op == "not in" {
                SelectorError::new(p, format!("expected `{{` after `not in`, found `{value}`"))
                    .hint(format!("put the values in braces: `{key} not in {{'{value}'}}`"))
            } else {
                SelectorError::new(p, format!("expected a quoted string after `{op}`, found `{value}`"))
                    .hint(format!("quote the value: `{key} {op} '{value}'`"))
            });
        }
    }
    let word = &src[pos..label_end(bytes, pos)];
    let found = if word.is_empty() { describe_char(src, pos) } else { format!("`{word}`") };
    let err = SelectorError::new(pos, format!("expected an operator after label `{key}`, found {found}"));
    let lower = word.to_ascii_lowercase();
    Err(match lower.as_str() {
        "contains" | "in" | "notin" | "startswith" | "endswith" if word != lower => {
            err.hint(format!("operators are lower-case: `{lower}`"))
        }
        "not" => err.hint(format!("`not` only appears in `not in`; to negate, write `!` first: `!{key} == '...'`")),
        "starts" | "ends" => err.hint(format!("write `{lower} with`")),
        _ if word.is_empty() && matches!(bytes[pos], b'\n' | b'\r') => err.hint(NEWLINE_HINT),
        _ => err.hint("Calico's operators are `==`, `!=`, `in`, `not in`, `contains`, `starts with`, `ends with`"),
    })
}

const NEWLINE_HINT: &str = "Calico allows only spaces and tabs between tokens: write the selector on one line \
     (a YAML `|` block keeps its last newline; use `>-` or a quoted string)";

/// `has(key)`, `all()`, `global()` or a label.
fn function_or_label(src: &str, pos: usize) -> Result<(Kind<'_>, usize, usize), SelectorError> {
    let bytes = src.as_bytes();
    let rest = &bytes[pos..];
    if rest.starts_with(b"has(") {
        let key_at = skip_blanks(bytes, pos + 4);
        let key_end = label_end(bytes, key_at);
        if key_end == key_at {
            let err = SelectorError::new(
                key_at,
                format!("expected a label key inside `has(`, found {}", describe_at(src, key_at)),
            );
            return Err(match bytes.get(key_at) {
                Some(b'\'' | b'"') => err.hint("label keys are not quoted: `has(app)`"),
                Some(b')') => err.hint("name the label: `has(app)`"),
                _ => err,
            });
        }
        check_label_len(&src[key_at..key_end], key_at)?;
        let close = skip_blanks(bytes, key_end);
        if bytes.get(close) != Some(&b')') {
            return Err(SelectorError::new(
                close,
                format!("expected `)` to close `has(`, found {}", describe_at(src, close)),
            )
            .hint("`has()` takes one label key: `has(app)`"));
        }
        return Ok((Kind::Has(&src[key_at..key_end]), close + 1, close + 1));
    }
    for (name, kind) in [("all(", Kind::All), ("global(", Kind::Global)] {
        if rest.starts_with(name.as_bytes()) {
            let close = skip_blanks(bytes, pos + name.len());
            if bytes.get(close) != Some(&b')') {
                return Err(SelectorError::new(
                    close,
                    format!("expected `)` after `{name}`, found {}", describe_at(src, close)),
                )
                .hint(format!("`{name})` takes no arguments")));
            }
            return Ok((kind, close + 1, close + 1));
        }
    }
    let end = label_end(bytes, pos);
    if end == pos {
        let err = SelectorError::new(pos, format!("unexpected character {}", describe_char(src, pos)));
        let c = src[pos..].chars().next().unwrap_or(' ');
        return Err(match c {
            '\n' | '\r' => err.hint(NEWLINE_HINT),
            '\u{2018}' | '\u{2019}' | '\u{201c}' | '\u{201d}' => err.hint("use a plain `'` or `\"` quote"),
            _ if !c.is_ascii() => err.hint("label keys may contain only ASCII letters, digits, `_`, `.`, `/` and `-`"),
            _ => err,
        });
    }
    check_label_len(&src[pos..end], pos)?;
    Ok((Kind::Label(&src[pos..end]), end, end))
}

fn check_label_len(key: &str, at: usize) -> Result<(), SelectorError> {
    if key.len() > MAX_LABEL_LEN {
        return Err(SelectorError::new(
            at,
            format!("label key is {} bytes long; Calico allows at most {MAX_LABEL_LEN}", key.len()),
        ));
    }
    Ok(())
}

/// The character at `pos` for a message: `` `%` ``, `` `'\n'` ``, or "the end of the selector".
fn describe_char(src: &str, pos: usize) -> String {
    match src.get(pos..).and_then(|s| s.chars().next()) {
        None => "the end of the selector".to_string(),
        Some(c) if c.is_control() => format!("`{}`", c.escape_debug()),
        Some(c) => format!("`{c}`"),
    }
}

/// What starts at `pos`: a label word, or one character.
fn describe_at(src: &str, pos: usize) -> String {
    let bytes = src.as_bytes();
    let end = if pos < bytes.len() { label_end(bytes, pos) } else { pos };
    if end > pos {
        format!("`{}`", &src[pos..end])
    } else {
        describe_char(src, pos)
    }
}

//! Word wrapping as kubectl's `wrap` template function does it (kubectl wraps
//! with github.com/mitchellh/go-wordwrap v1.0.1), and its `indent`.
//!
//! The rules, which explain's text depends on to the byte:
//! - widths count characters, not bytes or columns;
//! - lines break only at white space (a word longer than the width stays whole);
//! - the white space where a line breaks is dropped, and so is white space
//!   that would end a line past the width;
//! - a newline in the text is kept, and starts the count again;
//! - U+00A0 (no-break space) is part of a word.

/// Wraps `text` to `width` characters per line; 0 leaves it as it is.
pub fn wrap(text: &str, width: usize) -> String {
    if width == 0 {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + text.len() / width.max(1));
    // Characters on the current output line.
    let mut current = 0usize;
    // White space and then a word not yet written, with their lengths in characters.
    let mut space = String::new();
    let mut space_len = 0usize;
    let mut word = String::new();
    let mut word_len = 0usize;

    for c in text.chars() {
        if c == '\n' {
            if word.is_empty() {
                // Trailing white space survives only if it fits.
                if current + space_len <= width {
                    out.push_str(&space);
                }
            } else {
                out.push_str(&space);
                out.push_str(&word);
                word.clear();
                word_len = 0;
            }
            space.clear();
            space_len = 0;
            out.push('\n');
            current = 0;
        } else if c.is_whitespace() && c != '\u{a0}' {
            if space.is_empty() || !word.is_empty() {
                current += space_len + word_len;
                out.push_str(&space);
                out.push_str(&word);
                space.clear();
                space_len = 0;
                word.clear();
                word_len = 0;
            }
            space.push(c);
            space_len += 1;
        } else {
            word.push(c);
            word_len += 1;
            if current + word_len + space_len > width && word_len < width {
                out.push('\n');
                current = 0;
                space.clear();
                space_len = 0;
            }
        }
    }
    if word.is_empty() {
        if current + space_len <= width {
            out.push_str(&space);
        }
    } else {
        out.push_str(&space);
        out.push_str(&word);
    }
    out
}

/// Prefixes `text` and every line after a newline in it with `amount` spaces
/// (so a trailing newline leaves a line of spaces, as kubectl's `indent` does).
pub fn indent(amount: usize, text: &str) -> String {
    let pad = " ".repeat(amount);
    let mut out = String::with_capacity(text.len() + amount);
    out.push_str(&pad);
    out.push_str(&text.replace('\n', &format!("\n{pad}")));
    out
}

#[cfg(test)]
mod tests {
    use super::{indent, wrap};

    struct Case {
        name: &'static str,
        given: &'static str,
        width: usize,
        want: &'static str,
    }

    const CASES: &[Case] = &[
        Case { name: "fits", given: "a b c", width: 10, want: "a b c" },
        Case { name: "breaks at the last space that fits", given: "aaa bbb ccc", width: 7, want: "aaa bbb\nccc" },
        Case { name: "exactly the width", given: "aaa bbb", width: 7, want: "aaa bbb" },
        Case { name: "long word stays whole", given: "a bbbbbbbbbb c", width: 5, want: "a\nbbbbbbbbbb\nc" },
        Case { name: "newline restarts the count", given: "aaa\nbbb ccc", width: 7, want: "aaa\nbbb ccc" },
        Case { name: "double space is kept inside a line", given: "a  b", width: 10, want: "a  b" },
        Case { name: "space at the break is dropped", given: "aaaa    bbbb", width: 6, want: "aaaa\nbbbb" },
        Case { name: "trailing space that fits is kept", given: "ab  ", width: 10, want: "ab  " },
        Case { name: "trailing space past the width is dropped", given: "abcd  ", width: 5, want: "abcd" },
        Case { name: "space before a newline past the width", given: "abcd   \nx", width: 5, want: "abcd\nx" },
        Case { name: "no-break space joins words", given: "aa\u{a0}bb cc", width: 6, want: "aa\u{a0}bb\ncc" },
        Case { name: "width 0 does not wrap", given: "aaa bbb", width: 0, want: "aaa bbb" },
        Case { name: "characters, not bytes", given: "ééé ééé", width: 7, want: "ééé ééé" },
    ];

    #[test]
    fn wraps_like_go_wordwrap() {
        for case in CASES {
            assert_eq!(wrap(case.given, case.width), case.want, "{}", case.name);
        }
    }

    #[test]
    fn indent_pads_every_line_and_the_one_after_a_trailing_newline() {
        assert_eq!(indent(2, "a\nb\n"), "  a\n  b\n  ");
        assert_eq!(indent(0, "a"), "a");
    }
}

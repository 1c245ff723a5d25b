//! Stable nft identifiers and comments built from Kubernetes names.
//!
//! nft identifiers may hold letters, digits, `/`, `\`, `_`, `.` and `-`, and
//! (kernel limit) 255 bytes. Kubernetes names fit that alphabet; anything else
//! (possible with `--lenient` input) is replaced by `_` and the name gets a
//! hash suffix so two different names never collide. Every name we build has a
//! `/`, so none can be mistaken for an nft keyword.

const MAX_NAME: usize = 255;
/// nft refuses comments longer than this.
const MAX_COMMENT: usize = 128;

/// FNV-1a, 64 bits: a stable hash with no dependency.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Joins `parts` with `/` into a valid, unique identifier.
pub fn identifier(parts: &[&str]) -> String {
    let raw = parts.join("/");
    let mut clean = String::with_capacity(raw.len());
    let mut changed = false;
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '.' | '-') {
            clean.push(c);
        } else {
            clean.push('_');
            changed = true;
        }
    }
    if !changed && clean.len() <= MAX_NAME {
        return clean;
    }
    let suffix = format!("_h{:016x}", fnv64(raw.as_bytes()));
    clean.truncate(MAX_NAME - suffix.len());
    clean.push_str(&suffix);
    clean
}

/// A comment nft accepts: no `"` or control characters, at most 128 bytes.
/// When too long, the start is shortened and the end (rule indexes) kept.
pub fn comment(text: &str) -> String {
    let clean: String =
        text.chars().map(|c| if c == '"' || c == '\\' || c.is_control() || !c.is_ascii() { '_' } else { c }).collect();
    if clean.len() <= MAX_COMMENT {
        return clean;
    }
    let keep_end = 48;
    let head = MAX_COMMENT - keep_end - 3;
    format!("{}...{}", &clean[..head], &clean[clean.len() - keep_end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_table() {
        let cases: [(&str, &[&str], &str); 3] = [
            ("plain", &["pod", "default", "web-1.x", "ingress"], "pod/default/web-1.x/ingress"),
            ("bad char", &["pod", "default", "we b"], "pod/default/we_b_h"),
            ("keeps digits", &["set", "ns", "p", "ingress", "0", "1", "2", "v4"], "set/ns/p/ingress/0/1/2/v4"),
        ];
        for (name, given, want) in cases {
            assert!(identifier(given).starts_with(want), "{name}: {}", identifier(given));
        }
        assert_ne!(identifier(&["pod", "a b"]), identifier(&["pod", "a_b"]));
        let long = "x".repeat(300);
        let id = identifier(&["pod", &long]);
        assert_eq!(id.len(), 255);
        assert_ne!(id, identifier(&["pod", &"x".repeat(301)]));
    }

    #[test]
    fn comments_are_bounded_and_keep_the_indexes() {
        let long = format!("default/{} ingress[3] peer[2] port[1]", "p".repeat(200));
        let c = comment(&long);
        assert_eq!(c.len(), 128);
        assert!(c.ends_with("ingress[3] peer[2] port[1]"));
        assert_eq!(comment("a \"quoted\" name"), "a _quoted_ name");
    }
}

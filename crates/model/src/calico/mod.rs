//! Calico's selector expression language (`projectcalico.org/v3` `selector`,
//! `namespaceSelector`, `serviceAccountSelector`, and a rule's `selector` and
//! `notSelector`), parsed and evaluated exactly as Calico's
//! `libcalico-go/lib/selector` does.
//!
//! ```
//! use netpol_model::{CalicoSelector, Labels};
//! let sel = CalicoSelector::parse("app == 'web' && tier in {'front', 'edge'}").unwrap();
//! assert!(sel.matches_labels(&Labels::from_iter([("app", "web"), ("tier", "edge")])));
//! assert_eq!(sel.to_string(), r#"(app == "web" && tier in {"edge", "front"})"#);
//! assert_eq!(sel.keys(), ["app", "tier"]);
//!
//! let err = CalicoSelector::parse("app == web").unwrap_err();
//! assert_eq!(err.offset, 7);
//! assert_eq!(err.hint.as_deref(), Some("quote the value: `app == 'web'`"));
//! ```
//!
//! The language, as Calico implements it:
//!
//! | expression | matches when |
//! |---|---|
//! | `""` (or only blanks), `all()` | always |
//! | `k == 'v'` | `k` is present and equal to `v` |
//! | `k != 'v'` | `k` is absent, or present with another value |
//! | `has(k)` / `!has(k)` | `k` is present / absent |
//! | `k in {'a', 'b'}` | `k` is present with one of the values (`{}` matches nothing) |
//! | `k not in {'a', 'b'}` | `k` is absent, or present with none of the values |
//! | `k contains 's'`, `k starts with 's'`, `k ends with 's'` | `k` is present and its value does |
//! | `!e`, `e && e`, `e \|\| e`, `(e)` | `!` binds tightest, then `&&`, then `\|\|` |
//! | `global()` | never, here: see below |
//!
//! Strings are single- or double-quoted, without escapes. Label keys are runs of
//! `a-z A-Z 0-9 _ . / -` (at most 512 bytes), so `projectcalico.org/namespace`,
//! `calico/k8s_ns` and `app.kubernetes.io/name` need no quoting. Only spaces and
//! tabs separate tokens; a newline is an error, as in Calico. The parser's
//! grammar and the tokenizer's rules are documented in `parser.rs` and `lexer.rs`.
//!
//! `global()`: Calico's own tree evaluates it to true, but Calico allows it only as
//! the whole `namespaceSelector` of a rule, where it rewrites it to
//! `!has(projectcalico.org/namespace)`: "endpoints that are in no namespace"
//! (host endpoints and global network sets). The endpoints netpol models are pods,
//! which always have a namespace, so here `global()` matches nothing.
//! [`CalicoSelector::is_global`] and [`CalicoSelector::uses_global`] let the loader
//! apply Calico's rule ("global() can only be used in an EntityRule namespaceSelector",
//! and only alone there).
//!
//! [`Display`](std::fmt::Display) prints Calico's canonical form (`Selector.String()`:
//! `a == "b"`, sets sorted and deduplicated, each `&&`/`||` group in parentheses),
//! which parses back to an equal selector. Serde reads and writes that string.

mod ast;
mod lexer;
mod parser;

#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Labels;
use ast::Node;

/// A parsed Calico selector expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CalicoSelector {
    root: Node,
}

impl CalicoSelector {
    /// Parses `text` as Calico does; the empty string (or only blanks) is `all()`.
    pub fn parse(text: &str) -> Result<CalicoSelector, SelectorError> {
        parser::parse(text).map(|root| CalicoSelector { root })
    }

    /// `all()`: matches every endpoint.
    pub fn all() -> CalicoSelector {
        CalicoSelector { root: Node::All }
    }

    /// Evaluates the selector; `get(key)` returns the endpoint's value for a label,
    /// or `None` when it has no such label (the caller decides which labels an
    /// endpoint has).
    ///
    /// ```
    /// use netpol_model::{CalicoSelector, Labels};
    /// let labels = Labels::from_iter([("app", "web")]);
    /// let sel = CalicoSelector::parse("env != 'prod'").unwrap();
    /// assert!(sel.matches(&|k| labels.get(k)));
    /// ```
    pub fn matches<'v>(&self, get: &dyn Fn(&str) -> Option<&'v str>) -> bool {
        self.root.eval(get)
    }

    /// [`matches`](Self::matches) over a label set.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(&|key| labels.get(key))
    }

    /// The selector with `prefix` in front of every label key, as Calico reads a
    /// `namespaceSelector` (`pcns.`) or a ServiceAccount selector (`pcsa.`).
    ///
    /// ```
    /// use netpol_model::CalicoSelector;
    /// let sel = CalicoSelector::parse("team == 'a' && !has(x)").unwrap();
    /// assert_eq!(sel.with_prefix("pcsa.").to_string(), r#"(pcsa.team == "a" && !has(pcsa.x))"#);
    /// ```
    pub fn with_prefix(&self, prefix: &str) -> CalicoSelector {
        let mut root = self.root.clone();
        root.prefix_keys(prefix);
        CalicoSelector { root }
    }

    /// `(self) && (other)`, as Calico joins a rule's selectors.
    pub fn and(&self, other: &CalicoSelector) -> CalicoSelector {
        CalicoSelector { root: Node::And(vec![self.root.clone(), other.root.clone()]) }
    }

    /// `key in {values}` (values sorted and deduplicated, as the parser leaves them).
    pub fn key_in<S: AsRef<str>>(key: &str, values: &[S]) -> CalicoSelector {
        let mut values: Vec<String> = values.iter().map(|v| v.as_ref().to_string()).collect();
        values.sort_unstable();
        values.dedup();
        CalicoSelector { root: Node::Set(key.to_string(), ast::SetOp::In, values) }
    }

    /// Every label key the expression reads, sorted and deduplicated.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys = Vec::new();
        self.root.collect_keys(&mut keys);
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// True for `all()` and the empty selector (and anything that parses to the same
    /// tree, such as `(all())` or `!!all()`).
    pub fn is_all(&self) -> bool {
        self.root == Node::All
    }

    /// True when the whole expression is `global()`: the one form Calico accepts in a
    /// rule's `namespaceSelector`.
    pub fn is_global(&self) -> bool {
        self.root == Node::Global
    }

    /// True when `global()` appears anywhere in the expression.
    pub fn uses_global(&self) -> bool {
        self.root.uses_global()
    }
}

impl Default for CalicoSelector {
    fn default() -> Self {
        CalicoSelector::all()
    }
}

/// Calico's canonical form; see the module documentation.
impl fmt::Display for CalicoSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

impl Serialize for CalicoSelector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CalicoSelector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        CalicoSelector::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a selector does not parse: where, what, and (when there is an obvious one) a fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at byte {offset} of the selector)")]
pub struct SelectorError {
    /// Byte offset in the expression of the offending token (the expression's length
    /// when the problem is its end).
    pub offset: usize,
    /// What is wrong, e.g. "expected a quoted string after `==`, found `web`".
    pub message: String,
    /// A fix, e.g. "quote the value: `app == 'web'`". Not part of `Display`.
    pub hint: Option<String>,
}

impl SelectorError {
    fn new(offset: usize, message: impl Into<String>) -> Self {
        SelectorError { offset, message: message.into(), hint: None }
    }

    fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

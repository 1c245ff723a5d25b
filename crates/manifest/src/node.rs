//! The spanned document tree: every YAML/JSON node with its 1-based line and
//! column, built by serde-saphyr (`Spanned`) through `deserialize_any`.
//!
//! Everything else in this crate finds positions here: a finding carries a
//! [`FieldPath`] (`spec.ingress[0].ports[1].protocol`) and [`Node::find`] turns
//! it back into the key's or the value's position.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A YAML node and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node<'a> {
    pub line: u32,
    pub column: u32,
    pub value: Value<'a>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    /// Borrowed from the text when it is there as it is.
    Str(Cow<'a, str>),
    Seq(Vec<Node<'a>>),
    /// Entries in document order; duplicate keys are kept (the last one wins).
    Map(Vec<(Node<'a>, Node<'a>)>),
}

/// One step of a path into a document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A path from an object's root, displayed as `spec.ingress[0].from[1]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    pub fn root() -> Self {
        FieldPath(Vec::new())
    }

    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_string()));
        p
    }

    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }

    pub fn parent(&self) -> FieldPath {
        let mut p = self.clone();
        p.0.pop();
        p
    }

    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A path being walked, on the stack: made a [`FieldPath`] only when a finding
/// needs one, so that checking a valid object builds no path at all.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Walk<'a> {
    Root,
    /// Keys from the root.
    Keys(&'a [&'a str]),
    Key(&'a Walk<'a>, &'a str),
    Index(&'a Walk<'a>, usize),
}

impl<'a> Walk<'a> {
    pub fn key(&'a self, key: &'a str) -> Walk<'a> {
        Walk::Key(self, key)
    }

    pub fn index(&'a self, index: usize) -> Walk<'a> {
        Walk::Index(self, index)
    }

    pub fn path(&self) -> FieldPath {
        let mut segs = Vec::new();
        let mut at = self;
        loop {
            match at {
                Walk::Root => break,
                Walk::Keys(keys) => {
                    segs.extend(keys.iter().rev().map(|k| Seg::Key((*k).to_string())));
                    break;
                }
                Walk::Key(parent, key) => {
                    segs.push(Seg::Key((*key).to_string()));
                    at = parent;
                }
                Walk::Index(parent, index) => {
                    segs.push(Seg::Index(*index));
                    at = parent;
                }
            }
        }
        segs.reverse();
        FieldPath(segs)
    }
}

/// What a path resolves to: the value node, and the key node when the last step was a key.
pub(crate) struct Found<'a> {
    pub key: Option<&'a Node<'a>>,
    pub value: &'a Node<'a>,
    /// False when the path went further than the document (a missing field):
    /// then `value` is the deepest node that exists.
    pub exact: bool,
}

impl<'a> Node<'a> {
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node<'a>, Node<'a>)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node<'a>]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a mapping key (non-string keys as YAML would print them).
    pub fn key_text(&self) -> String {
        match &self.value {
            Value::Str(s) => s.to_string(),
            Value::Null => "null".to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::UInt(n) => n.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Seq(_) | Value::Map(_) => "<complex key>".to_string(),
        }
    }

    /// The entry for `key` in a mapping (the last one, as the last duplicate wins).
    pub fn entry(&self, key: &str) -> Option<(&Node<'a>, &Node<'a>)> {
        self.as_map()?.iter().rev().find(|(k, _)| k.as_str() == Some(key)).map(|(k, v)| (k, v))
    }

    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Follows `path` as far as the document goes.
    pub fn find(&self, path: &FieldPath) -> Found<'_> {
        let mut found = Found { key: None, value: self, exact: true };
        for seg in &path.0 {
            let next = match seg {
                Seg::Key(k) => found.value.entry(k).map(|(k, v)| (Some(k), v)),
                Seg::Index(i) => found.value.as_seq().and_then(|s| s.get(*i)).map(|v| (None, v)),
            };
            match next {
                Some((key, value)) => found = Found { key, value, exact: true },
                None => {
                    found.exact = false;
                    break;
                }
            }
        }
        found
    }

    /// The JSON the typed decoders read. Duplicate keys: the last wins, as in Go's
    /// `encoding/json`. Non-finite floats become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(n) => J::from(*n),
            Value::UInt(n) => J::from(*n),
            Value::Float(x) => serde_json::Number::from_f64(*x).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    map.insert(k.key_text(), v.to_json());
                }
                J::Object(map)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let line = u32::try_from(spanned.referenced.line()).unwrap_or(u32::MAX);
        let column = u32::try_from(spanned.referenced.column()).unwrap_or(u32::MAX);
        Ok(Node { line, column, value: spanned.value })
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value<'de>, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value<'de>, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value<'de>, E> {
        Ok(Value::UInt(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value<'de>, E> {
        Ok(i64::try_from(v).map(Value::Int).unwrap_or(Value::Float(v as f64)))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value<'de>, E> {
        Ok(u64::try_from(v).map(Value::UInt).unwrap_or(Value::Float(v as f64)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value<'de>, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Owned(v.to_string())))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Owned(v)))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Owned(String::from_utf8_lossy(v).into_owned())))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

/// A syntax error (or a limit reached): message, help, and 1-based position
/// (1:1 when the parser gave none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub help: Option<String>,
}

/// Nesting deeper than this is refused. Built-in objects nest about 15 deep,
/// custom resources (with their schemas) 60 and more; the load runs on a thread
/// whose stack fits this many levels of the recursive walks
/// (`crate::load::STACK_BYTES`). Documented in docs/cli.md (Input).
pub(crate) const MAX_DEPTH: usize = 1000;
pub(crate) const FLOW_NESTING_LIMIT: usize = MAX_DEPTH;

/// Alias events in one document: an alias bomb is refused, real manifests
/// (which rarely use aliases) never come near.
pub(crate) const MAX_ALIASES: usize = 50_000;

/// Scalar text in one document: the API server takes at most 3 MiB per object.
pub(crate) const MAX_SCALAR_BYTES: usize = 64 * 1024 * 1024;

/// What a budget breach means, in the words of netpol's limits.
fn limit_message(breach: &serde_saphyr::budget::BudgetBreach) -> (String, String) {
    use serde_saphyr::budget::BudgetBreach as B;
    let why =
        "netpol's limits are per document and fixed (docs/cli.md, Input); the other documents of the file still load";
    let message = match breach {
        B::Depth { .. } => format!("nesting deeper than {MAX_DEPTH} levels, netpol's limit for one document"),
        B::Aliases { .. } => {
            format!("more than {MAX_ALIASES} aliases in one document, netpol's limit (against alias bombs)")
        }
        B::ScalarBytes { .. } => format!(
            "more than {} MiB of text in one document, netpol's limit (the API server takes at most 3 MiB per object)",
            MAX_SCALAR_BYTES / (1024 * 1024)
        ),
        other => format!("a parser limit reached in one document ({other:?}), against alias and nesting bombs"),
    };
    let help = format!("split the document, or check that it is not generated wrong; {why}");
    (message, help)
}

/// Parses a YAML (or JSON) stream into its non-empty documents.
pub(crate) fn parse_documents(text: &str) -> Result<Vec<Node<'_>>, SyntaxError> {
    // Budgets scale with the input so 100,000-object streams load, while alias
    // bombs and absurd nesting are still refused (as errors, never panics).
    let scale = text.len().saturating_mul(2).saturating_add(10_000);
    let mut budget = serde_saphyr::budget::Budget::default();
    budget.max_events = scale;
    budget.max_nodes = scale;
    budget.max_documents = scale;
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = FLOW_NESTING_LIMIT;
    budget.max_aliases = MAX_ALIASES;
    budget.max_total_scalar_bytes = MAX_SCALAR_BYTES;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::PassThrough;
    // As kubectl's YAML 1.1 decoder: `<<: *base` merges, `0120` is octal.
    options.merge_keys = serde_saphyr::MergeKeyPolicy::Merge;
    options.legacy_octal_numbers = true;
    options.with_snippet = false;
    // Comments are not read. Emitted, they would be buffered while the parser
    // looks ahead, and 33 comment lines before an indented key are a syntax
    // error ("too many buffered comments"); the fast path does not emit them either.
    options.emit_comments = false;
    match serde_saphyr::from_multiple_with_options::<Node<'_>>(text, options) {
        Ok(docs) => Ok(docs.into_iter().filter(|d| !d.is_null()).collect()),
        Err(e) => {
            let (line, column) = e
                .location()
                .map(|l| {
                    (
                        u32::try_from(l.line()).unwrap_or(u32::MAX).max(1),
                        u32::try_from(l.column()).unwrap_or(u32::MAX).max(1),
                    )
                })
                .unwrap_or((1, 1));
            if let serde_saphyr::Error::Budget { breach, .. } = &e {
                let (message, help) = limit_message(breach);
                return Err(SyntaxError { line, column, message, help: Some(help) });
            }
            let message = e.to_string();
            // The parser's own flow-nesting guard words the same limit its way.
            if message.contains("recursion limit exceeded") {
                let (message, help) =
                    limit_message(&serde_saphyr::budget::BudgetBreach::Depth { depth: MAX_DEPTH + 1 });
                return Err(SyntaxError { line, column, message, help: Some(help) });
            }
            let mut message = message.lines().next().unwrap_or("invalid YAML").trim().to_string();
            // The position is the diagnostic's own: drop the parser's copy of it.
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            Err(SyntaxError { line, column, message, help: None })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node<'_> {
        let mut docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn keys_and_values_have_positions() {
        let doc = one("kind: Pod\nspec:\n  ports:\n  - port: 80\n    protocol: TCP\n");
        let found = doc.find(&FieldPath::root().key("spec").key("ports").index(0).key("protocol"));
        assert!(found.exact);
        let key = found.key.unwrap();
        assert_eq!((key.line, key.column), (5, 5));
        assert_eq!((found.value.line, found.value.column), (5, 15));
        let item = doc.find(&FieldPath::root().key("spec").key("ports").index(0)).value;
        assert_eq!((item.line, item.column), (4, 5));
    }

    #[test]
    fn missing_path_stops_at_deepest_node() {
        let doc = one("spec:\n  a: 1\n");
        let found = doc.find(&FieldPath::root().key("spec").key("b").key("c"));
        assert!(!found.exact);
        assert_eq!(found.value.line, 2);
    }

    #[test]
    fn empty_documents_are_skipped_and_streams_split() {
        let docs = parse_documents("---\n---\na: 1\n---\n# only a comment\n---\nb: [1, 2]\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].line, 7);
    }

    #[test]
    fn json_goes_through_the_same_parser() {
        let doc = one("{\"kind\": \"Pod\", \"metadata\": {\"name\": \"a\", \"labels\": {\"x\": \"1\"}}}");
        assert_eq!(doc.find(&FieldPath::root().key("metadata").key("name")).value.as_str(), Some("a"));
        assert_eq!(doc.to_json()["metadata"]["labels"]["x"], "1");
    }

    #[test]
    fn syntax_error_has_a_position() {
        let err = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn duplicate_keys_are_kept_and_last_wins() {
        let doc = one("a: 1\na: 2\n");
        assert_eq!(doc.as_map().unwrap().len(), 2);
        assert_eq!(doc.to_json()["a"], 2);
    }

    #[test]
    fn path_display() {
        let p = FieldPath::root().key("spec").key("ingress").index(0).key("from").index(1);
        assert_eq!(p.to_string(), "spec.ingress[0].from[1]");
    }
}

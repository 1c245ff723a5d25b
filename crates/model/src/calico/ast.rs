//! The selector tree, its evaluation and its canonical text
//! (Calico: `libcalico-go/lib/selector/parser/ast.go`, the `*Node` types,
//! their `Evaluate` and `collectFragments`).

use std::fmt;

/// One node, as Calico's parser builds it: `&&` and `||` hold two or more operands
/// (a single operand is not wrapped), parentheses leave no node, and a run of
/// leading `!` collapses to at most one [`Node::Not`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Node {
    /// `all()`, or the empty selector.
    All,
    /// `global()`: see the module documentation for what it matches here.
    Global,
    /// `has(key)`.
    Has(String),
    /// `key <op> 'value'`.
    Compare(String, CompareOp, String),
    /// `key in {...}` / `key not in {...}`; values sorted and deduplicated, as
    /// Calico's `ConvertToStringSetInPlace` leaves them.
    Set(String, SetOp, Vec<String>),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum CompareOp {
    Eq,
    Ne,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum SetOp {
    In,
    NotIn,
}

impl CompareOp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Contains => "contains",
            CompareOp::StartsWith => "starts with",
            CompareOp::EndsWith => "ends with",
        }
    }

    /// The test on a present label. On an absent label every comparison is false
    /// except `!=`, which is true (Calico's `LabelNeValueNode`).
    fn test(self, have: &str, want: &str) -> bool {
        match self {
            CompareOp::Eq => have == want,
            CompareOp::Ne => have != want,
            CompareOp::Contains => have.contains(want),
            CompareOp::StartsWith => have.starts_with(want),
            CompareOp::EndsWith => have.ends_with(want),
        }
    }
}

impl SetOp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            SetOp::In => "in",
            SetOp::NotIn => "not in",
        }
    }
}

impl Node {
    pub(super) fn eval<'v>(&self, get: &dyn Fn(&str) -> Option<&'v str>) -> bool {
        match self {
            Node::All => true,
            Node::Global => false,
            Node::Has(key) => get(key).is_some(),
            Node::Compare(key, op, want) => match get(key) {
                Some(have) => op.test(have, want),
                None => *op == CompareOp::Ne,
            },
            Node::Set(key, op, values) => match (get(key), op) {
                (Some(have), SetOp::In) => contains(values, have),
                (Some(have), SetOp::NotIn) => !contains(values, have),
                (None, SetOp::In) => false,
                (None, SetOp::NotIn) => true,
            },
            Node::Not(inner) => !inner.eval(get),
            Node::And(operands) => operands.iter().all(|n| n.eval(get)),
            Node::Or(operands) => operands.iter().any(|n| n.eval(get)),
        }
    }

    pub(super) fn collect_keys<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Node::All | Node::Global => {}
            Node::Has(key) | Node::Compare(key, _, _) | Node::Set(key, _, _) => out.push(key),
            Node::Not(inner) => inner.collect_keys(out),
            Node::And(operands) | Node::Or(operands) => operands.iter().for_each(|n| n.collect_keys(out)),
        }
    }

    /// Calico's `PrefixVisitor`: every label key gets `prefix` in front.
    pub(super) fn prefix_keys(&mut self, prefix: &str) {
        match self {
            Node::All | Node::Global => {}
            Node::Has(key) | Node::Compare(key, _, _) | Node::Set(key, _, _) => key.insert_str(0, prefix),
            Node::Not(inner) => inner.prefix_keys(prefix),
            Node::And(operands) | Node::Or(operands) => operands.iter_mut().for_each(|n| n.prefix_keys(prefix)),
        }
    }

    pub(super) fn uses_global(&self) -> bool {
        match self {
            Node::Global => true,
            Node::Not(inner) => inner.uses_global(),
            Node::And(operands) | Node::Or(operands) => operands.iter().any(Node::uses_global),
            _ => false,
        }
    }
}

fn contains(values: &[String], have: &str) -> bool {
    values.binary_search_by(|v| v.as_str().cmp(have)).is_ok()
}

/// Calico's quoting: `"` unless the value holds a `"`, then `'`. (A parsed value
/// never holds both: a string runs to the next quote of its own kind.)
fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    let quote = if value.contains('"') { '\'' } else { '"' };
    write!(f, "{quote}{value}{quote}")
}

/// Calico's canonical form (`Selector.String()`): `a == "b"`, `has(a)`,
/// `a in {"x", "y"}`, `!` glued to its operand, every `&&`/`||` group in
/// parentheses. One departure: a `!` whose operand is itself a `!` prints as
/// `!(!x)`, because Calico's `!!x` would parse back to `x`.
impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::All => f.write_str("all()"),
            Node::Global => f.write_str("global()"),
            Node::Has(key) => write!(f, "has({key})"),
            Node::Compare(key, op, value) => {
                write!(f, "{key} {} ", op.as_str())?;
                write_quoted(f, value)
            }
            Node::Set(key, op, values) => {
                write!(f, "{key} {} {{", op.as_str())?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_quoted(f, value)?;
                }
                f.write_str("}")
            }
            Node::Not(inner) if matches!(**inner, Node::Not(_)) => write!(f, "!({inner})"),
            Node::Not(inner) => write!(f, "!{inner}"),
            Node::And(operands) => write_group(f, operands, " && "),
            Node::Or(operands) => write_group(f, operands, " || "),
        }
    }
}

fn write_group(f: &mut fmt::Formatter<'_>, operands: &[Node], sep: &str) -> fmt::Result {
    f.write_str("(")?;
    for (i, node) in operands.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{node}")?;
    }
    f.write_str(")")
}

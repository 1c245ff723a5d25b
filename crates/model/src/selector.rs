use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Labels;

/// A `metav1.LabelSelector`: `matchLabels` AND every `matchExpressions` requirement.
///
/// The empty selector matches everything. (Whether a *missing* selector means
/// "everything" or "nothing" depends on the field; that is decided by the
/// owner, e.g. [`crate::Peer`].)
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<Requirement>,
}

/// One `matchExpressions` entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    /// Sorted and deduplicated.
    pub values: BTreeSet<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Operator {
    pub fn parse(s: &str) -> Option<Operator> {
        match s {
            "In" => Some(Operator::In),
            "NotIn" => Some(Operator::NotIn),
            "Exists" => Some(Operator::Exists),
            "DoesNotExist" => Some(Operator::DoesNotExist),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
        }
    }
}

impl Requirement {
    pub fn new<I, S>(key: impl Into<String>, operator: Operator, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Requirement { key: key.into(), operator, values: values.into_iter().map(Into::into).collect() }
    }

    /// Kubernetes `labels.Requirement.Matches`.
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
        }
    }
}

impl LabelSelector {
    /// A selector with only `matchLabels`.
    pub fn from_labels<I, K, V>(labels: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        LabelSelector {
            match_labels: labels.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
            match_expressions: Vec::new(),
        }
    }

    pub fn with_expression(mut self, requirement: Requirement) -> Self {
        self.match_expressions.push(requirement);
        self
    }

    /// True for `{}`: selects everything.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }

    /// Every label key this selector reads.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.match_labels.keys().chain(self.match_expressions.iter().map(|r| r.key.as_str()))
    }
}

/// kubectl's `metav1.FormatLabelSelector`: requirements sorted by key, `k=v`,
/// `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, joined by `,`; `<none>` when empty.
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<(&str, String)> = Vec::new();
        for (k, v) in self.match_labels.iter() {
            parts.push((k, format!("{k}={v}")));
        }
        for r in &self.match_expressions {
            let values = r.values.iter().map(String::as_str).collect::<Vec<_>>().join(",");
            let text = match r.operator {
                Operator::In => format!("{} in ({values})", r.key),
                Operator::NotIn => format!("{} notin ({values})", r.key),
                Operator::Exists => r.key.clone(),
                Operator::DoesNotExist => format!("!{}", r.key),
            };
            parts.push((&r.key, text));
        }
        if parts.is_empty() {
            return f.write_str("<none>");
        }
        parts.sort_by(|a, b| a.0.cmp(b.0));
        let joined = parts.into_iter().map(|(_, t)| t).collect::<Vec<_>>().join(",");
        f.write_str(&joined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_table() {
        let labels = Labels::from_iter([("env", "prod"), ("tier", "db")]);
        let cases = [
            ("in hit", Requirement::new("env", Operator::In, ["prod", "dev"]), true),
            ("in miss value", Requirement::new("env", Operator::In, ["dev"]), false),
            ("in missing key", Requirement::new("zone", Operator::In, ["a"]), false),
            ("notin hit", Requirement::new("env", Operator::NotIn, ["prod"]), false),
            ("notin other", Requirement::new("env", Operator::NotIn, ["dev"]), true),
            ("notin missing key matches", Requirement::new("zone", Operator::NotIn, ["a"]), true),
            ("exists", Requirement::new("tier", Operator::Exists, Vec::<String>::new()), true),
            ("exists missing", Requirement::new("zone", Operator::Exists, Vec::<String>::new()), false),
            ("doesnotexist", Requirement::new("zone", Operator::DoesNotExist, Vec::<String>::new()), true),
            ("doesnotexist present", Requirement::new("env", Operator::DoesNotExist, Vec::<String>::new()), false),
        ];
        for (name, req, want) in cases {
            assert_eq!(req.matches(&labels), want, "{name}");
        }
    }

    #[test]
    fn selector_ands_labels_and_expressions() {
        let labels = Labels::from_iter([("app", "web"), ("env", "prod")]);
        let sel = LabelSelector::from_labels([("app", "web")]).with_expression(Requirement::new(
            "env",
            Operator::In,
            ["prod"],
        ));
        assert!(sel.matches(&labels));
        let sel = sel.with_expression(Requirement::new("env", Operator::NotIn, ["prod"]));
        assert!(!sel.matches(&labels));
    }

    #[test]
    fn display_like_kubectl() {
        let sel = LabelSelector::from_labels([("run", "backend"), ("app", "x")])
            .with_expression(Requirement::new("env", Operator::NotIn, ["qa", "dev"]))
            .with_expression(Requirement::new("zz", Operator::DoesNotExist, Vec::<String>::new()))
            .with_expression(Requirement::new("b", Operator::Exists, Vec::<String>::new()));
        assert_eq!(sel.to_string(), "app=x,b,env notin (dev,qa),run=backend,!zz");
        assert_eq!(LabelSelector::default().to_string(), "<none>");
    }
}

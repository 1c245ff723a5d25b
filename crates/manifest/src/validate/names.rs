//! apimachinery's validation: name and label formats, label selectors, object metadata.

use std::collections::BTreeMap;

use ipnet::IpNet;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::Finding;
use crate::diagnostic as d;
use crate::node::{FieldPath, Walk};

// ---- string formats -------------------------------------------------------

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn qualified_name_chars(s: &str) -> bool {
    let first_last = s.chars().next().is_some_and(is_alnum) && s.chars().last().is_some_and(is_alnum);
    first_last && s.chars().all(|c| is_alnum(c) || matches!(c, '-' | '_' | '.'))
}

/// One RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
fn dns_label_chars(s: &str) -> bool {
    let first_last = s.chars().next().is_some_and(is_lower_alnum) && s.chars().last().is_some_and(is_lower_alnum);
    first_last && s.chars().all(|c| is_lower_alnum(c) || c == '-')
}

const DNS_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

pub(crate) fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !s.split('.').all(dns_label_chars) {
        errs.push(DNS_SUBDOMAIN_MSG.to_string());
    }
    errs
}

pub(crate) fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !dns_label_chars(s) {
        errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character".to_string());
    }
    errs
}

pub(crate) fn dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !(dns_label_chars(s) && s.starts_with(|c: char| c.is_ascii_lowercase())) {
        errs.push("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character".to_string());
    }
    errs
}

const QUALIFIED_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

pub(crate) fn qualified_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = s.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(dns1123_subdomain(prefix).into_iter().map(|m| format!("prefix part {m}")));
            }
            *name
        }
        _ => {
            errs.push(format!("a qualified name {QUALIFIED_MSG}, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 characters".to_string());
    }
    if !name.is_empty() && !qualified_name_chars(name) {
        errs.push(format!("name part {QUALIFIED_MSG}"));
    }
    errs
}

pub(crate) fn label_value(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !s.is_empty() && !qualified_name_chars(s) {
        errs.push(format!("a valid label must be an empty string or {QUALIFIED_MSG}"));
    }
    errs
}

/// IANA_SVC_NAME: at most 15 characters, `[-a-z0-9]`, at least one letter, no `--`, no leading/trailing `-`.
pub(crate) fn port_name(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 15 {
        errs.push("must be no more than 15 characters".to_string());
    }
    if s.is_empty() || !s.chars().all(|c| is_lower_alnum(c) || c == '-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string());
    }
    if !s.chars().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if s.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if s.starts_with('-') || s.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// Go's `ParseCIDRSloppy`: like a strict parse, but IPv4 octets may have leading zeros.
pub(crate) fn parse_cidr(s: &str) -> Option<IpNet> {
    if let Ok(net) = s.parse::<IpNet>() {
        return Some(net);
    }
    let (addr, len) = s.split_once('/')?;
    if addr.contains(':') {
        return None;
    }
    let octets: Vec<String> = addr
        .split('.')
        .map(|o| {
            let trimmed = o.trim_start_matches('0');
            if trimmed.is_empty() && !o.is_empty() {
                "0".to_string()
            } else {
                trimmed.to_string()
            }
        })
        .collect();
    format!("{}/{len}", octets.join(".")).parse().ok()
}

// ---- metadata, labels, selectors -----------------------------------------

/// How an object's name must look.
#[derive(Clone, Copy, Debug)]
pub(crate) enum NameRule {
    Subdomain,
    Label,
    Dns1035,
}

/// Name, namespace and labels. Returns the name to use (empty when there is none).
pub(crate) fn object_meta(meta: &ObjectMeta, rule: NameRule, namespaced: bool, out: &mut Vec<Finding>) -> String {
    let root = FieldPath::root().key("metadata");
    let name = match (&meta.name, &meta.generate_name) {
        (Some(name), _) if !name.is_empty() => {
            let errs = match rule {
                NameRule::Subdomain => dns1123_subdomain(name),
                NameRule::Label => dns1123_label(name),
                NameRule::Dns1035 => dns1035_label(name),
            };
            for e in errs {
                out.push(Finding::value(d::INVALID_NAME, root.key("name"), format!("invalid name `{name}`: {e}")));
            }
            name.clone()
        }
        (_, Some(generate)) if !generate.is_empty() => {
            out.push(
                Finding::key(
                    d::GENERATE_NAME,
                    root.key("generateName"),
                    format!("no `metadata.name`: netpol names this object `{generate}`"),
                )
                .help("the API server would append a random suffix; set `metadata.name` to refer to it by name"),
            );
            generate.clone()
        }
        _ => {
            out.push(
                Finding::key(d::MISSING_NAME, root.clone(), "`metadata.name` is required")
                    .help("add `name:` under `metadata:`"),
            );
            String::new()
        }
    };
    if namespaced {
        if let Some(ns) = meta.namespace.as_deref().filter(|n| !n.is_empty()) {
            for e in dns1123_label(ns) {
                out.push(Finding::value(
                    d::INVALID_NAME,
                    root.key("namespace"),
                    format!("invalid namespace `{ns}`: {e}"),
                ));
            }
        }
    }
    if let Some(labels) = &meta.labels {
        let metadata = Walk::Root;
        let metadata = metadata.key("metadata");
        validate_labels(labels, metadata.key("labels"), out);
    }
    name
}

pub(crate) fn validate_labels(labels: &BTreeMap<String, String>, path: Walk<'_>, out: &mut Vec<Finding>) {
    for (k, v) in labels {
        for e in qualified_name(k) {
            out.push(Finding::key(d::INVALID_LABEL_KEY, path.key(k).path(), format!("invalid label key `{k}`: {e}")));
        }
        for e in label_value(v) {
            out.push(Finding::value(
                d::INVALID_LABEL_VALUE,
                path.key(k).path(),
                format!("invalid label value `{v}` for `{k}`: {e}"),
            ));
        }
    }
}

pub(crate) fn validate_selector(sel: &LabelSelector, path: Walk<'_>, out: &mut Vec<Finding>) {
    if let Some(labels) = &sel.match_labels {
        validate_labels(labels, path.key("matchLabels"), out);
    }
    let exprs = path.key("matchExpressions");
    for (i, req) in sel.match_expressions.iter().flatten().enumerate() {
        let rpath = exprs.index(i);
        let values = req.values.as_deref().unwrap_or(&[]);
        match req.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() {
                    out.push(
                        Finding::value(
                            d::SELECTOR_VALUES_REQUIRED,
                            rpath.key("values").path(),
                            format!("`values` must be specified when `operator` is '{}'", req.operator),
                        )
                        .help("list at least one value, or use `Exists`/`DoesNotExist`"),
                    );
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    out.push(
                        Finding::value(
                            d::SELECTOR_VALUES_FORBIDDEN,
                            rpath.key("values").path(),
                            format!("`values` may not be specified when `operator` is '{}'", req.operator),
                        )
                        .help("remove `values`, or use `In`/`NotIn` to match specific values"),
                    );
                }
            }
            other => {
                let mut f = Finding::value(
                    d::INVALID_OPERATOR,
                    rpath.key("operator").path(),
                    format!("`{other}` is not a valid selector operator"),
                );
                let ops = ["In", "NotIn", "Exists", "DoesNotExist"];
                f = match crate::schema::closest(other, ops.iter().copied()) {
                    Some(best) => f.help(format!("did you mean `{best}`?")),
                    None => f.help("valid operators: `In`, `NotIn`, `Exists`, `DoesNotExist`"),
                };
                out.push(f);
            }
        }
        for e in qualified_name(&req.key) {
            out.push(Finding::value(
                d::INVALID_LABEL_KEY,
                rpath.key("key").path(),
                format!("invalid label key `{}`: {e}", req.key),
            ));
        }
        for (j, v) in values.iter().enumerate() {
            for e in label_value(v) {
                out.push(Finding::value(
                    d::INVALID_LABEL_VALUE,
                    rpath.key("values").index(j).path(),
                    format!("invalid label value `{v}`: {e}"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_table() {
        type Check = fn(&str) -> Vec<String>;
        let cases: [(&str, Check, &str, bool); 22] = [
            ("subdomain ok", dns1123_subdomain, "my-policy.v1", true),
            ("subdomain upper", dns1123_subdomain, "MyPolicy", false),
            ("subdomain trailing dash", dns1123_subdomain, "web-", false),
            ("label dot", dns1123_label, "a.b", false),
            ("label ok", dns1123_label, "kube-system", true),
            ("1035 digit start", dns1035_label, "1web", false),
            ("1035 ok", dns1035_label, "web1", true),
            ("qualified plain", qualified_name, "app", true),
            ("qualified prefix", qualified_name, "kubernetes.io/metadata.name", true),
            ("qualified two slashes", qualified_name, "a/b/c", false),
            ("qualified empty prefix", qualified_name, "/x", false),
            ("qualified bad start", qualified_name, "-x", false),
            ("qualified upper prefix", qualified_name, "Example.com/x", false),
            ("value empty", label_value, "", true),
            ("value ok", label_value, "my_value.1", true),
            ("value space", label_value, "a b", false),
            ("value too long", label_value, &"a".repeat(64), false),
            ("port name ok", port_name, "http-alt", true),
            ("port name digits", port_name, "8080", false),
            ("port name long", port_name, "abcdefghijklmnop", false),
            ("port name double dash", port_name, "a--b", false),
            ("port name upper", port_name, "HTTP", false),
        ];
        for (name, f, given, valid) in cases {
            assert_eq!(f(given).is_empty(), valid, "{name}: {given} -> {:?}", f(given));
        }
    }

    #[test]
    fn sloppy_cidr_parse() {
        assert_eq!(parse_cidr("010.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert!(parse_cidr("10.0.0.1").is_none());
        assert!(parse_cidr("10.0.0.0/33").is_none());
        assert_eq!(parse_cidr("fd00::/64").unwrap().to_string(), "fd00::/64");
    }
}

//! `netpol create networkpolicy`: the object to create, built from the
//! command's flags as a k8s-openapi [`NetworkPolicy`], and its YAML or JSON text
//! in the shape `kubectl create ... --dry-run=client -o yaml|json` prints
//! (apiVersion and kind first, then the fields in kubectl's alphabetical order).
//!
//! Pure: parse the flags' text with the helpers
//! ([`parse_pod_selector`], [`parse_policy_types`]), build with
//! [`network_policy`], print with [`to_yaml`] / [`to_json`]. Every input is
//! checked as the API server checks it (names, label keys and values), so what
//! is printed is accepted by `kubectl apply --dry-run=server --validate=strict`.
//!
//! ```
//! use netpol_manifest::create::{network_policy, to_yaml, Request};
//!
//! let request = Request {
//!     name: "web".into(),
//!     namespace: Some("shop".into()),
//!     pod_selector: "app=web".into(),
//!     policy_types: "Ingress".into(),
//!     allow_dns: false,
//! };
//! let created = network_policy(&request).unwrap();
//! assert!(created.notes.is_empty());
//! assert_eq!(to_yaml(&created.policy).unwrap(), "\
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata:
//!   name: web
//!   namespace: shop
//! spec:
//!   podSelector:
//!     matchLabels:
//!       app: web
//!   policyTypes:
//!   - Ingress
//! ");
//! ```

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use netpol_model::{Direction, METADATA_NAME_LABEL};

pub use k8s_openapi::api::networking::v1::NetworkPolicy;

use crate::schema::closest;
use crate::validate::{dns1123_label, dns1123_subdomain, label_value, qualified_name};

/// The flags of `netpol create networkpolicy`, as given on the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// The policy's name (an RFC 1123 subdomain).
    pub name: String,
    /// `-n`: the namespace; `None` leaves `metadata.namespace` out, as kubectl
    /// does, so the namespace is the one the object is applied in.
    pub namespace: Option<String>,
    /// `--pod-selector`: `k=v[,k=v]`; empty selects every pod of the namespace.
    pub pod_selector: String,
    /// `--policy-types`: `Ingress`, `Egress` or both, comma-separated.
    pub policy_types: String,
    /// `--allow-dns`: one egress rule to kube-dns on 53/UDP and 53/TCP.
    pub allow_dns: bool,
}

/// The object to create, and what was changed from the request (to print on stderr).
#[derive(Clone, Debug, PartialEq)]
pub struct Created {
    pub policy: NetworkPolicy,
    pub notes: Vec<String>,
}

/// Why a request cannot become a NetworkPolicy. The messages name the value, not
/// the flag: the caller adds which flag it came from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    #[error("invalid name `{name}`: {reason}")]
    Name { name: String, reason: String },
    #[error("invalid namespace `{namespace}`: {reason}")]
    Namespace { namespace: String, reason: String },
    #[error("`{pair}` is not `key=value`: a pod selector is `key=value` pairs separated by commas, e.g. `app=web,tier=frontend`")]
    NotAPair { pair: String },
    #[error("invalid label key `{key}`: {reason}")]
    LabelKey { key: String, reason: String },
    #[error("invalid label value `{value}` for `{key}`: {reason}")]
    LabelValue { key: String, value: String, reason: String },
    #[error("label key `{key}` is given twice, with `{first}` and `{second}`")]
    DuplicateKey { key: String, first: String, second: String },
    #[error("unknown policy type `{given}`: {}", match suggestion {
        Some(s) => format!("did you mean `{s}`? (policy types are `Ingress` and `Egress`, case-sensitive)"),
        None => "policy types are `Ingress` and `Egress`".to_string(),
    })]
    PolicyType { given: String, suggestion: Option<Direction> },
    #[error("no policy type: give `Ingress`, `Egress` or `Ingress,Egress`")]
    NoPolicyType,
    #[error("cannot print the object: {0}")]
    Print(String),
}

/// Parses `k=v[,k=v]` into matchLabels. Empty (or only spaces) is every pod.
/// Spaces around keys and values are dropped; the same key twice with the same
/// value is one label, with two values an error.
pub fn parse_pod_selector(text: &str) -> Result<BTreeMap<String, String>, CreateError> {
    let mut labels = BTreeMap::new();
    if text.trim().is_empty() {
        return Ok(labels);
    }
    for pair in text.split(',') {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(CreateError::NotAPair { pair: pair.to_string() });
        };
        let (key, value) = (key.trim(), value.trim());
        if key.ends_with('!') || value.starts_with('=') || value.contains('=') {
            return Err(CreateError::NotAPair { pair: pair.to_string() });
        }
        if let Some(reason) = qualified_name(key).into_iter().next() {
            return Err(CreateError::LabelKey { key: key.to_string(), reason });
        }
        if let Some(reason) = label_value(value).into_iter().next() {
            return Err(CreateError::LabelValue { key: key.to_string(), value: value.to_string(), reason });
        }
        match labels.get(key) {
            Some(first) if first != value => {
                return Err(CreateError::DuplicateKey {
                    key: key.to_string(),
                    first: first.clone(),
                    second: value.to_string(),
                })
            }
            _ => {
                labels.insert(key.to_string(), value.to_string());
            }
        }
    }
    Ok(labels)
}

/// Parses `Ingress,Egress` (either, or both, in the order given; a repeat is
/// dropped). Spelling is exact, as the API server wants it; a near miss names
/// the right spelling.
pub fn parse_policy_types(text: &str) -> Result<Vec<Direction>, CreateError> {
    let mut types = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let Some(t) = Direction::ALL.into_iter().find(|t| t.as_str() == word) else {
            let suggestion = closest(word, Direction::ALL.iter().map(|t| t.as_str()))
                .and_then(|s| Direction::ALL.into_iter().find(|t| t.as_str() == s));
            return Err(CreateError::PolicyType { given: word.to_string(), suggestion });
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        return Err(CreateError::NoPolicyType);
    }
    Ok(types)
}

/// The NetworkPolicy the request asks for: it selects the pods of
/// `pod_selector` and isolates them for each policy type, allowing nothing
/// (a default deny for those pods) except, with `allow_dns`, egress to the
/// kube-dns pods of kube-system on 53/UDP and 53/TCP. `allow_dns` without
/// Egress adds Egress (the rule would do nothing otherwise), with a note.
pub fn network_policy(request: &Request) -> Result<Created, CreateError> {
    let mut notes = Vec::new();
    if let Some(reason) = dns1123_subdomain(&request.name).into_iter().next() {
        return Err(CreateError::Name { name: request.name.clone(), reason });
    }
    if let Some(namespace) = &request.namespace {
        if let Some(reason) = dns1123_label(namespace).into_iter().next() {
            return Err(CreateError::Namespace { namespace: namespace.clone(), reason });
        }
    }
    let labels = parse_pod_selector(&request.pod_selector)?;
    let mut types = parse_policy_types(&request.policy_types)?;
    if request.allow_dns && !types.contains(&Direction::Egress) {
        types.push(Direction::Egress);
        notes.push(
            "--allow-dns adds an egress rule, which a policy without Egress in policyTypes ignores: added Egress, \
             so the selected pods are also isolated for egress (only DNS, and what other policies allow, goes out)"
                .to_string(),
        );
    }
    let egress = request.allow_dns.then(|| vec![dns_rule()]);
    let policy = NetworkPolicy {
        metadata: ObjectMeta {
            name: Some(request.name.clone()),
            namespace: request.namespace.clone(),
            ..ObjectMeta::default()
        },
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(match_labels(labels)),
            policy_types: Some(types.iter().map(|t| t.as_str().to_string()).collect()),
            egress,
            ingress: None,
        }),
    };
    Ok(Created { policy, notes })
}

/// Egress to the kube-dns pods (`k8s-app: kube-dns`) of namespace kube-system,
/// on 53/UDP and 53/TCP.
fn dns_rule() -> net::NetworkPolicyEgressRule {
    let port = |protocol: &str| net::NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some(protocol.to_string()),
        end_port: None,
    };
    net::NetworkPolicyEgressRule {
        to: Some(vec![net::NetworkPolicyPeer {
            namespace_selector: Some(match_labels([(METADATA_NAME_LABEL.to_string(), "kube-system".to_string())])),
            pod_selector: Some(match_labels([("k8s-app".to_string(), "kube-dns".to_string())])),
            ip_block: None,
        }]),
        ports: Some(vec![port("UDP"), port("TCP")]),
    }
}

/// `{}` when there is no label (every pod), else `{matchLabels: ...}`.
fn match_labels(labels: impl IntoIterator<Item = (String, String)>) -> LabelSelector {
    let labels: BTreeMap<String, String> = labels.into_iter().collect();
    LabelSelector { match_labels: (!labels.is_empty()).then_some(labels), match_expressions: None }
}

/// The YAML kubectl would print: block style, list items at the key's indent.
pub fn to_yaml(policy: &NetworkPolicy) -> Result<String, CreateError> {
    serde_saphyr::to_string(policy).map_err(|e| CreateError::Print(e.to_string()))
}

/// The JSON kubectl would print: 4-space indent, a newline at the end.
pub fn to_json(policy: &NetworkPolicy) -> Result<String, CreateError> {
    use serde::Serialize as _;
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    policy.serialize(&mut ser).map_err(|e| CreateError::Print(e.to_string()))?;
    out.push(b'\n');
    String::from_utf8(out).map_err(|e| CreateError::Print(e.to_string()))
}

#[cfg(test)]
#[path = "create_tests.rs"]
mod tests;

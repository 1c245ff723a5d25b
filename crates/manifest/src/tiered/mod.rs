//! The ordered-policy kinds: AdminNetworkPolicy and BaselineAdminNetworkPolicy
//! (`policy.networking.k8s.io/v1alpha1`), ClusterNetworkPolicy (`v1alpha2`),
//! Calico's `projectcalico.org/v3` NetworkPolicy, GlobalNetworkPolicy and Tier,
//! Calico's v1 `policy` (as Calico's v1-to-v3 conversion reads it), and Nodes
//! (which `nodes` peers match). Validation as the CRDs' schemas and Calico's
//! validator define it, then conversion into `netpol_model`.

mod api;
mod calico;
mod calico_fields;
mod upstream;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use netpol_model::{Origin, Protocol};

use crate::diagnostic::{self as d};
use crate::node::{FieldPath, Walk};
use crate::validate::Finding;

pub(crate) use api::{AnpSpec, BanpSpec, Calico, CalicoTier, CnpSpec, Upstream};
pub(crate) use calico::{calico_policy, calico_tier, CalicoFlavor};
pub(crate) use calico_fields::foreign_fields;
pub(crate) use upstream::{anp, banp, cnp};

/// Which ordered kind a document is, from its `kind` and `apiVersion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    Anp,
    Banp,
    Cnp,
    Calico(CalicoFlavor),
    Tier,
}

pub(crate) const POLICY_V1ALPHA1: &str = "policy.networking.k8s.io/v1alpha1";
pub(crate) const POLICY_V1ALPHA2: &str = "policy.networking.k8s.io/v1alpha2";
pub(crate) const CALICO_V3: &str = "projectcalico.org/v3";

/// The ordered kind of a document, and the apiVersion that serves it.
/// `NetworkPolicy` is Calico's only under `projectcalico.org/v3`.
pub(crate) fn which(kind: &str, api_version: Option<&str>) -> Option<(Which, &'static str)> {
    Some(match (kind, api_version) {
        ("AdminNetworkPolicy", _) => (Which::Anp, POLICY_V1ALPHA1),
        ("BaselineAdminNetworkPolicy", _) => (Which::Banp, POLICY_V1ALPHA1),
        ("ClusterNetworkPolicy", _) => (Which::Cnp, POLICY_V1ALPHA2),
        ("NetworkPolicy", Some(CALICO_V3 | "crd.projectcalico.org/v1")) => {
            (Which::Calico(CalicoFlavor::Namespaced), CALICO_V3)
        }
        ("GlobalNetworkPolicy", _) => (Which::Calico(CalicoFlavor::Global), CALICO_V3),
        ("Tier", _) => (Which::Tier, CALICO_V3),
        ("policy", Some("v1")) => (Which::Calico(CalicoFlavor::V1), "v1"),
        _ => return None,
    })
}

/// A label selector of an ordered policy, validated as NetworkPolicy's are.
pub(crate) fn selector(sel: &LabelSelector, path: Walk<'_>, out: &mut Vec<Finding>) -> netpol_model::LabelSelector {
    crate::validate::validate_selector(sel, path, out);
    crate::convert::selector(sel)
}

/// `TCP`, `UDP` or `SCTP`; anything else is a finding.
pub(crate) fn protocol(p: &str, path: FieldPath, out: &mut Vec<Finding>) -> Protocol {
    p.parse().unwrap_or_else(|_| {
        out.push(
            Finding::value(d::INVALID_PROTOCOL, path, format!("unsupported protocol `{p}`"))
                .help("use TCP, UDP or SCTP (upper case)"),
        );
        Protocol::Tcp
    })
}

/// A port number in 1..=65535; anything else is a finding.
pub(crate) fn port(n: i64, path: FieldPath, out: &mut Vec<Finding>) -> u16 {
    match u16::try_from(n) {
        Ok(p) if p >= 1 => p,
        _ => {
            out.push(Finding::value(d::PORT_OUT_OF_RANGE, path, format!("port {n} is not in 1..=65535")));
            1
        }
    }
}

/// A CIDR; anything else is a finding.
pub(crate) fn cidr(s: &str, path: FieldPath, out: &mut Vec<Finding>) -> Option<ipnet::IpNet> {
    let net = crate::validate::parse_cidr(s).or_else(|| {
        // Calico accepts a bare address as a /32 or /128.
        s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from)
    });
    if net.is_none() {
        out.push(
            Finding::value(d::INVALID_CIDR, path, format!("`{s}` is not a CIDR"))
                .help("write an address with a prefix length, e.g. `10.0.0.0/8` or `fd00::/8`"),
        );
    }
    net.map(|n| n.trunc())
}

/// An action: one of `allowed`, with a did-you-mean for a wrong case or a
/// spelling another API uses.
pub(crate) fn action(given: &str, allowed: &[&str], path: FieldPath, out: &mut Vec<Finding>) -> Option<String> {
    if allowed.contains(&given) {
        return Some(given.to_string());
    }
    let near = allowed.iter().find(|a| a.eq_ignore_ascii_case(given)).map(|a| format!("did you mean `{a}`? "));
    let other = match given {
        "Accept" if allowed.contains(&"Allow") => "`Accept` is ClusterNetworkPolicy's word; this API says `Allow`. ",
        "Allow" if allowed.contains(&"Accept") => {
            "`Allow` is AdminNetworkPolicy's word; ClusterNetworkPolicy says `Accept`. "
        }
        _ => "",
    };
    out.push(Finding::value(d::INVALID_ACTION, path, format!("unknown action `{given}`")).help(format!(
        "{}{other}valid actions: {}",
        near.unwrap_or_default(),
        allowed.join(", ")
    )));
    None
}

/// Exactly one of the fields of a one-of (subject, peer, port) set.
pub(crate) fn exactly_one(set: &[(&str, bool)], what: &str, path: FieldPath, out: &mut Vec<Finding>) -> bool {
    let n = set.iter().filter(|(_, on)| *on).count();
    if n == 1 {
        return true;
    }
    let names = set.iter().map(|(k, _)| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    let message =
        if n == 0 { format!("{what} sets none of {names}") } else { format!("{what} sets more than one of {names}") };
    out.push(Finding::value(d::EXACTLY_ONE, path, message).help(format!("set exactly one of {names}")));
    false
}

/// Where conversion finds positions.
pub(crate) type OriginAt<'a> = &'a dyn Fn(&FieldPath) -> Origin;

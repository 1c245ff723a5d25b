//! `pkg/apis/networking/validation`: the NetworkPolicy spec, its peers, ipBlocks and ports.

use std::collections::HashSet;
use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::names::{parse_cidr, validate_selector};
use super::{named_port, port_in_range, validate_protocol, Finding};
use crate::diagnostic as d;
use crate::node::{FieldPath, Walk};

// ---- NetworkPolicy ----------------------------------------------------------

pub(crate) fn network_policy_spec(spec: &net::NetworkPolicySpec, out: &mut Vec<Finding>) {
    let root = Walk::Root;
    let path = root.key("spec");
    if let Some(sel) = &spec.pod_selector {
        validate_selector(sel, path.key("podSelector"), out);
    }
    let ingress = path.key("ingress");
    for (i, rule) in spec.ingress.iter().flatten().enumerate() {
        let rpath = ingress.index(i);
        let (ports, from) = (rpath.key("ports"), rpath.key("from"));
        for (j, port) in rule.ports.iter().flatten().enumerate() {
            policy_port(port, ports.index(j), out);
        }
        for (j, peer) in rule.from.iter().flatten().enumerate() {
            policy_peer(peer, from.index(j), out);
        }
    }
    let egress = path.key("egress");
    for (i, rule) in spec.egress.iter().flatten().enumerate() {
        let rpath = egress.index(i);
        let (to, ports) = (rpath.key("to"), rpath.key("ports"));
        for (j, peer) in rule.to.iter().flatten().enumerate() {
            policy_peer(peer, to.index(j), out);
        }
        for (j, port) in rule.ports.iter().flatten().enumerate() {
            policy_port(port, ports.index(j), out);
        }
    }
    let types = spec.policy_types.as_deref().unwrap_or(&[]);
    if types.is_empty() {
        return;
    }
    let tpath = FieldPath::root().key("spec").key("policyTypes");
    if types.len() > 2 {
        out.push(
            Finding::value(d::INVALID_POLICY_TYPE, tpath, "may not specify more than two policyTypes")
                .help("list `Ingress`, `Egress`, or both, each once"),
        );
        return;
    }
    let mut seen = HashSet::new();
    for (i, t) in types.iter().enumerate() {
        if t != "Ingress" && t != "Egress" {
            let mut f = Finding::value(d::INVALID_POLICY_TYPE, tpath.index(i), format!("unsupported policyType `{t}`"));
            f = match crate::schema::closest(t, ["Ingress", "Egress"].into_iter()) {
                Some(best) => f.help(format!("did you mean `{best}`?")),
                None => f.help("supported values: `Ingress`, `Egress`"),
            };
            out.push(f);
        } else if !seen.insert(t.as_str()) {
            out.push(Finding::value(
                d::DUPLICATE_POLICY_TYPE,
                tpath.index(i),
                format!("`{t}` is listed twice in policyTypes"),
            ));
        }
    }
}

fn policy_peer(peer: &net::NetworkPolicyPeer, path: Walk<'_>, out: &mut Vec<Finding>) {
    let mut count = 0;
    if let Some(sel) = &peer.pod_selector {
        count += 1;
        validate_selector(sel, path.key("podSelector"), out);
    }
    if let Some(sel) = &peer.namespace_selector {
        count += 1;
        validate_selector(sel, path.key("namespaceSelector"), out);
    }
    if let Some(block) = &peer.ip_block {
        count += 1;
        ip_block(block, path.key("ipBlock"), out);
    }
    if count == 0 {
        out.push(
            Finding::value(
                d::EMPTY_PEER,
                path.path(),
                "must specify a peer: this entry sets no podSelector, namespaceSelector or ipBlock",
            )
            .help("a selector with nothing under it is null, not `{}`: write `podSelector: {}` to mean every pod"),
        );
    } else if count > 1 && peer.ip_block.is_some() {
        out.push(
            Finding::value(d::IPBLOCK_WITH_SELECTOR, path.path(), "may not specify both ipBlock and another peer")
                .help("start a new list entry (`- `) for the selector to allow either of them"),
        );
    }
}

fn ip_block(block: &net::IPBlock, path: Walk<'_>, out: &mut Vec<Finding>) {
    if block.cidr.is_empty() {
        out.push(Finding::value(d::INVALID_CIDR, path.key("cidr").path(), "`cidr` is required"));
        return;
    }
    let Some(cidr) = cidr_checked(&block.cidr, path.key("cidr"), out) else { return };
    let excepts = path.key("except");
    for (i, except) in block.except.iter().flatten().enumerate() {
        let epath = excepts.index(i);
        let Some(ex) = cidr_checked(except, epath, out) else { continue };
        if !cidr.contains(&ex.network()) || cidr.prefix_len() >= ex.prefix_len() {
            out.push(
                Finding::value(
                    d::EXCEPT_NOT_INSIDE,
                    epath.path(),
                    format!("`{except}` must be a strict subset of `cidr` `{}`", block.cidr),
                )
                .help("every `except` block must lie inside `cidr` and be smaller than it"),
            );
        }
    }
}

fn cidr_checked(text: &str, path: Walk<'_>, out: &mut Vec<Finding>) -> Option<IpNet> {
    match parse_cidr(text) {
        Some(net) => {
            if net.addr() != net.network() {
                out.push(Finding::value(
                    d::CIDR_HOST_BITS,
                    path.path(),
                    format!("`{text}` has host bits set: it means `{}`", net.trunc()),
                ));
            }
            if let Some(v4) = ipv4_mapped(&net) {
                out.push(
                    Finding::value(
                        d::IPV4_MAPPED_CIDR,
                        path.path(),
                        format!("`{text}` is IPv4-mapped IPv6: it matches IPv6 addresses only, never an IPv4 pod or address"),
                    )
                    .help(format!("to match IPv4 pods and addresses, write `{v4}`")),
                );
            }
            Some(net)
        }
        None => {
            let help = if text.parse::<IpAddr>().is_ok() {
                format!(
                    "a single address needs a prefix length: `{text}/{}`",
                    if text.contains(':') { 128 } else { 32 }
                )
            } else {
                "write a CIDR such as `10.0.0.0/16` or `fd00::/64`".to_string()
            };
            out.push(Finding::value(d::INVALID_CIDR, path.path(), format!("`{text}` is not a valid CIDR")).help(help));
            None
        }
    }
}

/// The IPv4 block that an IPv6 block inside `::ffff:0:0/96` maps, if it is one.
fn ipv4_mapped(net: &IpNet) -> Option<IpNet> {
    let IpNet::V6(v6) = net else { return None };
    let v4 = v6.network().to_ipv4_mapped()?;
    let prefix = v6.prefix_len().checked_sub(96)?;
    IpNet::new(IpAddr::V4(v4), prefix).ok()
}

fn policy_port(port: &net::NetworkPolicyPort, path: Walk<'_>, out: &mut Vec<Finding>) {
    validate_protocol(port.protocol.as_deref(), path.key("protocol"), out);
    match &port.port {
        Some(IntOrString::Int(n)) => {
            if !port_in_range(i64::from(*n)) {
                out.push(Finding::value(
                    d::PORT_OUT_OF_RANGE,
                    path.key("port").path(),
                    format!("port {n} must be between 1 and 65535, inclusive"),
                ));
            }
            if let Some(end) = port.end_port {
                if end < *n {
                    out.push(Finding::value(
                        d::END_PORT_BELOW_PORT,
                        path.key("endPort").path(),
                        format!("endPort {end} must be greater than or equal to `port` ({n})"),
                    ));
                }
                if !port_in_range(i64::from(end)) {
                    out.push(Finding::value(
                        d::PORT_OUT_OF_RANGE,
                        path.key("endPort").path(),
                        format!("endPort {end} must be between 1 and 65535, inclusive"),
                    ));
                }
            }
        }
        Some(IntOrString::String(name)) => {
            if let Some(end) = port.end_port {
                out.push(
                    Finding::value(
                        d::END_PORT_WITHOUT_PORT,
                        path.key("endPort").path(),
                        format!("endPort {end} may not be specified when `port` is non-numeric"),
                    )
                    .help("a range needs a numeric `port` as its start"),
                );
            }
            named_port(name, path.key("port"), out);
        }
        None => {
            if let Some(end) = port.end_port {
                out.push(
                    Finding::value(
                        d::END_PORT_WITHOUT_PORT,
                        path.key("endPort").path(),
                        format!("endPort {end} may not be specified when `port` is not specified"),
                    )
                    .help("a range needs a numeric `port` as its start"),
                );
            }
        }
    }
}

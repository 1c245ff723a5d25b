//! API-server validation, ported from upstream Kubernetes
//! (`pkg/apis/networking/validation`: `ValidateNetworkPolicySpec`, `ValidateNetworkPolicyPeer`,
//! `ValidateNetworkPolicyPort`, `ValidateIPBlock`; apimachinery's `ValidateLabelSelector`,
//! `ValidateLabels`, `IsQualifiedName`, `IsValidLabelValue`, `IsDNS1123Subdomain`,
//! `IsValidPortName`, `IsValidPortNum`; core's `validateContainerPorts`).
//!
//! Every check runs and every finding is collected, each with the [`FieldPath`] it
//! is about; the loader turns paths into positions. The checks walk with a
//! [`Walk`] on the stack and build a path only for a finding.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::diagnostic::{self as d, CodeInfo};
use crate::node::{FieldPath, Walk};

/// Whether a finding is about a field's key or its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum At {
    Key,
    Value,
}

/// A finding before it has a position.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub code: CodeInfo,
    pub path: FieldPath,
    pub at: At,
    pub message: String,
    pub help: Option<String>,
}

impl Finding {
    pub fn value(code: CodeInfo, path: FieldPath, message: impl Into<String>) -> Self {
        Finding { code, path, at: At::Value, message: message.into(), help: None }
    }

    pub fn key(code: CodeInfo, path: FieldPath, message: impl Into<String>) -> Self {
        Finding { code, path, at: At::Key, message: message.into(), help: None }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

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

fn port_in_range(n: i64) -> bool {
    (1..=65535).contains(&n)
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

fn protocols_help(p: &str) -> String {
    let upper = p.to_ascii_uppercase();
    if ["TCP", "UDP", "SCTP"].contains(&upper.as_str()) {
        format!("protocols are upper case: `{upper}`")
    } else {
        "supported values: `TCP`, `UDP`, `SCTP`".to_string()
    }
}

fn validate_protocol(protocol: Option<&str>, path: Walk<'_>, out: &mut Vec<Finding>) {
    if let Some(p) = protocol {
        if !["TCP", "UDP", "SCTP"].contains(&p) {
            out.push(
                Finding::value(d::INVALID_PROTOCOL, path.path(), format!("unsupported protocol `{p}`"))
                    .help(protocols_help(p)),
            );
        }
    }
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

fn named_port(name: &str, path: Walk<'_>, out: &mut Vec<Finding>) {
    let errs = port_name(name);
    if errs.is_empty() {
        return;
    }
    let numeric = name.parse::<u32>().is_ok();
    for e in errs {
        let mut f = Finding::value(d::INVALID_PORT_NAME, path.path(), format!("invalid port name `{name}`: {e}"));
        if numeric {
            f = f.help(format!("a quoted number is a port *name*: write `{name}` without quotes"));
        }
        out.push(f);
    }
}

// ---- Pods, templates, Services ----------------------------------------------

/// Container ports of a pod spec at `path` (`spec` or `spec.template.spec`).
pub(crate) fn pod_spec(spec: &core::PodSpec, path: Walk<'_>, out: &mut Vec<Finding>) {
    let containers = path.key("containers");
    for (i, c) in spec.containers.iter().enumerate() {
        let cpath = containers.index(i);
        let ports = cpath.key("ports");
        let mut names = HashSet::new();
        for (j, p) in c.ports.iter().flatten().enumerate() {
            let ppath = ports.index(j);
            if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
                let before = out.len();
                named_port(name, ppath.key("name"), out);
                if out.len() == before && !names.insert(name) {
                    out.push(Finding::value(
                        d::DUPLICATE_PORT_NAME,
                        ppath.key("name").path(),
                        format!("duplicate port name `{name}` in container `{}`", c.name),
                    ));
                }
            }
            if !port_in_range(i64::from(p.container_port)) {
                out.push(Finding::value(
                    d::PORT_OUT_OF_RANGE,
                    ppath.key("containerPort").path(),
                    format!("containerPort {} must be between 1 and 65535, inclusive", p.container_port),
                ));
            }
            if let Some(h) = p.host_port.filter(|h| *h != 0) {
                if !port_in_range(i64::from(h)) {
                    out.push(Finding::value(
                        d::PORT_OUT_OF_RANGE,
                        ppath.key("hostPort").path(),
                        format!("hostPort {h} must be between 1 and 65535, inclusive"),
                    ));
                }
            }
            validate_protocol(p.protocol.as_deref(), ppath.key("protocol"), out);
        }
    }
}

/// `status.podIP` and `status.podIPs`.
pub(crate) fn pod_status(status: &core::PodStatus, out: &mut Vec<Finding>) {
    let root = Walk::Root;
    let path = root.key("status");
    if let Some(ip) = status.pod_ip.as_deref().filter(|s| !s.is_empty()) {
        ip_address(ip, path.key("podIP"), out);
    }
    let ips = path.key("podIPs");
    for (i, ip) in status.pod_ips.iter().flatten().enumerate() {
        let item = ips.index(i);
        ip_address(&ip.ip, item.key("ip"), out);
    }
}

fn ip_address(text: &str, path: Walk<'_>, out: &mut Vec<Finding>) {
    if text.parse::<IpAddr>().is_err() {
        out.push(Finding::value(d::INVALID_IP, path.path(), format!("`{text}` is not an IP address")));
    }
}

pub(crate) fn service_spec(spec: &core::ServiceSpec, out: &mut Vec<Finding>) {
    let root = Walk::Root;
    let path = root.key("spec");
    if let Some(selector) = &spec.selector {
        validate_labels(selector, path.key("selector"), out);
    }
    let ports = path.key("ports");
    for (i, p) in spec.ports.iter().flatten().enumerate() {
        let ppath = ports.index(i);
        if !port_in_range(i64::from(p.port)) {
            out.push(Finding::value(
                d::PORT_OUT_OF_RANGE,
                ppath.key("port").path(),
                format!("port {} must be between 1 and 65535, inclusive", p.port),
            ));
        }
        match &p.target_port {
            Some(IntOrString::Int(n)) if !port_in_range(i64::from(*n)) => out.push(Finding::value(
                d::PORT_OUT_OF_RANGE,
                ppath.key("targetPort").path(),
                format!("targetPort {n} must be between 1 and 65535, inclusive"),
            )),
            Some(IntOrString::String(name)) => named_port(name, ppath.key("targetPort"), out),
            _ => {}
        }
        validate_protocol(p.protocol.as_deref(), ppath.key("protocol"), out);
    }
    let cluster_ips = path.key("clusterIPs");
    for (i, ip) in spec.cluster_ips.iter().flatten().enumerate() {
        if ip != "None" && !ip.is_empty() {
            ip_address(ip, cluster_ips.index(i), out);
        }
    }
    if let Some(ip) = spec.cluster_ip.as_deref().filter(|s| *s != "None" && !s.is_empty()) {
        ip_address(ip, path.key("clusterIP"), out);
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

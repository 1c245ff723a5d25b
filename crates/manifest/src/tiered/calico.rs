//! Calico policies (`projectcalico.org/v3` NetworkPolicy and GlobalNetworkPolicy,
//! and the v1 `policy` read as Calico's own v1-to-v3 conversion read it:
//! `libcalico-go` `lib/upgrade/converters`) and Tiers.

use netpol_model::{
    Action, CalicoEntity, CalicoSelector, Direction, ObjectMeta, Order, PolicyPort, PortRef, Protocol, RuleProtocol,
    Subject, Tier, TierDefault, TieredKind, TieredPeer, TieredPolicy, TieredRule, CALICO_NAMESPACE_LABEL,
    CALICO_SERVICE_ACCOUNT_LABEL, CALICO_SERVICE_ACCOUNT_PREFIX, DEFAULT_TIER,
};

use super::api::{Calico, CalicoEntityRule, CalicoRule, CalicoServiceAccountMatch, CalicoTier, NumOrString};
use super::{action, cidr, OriginAt};
use crate::convert::labels;
use crate::diagnostic as d;
use crate::node::{FieldPath, Walk};
use crate::validate::Finding;

/// Which Calico policy a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CalicoFlavor {
    /// `projectcalico.org/v3` NetworkPolicy.
    Namespaced,
    /// `projectcalico.org/v3` GlobalNetworkPolicy.
    Global,
    /// Calico v1 (`calicoctl`) `policy`: a GlobalNetworkPolicy after conversion.
    V1,
}

/// The v1 label for a pod's namespace, which Calico's conversion renamed.
pub(crate) const V1_NAMESPACE_LABEL: &str = "calico/k8s_ns";

/// A selector expression, or a finding pointing into it.
fn parse_selector(text: &str, flavor: CalicoFlavor, path: FieldPath, out: &mut Vec<Finding>) -> Option<CalicoSelector> {
    let text = if flavor == CalicoFlavor::V1 {
        text.replace(V1_NAMESPACE_LABEL, CALICO_NAMESPACE_LABEL)
    } else {
        text.to_string()
    };
    match CalicoSelector::parse(&text) {
        Ok(s) => Some(s),
        Err(e) => {
            let mut f = Finding::value(
                d::INVALID_SELECTOR,
                path,
                format!("invalid selector `{text}`: {} (at character {})", e.message, e.offset + 1),
            );
            f.shift = Some(e.offset as u32);
            if let Some(h) = e.hint {
                f = f.help(h);
            }
            out.push(f);
            None
        }
    }
}

fn unsupported(path: FieldPath, what: &str, out: &mut Vec<Finding>) {
    out.push(
        Finding::value(d::UNSUPPORTED, path, format!("{what} is not modelled by netpol"))
            .help("netpol refuses the policy rather than guess what it does; remove the field or check this policy with Calico itself"),
    );
}

/// `protocol`/`notProtocol`: a name Calico knows or a number 1-255.
fn rule_protocol(p: &NumOrString, path: FieldPath, out: &mut Vec<Finding>) -> RuleProtocol {
    match p {
        NumOrString::Num(6) => RuleProtocol::Is(Protocol::Tcp),
        NumOrString::Num(17) => RuleProtocol::Is(Protocol::Udp),
        NumOrString::Num(132) => RuleProtocol::Is(Protocol::Sctp),
        NumOrString::Num(n) if (1..=255).contains(n) => RuleProtocol::Other(n.to_string()),
        NumOrString::Str(s) => match s.to_ascii_uppercase().as_str() {
            "TCP" => RuleProtocol::Is(Protocol::Tcp),
            "UDP" => RuleProtocol::Is(Protocol::Udp),
            "SCTP" => RuleProtocol::Is(Protocol::Sctp),
            "ICMP" | "ICMPV6" | "UDPLITE" => RuleProtocol::Other(s.clone()),
            _ => {
                out.push(
                    Finding::value(d::INVALID_PROTOCOL, path, format!("unknown protocol `{s}`"))
                        .help("use TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or a number 1-255"),
                );
                RuleProtocol::Other(s.clone())
            }
        },
        NumOrString::Num(n) => {
            out.push(Finding::value(d::INVALID_PROTOCOL, path, format!("protocol number {n} is not in 1..=255")));
            RuleProtocol::Other(n.to_string())
        }
    }
}

/// `ports`/`notPorts`: numbers, `"from:to"` ranges and names, on the rule's protocol.
fn ports(
    list: &[NumOrString],
    proto: Option<&RuleProtocol>,
    path: Walk<'_>,
    out: &mut Vec<Finding>,
) -> Vec<PolicyPort> {
    // UDPLite has ports too (Calico's `SupportsPorts`); netpol evaluates no
    // UDPLite flow, so its ports are checked and then match nothing here.
    let udplite = matches!(proto, Some(RuleProtocol::Other(p)) if p.eq_ignore_ascii_case("UDPLite") || p == "136");
    let proto = match proto {
        Some(RuleProtocol::Is(p)) => p,
        _ if udplite => &Protocol::Udp,
        _ => {
            if !list.is_empty() {
                out.push(
                    Finding::value(
                        d::INVALID_PROTOCOL,
                        path.path(),
                        "ports need the rule's `protocol` to be TCP, UDP, SCTP or UDPLite",
                    )
                    .help("add `protocol: TCP` (or UDP, SCTP, UDPLite) to the rule"),
                );
            }
            return Vec::new();
        }
    };
    let mut v = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let at = path.index(i).path();
        let number = |s: &str, out: &mut Vec<Finding>| match s.trim().parse::<u16>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                out.push(Finding::value(
                    d::PORT_OUT_OF_RANGE,
                    at.clone(),
                    format!("port `{s}` is not a number in 1..=65535"),
                ));
                None
            }
        };
        match p {
            NumOrString::Num(n) => {
                if let Some(n) = number(&n.to_string(), out) {
                    v.push(PolicyPort::number(*proto, n));
                }
            }
            NumOrString::Str(s) if s.contains(':') => {
                let (a, b) = s.split_once(':').unwrap_or_default();
                if let (Some(a), Some(b)) = (number(a, out), number(b, out)) {
                    if a > b {
                        out.push(Finding::value(
                            d::END_PORT_BELOW_PORT,
                            at.clone(),
                            format!("range `{s}` ends below its start"),
                        ));
                    }
                    v.push(PolicyPort::range(*proto, a, b.max(a)));
                }
            }
            NumOrString::Str(s) if s.chars().all(|c| c.is_ascii_digit()) => {
                if let Some(n) = number(s, out) {
                    v.push(PolicyPort::number(*proto, n));
                }
            }
            NumOrString::Str(s) => {
                v.push(PolicyPort { protocol: *proto, port: Some(PortRef::Name(s.clone())), end_port: None })
            }
        }
    }
    if udplite {
        v.clear();
    }
    v
}

/// An entity rule without its ports, and the findings of its fields.
fn entity(
    e: &CalicoEntityRule,
    flavor: CalicoFlavor,
    namespace: Option<&str>,
    path: Walk<'_>,
    out: &mut Vec<Finding>,
) -> CalicoEntity {
    let mut nets = Vec::new();
    let mut not_nets = Vec::new();
    for (list, key, into) in [(&e.nets, "nets", &mut nets), (&e.not_nets, "notNets", &mut not_nets)] {
        for (i, n) in list.iter().flatten().enumerate() {
            into.extend(cidr(n, path.key(key).index(i).path(), out));
        }
    }
    if let Some(n) = &e.net {
        nets.extend(cidr(n, path.key("net").path(), out));
    }
    if let Some(n) = &e.not_net {
        not_nets.extend(cidr(n, path.key("notNet").path(), out));
    }
    let sel = |s: &Option<String>, key: &str, out: &mut Vec<Finding>| {
        s.as_deref().filter(|t| !t.trim().is_empty()).and_then(|t| parse_selector(t, flavor, path.key(key).path(), out))
    };
    let mut selector = sel(&e.selector, "selector", out);
    let mut not_selector = sel(&e.not_selector, "notSelector", out);
    let namespace_selector = sel(&e.namespace_selector, "namespaceSelector", out);
    // Tags became label selectors: `tag == ''` (has the label), as Calico's conversion wrote them.
    for (tag, key, into) in [(&e.tag, "tag", &mut selector), (&e.not_tag, "notTag", &mut not_selector)] {
        if let Some(t) = tag {
            let text = match into.take() {
                Some(s) => format!("({s}) && {t} == ''"),
                None => format!("{t} == ''"),
            };
            *into = parse_selector(&text, flavor, path.key(key).path(), out);
        }
    }
    if e.services.is_some() {
        unsupported(path.key("services").path(), "matching by `services`", out);
    }
    if let Some(sa) = &e.service_accounts {
        // Calico's rule conversion: `(serviceAccounts) && (selector)`.
        if let Some(sa) = service_account_match(sa, flavor, path.key("serviceAccounts"), out) {
            selector = Some(match selector {
                Some(s) => sa.and(&s),
                None => sa,
            });
        }
    }
    if namespace_selector.as_ref().is_some_and(|s| s.uses_global()) {
        unsupported(path.key("namespaceSelector").path(), "`global()` (host endpoints and network sets)", out);
    }
    CalicoEntity {
        nets,
        not_nets,
        selector,
        not_selector,
        namespace_selector,
        namespace: namespace.map(str::to_string),
    }
}

/// `serviceAccounts` as the selector Calico's rule conversion makes of it:
/// `(pcsa.-prefixed selector) && (projectcalico.org/serviceaccount in {names})`,
/// either part absent when unset; `None` when neither is set (no restriction).
fn service_account_match(
    sa: &CalicoServiceAccountMatch,
    flavor: CalicoFlavor,
    path: Walk<'_>,
    out: &mut Vec<Finding>,
) -> Option<CalicoSelector> {
    let selector = sa
        .selector
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .and_then(|t| parse_selector(t, flavor, path.key("selector").path(), out))
        .map(|s| s.with_prefix(CALICO_SERVICE_ACCOUNT_PREFIX));
    // Calico accepts any string here (an empty name matches no pod).
    let names = sa.names.as_deref().filter(|n| !n.is_empty());
    let names = names.map(|n| CalicoSelector::key_in(CALICO_SERVICE_ACCOUNT_LABEL, n));
    match (selector, names) {
        (Some(s), Some(n)) => Some(s.and(&n)),
        (s, n) => s.or(n),
    }
}

fn calico_rule(
    r: &CalicoRule,
    direction: Direction,
    flavor: CalicoFlavor,
    namespace: Option<&str>,
    path: Walk<'_>,
    origin_at: OriginAt<'_>,
    out: &mut Vec<Finding>,
) -> TieredRule {
    let (actions, given): (&[&str], String) = if flavor == CalicoFlavor::V1 {
        let a = r.action.to_ascii_lowercase();
        (
            &["Allow", "Deny", "Log", "Pass"],
            match a.as_str() {
                "next-tier" | "pass" => "Pass".into(),
                "" => "Allow".into(),
                other => {
                    let mut c = other.chars();
                    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
                }
            },
        )
    } else {
        (&["Allow", "Deny", "Log", "Pass"], r.action.clone())
    };
    let action = match action(&given, actions, path.key("action").path(), out).as_deref() {
        Some("Allow") => Action::Allow,
        Some("Log") => Action::Log,
        Some("Pass") => Action::Pass,
        _ => Action::Deny,
    };
    let protocol = r.protocol.as_ref().map(|p| rule_protocol(p, path.key("protocol").path(), out));
    let not_protocol = r.not_protocol.as_ref().map(|p| rule_protocol(p, path.key("notProtocol").path(), out));
    if r.ip_version.is_some() {
        unsupported(path.key("ipVersion").path(), "`ipVersion`", out);
    }
    if r.http.is_some() {
        unsupported(path.key("http").path(), "HTTP matching (`http`)", out);
    }
    if r.icmp.is_some() && !matches!(protocol, Some(RuleProtocol::Other(_))) {
        out.push(Finding::value(
            d::INVALID_PROTOCOL,
            path.key("icmp").path(),
            "`icmp` needs `protocol: ICMP` or `ICMPv6`",
        ));
    }
    // The source and destination entities: the subject's side and the peer's.
    let (src_key, dst_key) = ("source", "destination");
    for (e, key) in [(&r.source, src_key)] {
        if e.ports.is_some() || e.not_ports.is_some() {
            unsupported(path.key(key).key("ports").path(), "matching on source ports", out);
        }
    }
    let src = entity(&r.source, flavor, namespace, path.key(src_key), out);
    let dst = entity(&r.destination, flavor, namespace, path.key(dst_key), out);
    let dst_ports =
        ports(r.destination.ports.as_deref().unwrap_or(&[]), protocol.as_ref(), path.key(dst_key).key("ports"), out);
    let not_ports = ports(
        r.destination.not_ports.as_deref().unwrap_or(&[]),
        protocol.as_ref(),
        path.key(dst_key).key("notPorts"),
        out,
    );
    let (local, remote) = match direction {
        Direction::Ingress => (dst, src),
        Direction::Egress => (src, dst),
    };
    TieredRule {
        name: None,
        action,
        peers: if remote.is_empty() { Vec::new() } else { vec![TieredPeer::Calico(remote)] },
        local: (!local.is_empty()).then_some(local),
        protocol,
        not_protocol,
        ports: dst_ports,
        not_ports,
        origin: Some(origin_at(&path.path())),
    }
}

/// A Calico policy, or `None` when it applies to host endpoints only (and so to no pod).
pub(crate) fn calico_policy(
    obj: &Calico,
    flavor: CalicoFlavor,
    name: &str,
    namespace: Option<&str>,
    origin_at: OriginAt<'_>,
    out: &mut Vec<Finding>,
) -> Option<TieredPolicy> {
    let spec = Walk::Root.key("spec");
    let s = &obj.spec;
    let selector = match s.selector.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => parse_selector(t, flavor, spec.key("selector").path(), out).unwrap_or_default(),
        None => CalicoSelector::all(),
    };
    let namespace_selector = s
        .namespace_selector
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .and_then(|t| parse_selector(t, flavor, spec.key("namespaceSelector").path(), out));
    // Calico's policy conversion: `(selector) && (pcsa.-prefixed serviceAccountSelector)`.
    let selector = match s.service_account_selector.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(t) => match parse_selector(t, flavor, spec.key("serviceAccountSelector").path(), out) {
            Some(sa) => selector.and(&sa.with_prefix(CALICO_SERVICE_ACCOUNT_PREFIX)),
            None => selector,
        },
        None => selector,
    };
    let tier = s.tier.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| DEFAULT_TIER.to_string());
    if s.order.is_none() {
        out.push(
            Finding::key(
                d::NO_ORDER,
                spec.path(),
                format!("Calico policy `{name}` has no `order`: it is applied last in tier `{tier}`"),
            )
            .help("set `spec.order` (lower runs first; Kubernetes NetworkPolicies sit at 1000 in the default tier)"),
        );
    }
    let ing = spec.key("ingress");
    let ingress: Vec<TieredRule> = s
        .ingress
        .iter()
        .enumerate()
        .map(|(i, r)| calico_rule(r, Direction::Ingress, flavor, namespace, ing.index(i), origin_at, out))
        .collect();
    let eg = spec.key("egress");
    let egress: Vec<TieredRule> = s
        .egress
        .iter()
        .enumerate()
        .map(|(i, r)| calico_rule(r, Direction::Egress, flavor, namespace, eg.index(i), origin_at, out))
        .collect();
    let types = match &s.types {
        Some(t) if !t.is_empty() => {
            let mut v = Vec::new();
            for (i, ty) in t.iter().enumerate() {
                match ty.as_str() {
                    "Ingress" | "ingress" => v.push(Direction::Ingress),
                    "Egress" | "egress" => v.push(Direction::Egress),
                    other => out.push(
                        Finding::value(
                            d::INVALID_POLICY_TYPE,
                            spec.key("types").index(i).path(),
                            format!("unknown policy type `{other}`"),
                        )
                        .help("use Ingress or Egress"),
                    ),
                }
            }
            v
        }
        _ => TieredPolicy::default_calico_types(!ingress.is_empty(), !egress.is_empty()),
    };
    let host_only = [s.do_not_track, s.pre_dnat].into_iter().flatten().any(|b| b);
    if host_only {
        out.push(
            Finding::key(
                d::HOST_ENDPOINT_ONLY,
                spec.path(),
                "a doNotTrack or preDNAT policy applies to host endpoints only: it affects no pod",
            )
            .help("netpol models pods; this policy is skipped"),
        );
        return None;
    }
    let kind = match flavor {
        CalicoFlavor::Namespaced => TieredKind::CalicoNetworkPolicy,
        CalicoFlavor::Global | CalicoFlavor::V1 => TieredKind::GlobalNetworkPolicy,
    };
    let subject = Subject::Calico { namespace: namespace.map(str::to_string), selector, namespace_selector };
    Some(TieredPolicy {
        kind,
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
        tier,
        order: s.order.map(Order),
        subject,
        types,
        ingress,
        egress,
        meta: ObjectMeta {
            labels: labels(obj.metadata.labels.as_ref()),
            annotations: labels(obj.metadata.annotations.as_ref()),
            creation_timestamp: obj.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        },
        origin: Some(origin_at(&FieldPath::root())),
    })
}

/// A Calico Tier, with the constraints Calico puts on the built-in ones.
pub(crate) fn calico_tier(obj: &CalicoTier, name: &str, origin_at: OriginAt<'_>, out: &mut Vec<Finding>) -> Tier {
    let spec = Walk::Root.key("spec");
    let default_action = match obj.spec.default_action.as_deref() {
        None | Some("Deny") => TierDefault::Deny,
        Some("Pass") => TierDefault::Pass,
        Some(other) => {
            action(other, &["Deny", "Pass"], spec.key("defaultAction").path(), out);
            TierDefault::Deny
        }
    };
    let builtin = Tier::builtin().into_iter().find(|t| t.name == name);
    if let Some(b) = &builtin {
        let order_ok = obj.spec.order.map(Order) == b.order;
        if !order_ok || default_action != b.default_action {
            out.push(Finding::value(
                d::INVALID_PRIORITY,
                spec.path(),
                format!(
                    "tier `{name}` is built in: its order must be {} and its defaultAction {}",
                    b.order.map(|o| o.to_string()).unwrap_or_default(),
                    b.default_action.as_str()
                ),
            ));
        }
    }
    Tier {
        name: name.to_string(),
        order: obj.spec.order.map(Order),
        default_action,
        declared: true,
        origin: Some(origin_at(&FieldPath::root())),
    }
}

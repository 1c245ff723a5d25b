//! AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy:
//! validation as their CRD schemas define it (network-policy-api v0.1.8 and
//! v0.2.0), then the model.

use netpol_model::{
    Action, Direction, ObjectMeta, Order, PolicyPort, Protocol, Subject, TieredKind, TieredPeer, TieredPolicy,
    TieredRule, KUBE_ADMIN_TIER, KUBE_BASELINE_TIER,
};

use super::api::{AnpPort, AnpSpec, ApiSubject, BanpSpec, CnpProtocol, CnpSpec, EgressPeer, IngressPeer, Upstream};
use super::{action, cidr, exactly_one, port, protocol, selector, OriginAt};
use crate::convert::labels;
use crate::diagnostic as d;
use crate::node::{FieldPath, Walk};
use crate::validate::Finding;

const ANP_ACTIONS: &[&str] = &["Allow", "Deny", "Pass"];
const BANP_ACTIONS: &[&str] = &["Allow", "Deny"];
const CNP_ACTIONS: &[&str] = &["Accept", "Deny", "Pass"];

fn meta<S>(obj: &Upstream<S>) -> ObjectMeta {
    ObjectMeta {
        labels: labels(obj.metadata.labels.as_ref()),
        annotations: labels(obj.metadata.annotations.as_ref()),
        creation_timestamp: obj.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
    }
}

fn priority(p: i64, out: &mut Vec<Finding>) -> Order {
    if !(0..=1000).contains(&p) {
        out.push(
            Finding::value(
                d::INVALID_PRIORITY,
                FieldPath::root().key("spec").key("priority"),
                format!("priority {p} is not in 0..=1000"),
            )
            .help("priorities run from 0 (evaluated first) to 1000"),
        );
    }
    Order(p as f64)
}

fn subject(s: &ApiSubject, path: Walk<'_>, out: &mut Vec<Finding>) -> Subject {
    exactly_one(&[("namespaces", s.namespaces.is_some()), ("pods", s.pods.is_some())], "`subject`", path.path(), out);
    match (&s.namespaces, &s.pods) {
        (Some(ns), _) => Subject::Namespaces(selector(ns, path.key("namespaces"), out)),
        (None, Some(p)) => Subject::Pods {
            namespaces: selector(&p.namespace_selector, path.key("pods").key("namespaceSelector"), out),
            pods: selector(&p.pod_selector, path.key("pods").key("podSelector"), out),
        },
        (None, None) => Subject::Namespaces(netpol_model::LabelSelector::default()),
    }
}

fn ingress_peer(p: &IngressPeer, path: Walk<'_>, out: &mut Vec<Finding>) -> TieredPeer {
    let e =
        EgressPeer { namespaces: p.namespaces.clone(), pods: None, nodes: None, networks: None, domain_names: None };
    match &p.pods {
        Some(pods) if p.namespaces.is_none() => TieredPeer::Pods {
            namespaces: selector(&pods.namespace_selector, path.key("pods").key("namespaceSelector"), out),
            pods: selector(&pods.pod_selector, path.key("pods").key("podSelector"), out),
        },
        _ => {
            let only = p.pods.is_none();
            if !only {
                exactly_one(&[("namespaces", true), ("pods", true)], "a peer", path.path(), out);
            }
            egress_peer(&e, path, out)
        }
    }
}

fn egress_peer(p: &EgressPeer, path: Walk<'_>, out: &mut Vec<Finding>) -> TieredPeer {
    let set = [
        ("namespaces", p.namespaces.is_some()),
        ("pods", p.pods.is_some()),
        ("nodes", p.nodes.is_some()),
        ("networks", p.networks.is_some()),
        ("domainNames", p.domain_names.is_some()),
    ];
    exactly_one(&set, "a peer", path.path(), out);
    if let Some(ns) = &p.namespaces {
        return TieredPeer::Namespaces(selector(ns, path.key("namespaces"), out));
    }
    if let Some(pods) = &p.pods {
        return TieredPeer::Pods {
            namespaces: selector(&pods.namespace_selector, path.key("pods").key("namespaceSelector"), out),
            pods: selector(&pods.pod_selector, path.key("pods").key("podSelector"), out),
        };
    }
    if let Some(nodes) = &p.nodes {
        return TieredPeer::Nodes(selector(nodes, path.key("nodes"), out));
    }
    if let Some(nets) = &p.networks {
        let at = path.key("networks");
        non_empty(nets, "networks", "a CIDR, e.g. `10.0.0.0/8`", at.path(), out);
        let nets = nets.iter().enumerate().filter_map(|(i, n)| {
            if !n.contains('/') && n.parse::<std::net::IpAddr>().is_ok() {
                // Unlike Calico's `nets`, the CRD's CIDR format wants the prefix length.
                let one = if n.contains(':') { "128" } else { "32" };
                out.push(
                    Finding::value(d::INVALID_CIDR, at.index(i).path(), format!("`{n}` is an address, not a CIDR"))
                        .help(format!("write `{n}/{one}` for this one address")),
                );
                return None;
            }
            cidr(n, at.index(i).path(), out)
        });
        return TieredPeer::Networks(nets.collect());
    }
    match &p.domain_names {
        Some(names) => {
            let item = "a domain name, e.g. `*.example.com`";
            non_empty(names, "domainNames", item, path.key("domainNames").path(), out);
            TieredPeer::DomainNames(names.clone())
        }
        // Nothing set (NP0061 above; the policy is refused): a peer of no address.
        None => TieredPeer::Networks(Vec::new()),
    }
}

/// An AdminNetworkPolicy rule's `ports`, and whether it names a port.
fn anp_rule_ports(ports: Option<&[AnpPort]>, at: Walk<'_>, out: &mut Vec<Finding>) -> (Vec<PolicyPort>, bool) {
    if let Some(ports) = ports {
        non_empty(ports, "ports", "a portNumber, namedPort or portRange", at.key("ports").path(), out);
    }
    let named = ports.into_iter().flatten().any(|p| p.named_port.is_some());
    (anp_ports(ports.unwrap_or(&[]), at.key("ports"), out), named)
}

/// A ClusterNetworkPolicy rule's `protocols`, and whether it names a port.
fn cnp_rule_ports(protocols: Option<&[CnpProtocol]>, at: Walk<'_>, out: &mut Vec<Finding>) -> (Vec<PolicyPort>, bool) {
    if let Some(protocols) = protocols {
        let item = "tcp, udp, sctp or destinationNamedPort";
        non_empty(protocols, "protocols", item, at.key("protocols").path(), out);
    }
    let named = protocols.into_iter().flatten().any(|p| p.destination_named_port.is_some());
    (cnp_ports(protocols.unwrap_or(&[]), at.key("protocols"), out), named)
}

/// A list the CRD's schema requires at least one item of (`minItems: 1`).
fn non_empty<T>(list: &[T], key: &str, item: &str, path: FieldPath, out: &mut Vec<Finding>) {
    if list.is_empty() {
        out.push(
            Finding::value(d::EMPTY_LIST, path, format!("`{key}` is an empty list"))
                .help(format!("list at least one item ({item}), or leave `{key}` out")),
        );
    }
}

fn anp_ports(ports: &[AnpPort], path: Walk<'_>, out: &mut Vec<Finding>) -> Vec<PolicyPort> {
    let mut v = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let at = path.index(i);
        let set = [
            ("portNumber", p.port_number.is_some()),
            ("namedPort", p.named_port.is_some()),
            ("portRange", p.port_range.is_some()),
        ];
        if !exactly_one(&set, "a port", at.path(), out) {
            continue;
        }
        if let Some(n) = &p.port_number {
            let proto = match &n.protocol {
                Some(p) => protocol(p, at.key("portNumber").key("protocol").path(), out),
                None => Protocol::Tcp,
            };
            v.push(PolicyPort::number(proto, port(n.port, at.key("portNumber").key("port").path(), out)));
        } else if let Some(name) = &p.named_port {
            // A named port carries no protocol: it matches the declared port on its own protocol.
            v.extend(Protocol::ALL.map(|proto| PolicyPort::named(proto, name.clone())));
        } else if let Some(r) = &p.port_range {
            let proto = match &r.protocol {
                Some(s) => protocol(s, at.key("portRange").key("protocol").path(), out),
                None => Protocol::Tcp,
            };
            v.push(range(proto, r.start, r.end, at.key("portRange"), out));
        }
    }
    v
}

fn range(proto: Protocol, start: i64, end: i64, at: Walk<'_>, out: &mut Vec<Finding>) -> PolicyPort {
    let s = port(start, at.key("start").path(), out);
    let e = port(end, at.key("end").path(), out);
    if s >= e {
        out.push(
            Finding::value(
                d::END_PORT_BELOW_PORT,
                at.key("end").path(),
                format!("range end {e} is not above its start {s}"),
            )
            .help("a range needs start < end; for one port use a port number"),
        );
    }
    PolicyPort::range(proto, s, e.max(s))
}

fn cnp_ports(protocols: &[CnpProtocol], path: Walk<'_>, out: &mut Vec<Finding>) -> Vec<PolicyPort> {
    let mut v = Vec::new();
    for (i, p) in protocols.iter().enumerate() {
        let at = path.index(i);
        let set = [
            ("tcp", p.tcp.is_some()),
            ("udp", p.udp.is_some()),
            ("sctp", p.sctp.is_some()),
            ("destinationNamedPort", p.destination_named_port.is_some()),
        ];
        if !exactly_one(&set, "a protocol", at.path(), out) {
            continue;
        }
        if let Some(name) = &p.destination_named_port {
            v.extend(Protocol::ALL.map(|proto| PolicyPort::named(proto, name.clone())));
            continue;
        }
        let (proto, key, dest) = match (&p.tcp, &p.udp, &p.sctp) {
            (Some(d), _, _) => (Protocol::Tcp, "tcp", d),
            (_, Some(d), _) => (Protocol::Udp, "udp", d),
            (_, _, Some(d)) => (Protocol::Sctp, "sctp", d),
            _ => continue,
        };
        let proto_at = at.key(key);
        let at = proto_at.key("destinationPort");
        match &dest.destination_port {
            None => out.push(
                Finding::value(d::EXACTLY_ONE, at.path(), format!("`{key}` sets no `destinationPort`"))
                    .help(format!("add `destinationPort: {{number: N}}` or `{{range: {{start: A, end: B}}}}`; for every {} port leave `protocols` out or use a range 1-65535", key.to_uppercase())),
            ),
            Some(dp) => {
                if !exactly_one(&[("number", dp.number.is_some()), ("range", dp.range.is_some())], "`destinationPort`", at.path(), out) {
                    continue;
                }
                if let Some(n) = dp.number {
                    v.push(PolicyPort::number(proto, port(n, at.key("number").path(), out)));
                } else if let Some(r) = &dp.range {
                    v.push(range(proto, r.start, r.end, at.key("range"), out));
                }
            }
        }
    }
    v
}

/// Rules of one direction, with the checks every upstream kind shares.
#[allow(clippy::too_many_arguments)]
fn rule(
    name: &Option<String>,
    given: &str,
    actions: &[&str],
    peers: Vec<TieredPeer>,
    ports: Vec<PolicyPort>,
    has_named: bool,
    path: Walk<'_>,
    origin_at: OriginAt<'_>,
    out: &mut Vec<Finding>,
) -> TieredRule {
    let action = match action(given, actions, path.key("action").path(), out).as_deref() {
        Some("Allow" | "Accept") => Action::Allow,
        Some("Pass") => Action::Pass,
        _ => Action::Deny,
    };
    let peers_key = if path.path().0.iter().any(|s| matches!(s, crate::node::Seg::Key(k) if k == "egress")) {
        "to"
    } else {
        "from"
    };
    if peers.is_empty() {
        out.push(
            Finding::value(d::EMPTY_PEER, path.key(peers_key).path(), format!("`{peers_key}` lists no peer"))
                .help("list at least one peer"),
        );
    }
    let outside =
        peers.iter().any(|p| matches!(p, TieredPeer::Networks(_) | TieredPeer::Nodes(_) | TieredPeer::DomainNames(_)));
    if outside && has_named {
        out.push(Finding::value(
            d::INVALID_PORT_NAME,
            path.key(peers_key).path(),
            "networks/nodes/domainNames peers cannot be set with named ports: they have no named ports",
        ));
    }
    if action != Action::Allow && peers.iter().any(|p| matches!(p, TieredPeer::DomainNames(_))) {
        out.push(Finding::value(
            d::INVALID_ACTION,
            path.key("action").path(),
            "domainNames peers are supported in Allow rules only",
        ));
    }
    TieredRule {
        name: name.clone().filter(|n| !n.is_empty()),
        action,
        peers,
        local: None,
        protocol: None,
        not_protocol: None,
        ports,
        not_ports: Vec::new(),
        origin: Some(origin_at(&path.path())),
    }
}

/// Types of an upstream policy: the directions it has rules for ("ANPs with no
/// ingress rules do not affect ingress traffic").
fn types(ingress: &[TieredRule], egress: &[TieredRule]) -> Vec<Direction> {
    let mut t = Vec::new();
    if !ingress.is_empty() {
        t.push(Direction::Ingress);
    }
    if !egress.is_empty() {
        t.push(Direction::Egress);
    }
    t
}

struct Rules {
    ingress: Vec<TieredRule>,
    egress: Vec<TieredRule>,
}

fn anp_rules(
    ingress: &[super::api::AnpIngressRule],
    egress: &[super::api::AnpEgressRule],
    actions: &[&str],
    origin_at: OriginAt<'_>,
    out: &mut Vec<Finding>,
) -> Rules {
    let spec = Walk::Root.key("spec");
    let ing = spec.key("ingress");
    let ingress = ingress
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = ing.index(i);
            let peers = r.from.iter().enumerate().map(|(j, p)| ingress_peer(p, at.key("from").index(j), out)).collect();
            let (ports, named) = anp_rule_ports(r.ports.as_deref(), at, out);
            rule(&r.name, &r.action, actions, peers, ports, named, at, origin_at, out)
        })
        .collect();
    let eg = spec.key("egress");
    let egress = egress
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = eg.index(i);
            let peers = r.to.iter().enumerate().map(|(j, p)| egress_peer(p, at.key("to").index(j), out)).collect();
            let (ports, named) = anp_rule_ports(r.ports.as_deref(), at, out);
            rule(&r.name, &r.action, actions, peers, ports, named, at, origin_at, out)
        })
        .collect();
    Rules { ingress, egress }
}

pub(crate) fn anp(
    obj: &Upstream<AnpSpec>,
    name: &str,
    origin_at: OriginAt<'_>,
    out: &mut Vec<Finding>,
) -> TieredPolicy {
    let order = priority(obj.spec.priority, out);
    let subject = subject(&obj.spec.subject, Walk::Root.key("spec").key("subject"), out);
    let Rules { ingress, egress } = anp_rules(&obj.spec.ingress, &obj.spec.egress, ANP_ACTIONS, origin_at, out);
    TieredPolicy {
        kind: TieredKind::AdminNetworkPolicy,
        namespace: None,
        name: name.to_string(),
        tier: KUBE_ADMIN_TIER.to_string(),
        order: Some(order),
        subject,
        types: types(&ingress, &egress),
        ingress,
        egress,
        meta: meta(obj),
        origin: Some(origin_at(&FieldPath::root())),
    }
}

pub(crate) fn banp(
    obj: &Upstream<BanpSpec>,
    name: &str,
    origin_at: OriginAt<'_>,
    out: &mut Vec<Finding>,
) -> TieredPolicy {
    if name != "default" {
        out.push(
            Finding::value(
                d::INVALID_NAME,
                FieldPath::root().key("metadata").key("name"),
                "a BaselineAdminNetworkPolicy must be named `default`",
            )
            .help("only one BaselineAdminNetworkPolicy exists per cluster, with `metadata.name: default`"),
        );
    }
    let subject = subject(&obj.spec.subject, Walk::Root.key("spec").key("subject"), out);
    let Rules { ingress, egress } = anp_rules(&obj.spec.ingress, &obj.spec.egress, BANP_ACTIONS, origin_at, out);
    TieredPolicy {
        kind: TieredKind::BaselineAdminNetworkPolicy,
        namespace: None,
        name: name.to_string(),
        tier: KUBE_BASELINE_TIER.to_string(),
        order: None,
        subject,
        types: types(&ingress, &egress),
        ingress,
        egress,
        meta: meta(obj),
        origin: Some(origin_at(&FieldPath::root())),
    }
}

pub(crate) fn cnp(
    obj: &Upstream<CnpSpec>,
    name: &str,
    origin_at: OriginAt<'_>,
    out: &mut Vec<Finding>,
) -> TieredPolicy {
    let spec = Walk::Root.key("spec");
    let tier = match obj.spec.tier.as_str() {
        "Admin" => KUBE_ADMIN_TIER,
        "Baseline" => KUBE_BASELINE_TIER,
        other => {
            let near = if other.eq_ignore_ascii_case("admin") {
                "did you mean `Admin`? "
            } else if other.eq_ignore_ascii_case("baseline") {
                "did you mean `Baseline`? "
            } else {
                ""
            };
            out.push(
                Finding::value(d::INVALID_ACTION, spec.key("tier").path(), format!("unknown tier `{other}`"))
                    .help(format!("{near}a ClusterNetworkPolicy's tier is `Admin` or `Baseline`")),
            );
            KUBE_ADMIN_TIER
        }
    };
    let order = priority(obj.spec.priority, out);
    let subject = subject(&obj.spec.subject, spec.key("subject"), out);
    let ing = spec.key("ingress");
    let ingress: Vec<TieredRule> = obj
        .spec
        .ingress
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = ing.index(i);
            let peers = r.from.iter().enumerate().map(|(j, p)| ingress_peer(p, at.key("from").index(j), out)).collect();
            let (ports, named) = cnp_rule_ports(r.protocols.as_deref(), at, out);
            rule(&r.name, &r.action, CNP_ACTIONS, peers, ports, named, at, origin_at, out)
        })
        .collect();
    let eg = spec.key("egress");
    let egress: Vec<TieredRule> = obj
        .spec
        .egress
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at = eg.index(i);
            let peers = r.to.iter().enumerate().map(|(j, p)| egress_peer(p, at.key("to").index(j), out)).collect();
            let (ports, named) = cnp_rule_ports(r.protocols.as_deref(), at, out);
            rule(&r.name, &r.action, CNP_ACTIONS, peers, ports, named, at, origin_at, out)
        })
        .collect();
    TieredPolicy {
        kind: TieredKind::ClusterNetworkPolicy,
        namespace: None,
        name: name.to_string(),
        tier: tier.to_string(),
        order: Some(order),
        subject,
        types: types(&ingress, &egress),
        ingress,
        egress,
        meta: meta(obj),
        origin: Some(origin_at(&FieldPath::root())),
    }
}

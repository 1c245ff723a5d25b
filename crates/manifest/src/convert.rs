//! The one place where k8s-openapi types become `netpol_model` types, with the
//! API server's defaulting (policyTypes, protocol TCP, the namespace name label).
//!
//! Inputs are already validated: anything that would not convert cleanly was
//! rejected before, so the fallbacks here (skipping an unparsable IP) are never
//! taken for objects that reach the model.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use netpol_model::{
    ContainerPort, Direction, IpBlock, LabelSelector, Labels, NetworkPolicy, ObjectMeta, Operator, Origin, Peer,
    PodServiceAccount, PolicyPort, PortRef, Protocol, Requirement, Rule, Service, ServicePort, WorkloadKind,
};

use crate::node::FieldPath;
use crate::validate::parse_cidr;

/// Gives the origin (file, line, column) of a path inside the object being converted.
pub(crate) type OriginAt<'a> = &'a dyn Fn(&FieldPath) -> Origin;

pub(crate) fn labels(map: Option<&BTreeMap<String, String>>) -> Labels {
    map.map(|m| m.iter().collect()).unwrap_or_default()
}

fn protocol(p: Option<&str>) -> Protocol {
    p.and_then(|p| p.parse().ok()).unwrap_or_default()
}

pub(crate) fn selector(sel: &meta::LabelSelector) -> LabelSelector {
    LabelSelector {
        match_labels: sel.match_labels.iter().flatten().collect(),
        match_expressions: sel
            .match_expressions
            .iter()
            .flatten()
            .filter_map(|r| {
                let op = Operator::parse(&r.operator)?;
                Some(Requirement::new(r.key.clone(), op, r.values.iter().flatten().cloned()))
            })
            .collect(),
    }
}

/// A Node: its labels and its InternalIP and ExternalIP addresses (what
/// `nodes` peers of the ordered kinds match).
pub(crate) fn node(n: &core::Node, name: &str, origin: Origin) -> netpol_model::Node {
    let addresses = n
        .status
        .iter()
        .flat_map(|s| s.addresses.iter().flatten())
        .filter(|a| a.type_ == "InternalIP" || a.type_ == "ExternalIP")
        .filter_map(|a| a.address.parse().ok())
        .collect();
    netpol_model::Node {
        name: name.to_string(),
        labels: labels(n.metadata.labels.as_ref()),
        addresses,
        origin: Some(origin),
    }
}

pub(crate) fn namespace(ns: &core::Namespace, name: &str, origin: Origin) -> netpol_model::Namespace {
    let mut out = netpol_model::Namespace::new(name, labels(ns.metadata.labels.as_ref()));
    out.origin = Some(origin);
    out
}

fn container_ports(spec: Option<&core::PodSpec>) -> Vec<ContainerPort> {
    spec.into_iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            Some(ContainerPort {
                name: p.name.clone().filter(|n| !n.is_empty()),
                port: u16::try_from(p.container_port).ok()?,
                protocol: protocol(p.protocol.as_deref()),
            })
        })
        .collect()
}

fn pod_ips(status: Option<&core::PodStatus>) -> Vec<IpAddr> {
    let Some(status) = status else { return Vec::new() };
    let mut ips: Vec<IpAddr> = Vec::new();
    // Each address once, in order (the API server would refuse a repeated one).
    for ip in status.pod_ips.iter().flatten().filter_map(|p| p.ip.parse().ok()) {
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    if let Some(ip) = status.pod_ip.as_deref().and_then(|s| s.parse().ok()) {
        if !ips.contains(&ip) {
            ips.insert(0, ip);
        }
    }
    ips
}

/// A Pod, or a workload's pod template (then `status` is `None` and the pod has no IPs).
pub(crate) struct PodParts<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub kind: WorkloadKind,
    pub labels: Option<&'a BTreeMap<String, String>>,
    pub spec: Option<&'a core::PodSpec>,
    pub status: Option<&'a core::PodStatus>,
}

impl<'a> PodParts<'a> {
    /// A Pod as it is.
    pub fn of_pod(namespace: &'a str, name: &'a str, pod: &'a core::Pod) -> Self {
        PodParts {
            namespace,
            name,
            kind: WorkloadKind::Pod,
            labels: pod.metadata.labels.as_ref(),
            spec: pod.spec.as_ref(),
            status: pod.status.as_ref(),
        }
    }

    /// A workload's pod template (no status: no IPs).
    pub fn of_template(
        namespace: &'a str,
        name: &'a str,
        kind: WorkloadKind,
        template: Option<&'a core::PodTemplateSpec>,
    ) -> Self {
        PodParts {
            namespace,
            name,
            kind,
            labels: template.and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.as_ref()),
            spec: template.and_then(|t| t.spec.as_ref()),
            status: None,
        }
    }
}

/// `spec.serviceAccountName`, or `serviceAccount` (the deprecated alias the API server still fills in).
pub(crate) fn service_account_name(spec: Option<&core::PodSpec>) -> Option<String> {
    spec.and_then(|s| s.service_account_name.clone().or_else(|| s.service_account.clone())).filter(|n| !n.is_empty())
}

pub(crate) fn pod(parts: PodParts<'_>, origin: Origin) -> netpol_model::Pod {
    netpol_model::Pod {
        namespace: parts.namespace.to_string(),
        name: parts.name.to_string(),
        kind: parts.kind,
        labels: labels(parts.labels),
        ips: pod_ips(parts.status),
        ports: container_ports(parts.spec),
        host_network: parts.spec.and_then(|s| s.host_network).unwrap_or(false),
        node: parts.spec.and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()),
        service_account: PodServiceAccount {
            // Unset is `default`, as the API server's ServiceAccount admission sets it
            // on a pod created from a file or a template ([`crate::api::pod`] keeps a
            // live pod's own value).
            name: Some(service_account_name(parts.spec).unwrap_or_else(|| "default".to_string())),
            labels: None,
        },
        origin: Some(origin),
    }
}

pub(crate) fn service(svc: &core::Service, namespace: &str, name: &str, origin: Origin) -> Service {
    let spec = svc.spec.as_ref();
    let selector = spec.and_then(|s| s.selector.as_ref()).filter(|s| !s.is_empty()).map(|s| s.iter().collect());
    let ports = spec
        .into_iter()
        .flat_map(|s| s.ports.iter().flatten())
        .filter_map(|p| {
            let port = u16::try_from(p.port).ok()?;
            let target_port = match &p.target_port {
                Some(IntOrString::Int(n)) => PortRef::Number(u16::try_from(*n).ok()?),
                Some(IntOrString::String(s)) => PortRef::Name(s.clone()),
                None => PortRef::Number(port),
            };
            Some(ServicePort { name: p.name.clone(), port, target_port, protocol: protocol(p.protocol.as_deref()) })
        })
        .collect();
    let mut cluster_ips: Vec<IpAddr> = Vec::new();
    let written = spec.into_iter().flat_map(|s| s.cluster_ips.iter().flatten().chain(s.cluster_ip.iter()));
    for ip in written.filter_map(|s| s.parse::<IpAddr>().ok()) {
        if !cluster_ips.contains(&ip) {
            cluster_ips.push(ip);
        }
    }
    Service {
        namespace: namespace.to_string(),
        name: name.to_string(),
        selector,
        ports,
        cluster_ips,
        origin: Some(origin),
    }
}

fn peer(p: &net::NetworkPolicyPeer) -> Option<Peer> {
    if let Some(block) = &p.ip_block {
        let cidr = parse_cidr(&block.cidr)?;
        let except = block.except.iter().flatten().filter_map(|e| parse_cidr(e)).collect();
        return Some(Peer::IpBlock(IpBlock::new(cidr, except)));
    }
    Some(Peer::Pods {
        pod_selector: p.pod_selector.as_ref().map(selector),
        namespace_selector: p.namespace_selector.as_ref().map(selector),
    })
}

fn policy_port(p: &net::NetworkPolicyPort) -> PolicyPort {
    let protocol = protocol(p.protocol.as_deref());
    let port = match &p.port {
        Some(IntOrString::Int(n)) => u16::try_from(*n).ok().map(PortRef::Number),
        Some(IntOrString::String(s)) => Some(PortRef::Name(s.clone())),
        None => None,
    };
    let end_port =
        if matches!(port, Some(PortRef::Number(_))) { p.end_port.and_then(|e| u16::try_from(e).ok()) } else { None };
    PolicyPort { protocol, port, end_port }
}

fn rule(
    peers: Option<&Vec<net::NetworkPolicyPeer>>,
    ports: Option<&Vec<net::NetworkPolicyPort>>,
    path: &FieldPath,
    origin_at: OriginAt<'_>,
) -> Rule {
    Rule {
        peers: peers.into_iter().flatten().filter_map(peer).collect(),
        ports: ports.into_iter().flatten().map(policy_port).collect(),
        origin: Some(origin_at(path)),
    }
}

pub(crate) fn network_policy(
    np: &net::NetworkPolicy,
    namespace: &str,
    name: &str,
    origin_at: OriginAt<'_>,
) -> NetworkPolicy {
    let default_spec = net::NetworkPolicySpec::default();
    let spec = np.spec.as_ref().unwrap_or(&default_spec);
    let spec_path = FieldPath::root().key("spec");
    let ingress: Vec<Rule> = spec
        .ingress
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| rule(r.from.as_ref(), r.ports.as_ref(), &spec_path.key("ingress").index(i), origin_at))
        .collect();
    let egress: Vec<Rule> = spec
        .egress
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| rule(r.to.as_ref(), r.ports.as_ref(), &spec_path.key("egress").index(i), origin_at))
        .collect();
    // SetDefaults_NetworkPolicySpec: Ingress always, Egress when `len(spec.Egress) != 0`.
    let written = spec.policy_types.as_deref().unwrap_or(&[]);
    let defaulted = written.is_empty();
    let policy_types = if defaulted {
        NetworkPolicy::default_policy_types(!egress.is_empty())
    } else {
        let mut types = Vec::new();
        for t in written {
            let d = if t == "Egress" { Direction::Egress } else { Direction::Ingress };
            if !types.contains(&d) {
                types.push(d);
            }
        }
        types
    };
    NetworkPolicy {
        namespace: namespace.to_string(),
        name: name.to_string(),
        pod_selector: spec.pod_selector.as_ref().map(selector).unwrap_or_default(),
        policy_types,
        policy_types_defaulted: defaulted,
        ingress,
        egress,
        meta: ObjectMeta {
            labels: labels(np.metadata.labels.as_ref()),
            annotations: labels(np.metadata.annotations.as_ref()),
            creation_timestamp: np.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        },
        origin: Some(origin_at(&FieldPath::root())),
    }
}

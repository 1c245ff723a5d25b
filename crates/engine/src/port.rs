//! Matching one `ports` entry of a rule: numbers, `endPort` ranges, named ports
//! (resolved against the flow's destination pod) and protocol-only entries.

use netpol_model::{PolicyPort, PortRef, Protocol};

use crate::evaluate::Side;
use crate::{PortRange, PortSet};

/// The port as written: `80/TCP`, `8000-8080/TCP`, `named port `http`/TCP`, `all TCP ports`.
pub(crate) fn port_spec(p: &PolicyPort) -> String {
    match (&p.port, p.end_port) {
        (None, _) => format!("all {} ports", p.protocol),
        (Some(PortRef::Name(n)), _) => format!("named port `{n}`/{}", p.protocol),
        (Some(PortRef::Number(n)), None) => format!("{n}/{}", p.protocol),
        (Some(PortRef::Number(n)), Some(e)) => format!("{n}-{e}/{}", p.protocol),
    }
}

/// The ports one `ports` entry allows towards `dst`, or why it allows none
/// (a named port the destination does not declare, or an external destination).
pub(crate) fn port_set(p: &PolicyPort, dst: &Side) -> Result<PortSet, String> {
    let mut set = PortSet::none();
    match (&p.port, p.end_port) {
        (None, _) => set.insert(p.protocol, PortRange::all()),
        (Some(PortRef::Number(n)), None) => set.insert(p.protocol, PortRange::single(*n)),
        (Some(PortRef::Number(n)), Some(e)) => set.insert(p.protocol, PortRange::new(*n, e)),
        (Some(PortRef::Name(name)), _) => {
            for port in resolve_named(name, p.protocol, dst)? {
                set.insert(p.protocol, PortRange::single(port));
            }
        }
    }
    Ok(set)
}

/// Every number the destination declares for `name`/`protocol`, sorted. Port names
/// are unique within one container only, so several containers may declare the
/// same name; like kube-network-policies and Calico, every declaration counts
/// (not only the first, as a Service's `targetPort` would take).
fn resolve_named(name: &str, protocol: Protocol, dst: &Side) -> Result<Vec<u16>, String> {
    let Some(pod) = dst.pod else {
        return Err(format!(
            "named port `{name}` never matches an external destination ({} is not a pod)",
            dst.endpoint
        ));
    };
    let key = format!("{}/{}", pod.namespace, pod.name);
    if pod.host_network {
        return Err(format!(
            "named port `{name}` never matches {key}: a hostNetwork pod is node traffic, whose ports have no names"
        ));
    }
    let mut ports: Vec<u16> = pod
        .ports
        .iter()
        .filter(|c| c.protocol == protocol && c.name.as_deref() == Some(name))
        .map(|c| c.port)
        .collect();
    ports.sort_unstable();
    ports.dedup();
    if !ports.is_empty() {
        return Ok(ports);
    }
    let mut others: Vec<&str> =
        pod.ports.iter().filter(|c| c.name.as_deref() == Some(name)).map(|c| c.protocol.as_str()).collect();
    others.sort_unstable();
    others.dedup();
    if others.is_empty() {
        Err(format!("named port `{name}` is not declared by the destination {key}"))
    } else {
        Err(format!(
            "named port `{name}` is declared by the destination {key} for {} only, not {protocol}",
            others.join("/")
        ))
    }
}

pub(crate) struct PortOutcome {
    pub matched: bool,
    pub reason: String,
    /// Set when the entry can match nothing towards this destination (named port issues).
    pub unresolved: bool,
    /// The entry as written, with a named port's resolution: "named port `http`/TCP (8080 on x/b)".
    pub allows: String,
    /// An implementation-defined choice that decided this entry (see docs/semantics.md).
    pub note: Option<String>,
}

/// The note for a named port that cannot resolve on a hostNetwork destination.
const HOST_NETWORK_NAMED_PORT: &str =
    "hostNetwork pods are node traffic: named ports never match them (numbered ports do)";

/// Does one `ports` entry match the flow's `port`/`protocol` towards `dst`?
pub(crate) fn check_port(p: &PolicyPort, dst: &Side, protocol: Protocol, port: u16) -> PortOutcome {
    let spec = port_spec(p);
    let flow = format!("{port}/{protocol}");
    match port_set(p, dst) {
        Err(reason) => {
            let note = dst.pod.filter(|d| d.host_network).map(|_| HOST_NETWORK_NAMED_PORT.to_string());
            PortOutcome { matched: false, reason, unresolved: true, allows: spec, note }
        }
        Ok(set) => {
            let matched = set.contains(protocol, port);
            let (resolved, allows) = match &p.port {
                Some(PortRef::Name(_)) => {
                    let on = dst.pod.map(|d| format!("{}/{}", d.namespace, d.name)).unwrap_or_default();
                    let numbers = set.ranges(p.protocol).iter().flat_map(|r| r.start..=r.end);
                    let n = numbers.map(|n| n.to_string()).collect::<Vec<_>>().join(", ");
                    (format!("{spec} is {n} on {on}"), format!("{spec} ({n} on {on})"))
                }
                _ => (spec.clone(), spec),
            };
            let reason = if matched {
                format!("{resolved} matches {flow}")
            } else {
                format!("{resolved} does not match {flow}")
            };
            PortOutcome { matched, reason, unresolved: false, allows, note: None }
        }
    }
}

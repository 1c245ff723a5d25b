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
            let port = resolve_named(name, p.protocol, dst)?;
            set.insert(p.protocol, PortRange::single(port));
        }
    }
    Ok(set)
}

fn resolve_named(name: &str, protocol: Protocol, dst: &Side) -> Result<u16, String> {
    let Some(pod) = dst.pod else {
        return Err(format!(
            "named port `{name}` never matches an external destination ({} is not a pod)",
            dst.endpoint
        ));
    };
    if let Some(port) = pod.resolve_port(name, protocol) {
        return Ok(port);
    }
    let key = format!("{}/{}", pod.namespace, pod.name);
    let others: Vec<&str> =
        pod.ports.iter().filter(|c| c.name.as_deref() == Some(name)).map(|c| c.protocol.as_str()).collect();
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
}

/// Does one `ports` entry match the flow's `port`/`protocol` towards `dst`?
pub(crate) fn check_port(p: &PolicyPort, dst: &Side, protocol: Protocol, port: u16) -> PortOutcome {
    let spec = port_spec(p);
    let flow = format!("{port}/{protocol}");
    match port_set(p, dst) {
        Err(reason) => PortOutcome { matched: false, reason, unresolved: true, allows: spec },
        Ok(set) => {
            let matched = set.contains(protocol, port);
            let (resolved, allows) = match &p.port {
                Some(PortRef::Name(_)) => {
                    let on = dst.pod.map(|d| format!("{}/{}", d.namespace, d.name)).unwrap_or_default();
                    let n = set.ranges(p.protocol).first().map(ToString::to_string).unwrap_or_else(|| "0".to_string());
                    (format!("{spec} is {n} on {on}"), format!("{spec} ({n} on {on})"))
                }
                _ => (spec.clone(), spec),
            };
            let reason = if matched {
                format!("{resolved} matches {flow}")
            } else {
                format!("{resolved} does not match {flow}")
            };
            PortOutcome { matched, reason, unresolved: false, allows }
        }
    }
}

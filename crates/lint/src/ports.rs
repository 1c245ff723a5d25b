//! Ports against what the pods declare: named ports nobody declares (NP0108),
//! `endPort` ranges wider than the declared ports they cover (NP0109).
//! A rule's ports are resolved on its destinations: the policy's pods for
//! ingress, the rule's peers for egress.

use netpol_model::{NetworkPolicy, Pod, PortRef, Protocol};

use crate::codes::{UNDECLARED_NAMED_PORT, WIDE_END_PORT};
use crate::context::{port_name, rule_target, some_of, Context};
use crate::Finding;

pub(crate) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    if cx.cluster.pods.is_empty() {
        return;
    }
    for policy in &cx.cluster.policies {
        for (direction, index, rule) in Context::rules(policy) {
            if rule.ports.is_empty() {
                continue;
            }
            let dests = cx.destinations(policy, direction, rule);
            if dests.is_empty() {
                continue;
            }
            for (k, port) in rule.ports.iter().enumerate() {
                let at = |field: &str| cx.rule_field_at(policy, direction, index, &format!("ports[{k}].{field}"));
                let target = || rule_target(policy, direction, index);
                if let Some(name) = port_name(port) {
                    if let Some((message, help)) = undeclared(policy, name, port.protocol, &dests) {
                        out.push(cx.finding(UNDECLARED_NAMED_PORT, at("port"), message, help, target()));
                    }
                } else if let (Some(PortRef::Number(start)), Some(end)) = (&port.port, port.end_port) {
                    if let Some((message, help)) = wide(*start, end, port.protocol, &dests) {
                        out.push(cx.finding(WIDE_END_PORT, at("endPort"), message, help, target()));
                    }
                }
            }
        }
    }
}

fn undeclared(policy: &NetworkPolicy, name: &str, protocol: Protocol, dests: &[&Pod]) -> Option<(String, String)> {
    if dests.iter().any(|p| p.named_ports(name, protocol).next().is_some()) {
        return None;
    }
    let keys: Vec<String> = dests.iter().map(|p| p.key().to_string()).collect();
    let message = format!(
        "named port `{name}` ({protocol}) is declared by none of the pods it resolves on ({}): it allows nothing",
        some_of(&keys)
    );
    let other: Vec<String> = dests
        .iter()
        .flat_map(|p| p.ports.iter().filter(|c| c.name.as_deref() == Some(name)).map(|c| c.protocol))
        .map(|p| p.to_string())
        .collect();
    let help = if let Some(protocol) = other.first() {
        format!("the pods declare `{name}` for {protocol}: set `protocol: {protocol}` on this port")
    } else {
        let names: Vec<String> =
            dests.iter().flat_map(|p| p.ports.iter().filter_map(|c| c.name.clone())).collect::<Vec<_>>();
        let mut names = names;
        names.sort();
        names.dedup();
        if names.is_empty() {
            format!(
                "name the container port `{name}` in the pods' specs (`ports: [{{name: {name}, containerPort: N}}]`), or use the port number in `{}`",
                policy.key()
            )
        } else {
            format!("the pods declare the port names {}: use one of them, or the port number", some_of(&names))
        }
    };
    Some((message, help))
}

fn wide(start: u16, end: u16, protocol: Protocol, dests: &[&Pod]) -> Option<(String, String)> {
    let mut declared: Vec<u16> =
        dests.iter().flat_map(|p| p.ports.iter().filter(|c| c.protocol == protocol).map(|c| c.port)).collect();
    declared.sort_unstable();
    declared.dedup();
    if declared.is_empty() {
        return None; // the pods declare no ports: nothing to compare with
    }
    let inside: Vec<u16> = declared.iter().copied().filter(|p| (start..=end).contains(p)).collect();
    let list = |ports: &[u16]| some_of(&ports.iter().map(u16::to_string).collect::<Vec<_>>());
    let (Some(&low), Some(&high)) = (inside.first(), inside.last()) else {
        let message = format!(
            "port range {start}-{end}/{protocol} covers none of the ports its destination pods declare ({})",
            list(&declared)
        );
        return Some((message, "allow the ports the pods declare, or check the range".to_string()));
    };
    if low == start && high == end {
        return None;
    }
    let message = format!(
        "port range {start}-{end}/{protocol} is wider than the ports its destination pods declare in it ({}): it also allows {} undeclared port{}",
        list(&inside),
        u32::from(end - start) + 1 - inside.len() as u32,
        if u32::from(end - start) + 1 - inside.len() as u32 == 1 { "" } else { "s" }
    );
    let help = if low == high {
        format!("narrow it to `port: {low}` (no endPort)")
    } else {
        format!("narrow it to `port: {low}, endPort: {high}`")
    };
    Some((message, help))
}

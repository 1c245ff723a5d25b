//! Calico policies as `projectcalico.org/v3` YAML: what `netpol convert` prints.
//! Printed from the model, so the output is exactly what netpol read (a v1
//! `policy` comes out as the GlobalNetworkPolicy Calico's conversion made of it).

use netpol_model::{
    Action, CalicoEntity, Direction, PolicyPort, PortRef, RuleProtocol, Subject, TieredKind, TieredPeer, TieredPolicy,
    TieredRule,
};
use serde_json::{json, Map, Value};

fn action(a: Action) -> &'static str {
    a.as_str()
}

fn port(p: &PolicyPort) -> Value {
    match (&p.port, p.end_port) {
        (Some(PortRef::Number(n)), None) => json!(n),
        (Some(PortRef::Number(n)), Some(e)) => json!(format!("{n}:{e}")),
        (Some(PortRef::Name(s)), _) => json!(s),
        (None, _) => json!("1:65535"),
    }
}

fn entity(e: Option<&CalicoEntity>, ports: &[PolicyPort], not_ports: &[PolicyPort]) -> Value {
    let mut m = Map::new();
    if let Some(e) = e {
        if !e.nets.is_empty() {
            m.insert("nets".into(), json!(e.nets.iter().map(|n| n.to_string()).collect::<Vec<_>>()));
        }
        if !e.not_nets.is_empty() {
            m.insert("notNets".into(), json!(e.not_nets.iter().map(|n| n.to_string()).collect::<Vec<_>>()));
        }
        if let Some(s) = &e.selector {
            m.insert("selector".into(), json!(s.to_string()));
        }
        if let Some(s) = &e.not_selector {
            m.insert("notSelector".into(), json!(s.to_string()));
        }
        if let Some(s) = &e.namespace_selector {
            m.insert("namespaceSelector".into(), json!(s.to_string()));
        }
    }
    if !ports.is_empty() {
        m.insert("ports".into(), Value::Array(ports.iter().map(port).collect()));
    }
    if !not_ports.is_empty() {
        m.insert("notPorts".into(), Value::Array(not_ports.iter().map(port).collect()));
    }
    Value::Object(m)
}

fn proto(p: &RuleProtocol) -> Value {
    json!(p.to_string())
}

fn rule(r: &TieredRule, direction: Direction) -> Value {
    let mut m = Map::new();
    m.insert("action".into(), json!(action(r.action)));
    if let Some(p) = &r.protocol {
        m.insert("protocol".into(), proto(p));
    }
    if let Some(p) = &r.not_protocol {
        m.insert("notProtocol".into(), proto(p));
    }
    let remote = r.peers.iter().find_map(|p| match p {
        TieredPeer::Calico(e) => Some(e),
        _ => None,
    });
    let (source, destination) = match direction {
        Direction::Ingress => (entity(remote, &[], &[]), entity(r.local.as_ref(), &r.ports, &r.not_ports)),
        Direction::Egress => (entity(r.local.as_ref(), &[], &[]), entity(remote, &r.ports, &r.not_ports)),
    };
    for (key, v) in [("source", source), ("destination", destination)] {
        if v.as_object().is_some_and(|o| !o.is_empty()) {
            m.insert(key.into(), v);
        }
    }
    Value::Object(m)
}

/// One Calico policy as a v3 object; `None` for the other kinds.
pub fn calico_v3(p: &TieredPolicy) -> Option<Value> {
    let kind = match p.kind {
        TieredKind::CalicoNetworkPolicy => "NetworkPolicy",
        TieredKind::GlobalNetworkPolicy => "GlobalNetworkPolicy",
        _ => return None,
    };
    let Subject::Calico { selector, namespace_selector, .. } = &p.subject else { return None };
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(p.name));
    if let Some(ns) = &p.namespace {
        metadata.insert("namespace".into(), json!(ns));
    }
    let mut spec = Map::new();
    spec.insert("tier".into(), json!(p.tier));
    if let Some(o) = p.order {
        spec.insert("order".into(), json!(o.0));
    }
    spec.insert("selector".into(), json!(selector.to_string()));
    if let Some(ns) = namespace_selector {
        spec.insert("namespaceSelector".into(), json!(ns.to_string()));
    }
    spec.insert("types".into(), json!(p.types.iter().map(|d| d.as_str()).collect::<Vec<_>>()));
    for d in Direction::ALL {
        let rules = p.rules(d);
        if !rules.is_empty() {
            spec.insert(d.rules_key().into(), Value::Array(rules.iter().map(|r| rule(r, d)).collect()));
        }
    }
    Some(json!({"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": metadata, "spec": spec}))
}

/// Every Calico policy of `policies` as a YAML stream of v3 objects.
pub fn calico_v3_yaml<'a>(policies: impl IntoIterator<Item = &'a TieredPolicy>) -> Result<String, String> {
    let mut out = String::new();
    for v in policies.into_iter().filter_map(calico_v3) {
        out.push_str("---\n");
        out.push_str(&serde_saphyr::to_string(&v).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

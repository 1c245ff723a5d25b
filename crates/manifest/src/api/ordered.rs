//! The ordered-policy kinds (AdminNetworkPolicy, BaselineAdminNetworkPolicy,
//! ClusterNetworkPolicy, Calico's `projectcalico.org/v3` Tier,
//! GlobalNetworkPolicy and NetworkPolicy) and Nodes read from the API.
//!
//! An ordered kind is a custom resource: the API server checks it against
//! its CRD's schema only, which may be looser than the API's types (a CRD
//! with `x-kubernetes-preserve-unknown-fields`, an older CRD). So each object
//! goes through the same strict path as a file: its JSON is loaded as one
//! document by [`crate::load`], and an object a file would be refused for
//! is refused here too, with the loader's findings as the reason (the
//! `status` the server writes is dropped first: a file carries none). Its origin
//! (and its rules') names the object, as for NetworkPolicies.
//!
//! A Node is a built-in kind the server has validated: it is converted
//! directly, by the same function as a Node in a file.

use k8s_openapi::api::core::v1 as core;
use netpol_model::{Tier, TieredPolicy};

use super::{names, origin};
use crate::{load, LoadOptions};

/// One ordered-kind object as the model holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Ordered {
    Tier(Tier),
    Policy(Box<TieredPolicy>),
}

/// Converts one object of an ordered kind (its JSON as the server sent it;
/// `resource` is its plural, for its origin), as a file holding it would
/// load; `Err` says why it is left out (the loader's errors, or that it is
/// not an ordered kind).
pub fn ordered(resource: &str, object: &serde_json::Value) -> Result<Ordered, String> {
    // What the server writes back (`status`) is no part of what was asked for.
    let text = match object {
        serde_json::Value::Object(map) if map.contains_key("status") => {
            let mut spec_only = map.clone();
            spec_only.remove("status");
            serde_json::to_string(&spec_only)
        }
        _ => serde_json::to_string(object),
    }
    .map_err(|e| e.to_string())?;
    let meta = &object["metadata"];
    let namespace = meta["namespace"].as_str().unwrap_or_default();
    let name = meta["name"].as_str().unwrap_or_default();
    let at = origin(resource, namespace, name);
    // Its Tier, if any, is another object: the API holds both or neither.
    let options = LoadOptions { tiers_declared_elsewhere: true, ..LoadOptions::default() };
    let loaded = load([(&*at.file, text.as_str())], &options);
    if loaded.has_errors() {
        let errors: Vec<String> = loaded.errors().map(|d| format!("error[{}]: {}", d.code, d.message)).collect();
        return Err(errors.join("; "));
    }
    let mut cluster = loaded.cluster;
    if let Some(mut policy) = cluster.tiered.pop() {
        policy.origin = Some(at.clone());
        for rule in policy.ingress.iter_mut().chain(policy.egress.iter_mut()) {
            rule.origin = Some(at.clone());
        }
        return Ok(Ordered::Policy(Box::new(policy)));
    }
    if let Some(mut tier) = cluster.tiers.pop() {
        tier.origin = Some(at);
        return Ok(Ordered::Tier(tier));
    }
    let notes: Vec<String> =
        loaded.diagnostics.iter().map(|d| format!("{}[{}]: {}", d.severity, d.code, d.message)).collect();
    Err(format!("not an ordered-policy kind netpol models ({})", notes.join("; ")))
}

/// Converts one Node read from the API: its labels and its InternalIP and
/// ExternalIP addresses.
pub fn node(node: &core::Node) -> netpol_model::Node {
    let (_, name) = names(&node.metadata);
    crate::convert::node(node, &name, origin("nodes", "", &name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol_model::TieredKind;
    use serde_json::{json, Value};

    /// Metadata as the API server returns it (server-set fields included).
    fn meta(name: &str, namespace: Option<&str>) -> Value {
        let mut m = json!({
            "name": name, "uid": "0b5c", "resourceVersion": "812", "generation": 1,
            "creationTimestamp": "2025-01-01T00:00:00Z",
            "managedFields": [{"manager": "kubectl", "operation": "Update",
                "apiVersion": "policy.networking.k8s.io/v1alpha1", "time": "2025-01-01T00:00:00Z",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {".": {}, "f:priority": {}}}}],
        });
        if let Some(ns) = namespace {
            m["namespace"] = json!(ns);
        }
        m
    }

    fn anp(spec: Value) -> Value {
        json!({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": meta("deny-db", None), "spec": spec, "status": {"conditions": []}})
    }

    fn deny_spec() -> Value {
        json!({"priority": 10, "subject": {"namespaces": {}},
            "ingress": [{"name": "no-db", "action": "Deny", "from": [{"namespaces": {"matchLabels": {"team": "db"}}}]}]})
    }

    #[test]
    fn objects_as_the_api_sends_them_convert_as_files_do() {
        let calico = |kind: &str, namespace: Option<&str>, spec: Value| json!({"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": meta("p", namespace), "spec": spec});
        let cases: Vec<(&str, &str, Value, Result<&str, &str>)> = vec![
            ("an AdminNetworkPolicy", "adminnetworkpolicies", anp(deny_spec()), Ok("AdminNetworkPolicy deny-db")),
            (
                "a BaselineAdminNetworkPolicy",
                "baselineadminnetworkpolicies",
                json!({"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
                    "metadata": meta("default", None),
                    "spec": {"subject": {"namespaces": {}}, "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}]}}),
                Ok("BaselineAdminNetworkPolicy default"),
            ),
            (
                "a Calico GlobalNetworkPolicy",
                "globalnetworkpolicies",
                calico("GlobalNetworkPolicy", None, json!({"order": 10, "selector": "all()", "types": ["Ingress"]})),
                Ok("GlobalNetworkPolicy p"),
            ),
            (
                "a Calico NetworkPolicy",
                "networkpolicies",
                calico(
                    "NetworkPolicy",
                    Some("shop"),
                    json!({"selector": "app == 'web'", "ingress": [{"action": "Allow"}]}),
                ),
                Ok("CalicoNetworkPolicy shop/p"),
            ),
            (
                // Its Tier is another object of the API (Calico refuses a policy in a tier that does not exist).
                "a Calico policy in a tier of its own",
                "globalnetworkpolicies",
                calico(
                    "GlobalNetworkPolicy",
                    None,
                    json!({"tier": "security", "order": 10, "selector": "all()",
                    "ingress": [{"action": "Deny"}]}),
                ),
                Ok("GlobalNetworkPolicy p"),
            ),
            ("a Tier", "tiers", calico("Tier", None, json!({"order": 100})), Ok("Tier p")),
            (
                "an unknown field (a CRD that preserves unknown fields let it in)",
                "adminnetworkpolicies",
                anp(json!({"priority": 10, "subject": {"namespaces": {}}, "ingres": []})),
                Err("error[NP0010]: unknown field `spec.ingres`"),
            ),
            (
                "an action the API does not have",
                "adminnetworkpolicies",
                anp(json!({"priority": 10, "subject": {"namespaces": {}},
                    "ingress": [{"action": "Accept", "from": [{"namespaces": {}}]}]})),
                Err("unknown action `Accept`"),
            ),
            (
                "a kind netpol does not model",
                "widgets",
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta("w", None)}),
                Err("not an ordered-policy kind"),
            ),
        ];
        for (name, resource, object, want) in cases {
            let got = ordered(resource, &object).map(|o| match o {
                Ordered::Tier(t) => {
                    assert_eq!(t.origin.unwrap().file.as_ref(), format!("cluster:{resource}/p"), "{name}");
                    format!("Tier {}", t.name)
                }
                Ordered::Policy(p) => {
                    let at = p.origin.clone().unwrap();
                    assert!(at.file.starts_with(&format!("cluster:{resource}/")), "{name}: {at}");
                    assert!(p.ingress.iter().chain(&p.egress).all(|r| r.origin.as_ref() == Some(&at)), "{name}");
                    let kind = format!("{:?}", p.kind);
                    let key = match &p.namespace {
                        Some(ns) => format!("{ns}/{}", p.name),
                        None => p.name.clone(),
                    };
                    format!("{kind} {key}")
                }
            });
            match (got, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{name}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{name}: {got}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn the_anp_from_the_api_is_the_anp_from_a_file() {
        let object = anp(deny_spec());
        let Ok(Ordered::Policy(api)) = ordered("adminnetworkpolicies", &object) else { panic!("converts") };
        let mut written = object.clone();
        written.as_object_mut().unwrap().remove("status");
        let text = serde_json::to_string_pretty(&written).unwrap();
        let file = load([("anp.json", text.as_str())], &LoadOptions::default());
        assert!(!file.has_errors(), "{:?}", file.diagnostics);
        let mut from_file = file.cluster.tiered[0].clone();
        // Only the origins differ: a line of a file, or the object in the cluster.
        from_file.origin.clone_from(&api.origin);
        for rule in from_file.ingress.iter_mut() {
            rule.origin.clone_from(&api.origin);
        }
        assert_eq!(*api, from_file);
        assert_eq!(api.kind, TieredKind::AdminNetworkPolicy);
    }

    #[test]
    fn a_node_keeps_its_labels_and_internal_and_external_addresses() {
        let n: core::Node = serde_json::from_value(json!({
            "metadata": {"name": "n1", "labels": {"zone": "a"}},
            "status": {"addresses": [
                {"type": "InternalIP", "address": "10.1.0.1"}, {"type": "ExternalIP", "address": "2001:db8::1"},
                {"type": "Hostname", "address": "n1"}]},
        }))
        .unwrap();
        let model = node(&n);
        assert_eq!(model.name, "n1");
        assert_eq!(model.labels.get("zone"), Some("a"));
        let addresses: Vec<String> = model.addresses.iter().map(ToString::to_string).collect();
        assert_eq!(addresses, ["10.1.0.1", "2001:db8::1"]);
        assert_eq!(model.origin.unwrap().file.as_ref(), "cluster:nodes/n1");
    }
}

//! API objects decoded one by one from the JSON the API server sends: an
//! object that cannot be decoded becomes an error carrying its metadata (so
//! the agent can name it, report it and keep its last good version) instead
//! of failing the whole list page or watch event it came in.
//!
//! kube-rs has this as `DeserializeGuard`, which buffers every object into a
//! `serde_value` tree, clones the whole tree, and decodes the object from the
//! clone (so that the original is left to read the metadata from if that
//! fails). When the first list of 100,000 pods arrives, that is the larger
//! part of the agent's CPU (issue 10, benches/RESULTS.md). [`Decoded`]
//! buffers into a `serde_json::Value` (cheaper to build than `serde_value`'s
//! tree, whose map keys are values themselves) and decodes the object from it
//! by reference: no copy of the tree; only an object that fails is looked at
//! again, for its `metadata`. (Keeping the object's JSON text instead,
//! serde_json's `RawValue`, would be cheaper still, but needs serde_json's own
//! deserializer underneath: a watch event whose `object` came before its
//! `type` reaches the object through serde's buffer, and would fail.)

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::error_boundary::InvalidObject;
use kube::Resource;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};

/// An object of kind `K`, or why it could not be decoded and its metadata.
#[derive(Clone, Debug)]
pub struct Decoded<K>(pub Result<K, InvalidObject>);

impl<'de, K: DeserializeOwned> Deserialize<'de> for Decoded<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        match K::deserialize(&value) {
            Ok(object) => Ok(Decoded(Ok(object))),
            Err(error) => {
                // Not even its metadata: the page or event fails, as with kube-rs's guard.
                let metadata = match value.get("metadata") {
                    Some(metadata) => ObjectMeta::deserialize(metadata).map_err(D::Error::custom)?,
                    None => ObjectMeta::default(),
                };
                Ok(Decoded(Err(InvalidObject { error: error.to_string(), metadata })))
            }
        }
    }
}

impl<K: Resource> Resource for Decoded<K> {
    type DynamicType = K::DynamicType;
    type Scope = K::Scope;

    fn kind(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::kind(dt)
    }

    fn group(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::group(dt)
    }

    fn version(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::version(dt)
    }

    fn plural(dt: &Self::DynamicType) -> Cow<'_, str> {
        K::plural(dt)
    }

    fn meta(&self) -> &ObjectMeta {
        self.0.as_ref().map_or_else(|invalid| &invalid.metadata, K::meta)
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        self.0.as_mut().map_or_else(|invalid| &mut invalid.metadata, K::meta_mut)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Pod;
    use kube::core::{DeserializeGuard, ObjectList, WatchEvent};
    use serde_json::json;

    /// A pod as the API server sends it (managed fields and status included).
    fn pod(name: &str) -> serde_json::Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "name": name, "namespace": "shop", "uid": "5f1c", "resourceVersion": "42",
                "labels": {"app": "web", "pod-template-hash": "7d9f"},
                "managedFields": [{"manager": "kubectl", "operation": "Update", "apiVersion": "v1",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}],
            },
            "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "nginx",
                "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}]}]},
            "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]},
        })
    }

    fn broken(name: &str) -> serde_json::Value {
        json!({"metadata": {"name": name, "namespace": "shop"}, "spec": {"containers": "not-a-list"}})
    }

    #[test]
    fn a_list_page_decodes_each_object_and_keeps_the_broken_ones_metadata() {
        let page = json!({
            "apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "43"},
            "items": [pod("a"), broken("b"), pod("c")],
        });
        // As kube-rs decodes a list page: `serde_json::from_str` of the text.
        let list: ObjectList<Decoded<Pod>> = serde_json::from_str(&page.to_string()).unwrap();
        let names: Vec<_> = list.items.iter().map(|d| (d.meta().name.clone().unwrap(), d.0.is_ok())).collect();
        assert_eq!(names, [("a".into(), true), ("b".into(), false), ("c".into(), true)]);
        let invalid = list.items[1].0.as_ref().unwrap_err();
        assert_eq!(invalid.metadata.namespace.as_deref(), Some("shop"));
        assert!(invalid.error.contains("invalid type: string \"not-a-list\", expected a sequence"), "{invalid}");
    }

    #[test]
    fn watch_events_decode_one_per_line_whatever_the_order_of_their_fields() {
        // As kube-rs decodes a watch stream: `serde_json::from_str` of each line,
        // `type` first as the API server writes it, or last (serde buffers the object).
        for (object, ok) in [(pod("a"), true), (broken("b"), false)] {
            let first = format!(r#"{{"type":"MODIFIED","object":{object}}}"#);
            let last = format!(r#"{{"object":{object},"type":"MODIFIED"}}"#);
            for line in [first, last] {
                match serde_json::from_str::<WatchEvent<Decoded<Pod>>>(&line).unwrap() {
                    WatchEvent::Modified(decoded) => {
                        assert_eq!(decoded.0.is_ok(), ok, "{line}");
                        assert_eq!(decoded.meta().namespace.as_deref(), Some("shop"));
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn decodes_what_kube_rs_guard_decodes() {
        let text = pod("a").to_string();
        let ours: Decoded<Pod> = serde_json::from_str(&text).unwrap();
        let theirs: DeserializeGuard<Pod> = serde_json::from_str(&text).unwrap();
        assert_eq!(ours.0.unwrap(), theirs.0.unwrap());
        let ours: Decoded<Pod> = serde_json::from_str(&broken("b").to_string()).unwrap();
        let theirs: DeserializeGuard<Pod> = serde_json::from_str(&broken("b").to_string()).unwrap();
        assert_eq!(ours.meta(), theirs.meta());
    }

    #[test]
    fn an_object_without_readable_metadata_fails_its_page() {
        let page = json!({"items": [{"metadata": "not-a-map"}]}).to_string();
        assert!(serde_json::from_str::<ObjectList<Decoded<Pod>>>(&page).is_err());
    }
}

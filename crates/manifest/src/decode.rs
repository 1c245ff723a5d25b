//! Typed decoding into k8s-openapi types: every unknown field with its path
//! (serde_ignored) and the first type error with its path (serde_path_to_error).

use serde::de::DeserializeOwned;

use crate::node::{FieldPath, Seg};

pub(crate) struct Decoded<T> {
    pub value: Option<T>,
    /// Fields the type does not have, in document order.
    pub unknown: Vec<FieldPath>,
    /// The first value of the wrong type (decoding stops there, as it does in the API server).
    pub type_error: Option<(FieldPath, String)>,
}

pub(crate) fn decode<T: DeserializeOwned>(json: &serde_json::Value) -> Decoded<T> {
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let result = {
        let de = serde_path_to_error::Deserializer::new(json, &mut track);
        serde_ignored::deserialize(de, |path| {
            let mut segs = Vec::new();
            ignored_path(&path, &mut segs);
            unknown.push(FieldPath(segs));
        })
    };
    match result {
        Ok(value) => Decoded { value: Some(value), unknown, type_error: None },
        Err(e) => {
            let path = error_path(&track.path());
            Decoded { value: None, unknown, type_error: Some((path, e.to_string())) }
        }
    }
}

fn ignored_path(path: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            ignored_path(parent, out);
            out.push(Seg::Index(*index));
        }
        Path::Map { parent, key } => {
            ignored_path(parent, out);
            out.push(Seg::Key(key.clone()));
        }
        Path::Some { parent } | Path::NewtypeStruct { parent } | Path::NewtypeVariant { parent } => {
            ignored_path(parent, out)
        }
    }
}

fn error_path(path: &serde_path_to_error::Path) -> FieldPath {
    use serde_path_to_error::Segment;
    FieldPath(
        path.iter()
            .filter_map(|seg| match seg {
                Segment::Seq { index } => Some(Seg::Index(*index)),
                Segment::Map { key } => Some(Seg::Key(key.clone())),
                Segment::Enum { .. } | Segment::Unknown => None,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::networking::v1::NetworkPolicySpec;

    #[test]
    fn finds_unknown_fields_and_type_errors_with_paths() {
        let json = serde_json::json!({
            "podSelector": {"matchLabels": {"a": "b"}, "policyTypes": ["Egress"]},
            "egress": [{"ports": [{"protoco": "TCP", "port": 80}]}]
        });
        let d = decode::<NetworkPolicySpec>(&json);
        assert!(d.value.is_some());
        let mut got: Vec<String> = d.unknown.iter().map(ToString::to_string).collect();
        got.sort();
        assert_eq!(got, ["egress[0].ports[0].protoco", "podSelector.policyTypes"]);

        let json = serde_json::json!({"ingress": [{"ports": [{"port": [80]}]}]});
        let d = decode::<NetworkPolicySpec>(&json);
        let (path, message) = d.type_error.unwrap();
        assert_eq!(path.to_string(), "ingress[0].ports[0].port");
        assert!(!message.is_empty());
    }
}

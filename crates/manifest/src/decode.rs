//! Typed decoding into k8s-openapi types: every unknown field with its path
//! (serde_ignored) and the first type error with its path (serde_path_to_error).
//!
//! The typed decoders read the spanned tree directly ([`NodeDe`]), exactly as
//! they would read the tree's JSON (`serde_json::Value`, what the API server
//! decodes): a mapping's fields in key order with the last duplicate winning,
//! numbers as JSON numbers, and serde_json's own errors. A request serde_json
//! answers in a way this reader does not copy (numeric map keys, enums) makes
//! [`decode`] go through the JSON instead, so the answer is always serde_json's.

use std::borrow::Cow;
use std::cell::Cell;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Unexpected, Visitor,
};

use crate::node::{FieldPath, Node, Seg, Value};

type Error = serde_json::Error;

pub(crate) struct Decoded<T> {
    pub value: Option<T>,
    /// Fields the type does not have, in document order.
    pub unknown: Vec<FieldPath>,
    /// The first value of the wrong type (decoding stops there, as it does in the API server).
    pub type_error: Option<(FieldPath, String)>,
}

/// Decodes an object's root mapping, without its `apiVersion` and `kind`.
pub(crate) fn decode_object<T: DeserializeOwned>(doc: &Node<'_>) -> Decoded<T> {
    let unsupported = Cell::new(false);
    let decoded = decode_with(NodeDe { node: doc, skip: &["apiVersion", "kind"], unsupported: &unsupported });
    if !unsupported.get() {
        return decoded;
    }
    let mut json = doc.to_json();
    if let Some(map) = json.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
    decode_with(&json)
}

fn decode_with<'de, T: DeserializeOwned, D: Deserializer<'de>>(de: D) -> Decoded<T>
where
    D::Error: std::fmt::Display,
{
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let result = {
        let de = serde_path_to_error::Deserializer::new(de, &mut track);
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

/// A node read as `&serde_json::Value` reads (serde_json's `value/de.rs`).
#[derive(Clone, Copy)]
struct NodeDe<'de> {
    node: &'de Node<'de>,
    /// Keys left out of this mapping (the root's `apiVersion` and `kind`).
    skip: &'static [&'static str],
    /// Set when serde_json would answer in a way this reader does not copy.
    unsupported: &'de Cell<bool>,
}

/// What serde_json's number holds for a node, or `None` when the JSON is not a number.
enum Number {
    Pos(u64),
    Neg(i64),
    Float(f64),
}

impl<'de> NodeDe<'de> {
    fn child(&self, node: &'de Node<'de>) -> Self {
        NodeDe { node, skip: &[], unsupported: self.unsupported }
    }

    fn number(&self) -> Option<Number> {
        match self.node.value {
            Value::Int(n) => Some(u64::try_from(n).map_or(Number::Neg(n), Number::Pos)),
            Value::UInt(n) => Some(Number::Pos(n)),
            Value::Float(x) if x.is_finite() => Some(Number::Float(x)),
            _ => None,
        }
    }

    fn unexpected(&self) -> Unexpected<'de> {
        match &self.node.value {
            Value::Bool(b) => Unexpected::Bool(*b),
            Value::Str(s) => Unexpected::Str(s),
            Value::Seq(_) => Unexpected::Seq,
            Value::Map(_) => Unexpected::Map,
            _ => match self.number() {
                Some(Number::Pos(n)) => Unexpected::Unsigned(n),
                Some(Number::Neg(n)) => Unexpected::Signed(n),
                Some(Number::Float(x)) => Unexpected::Float(x),
                None => Unexpected::Unit,
            },
        }
    }

    fn invalid_type(&self, exp: &dyn de::Expected) -> Error {
        de::Error::invalid_type(self.unexpected(), exp)
    }

    fn visit_number<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.number() {
            Some(Number::Pos(n)) => visitor.visit_u64(n),
            Some(Number::Neg(n)) => visitor.visit_i64(n),
            Some(Number::Float(x)) => visitor.visit_f64(x),
            None => Err(self.invalid_type(&visitor)),
        }
    }

    fn visit_seq<V: Visitor<'de>>(self, items: &'de [Node<'de>], visitor: V) -> Result<V::Value, Error> {
        let len = items.len();
        let mut seq = SeqDe { iter: items.iter(), parent: self };
        let value = visitor.visit_seq(&mut seq)?;
        if seq.iter.len() == 0 {
            Ok(value)
        } else {
            Err(de::Error::invalid_length(len, &"fewer elements in array"))
        }
    }

    fn visit_map<V: Visitor<'de>>(self, entries: &'de [(Node<'de>, Node<'de>)], visitor: V) -> Result<V::Value, Error> {
        let fields = fields(entries, self.skip);
        let len = fields.len();
        let mut map = MapDe { iter: fields.into_iter(), value: None, parent: self };
        let value = visitor.visit_map(&mut map)?;
        if map.iter.len() == 0 {
            Ok(value)
        } else {
            Err(de::Error::invalid_length(len, &"fewer elements in map"))
        }
    }

    fn unsupported(&self) -> Error {
        self.unsupported.set(true);
        de::Error::custom("not read from the spanned tree")
    }
}

/// A mapping's fields as its JSON object holds them: in key order, the last of
/// equal keys winning, non-string keys as YAML prints them.
fn fields<'de>(entries: &'de [(Node<'de>, Node<'de>)], skip: &[&str]) -> Vec<(Cow<'de, str>, &'de Node<'de>)> {
    let mut fields: Vec<(Cow<'de, str>, &'de Node<'de>)> = entries
        .iter()
        .map(|(k, v)| (k.as_str().map_or_else(|| Cow::Owned(k.key_text()), Cow::Borrowed), v))
        .filter(|(k, _)| !skip.contains(&k.as_ref()))
        .collect();
    if !fields.is_sorted_by(|a, b| a.0 < b.0) {
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        // Stable: of equal keys, the last in the document is last; keep it.
        let mut out: Vec<(Cow<'de, str>, &'de Node<'de>)> = Vec::with_capacity(fields.len());
        for field in fields {
            match out.last_mut() {
                Some(last) if last.0 == field.0 => *last = field,
                _ => out.push(field),
            }
        }
        fields = out;
    }
    fields
}

macro_rules! numbers {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.visit_number(visitor)
        })*
    };
}

impl<'de> Deserializer<'de> for NodeDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => self.visit_seq(items, visitor),
            Value::Map(entries) => self.visit_map(entries, visitor),
            _ => match self.number() {
                Some(_) => self.visit_number(visitor),
                None => visitor.visit_unit(),
            },
        }
    }

    numbers!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64);

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.number().is_none() && matches!(self.node.value, Value::Null | Value::Float(_)) {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Error> {
        Err(self.unsupported())
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node.value {
            Value::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Seq(items) => self.visit_seq(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.number().is_none() && matches!(self.node.value, Value::Null | Value::Float(_)) {
            visitor.visit_unit()
        } else {
            Err(self.invalid_type(&visitor))
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Seq(items) => self.visit_seq(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Map(entries) => self.visit_map(entries, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match &self.node.value {
            Value::Seq(items) => self.visit_seq(items, visitor),
            Value::Map(entries) => self.visit_map(entries, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

struct SeqDe<'de> {
    iter: std::slice::Iter<'de, Node<'de>>,
    parent: NodeDe<'de>,
}

impl<'de> SeqAccess<'de> for SeqDe<'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.iter.next() {
            Some(node) => seed.deserialize(self.parent.child(node)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'de> {
    iter: std::vec::IntoIter<(Cow<'de, str>, &'de Node<'de>)>,
    value: Option<&'de Node<'de>>,
    parent: NodeDe<'de>,
}

impl<'de> MapAccess<'de> for MapDe<'de> {
    type Error = Error;

    fn next_key_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(KeyDe { key, unsupported: self.parent.unsupported }).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        match self.value.take() {
            Some(node) => seed.deserialize(self.parent.child(node)),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// A mapping key, as serde_json's `MapKeyDeserializer` gives it.
struct KeyDe<'de> {
    key: Cow<'de, str>,
    unsupported: &'de Cell<bool>,
}

macro_rules! numeric_keys {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Error> {
            self.unsupported.set(true);
            Err(de::Error::custom("numeric keys are not read from the spanned tree"))
        })*
    };
}

impl<'de> Deserializer<'de> for KeyDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.key {
            Cow::Borrowed(key) => visitor.visit_borrowed_str(key),
            Cow::Owned(key) => visitor.visit_string(key),
        }
    }

    numeric_keys!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64);

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match &*self.key {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            other => Err(de::Error::invalid_type(Unexpected::Str(other), &visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let key: de::value::CowStrDeserializer<'de, Error> = self.key.into_deserializer();
        key.deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
        map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::networking::v1::NetworkPolicySpec;

    fn json_decode<T: DeserializeOwned>(json: &serde_json::Value) -> Decoded<T> {
        decode_with(json)
    }

    /// The spanned tree and its JSON decode alike, for every kind netpol reads.
    fn same_both_ways(doc: &Node) {
        fn one<T: DeserializeOwned + PartialEq + std::fmt::Debug>(doc: &Node) {
            let unsupported = Cell::new(false);
            let fast: Decoded<T> =
                decode_with(NodeDe { node: doc, skip: &["apiVersion", "kind"], unsupported: &unsupported });
            if unsupported.get() {
                return;
            }
            let mut json = doc.to_json();
            if let Some(map) = json.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            let slow: Decoded<T> = decode_with(&json);
            assert_eq!(fast.value, slow.value, "{json}");
            assert_eq!(fast.unknown, slow.unknown, "{json}");
            assert_eq!(fast.type_error, slow.type_error, "{json}");
        }
        use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core, networking::v1 as net};
        one::<net::NetworkPolicy>(doc);
        one::<core::Pod>(doc);
        one::<core::Service>(doc);
        one::<core::Namespace>(doc);
        one::<apps::Deployment>(doc);
        one::<apps::StatefulSet>(doc);
        one::<apps::DaemonSet>(doc);
        one::<apps::ReplicaSet>(doc);
        one::<batch::Job>(doc);
        one::<batch::CronJob>(doc);
    }

    fn same_for(text: &str) {
        for doc in crate::node::parse_documents(text).unwrap_or_default() {
            same_both_ways(&doc);
            // Every mapping inside too, as if it were an object of each kind.
            let mut stack = vec![&doc];
            while let Some(node) = stack.pop() {
                match &node.value {
                    Value::Map(entries) => {
                        same_both_ways(node);
                        stack.extend(entries.iter().map(|(_, v)| v));
                    }
                    Value::Seq(items) => stack.extend(items),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn the_tree_decodes_as_its_json_decodes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/seeds");
        for entry in std::fs::read_dir(dir).unwrap() {
            same_for(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        }
        let cases = [
            "metadata: {name: a, labels: {a: 1, b: true, c: null, d: 1.5, 3: x, true: y, ~: z}}",
            "metadata: {name: a, name: b, namespace: [x]}\nspec: {podSelector: {}, podSelector: {matchLabels: {a: b}}}",
            "metadata: 5\nspec: []\nstatus: x",
            "spec: {containers: [{name: c, ports: [{containerPort: '80'}, {containerPort: 1.5}, {containerPort: -1}, {containerPort: 99999999999}, {containerPort: 18446744073709551615}]}]}",
            "spec: {ports: [{port: 80, targetPort: http}, {port: 81, targetPort: 8081}, {port: 82, targetPort: 1.5}, {port: 83, targetPort: [x]}, {port: 84, targetPort: -3}]}",
            "spec: {ingress: [{ports: [{port: 80, endPort: 90, protocol: TCP, extra: 1}], from: [{ipBlock: {cidr: 10.0.0.0/8, except: null}}]}], policyTypes: [Ingress, 1]}",
            "spec: {template: {metadata: {labels: {app: x}}, spec: {containers: [{name: c}], hostNetwork: yes}}, replicas: '3'}",
            "spec: {schedule: x, jobTemplate: {spec: {template: {spec: {containers: []}}}}}",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a, creationTimestamp: '2024-01-01T00:00:00Z', deletionTimestamp: 5}",
            "metadata: {creationTimestamp: not-a-time}",
            "metadata: {name: a, ownerReferences: {a: b}, finalizers: [1, 2], generation: -5}",
            "spec: {containers: [{name: c, resources: {limits: {cpu: 1, memory: 1Gi}}, env: [{name: A, value: 1}]}]}",
            "status: {podIPs: [{ip: 1}, {}], podIP: [1]}",
            "spec: {podSelector: {matchExpressions: [{key: a, operator: In, values: [1, true, null]}]}}",
            "a: 1\nb: 2\nc: {d: 1}",
            "spec: {a: 1, a: {b: 2}, z: 0, m: [], k: .inf}",
        ];
        for text in cases {
            same_for(text);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn token_soup_decodes_the_same_both_ways(text in "([a-zA-Z]{1,8}|: |- |\\n|  |\\{|\\}|\\[|\\]|, |'|[0-9]{1,6}|-|\\.|null|true|~|spec: |metadata: |name: |labels: |containers: |ports: |port: |containerPort: |ingress: |podSelector: |matchLabels: |template: ){0,60}") {
            same_for(&text);
        }
    }

    #[test]
    fn finds_unknown_fields_and_type_errors_with_paths() {
        let json = serde_json::json!({
            "podSelector": {"matchLabels": {"a": "b"}, "policyTypes": ["Egress"]},
            "egress": [{"ports": [{"protoco": "TCP", "port": 80}]}]
        });
        let d = json_decode::<NetworkPolicySpec>(&json);
        assert!(d.value.is_some());
        let mut got: Vec<String> = d.unknown.iter().map(ToString::to_string).collect();
        got.sort();
        assert_eq!(got, ["egress[0].ports[0].protoco", "podSelector.policyTypes"]);

        let json = serde_json::json!({"ingress": [{"ports": [{"port": [80]}]}]});
        let d = json_decode::<NetworkPolicySpec>(&json);
        let (path, message) = d.type_error.unwrap();
        assert_eq!(path.to_string(), "ingress[0].ports[0].port");
        assert!(!message.is_empty());
    }
}

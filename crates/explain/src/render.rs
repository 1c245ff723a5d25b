//! The text of `kubectl explain` (kubectl v1.32, OpenAPI v3, the `plaintext`
//! template of k8s.io/kubectl pkg/explain/v2), rendered from an OpenAPI v3
//! document. Each function here is one named template of that file, with the
//! template's rules: Go template truthiness (an empty map, list or string is
//! false), properties in sorted key order, `$ref`s resolved inside the document
//! only, and cycles cut by the refs already followed.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::wrap::{indent, wrap};

/// An OpenAPI v3 document, borrowed.
#[derive(Clone, Copy)]
pub(crate) struct Document<'a> {
    root: &'a Value,
}

/// The refs followed so far on one walk (the template's `history`).
type History<'a> = BTreeSet<&'a str>;

impl<'a> Document<'a> {
    pub(crate) fn new(root: &'a Value) -> Document<'a> {
        Document { root }
    }

    /// The group-version-kind object of the first operation on the resource's
    /// paths (cluster-scoped list, cluster-scoped item, namespaced list,
    /// namespaced item; get, post, put, patch, delete), as the template finds it.
    pub(crate) fn gvk(&self, group: &str, version: &str, resource: &str) -> Option<&'a Value> {
        let prefix = if group.is_empty() { "/api".to_string() } else { format!("/apis/{group}") };
        let searched = [
            format!("{prefix}/{version}/{resource}"),
            format!("{prefix}/{version}/{resource}/{{name}}"),
            format!("{prefix}/{version}/namespaces/{{namespace}}/{resource}"),
            format!("{prefix}/{version}/namespaces/{{namespace}}/{resource}/{{name}}"),
        ];
        let mut gvk: Option<&Value> = None;
        for path in &searched {
            let Some(element) = self.root.get("paths").and_then(|p| p.get(path.as_str())).filter(|v| truthy(v)) else {
                continue;
            };
            for method in ["get", "post", "put", "patch", "delete"] {
                let Some(operation) = element.get(method).filter(|v| truthy(v)) else { continue };
                // `with $gvk = ...` assigns before it tests, so a later operation without one clears it.
                gvk = operation.get("x-kubernetes-group-version-kind");
                if gvk.is_some_and(truthy) {
                    break;
                }
            }
        }
        gvk.filter(|v| truthy(v))
    }

    /// The first schema (in key order) whose `x-kubernetes-group-version-kind` lists `gvk`.
    pub(crate) fn schema_of(&self, gvk: &Value) -> Option<&'a Value> {
        let schemas = self.root.get("components")?.get("schemas")?.as_object()?;
        sorted(schemas).into_iter().map(|(_, schema)| schema).find(|schema| {
            schema
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
                .is_some_and(|kinds| kinds.contains(gvk))
        })
    }

    /// `resolveRef`: a `#/a/b` ref inside this document, to an object; anything else is `None`.
    fn resolve(&self, reference: Option<&Value>) -> Option<&'a Value> {
        let fragment = reference?.as_str()?.strip_prefix('#').filter(|f| !f.is_empty())?;
        let mut current = self.root;
        for key in fragment.split('/').filter(|k| !k.is_empty()) {
            current = current.get(key).filter(|v| v.is_object())?;
        }
        Some(current)
    }

    /// `or (resolveRef $ref) $schema`.
    fn resolved(&self, schema: &'a Value) -> &'a Value {
        self.resolve(schema.get("$ref")).filter(|v| truthy(v)).unwrap_or(schema)
    }

    /// Template `output`: follows `path` from `schema`, then prints the field
    /// line (for the last step), the description and the field list. Empty
    /// when the path does not lead anywhere.
    pub(crate) fn output(&self, schema: &'a Value, path: &[&str], history: &History<'a>, recursive: bool) -> String {
        let reference = ref_string(schema);
        let mut next = history.clone();
        next.insert(reference);
        let resolved = self.resolved(schema);

        let Some((first, rest)) = path.split_first() else {
            let description = self.description(resolved);
            let description = if description.is_empty() { "<empty>".to_string() } else { description };
            let mut out = format!("DESCRIPTION:\n{}\n", indent(4, &wrap(&description, 76)));
            let fields = self.field_list(resolved, 1, &History::new(), recursive);
            if !fields.is_empty() {
                out.push_str("FIELDS:\n");
                out.push_str(&fields);
            }
            return out;
        };
        if !reference.is_empty() && history.contains(reference) {
            return String::new(); // a cycle
        }
        if let Some(sub) = member(resolved, "properties").and_then(|p| member(p, first)) {
            let mut out = String::new();
            if rest.is_empty() {
                out.push_str(&format!("FIELD: {first} <{}>\n", self.type_guess(sub)));
                out.push_str(&enum_text(sub, EnumView::Long));
                out.push_str("\n\n");
            }
            out.push_str(&self.output(sub, rest, &History::new(), recursive));
            return out;
        }
        if let Some(items) = member(resolved, "items") {
            return self.output(items, path, &next, recursive);
        }
        if let Some(values) = map_values(resolved) {
            return self.output(values, path, &next, recursive);
        }
        all_of(resolved)
            .map(|sub| self.output(sub, path, &next, recursive))
            .find(|out| !out.is_empty())
            .unwrap_or_default()
    }

    /// Template `fieldList`: one entry per property (sorted), then those of
    /// `allOf`, `items` and map values; with `recursive`, each property's own
    /// fields one level deeper.
    fn field_list(&self, schema: &'a Value, level: usize, history: &History<'a>, recursive: bool) -> String {
        let reference = ref_string(schema);
        if !reference.is_empty() && history.contains(reference) {
            return String::new(); // a cycle
        }
        let mut next = history.clone();
        next.insert(reference);
        let resolved = self.resolved(schema);
        let mut out = String::new();
        if let Some(properties) = resolved.get("properties").and_then(Value::as_object) {
            for (name, property) in sorted(properties) {
                out.push_str(&self.field_detail(name, resolved, property, level, recursive));
                if recursive {
                    out.push_str(&self.field_list(property, level + 1, &next, recursive));
                }
            }
        }
        for sub in all_of(resolved) {
            out.push_str(&self.field_list(sub, level, &next, recursive));
        }
        if let Some(items) = member(resolved, "items") {
            out.push_str(&self.field_list(items, level, &next, recursive));
        }
        if let Some(values) = map_values(resolved) {
            out.push_str(&self.field_list(values, level, &next, recursive));
        }
        out
    }

    /// Template `fieldDetail`: `name<TAB><type>[ -required-][ enum: ...]`, then
    /// (unless `short`) the wrapped description and a blank line.
    fn field_detail(&self, name: &str, parent: &Value, field: &'a Value, level: usize, short: bool) -> String {
        let pad = level * 2;
        let mut out = format!("{}{name}\t<{}>", " ".repeat(pad), self.type_guess(field));
        let required = parent.get("required").and_then(Value::as_array);
        if required.is_some_and(|r| r.iter().any(|n| n.as_str() == Some(name))) {
            out.push_str(" -required-");
        }
        out.push_str(&enum_text(field, EnumView::Short { pad }));
        out.push('\n');
        if !short {
            let description = field.get("description").filter(|d| truthy(d)).map_or_else(
                || "<no description>".to_string(),
                |d| d.as_str().map_or_else(|| go_text(d), str::to_string),
            );
            out.push_str(&indent(pad + 2, &wrap(&description, 78usize.saturating_sub(pad))));
            out.push_str("\n\n");
        }
        out
    }

    /// Template `description`: the schema's description and those of its
    /// `allOf`, `items` and map values, each ending in a newline.
    fn description(&self, schema: &'a Value) -> String {
        let resolved = self.resolved(schema);
        let mut out = String::new();
        if !truthy(resolved) {
            return out;
        }
        if let Some(d) = member(resolved, "description") {
            out.push_str(&d.as_str().map_or_else(|| go_text(d), str::to_string));
            out.push('\n');
        }
        for sub in all_of(resolved) {
            out.push_str(&self.description(sub));
        }
        if let Some(items) = member(resolved, "items") {
            out.push_str(&self.description(items));
        }
        if let Some(values) = map_values(resolved) {
            out.push_str(&self.description(values));
        }
        out
    }

    /// Template `typeGuess`: `[]T`, `map[string]T`, a ref's kind name (for an
    /// object or untyped schema), a primitive type, or `Object`.
    fn type_guess(&self, schema: &'a Value) -> String {
        if let Some(items) = member(schema, "items") {
            return format!("[]{}", self.type_guess(items));
        }
        if let Some(values) = map_values(schema) {
            return format!("map[string]{}", self.type_guess(values));
        }
        let all_of = schema.get("allOf").filter(|a| truthy(a)).and_then(Value::as_array);
        if let Some([only]) = all_of.map(Vec::as_slice) {
            if member(schema, "properties").is_none() {
                return self.type_guess(only);
            }
        }
        if let Some(reference) = member(schema, "$ref") {
            let target = self.resolve(Some(reference)).filter(|v| truthy(v));
            let target_type = target.and_then(|t| member(t, "type"));
            return match target_type {
                Some(t) if t.as_str() != Some("object") => go_text(t),
                _ => {
                    let text = reference.as_str().map_or_else(|| go_text(reference), str::to_string);
                    let name = text.rsplit('/').next().unwrap_or_default();
                    let name = name.rsplit('.').next().unwrap_or_default();
                    if name.is_empty() {
                        "Object".to_string()
                    } else {
                        name.to_string()
                    }
                }
            };
        }
        match member(schema, "type") {
            Some(t) if t.as_str() == Some("object") => "Object".to_string(),
            Some(t) => go_text(t),
            None => "Object".to_string(),
        }
    }
}

/// How `extractEnum` lays out an enum.
#[derive(Clone, Copy)]
enum EnumView {
    /// Under `FIELD:`: `ENUM:` and one value per line.
    Long,
    /// In a field list: a line `enum: A, B, C, D, ....` at the field's indent.
    Short { pad: usize },
}

/// Template `extractEnum` (the short view lists at most four values).
fn enum_text(schema: &Value, view: EnumView) -> String {
    let Some(values) = member(schema, "enum").and_then(Value::as_array) else {
        return String::new();
    };
    let (mut out, limit) = match view {
        EnumView::Long => ("ENUM:".to_string(), None),
        EnumView::Short { pad } => (format!("\n{}enum: ", " ".repeat(pad)), Some(4)),
    };
    for (index, value) in values.iter().enumerate() {
        if limit.is_some_and(|limit| index >= limit) {
            out.push_str(", ....");
            break;
        }
        match view {
            EnumView::Short { .. } if index > 0 => out.push_str(", "),
            EnumView::Short { .. } => {}
            EnumView::Long => out.push_str("\n    "),
        }
        match value.as_str() {
            Some("") => out.push_str("\"\""),
            Some(s) => out.push_str(s),
            None => out.push_str(&go_text(value)),
        }
    }
    out
}

/// Go template truthiness: null, false, 0, "" and empty lists and maps are false.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `$schema.key` when it is truthy.
fn member<'a>(schema: &'a Value, key: &str) -> Option<&'a Value> {
    schema.get(key).filter(|v| truthy(v))
}

/// `or (index $.schema "$ref") ""`.
fn ref_string(schema: &Value) -> &str {
    schema.get("$ref").and_then(Value::as_str).unwrap_or("")
}

/// A map's value schema: `additionalProperties` when it is a schema (not `true`/`false`).
fn map_values(schema: &Value) -> Option<&Value> {
    member(schema, "additionalProperties").filter(|v| !v.is_boolean())
}

fn all_of(schema: &Value) -> impl Iterator<Item = &Value> {
    schema.get("allOf").and_then(Value::as_array).into_iter().flatten()
}

/// A map's entries in Go's (byte-wise) key order, whatever order serde_json keeps.
fn sorted(map: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut entries: Vec<(&str, &Value)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// A JSON value as Go's `%v` prints the decoded value (strings bare; numbers,
/// booleans; anything else as JSON, a close enough fallback for odd schemas).
fn go_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".to_string(),
        other => other.to_string(),
    }
}

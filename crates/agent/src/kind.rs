//! Whether a file that does not load holds only kinds netpol does not model
//! (a custom resource too deep for the YAML parser, say): such a file never
//! holds back enforcement of the kinds netpol does model.
//!
//! The file did not parse, so its documents are judged by their top-level
//! `apiVersion:` and `kind:` lines, and the loader itself says whether it
//! models that kind (a stub object of it is skipped with NP0007 or NP0008).
//! Anything unclear (no `kind:` line, two of them, flow or JSON syntax)
//! counts as a kind netpol may model.

use netpol_manifest::LoadOptions;

/// True when every document of `text` names, at its top level, a kind that
/// netpol skips.
pub(crate) fn only_unmodeled_kinds(text: &str) -> bool {
    let mut documents = 0;
    for document in split_documents(text) {
        let (mut kind, mut api_version, mut content) = (None, None, false);
        for line in document {
            let line = line.split(" #").next().unwrap_or_default().trim_end();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            content = true;
            if let Some(value) = line.strip_prefix("kind:") {
                if kind.replace(unquote(value)).is_some() {
                    return false;
                }
            } else if let Some(value) = line.strip_prefix("apiVersion:") {
                api_version = Some(unquote(value));
            }
        }
        match (content, kind) {
            (false, _) => continue,
            (true, Some(kind)) if skipped(api_version.unwrap_or("v1"), kind) => documents += 1,
            (true, _) => return false,
        }
    }
    documents > 0
}

/// A document's lines (between `---` lines; `...` ends a document too).
fn split_documents(text: &str) -> impl Iterator<Item = Vec<&str>> {
    let mut documents = vec![Vec::new()];
    for line in text.lines() {
        if line.starts_with("---") || line.starts_with("...") {
            documents.push(Vec::new());
        } else if let Some(last) = documents.last_mut() {
            last.push(line);
        }
    }
    documents.into_iter()
}

fn unquote(value: &str) -> &str {
    value.trim().trim_matches(|c| c == '"' || c == '\'')
}

/// Whether the loader skips an object of `kind` under `api_version`.
fn skipped(api_version: &str, kind: &str) -> bool {
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "./-_".contains(c));
    if !plain(api_version) || !plain(kind) {
        return false;
    }
    let stub = format!("apiVersion: {api_version}\nkind: {kind}\nmetadata: {{name: stub}}\n");
    let loaded = netpol_manifest::load([("stub.yaml", stub.as_str())], &LoadOptions::default());
    !loaded.has_errors() && loaded.diagnostics.iter().any(|d| matches!(d.code, "NP0007" | "NP0008"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documents_of_unmodeled_kinds_count() {
        let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: [[[[\n";
        let config_map = "# a comment\napiVersion: v1\nkind: ConfigMap # trailing\nmetadata: {name: c}\n";
        let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec: [[[\n";
        let cases = [
            ("a custom resource", widget.to_string(), true),
            ("two unmodeled documents", format!("---\n{widget}---\n{config_map}...\n"), true),
            ("a NetworkPolicy", policy.to_string(), false),
            ("a custom resource and a NetworkPolicy", format!("{widget}---\n{policy}"), false),
            ("a Pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n".into(), false),
            ("no kind line", "apiVersion: v1\nmetadata: {name: p}\n".into(), false),
            ("flow syntax", "{apiVersion: v1, kind: Widget}\n".into(), false),
            ("a quoted kind", "apiVersion: \"example.com/v1\"\nkind: 'Widget'\n".into(), true),
            ("nothing", "# only a comment\n".into(), false),
            ("two kind lines", "kind: Widget\nkind: NetworkPolicy\n".into(), false),
        ];
        for (name, text, want) in cases {
            assert_eq!(only_unmodeled_kinds(&text), want, "{name}");
        }
    }
}

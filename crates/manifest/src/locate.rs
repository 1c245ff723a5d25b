//! Positions of fields inside loaded objects, for findings about a part of an
//! object the model keeps no position for (a peer, a port, `metadata.namespace`).
//!
//! The model carries the origin of each object and of each rule; a [`Locator`]
//! parses the same texts again and answers "where, inside the object that
//! starts at this origin, is `spec.ingress[0].from[1].podSelector`?". Lints use
//! it (netpol-lint); loading does not need it, so it costs nothing there.
//!
//! ```
//! use netpol_manifest::{load, LoadOptions, Locator};
//!
//! let yaml = "\
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: db, namespace: prod}
//! spec:
//!   podSelector: {}
//!   ingress:
//!   - from:
//!     - podSelector: {matchLabels: {app: web}}
//! ";
//! let loaded = load([("db.yaml", yaml)], &LoadOptions::default());
//! let origin = loaded.cluster.policies[0].origin.clone().unwrap();
//! let locator = Locator::new([("db.yaml", yaml)]);
//! let at = locator.at(&origin, "spec.ingress[0].from[0].podSelector").unwrap();
//! assert_eq!(at.to_string(), "db.yaml:8:7");
//! assert_eq!(locator.at(&origin, "spec.egress"), None);
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use netpol_model::Origin;

use crate::node::{parse_documents, FieldPath, Node};

/// Every object of a set of sources, by the position it starts at.
pub struct Locator<'a> {
    /// (file, line, column) of an object's root -> its tree.
    objects: HashMap<(&'a str, u32, u32), Node<'a>>,
    files: HashMap<&'a str, Arc<str>>,
}

impl<'a> Locator<'a> {
    /// Parses `(file name, text)` sources (the ones given to [`crate::load`]);
    /// a file that does not parse locates nothing.
    pub fn new(sources: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut objects = HashMap::new();
        let mut files = HashMap::new();
        for (file, text) in sources {
            files.insert(file, Arc::from(file));
            let Ok(docs) = parse_documents(text) else { continue };
            for doc in docs {
                // The items of a List are objects of their own.
                let items: Vec<Node<'a>> = match doc.get("items").and_then(Node::as_seq) {
                    Some(items) if doc.get("kind").and_then(Node::as_str).is_some_and(|k| k.ends_with("List")) => {
                        items.to_vec()
                    }
                    _ => Vec::new(),
                };
                for item in items {
                    objects.insert((file, item.line, item.column), item);
                }
                objects.insert((file, doc.line, doc.column), doc);
            }
        }
        Locator { objects, files }
    }

    /// Where `path` (`spec.ingress[0].from[1].podSelector`: keys separated by
    /// dots, list indices in brackets) is, inside the object that starts at
    /// `object`: the key's position when the path ends with a key, else the
    /// list item's. `None` when the object or the field is not there.
    pub fn at(&self, object: &Origin, path: &str) -> Option<Origin> {
        let doc = self.objects.get(&(&*object.file, object.line, object.column))?;
        let path = parse_path(path)?;
        let found = doc.find(&path);
        if !found.exact {
            return None;
        }
        let node = found.key.unwrap_or(found.value);
        let file = self.files.get(&*object.file).cloned().unwrap_or_else(|| object.file.clone());
        Some(Origin::new(file, node.line, node.column))
    }
}

/// `a.b[0][1].c` -> keys and indices; `None` for text that is not such a path.
fn parse_path(text: &str) -> Option<FieldPath> {
    let mut path = FieldPath::root();
    if text.is_empty() {
        return Some(path);
    }
    for part in text.split('.') {
        let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if key.is_empty() {
            return None;
        }
        path = path.key(key);
        while !rest.is_empty() {
            let (index, after) = rest.split_once(']')?;
            path = path.index(index.parse().ok()?);
            rest = after.strip_prefix('[').unwrap_or(after);
            if !after.is_empty() && !after.starts_with('[') {
                return None;
            }
        }
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        assert_eq!(parse_path("spec.ingress[0].from[12]").unwrap().to_string(), "spec.ingress[0].from[12]");
        assert_eq!(parse_path("a[1][2].b").unwrap().to_string(), "a[1][2].b");
        for bad in ["a..b", "a[x]", "a[1", ".a", "a[1]b"] {
            assert!(parse_path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn list_items_and_later_documents_are_located() {
        let text = "\
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: a, namespace: x}
  spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: b
  namespace: y
spec: {podSelector: {}}
";
        let locator = Locator::new([("f.yaml", text)]);
        let item = Origin::new("f.yaml", 4, 3);
        assert_eq!(locator.at(&item, "metadata.namespace").unwrap().to_string(), "f.yaml:6:23");
        let second = Origin::new("f.yaml", 9, 1);
        assert_eq!(locator.at(&second, "metadata.namespace").unwrap().to_string(), "f.yaml:13:3");
        assert_eq!(locator.at(&Origin::new("g.yaml", 1, 1), "metadata"), None);
    }
}

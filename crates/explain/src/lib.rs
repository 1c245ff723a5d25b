//! `kubectl explain` for NetworkPolicy, offline: the field documentation of
//! `networking.k8s.io/v1` as the kubectl v1.32 client prints it (OpenAPI v3, its
//! `plaintext` template), from the OpenAPI v3 document a real kube-apiserver
//! serves at `/openapi/v3/apis/networking.k8s.io/v1`, embedded in this crate.
//!
//! Where it sits: beside the data flow, not in it. The `netpol explain`
//! subcommand prints what [`Explainer::explain`] returns; nothing reads a
//! cluster. The document ([`SCHEMA_JSON`], served by kube-apiserver
//! [`server_version`]) lives in `data/`; `tools/k8s/fetch-openapi.sh` refreshes
//! it from a control plane, and a control-plane test in crates/cli checks both
//! that it is still what the server serves and that the text equals kubectl's.
//!
//! Pure: no I/O. The `render` module follows kubectl's template rule by rule (ref
//! resolution, `allOf`, `items`, map values, cycles, enums), `wrap` its word
//! wrapping.
//!
//! ```
//! use netpol_explain::{Explainer, Request};
//!
//! let explainer = Explainer::embedded().unwrap();
//! let text = explainer.explain(&Request::new("netpol.spec.egress.ports.endPort")).unwrap();
//! assert!(text.starts_with("GROUP:      networking.k8s.io\nKIND:       NetworkPolicy\nVERSION:    v1\n"));
//! assert!(text.contains("FIELD: endPort <integer>\n"));
//!
//! let err = explainer.explain(&Request::new("netpol.spec.nope")).unwrap_err();
//! assert_eq!(err.to_string(), r#"field "nope" does not exist"#);
//! ```

use serde_json::Value;

mod render;
pub mod resource;
mod wrap;

use render::Document;
pub use resource::{Resource, RESOURCES};

/// The OpenAPI v3 document of `networking.k8s.io/v1` as kube-apiserver serves
/// it (parsed, then pretty-printed with sorted keys).
pub const SCHEMA_JSON: &str = include_str!("../data/networking.k8s.io-v1.openapi.json");

const SERVER_VERSION_FILE: &str = include_str!("../data/networking.k8s.io-v1.version");

/// The kube-apiserver version that served [`SCHEMA_JSON`] (e.g. `v1.34.4`).
pub fn server_version() -> &'static str {
    SERVER_VERSION_FILE.trim()
}

/// Why a request could not be explained.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the OpenAPI document is not valid JSON: {source}")]
    Document {
        #[source]
        source: serde_json::Error,
    },
    #[error("netpol explain has no resource type {name:?}; it knows {} (networking.k8s.io/v1)", resource::supported())]
    UnknownResource { name: String },
    #[error(
        "couldn't find resource for \"{api_version}, Resource={resource}\": netpol explain embeds only {embedded}"
    )]
    ApiVersion { api_version: String, resource: &'static str, embedded: String },
    #[error("invalid field path {path:?}: a field name is empty")]
    EmptyField { path: String },
    #[error("field {field:?} does not exist")]
    NoField { field: String },
    #[error("GVR ({api_version}, Resource={resource}) not found in OpenAPI schema")]
    NoKind { api_version: String, resource: &'static str },
}

/// What to explain: `RESOURCE[.FIELD]...` as `kubectl explain` takes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// `networkpolicy`, `networkpolicies`, `netpol` or
    /// `networkpolicies.networking.k8s.io`, then `.field` steps.
    pub path: String,
    /// `--recursive`: every field below, names and types only.
    pub recursive: bool,
    /// `--api-version GROUP/VERSION`; only `networking.k8s.io/v1` is embedded.
    pub api_version: Option<String>,
}

impl Request {
    pub fn new(path: impl Into<String>) -> Request {
        Request { path: path.into(), ..Request::default() }
    }

    pub fn recursive(mut self, recursive: bool) -> Request {
        self.recursive = recursive;
        self
    }

    pub fn api_version(mut self, api_version: impl Into<String>) -> Request {
        self.api_version = Some(api_version.into());
        self
    }
}

/// A parsed OpenAPI v3 document to explain fields from.
#[derive(Debug)]
pub struct Explainer {
    document: Value,
}

impl Explainer {
    /// The embedded document ([`SCHEMA_JSON`]).
    pub fn embedded() -> Result<Explainer, Error> {
        Explainer::from_json(SCHEMA_JSON)
    }

    /// Any OpenAPI v3 document of `networking.k8s.io/v1` (e.g. one fetched from a server).
    pub fn from_json(text: &str) -> Result<Explainer, Error> {
        let document = serde_json::from_str(text).map_err(|source| Error::Document { source })?;
        Ok(Explainer { document })
    }

    /// The text `kubectl explain` prints for `request`, ending in a newline.
    pub fn explain(&self, request: &Request) -> Result<String, Error> {
        let (resource, fields) = resource::split(&request.path).ok_or_else(|| Error::UnknownResource {
            name: request.path.split('.').next().unwrap_or_default().to_string(),
        })?;
        if let Some(api_version) = &request.api_version {
            if *api_version != resource.api_version() {
                return Err(Error::ApiVersion {
                    api_version: api_version.clone(),
                    resource: resource.plural,
                    embedded: resource.api_version(),
                });
            }
        }
        if fields.iter().any(|f| f.is_empty()) {
            return Err(Error::EmptyField { path: request.path.clone() });
        }

        let document = Document::new(&self.document);
        let no_kind = || Error::NoKind { api_version: resource.api_version(), resource: resource.plural };
        let gvk = document.gvk(resource.group, resource.version, resource.plural).ok_or_else(no_kind)?;
        let schema = document.schema_of(gvk).ok_or_else(no_kind)?;

        let body = document.output(schema, &fields, &Default::default(), request.recursive);
        if body.is_empty() {
            // kubectl names the last field of the path; the first one that is missing says more.
            let missing = (1..=fields.len())
                .find(|&n| document.output(schema, &fields[..n], &Default::default(), false).is_empty())
                .map_or(fields.len(), |n| n);
            return Err(Error::NoField { field: fields[missing - 1].to_string() });
        }

        let mut out = String::new();
        if let Some(group) = gvk.get("group").and_then(Value::as_str).filter(|g| !g.is_empty()) {
            out.push_str(&format!("GROUP:      {group}\n"));
        }
        let text = |key: &str| gvk.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        out.push_str(&format!("KIND:       {}\n", text("kind")));
        out.push_str(&format!("VERSION:    {}\n\n", text("version")));
        out.push_str(&body);
        out.push('\n');
        Ok(out)
    }
}

//! netpol-manifest: loads Kubernetes manifests (YAML or JSON) into a
//! [`netpol_model::Cluster`], validating them as the API server and
//! `kubectl apply --validate=strict` would, and reporting every finding as a
//! [`Diagnostic`] with its file, 1-based line and column, a stable code and help.
//!
//! Where it sits in the data flow:
//!
//! ```text
//! (file name, text) --serde-saphyr--> spanned documents --k8s-openapi (strict)-->
//!     typed objects --API-server validation + defaulting--> model::Cluster + Vec<Diagnostic>
//! ```
//!
//! The crate is pure: callers (netpol-input) read the files and pass their
//! names and texts. Multi-document streams, `List`/`PodList`/... items,
//! Namespaces, Pods, Services, NetworkPolicies (`networking.k8s.io/v1`) and
//! workloads (their pod templates) are loaded; other kinds are skipped with a note.
//! An object with an error is left out of the cluster, in both modes; under
//! `lenient`, unknown fields are warnings and dropped, as the API server does
//! with field validation off.
//!
//! The other way, [`create`] builds the NetworkPolicy `netpol create networkpolicy`
//! asks for (a k8s-openapi object, checked as the API server checks it) and prints it.
//!
//! ```
//! use netpol_manifest::{load, LoadOptions, Severity};
//!
//! let yaml = "\
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: db, namespace: prod}
//! spec:
//!   podSelector: {matchLabels: {role: db}}
//!   ingress:
//!   - ports:
//!     - protoco: TCP
//!       port: 3306
//! ";
//! let strict = load([("db.yaml", yaml)], &LoadOptions::default());
//! let first = strict.errors().next().unwrap();
//! assert_eq!(first.to_string(), "db.yaml:8:7: error[NP0010]: unknown field `spec.ingress[0].ports[0].protoco`\n  = help: did you mean `protocol`?");
//! assert!(strict.cluster.policies.is_empty()); // rejected, as the API server would
//!
//! let lenient = load([("db.yaml", yaml)], &LoadOptions { lenient: true, ..LoadOptions::default() });
//! assert!(!lenient.has_errors());
//! assert_eq!(lenient.diagnostics[0].severity, Severity::Warning);
//! // `protoco` was dropped, so the port defaults to TCP, as the API server stores it.
//! assert_eq!(lenient.cluster.policies[0].ingress[0].ports[0].to_string(), "3306/TCP");
//! ```

pub mod api;
mod block;
mod calico_v3;
mod check;
mod convert;
pub mod create;
mod decode;
mod diagnostic;
mod dns;
mod list;
mod load;
mod locate;
mod node;
pub mod overlay;
mod parse;
mod schema;
mod service_accounts;
mod tiered;
mod validate;

pub use calico_v3::{calico_v3, calico_v3_yaml};
pub use diagnostic::{codes, render_code_table, CodeInfo, Diagnostic, Escaped, Severity};
pub use locate::Locator;

/// How strictly to load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Unknown and duplicate fields become warnings (and are dropped) instead of
    /// errors: what the API server stores with field validation off. Validation
    /// errors still reject the object.
    pub lenient: bool,
    /// The Tiers that Calico policies name are declared outside this load (an
    /// object read alone from the API, where Calico refuses a policy in a tier
    /// that does not exist): no NP0062 for a tier the load does not declare.
    pub tiers_declared_elsewhere: bool,
}

/// The loaded cluster and every finding, sorted by file (in the order given),
/// line and column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Loaded {
    pub cluster: netpol_model::Cluster,
    pub diagnostics: Vec<Diagnostic>,
    /// The NetworkPolicies that were refused (an error rejected them), and the
    /// documents that could not be read at all (which may have been policies),
    /// in load order. Each also has its error in `diagnostics`. A command that
    /// evaluates must not go on without them, even under `lenient`: the pairs
    /// such a policy denies would show as allowed.
    pub refused: Vec<Refused>,
    /// Non-empty documents read (list items not counted separately).
    pub documents: usize,
    /// Bytes of text read.
    pub bytes: usize,
}

/// An object the load left out because of an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// `Some("NetworkPolicy")`, or `None` for a document that is not YAML (or
    /// goes beyond a parser limit), whose kind is unknown.
    pub kind: Option<&'static str>,
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = self.kind.unwrap_or("a document that could not be read");
        write!(f, "{what} at {}:{}:{}", self.file, self.line, self.column)
    }
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

/// Loads `(file name, text)` sources. Never panics and never stops at the first
/// finding: a file that is not YAML is one diagnostic, and the other files still load.
pub fn load<'a>(sources: impl IntoIterator<Item = (&'a str, &'a str)>, options: &LoadOptions) -> Loaded {
    let sources: Vec<(&str, &str)> = sources.into_iter().collect();
    load::load(&sources, options)
}

/// The checks that look at a whole cluster rather than at one object (the DNS
/// trap, NP0054), for a cluster that did not come from files (read from the
/// API, or files applied on top of it). [`load`] runs them on files itself.
pub fn lint(cluster: &netpol_model::Cluster) -> Vec<Diagnostic> {
    dns::check(cluster)
        .into_iter()
        .map(|f| {
            let o = f.origin;
            diagnostic::DNS_EGRESS_BLOCKED.at(false, &o.file, o.line, o.column, f.message, Some(f.help))
        })
        .collect()
}

//! netpol-lint: what a reviewer wants to know about a set of NetworkPolicies
//! beyond "would the API server take them": policies and selectors that match
//! nothing, policies and rules that change nothing (proved on the compiled
//! all-pairs matrix), named ports nobody declares, exposure to the whole
//! cluster or the internet, ipBlocks whose effect depends on the network
//! plugin, pods no policy isolates.
//!
//! Where it sits in the data flow: `manifest` (files -> [`Cluster`] + the
//! loader's diagnostics) -> **lint** ([`lint`]: findings as
//! [`netpol_manifest::Diagnostic`]s, codes NP0101 and up, see [`codes`]) ->
//! `netpol lint` prints them (text as `validate` does, JSON, SARIF from
//! netpol-print). Redundancy is computed with `netpol-matrix`; selection with
//! the model's one selection predicate. Pure: no I/O.
//!
//! ```
//! use netpol_lint::{lint, Input, NoPositions, Options};
//! use netpol_manifest::{load, LoadOptions};
//!
//! let yaml = "\
//! apiVersion: v1
//! kind: Pod
//! metadata: {name: web, namespace: default, labels: {app: web}}
//! spec: {containers: [{name: c, image: nginx}]}
//! ---
//! apiVersion: networking.k8s.io/v1
//! kind: NetworkPolicy
//! metadata: {name: db, namespace: default}
//! spec:
//!   podSelector: {matchLabels: {app: db}}
//! ";
//! let loaded = load([("in.yaml", yaml)], &LoadOptions::default());
//! let input = Input { cluster: &loaded.cluster, loaded: &loaded.diagnostics, locate: &NoPositions, options: Options::default() };
//! let findings = lint(&input);
//! assert!(findings.iter().any(|f| f.diagnostic.code == "NP0101")); // selects no pod
//! ```

mod codes;
mod context;
mod exposure;
mod ports;
mod redundancy;
mod selection;

use netpol_manifest::{Diagnostic, Locator};
use netpol_model::{Cluster, Direction, Origin};

pub use codes::{codes, render_code_table, LOADER_CODES};
use context::Context;

/// Finds the position of a field inside an object (see [`netpol_manifest::Locator`]).
pub trait Locate {
    /// Where `path` (`spec.ingress[0].from[1]`) is in the object starting at `object`.
    fn at(&self, object: &Origin, path: &str) -> Option<Origin>;
}

impl Locate for Locator<'_> {
    fn at(&self, object: &Origin, path: &str) -> Option<Origin> {
        Locator::at(self, object, path)
    }
}

/// Locates nothing: findings point at the object or the rule (a cluster read
/// from the API has no text to point into).
pub struct NoPositions;

impl Locate for NoPositions {
    fn at(&self, _: &Origin, _: &str) -> Option<Origin> {
        None
    }
}

/// The choices where the network plugin decides (docs/semantics.md): the
/// matrix's, which redundancy is judged with.
pub use netpol_matrix::Options;

/// What to lint.
pub struct Input<'a> {
    pub cluster: &'a Cluster,
    /// The loader's diagnostics: its cluster-wide warnings ([`LOADER_CODES`])
    /// are reported too (duplicates, undeclared namespaces, the DNS trap).
    pub loaded: &'a [Diagnostic],
    pub locate: &'a dyn Locate,
    pub options: Options,
}

/// What a finding is about, for callers that act on it (and for the tests that
/// remove each redundant policy or rule and compare the matrix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Policy { namespace: String, name: String },
    Rule { namespace: String, name: String, direction: Direction, index: usize },
    Other,
}

/// One finding: the diagnostic printed, and what it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub target: Target,
}

/// Every finding, sorted by file, line, column and code.
pub fn lint(input: &Input<'_>) -> Vec<Finding> {
    let cx = Context::new(input);
    let mut out = Vec::new();
    selection::check(&cx, &mut out);
    ports::check(&cx, &mut out);
    exposure::check(&cx, &mut out);
    redundancy::check(&cx, &mut out);
    let carried = loader(input, &out);
    out.extend(carried);
    // Stable: findings at one position keep the order the checks made them in.
    out.sort_by(|a, b| {
        let (x, y) = (&a.diagnostic, &b.diagnostic);
        (&x.file, x.line, x.column, x.code).cmp(&(&y.file, y.line, y.column, y.code))
    });
    out.dedup_by(|a, b| a.diagnostic == b.diagnostic);
    out
}

/// The loader's cluster-wide warnings, and the DNS trap for a cluster that did
/// not come from files alone (read from the API). An undeclared namespace
/// (NP0052) that holds a policy is left to NP0115, which names every policy.
fn loader(input: &Input<'_>, own: &[Finding]) -> Vec<Finding> {
    let policy_namespaces: Vec<&str> = own
        .iter()
        .filter(|f| f.diagnostic.code == codes::POLICY_IN_UNDECLARED_NAMESPACE.code)
        .filter_map(|f| match &f.target {
            Target::Policy { namespace, .. } => Some(namespace.as_str()),
            _ => None,
        })
        .collect();
    let mut out: Vec<Finding> = input
        .loaded
        .iter()
        .filter(|d| LOADER_CODES.contains(&d.code))
        .filter(|d| {
            d.code != "NP0052"
                || !policy_namespaces.iter().any(|ns| d.message.starts_with(&format!("namespace `{ns}` ")))
        })
        .map(|d| Finding { diagnostic: d.clone(), target: Target::Other })
        .collect();
    for d in netpol_manifest::lint(input.cluster) {
        if !input.loaded.contains(&d) {
            out.push(Finding { diagnostic: d, target: Target::Other });
        }
    }
    out
}

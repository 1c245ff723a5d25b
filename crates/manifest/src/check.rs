//! Checking one document: its kind, the typed decode of its fields, API-server
//! validation, and the model object it becomes. Pure and independent of every
//! other document, so documents are checked on all cores; what depends on the
//! others (duplicates, namespaces in use) is left to the loader as [`Step`]s.

use std::sync::Arc;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use netpol_model::{Cluster, Origin, WorkloadKind};
use serde::de::DeserializeOwned;

use crate::convert;
use crate::decode::decode_object;
use crate::diagnostic::{self as d, Diagnostic};
use crate::node::{FieldPath, Node, Value, Walk};
use crate::schema::{self, Level};
use crate::validate::{self, At, Finding, NameRule, SpecOf};
use crate::{LoadOptions, Refused};

#[path = "check_kinds.rs"]
mod kinds;
#[path = "check_ordered.rs"]
mod ordered;

use kinds::{api_version_finding, served_api_version, CORE_V1_KINDS, KNOWN_KINDS};

/// Which list of the model an object lands in (a Pod and a Deployment of the same
/// name are the same endpoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Category {
    Namespace,
    Pod,
    Service,
    Policy,
    Node,
    ServiceAccount,
    Tier,
    Tiered(netpol_model::TieredKind),
}

/// What checking a document yields, in order: findings, and objects for the cluster.
pub(crate) enum Step {
    Diagnostic(Diagnostic),
    Upsert(Box<Upsert>),
    /// A NetworkPolicy (or a document of unknown kind) that was refused.
    Refused(Refused),
}

/// An object to add to the cluster (or to replace an earlier one of the same key).
pub(crate) struct Upsert {
    pub category: Category,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub insert: Insert,
    /// Where the object starts.
    pub origin: Origin,
    /// Where it names its namespace (its start when it does not).
    pub namespace_at: Origin,
}

/// Checks the documents of one file.
pub(crate) struct Checker<'o> {
    options: &'o LoadOptions,
    file: Arc<str>,
    /// Set while re-reading the part of a file before its syntax error: then only
    /// unknown and duplicate fields are reported (they do not depend on what the
    /// cut removed), and nothing is loaded.
    recovering: bool,
    /// Set when a List's items are checked as objects (see [`Checker::list_head`]).
    walked_items: bool,
    pub steps: Vec<Step>,
    /// The text the checked documents come from, for positions inside scalars.
    source: Source<'o>,
}

/// A file's text, or the part of it from line `line_offset + 1` on.
#[derive(Clone, Copy)]
pub(crate) struct Source<'t> {
    pub text: &'t str,
    pub line_offset: u32,
}

impl Source<'_> {
    /// True when the file has a quote (`'` or `"`) at 1-based `line`, `column`.
    fn quote_at(&self, line: u32, column: u32) -> bool {
        let Some(index) = line.checked_sub(self.line_offset + 1) else { return false };
        let Some(text) = self.text.split('\n').nth(index as usize) else { return false };
        let at = text.chars().nth(column.saturating_sub(1) as usize);
        matches!(at, Some('\'' | '"'))
    }
}

/// One object being checked: its file and root node.
struct Obj<'a> {
    file: &'a Arc<str>,
    doc: &'a Node<'a>,
}

impl Obj<'_> {
    fn origin_at(&self, path: &FieldPath) -> Origin {
        let node = self.doc.find(path).value;
        Origin::new(self.file.clone(), node.line, node.column)
    }

    fn origin(&self) -> Origin {
        self.origin_at(&FieldPath::root())
    }

    fn position(&self, path: &FieldPath, at: At) -> (u32, u32) {
        let found = self.doc.find(path);
        match (at, found.exact, found.key) {
            (At::Key, true, Some(k)) => (k.line, k.column),
            // An empty value has no text of its own: point at its key.
            (At::Value, true, Some(k)) if found.value.is_null() => (k.line, k.column),
            _ => (found.value.line, found.value.column),
        }
    }
}

/// Workload kinds whose pod template stands for their pods.
pub(crate) trait Workload: DeserializeOwned {
    const KIND: WorkloadKind;
    fn meta(&self) -> &ObjectMeta;
    /// The pod template and its path.
    fn template(&self) -> Option<(&core::PodTemplateSpec, &'static [&'static str])>;
}

const SPEC_TEMPLATE: &[&str] = &["spec", "template"];

macro_rules! workload {
    ($ty:ty, $kind:ident, |$s:ident| $template:expr) => {
        impl Workload for $ty {
            const KIND: WorkloadKind = WorkloadKind::$kind;
            fn meta(&self) -> &ObjectMeta {
                &self.metadata
            }
            fn template(&self) -> Option<(&core::PodTemplateSpec, &'static [&'static str])> {
                let $s = self.spec.as_ref()?;
                $template
            }
        }
    };
}

workload!(apps::Deployment, Deployment, |s| Some((&s.template, SPEC_TEMPLATE)));
workload!(apps::StatefulSet, StatefulSet, |s| Some((&s.template, SPEC_TEMPLATE)));
workload!(apps::DaemonSet, DaemonSet, |s| Some((&s.template, SPEC_TEMPLATE)));
workload!(apps::ReplicaSet, ReplicaSet, |s| s.template.as_ref().map(|t| (t, SPEC_TEMPLATE)));
workload!(batch::Job, Job, |s| Some((&s.template, SPEC_TEMPLATE)));
workload!(batch::CronJob, CronJob, |s| s
    .job_template
    .spec
    .as_ref()
    .map(|j| (&j.template, &["spec", "jobTemplate", "spec", "template"][..])));

impl<'o> Checker<'o> {
    pub fn new(options: &'o LoadOptions, file: Arc<str>, source: Source<'o>, recovering: bool) -> Self {
        Checker { options, file, recovering, walked_items: false, steps: Vec::new(), source }
    }

    pub fn document(&mut self, doc: &Node) {
        let file = self.file.clone();
        self.object(&Obj { file: &file, doc }, 0);
    }

    /// A List document cut at its items ([`crate::list`]) without them (its
    /// `items` an empty sequence): checked as [`Checker::document`] checks it,
    /// which reports nothing after its items. True when `document` would check
    /// each item as an object: then the loader checks them with [`Checker::list_item`].
    pub fn list_head(&mut self, doc: &Node) -> bool {
        self.walked_items = false;
        self.document(doc);
        self.walked_items
    }

    /// An item of a List whose head [`Checker::list_head`] checked.
    pub fn list_item(&mut self, item: &Node) {
        let file = self.file.clone();
        self.object(&Obj { file: &file, doc: item }, 1);
    }

    /// Emits an object's findings; true when any is an error (the object is rejected).
    fn emit(&mut self, obj: &Obj<'_>, findings: Vec<Finding>) -> bool {
        let mut rejected = self.recovering;
        for f in findings {
            if self.recovering && f.code != d::UNKNOWN_FIELD && f.code != d::DUPLICATE_FIELD {
                continue;
            }
            let (line, column) = obj.position(&f.path, f.at);
            // Inside a scalar (a selector expression): past its opening quote, if any.
            let column = match f.shift {
                Some(shift) => column + shift + u32::from(self.source.quote_at(line, column)),
                None => column,
            };
            let diag = f.code.at(self.options.lenient, obj.file, line, column, f.message, f.help);
            rejected |= diag.is_error();
            self.steps.push(Step::Diagnostic(diag));
        }
        rejected
    }

    fn object(&mut self, obj: &Obj<'_>, depth: usize) {
        let doc = obj.doc;
        if doc.as_map().is_none() {
            let what = match &doc.value {
                Value::Seq(_) => "a list",
                _ => "a plain value",
            };
            let f = Finding::value(
                d::NOT_AN_OBJECT,
                FieldPath::root(),
                format!("expected an object with `apiVersion` and `kind`, found {what}"),
            );
            self.emit(obj, vec![f]);
            return;
        }
        let mut findings = Vec::new();
        let kind = string_field(doc, "kind", &mut findings);
        let api_version = string_field(doc, "apiVersion", &mut findings);
        if !findings.is_empty() {
            self.emit(obj, findings);
            return;
        }
        let Some(kind) = kind else {
            let message =
                if api_version.is_none() { "`apiVersion` and `kind` are missing" } else { "`kind` is missing" };
            let mut f = Finding::value(d::MISSING_KIND, FieldPath::root(), message);
            if doc.get("spec").is_some() || doc.get("podSelector").is_some() {
                f = f.help("this looks like a fragment of an object, not a manifest: a manifest needs `apiVersion`, `kind` and `metadata` (for a policy: `apiVersion: networking.k8s.io/v1`, `kind: NetworkPolicy`)");
            }
            self.emit(obj, vec![f]);
            return;
        };
        if let Some(items) = doc.get("items").filter(|_| kind.ends_with("List")) {
            self.list(obj, kind, api_version, items, depth);
            return;
        }
        if let Some((which, served)) = crate::tiered::which(kind, api_version) {
            self.ordered(obj, kind, which, served, api_version, findings);
            return;
        }
        let Some(served) = served_api_version(kind) else {
            self.other_kind(obj, kind, api_version);
            return;
        };
        findings.extend(api_version_finding(kind, api_version, served, &[]));
        duplicate_keys(doc, Walk::Root, &mut findings);
        let level = schema::root_level(kind);
        match kind {
            "NetworkPolicy" => self.network_policy(obj, level, findings),
            "Pod" => self.pod(obj, level, findings),
            "Service" => self.service(obj, level, findings),
            "Namespace" => self.namespace(obj, level, findings),
            "Node" => self.node(obj, level, findings),
            "ServiceAccount" => self.service_account(obj, level, findings),
            "Deployment" => self.workload::<apps::Deployment>(obj, level, findings),
            "StatefulSet" => self.workload::<apps::StatefulSet>(obj, level, findings),
            "DaemonSet" => self.workload::<apps::DaemonSet>(obj, level, findings),
            "ReplicaSet" => self.workload::<apps::ReplicaSet>(obj, level, findings),
            "Job" => self.workload::<batch::Job>(obj, level, findings),
            "CronJob" => self.workload::<batch::CronJob>(obj, level, findings),
            // served_api_version lists exactly the kinds above.
            _ => self.other_kind(obj, kind, api_version),
        }
    }

    fn list(&mut self, obj: &Obj<'_>, kind: &str, api_version: Option<&str>, items: &Node, depth: usize) {
        if api_version.is_none() {
            let f = Finding::value(
                d::MISSING_API_VERSION,
                FieldPath::root(),
                format!("`apiVersion` is missing for kind `{kind}`"),
            )
            .help("add `apiVersion: v1`");
            self.emit(obj, vec![f]);
        }
        match &items.value {
            Value::Seq(seq) => {
                self.walked_items = true;
                for item in seq {
                    self.object(&Obj { file: obj.file, doc: item }, depth + 1);
                }
            }
            Value::Null => {}
            _ => {
                let f = Finding::value(
                    d::INVALID_TYPE,
                    FieldPath::root().key("items"),
                    "`items` must be a list of objects",
                );
                self.emit(obj, vec![f]);
            }
        }
    }

    fn other_kind(&mut self, obj: &Obj<'_>, kind: &str, api_version: Option<&str>) {
        let at = FieldPath::root().key("kind");
        let f = if let Some(known) = KNOWN_KINDS.iter().find(|k| k.eq_ignore_ascii_case(kind)) {
            Finding::value(d::KIND_CASE, at, format!("unknown kind `{kind}`"))
                .help(format!("kinds are case-sensitive: did you mean `{known}`?"))
        } else if api_version.is_none() {
            Finding::value(
                d::MISSING_API_VERSION,
                FieldPath::root(),
                format!("`apiVersion` is missing for kind `{kind}`"),
            )
            .help("the API server rejects an object without `apiVersion`")
        } else if api_version == Some("v1") && !CORE_V1_KINDS.contains(&kind) && !kind.ends_with("List") {
            let help = if kind.starts_with(|c: char| c.is_ascii_lowercase()) {
                "this looks like a Calico policy for `calicoctl` (Calico's own v1 API), not a Kubernetes object: \
                 `kubectl apply` rejects it, and netpol models only Kubernetes NetworkPolicy, so its rules take no part in netpol's verdicts"
            } else {
                "the core `v1` API has no such kind: `kubectl apply` rejects it; netpol skips it"
            };
            Finding::value(
                d::NOT_A_KUBERNETES_KIND,
                at,
                format!("kind `{kind}` does not exist in apiVersion `v1`: skipped"),
            )
            .help(help)
        } else {
            Finding::value(d::SKIPPED_KIND, at, format!("skipped kind `{kind}`: netpol does not model it"))
        };
        self.emit(obj, vec![f]);
    }

    /// Typed decoding with unknown fields and type errors as findings.
    fn typed<T: DeserializeOwned>(
        &self,
        obj: &Obj<'_>,
        level: Option<&'static Level>,
        findings: &mut Vec<Finding>,
    ) -> Option<T> {
        let decoded = decode_object::<T>(obj.doc);
        let dropped = if self.options.lenient { " (dropped)" } else { "" };
        for path in decoded.unknown {
            let explained = level.map(|l| schema::explain_unknown(l, obj.doc, &path));
            let mut f = Finding::key(d::UNKNOWN_FIELD, path.clone(), format!("unknown field `{path}`{dropped}"));
            f.help = explained.as_ref().and_then(|e| e.help.clone());
            findings.push(f);
            if let Some(meant) = explained.and_then(|e| e.meant_as) {
                let mut nested = Vec::new();
                schema::unknown_inside(obj.doc.find(&path).value, &path, meant, &mut nested);
                for n in nested {
                    let mut f =
                        Finding::key(d::UNKNOWN_FIELD, n.path.clone(), format!("unknown field `{}`{dropped}", n.path));
                    f.help = n.help;
                    findings.push(f);
                }
            }
        }
        if let Some((path, message)) = decoded.type_error {
            let node = obj.doc.find(&path).value;
            let mut f = Finding::value(d::INVALID_TYPE, path.clone(), format!("`{path}`: {message}"));
            if message.contains("expected a string")
                && matches!(node.value, Value::Bool(_) | Value::Int(_) | Value::UInt(_) | Value::Float(_))
            {
                f = f.help("quote it: YAML reads unquoted true/false/yes/no/on/off as booleans and digits as numbers");
            } else if message.starts_with("missing field") {
                f = f.help("add the missing field");
            }
            findings.push(f);
        }
        decoded.value
    }

    /// Hands an object to the loader, which adds it or replaces an earlier duplicate.
    fn upsert(
        &mut self,
        obj: &Obj<'_>,
        category: Category,
        kind: &'static str,
        namespace: String,
        name: String,
        insert: Insert,
    ) {
        let origin = obj.origin();
        // `origin_at(metadata.namespace)`, when the document has it.
        let namespace_at = match obj.doc.get("metadata").and_then(|m| m.get("namespace")) {
            Some(node) => Origin::new(obj.file.clone(), node.line, node.column),
            None => origin.clone(),
        };
        let upsert = Upsert { category, kind, namespace, name, insert, origin, namespace_at };
        self.steps.push(Step::Upsert(Box::new(upsert)));
    }

    fn network_policy(&mut self, obj: &Obj<'_>, level: Option<&'static Level>, mut findings: Vec<Finding>) {
        let np = self.typed::<net::NetworkPolicy>(obj, level, &mut findings);
        let mut name = String::new();
        if let Some(np) = &np {
            name = validate::object_meta(&np.metadata, NameRule::Subdomain, true, &mut findings);
            if let Some(spec) = &np.spec {
                validate::network_policy_spec(spec, &mut findings);
            }
            policy_warnings(obj.doc, &name, &np.metadata, &mut findings);
            for f in findings.iter_mut().filter(|f| f.code == d::EMPTY_PEER) {
                f.help = Some(empty_peer_help(obj.doc.find(&f.path).value));
            }
        }
        let rejected = self.emit(obj, findings);
        if rejected && !self.recovering {
            let origin = obj.origin();
            self.steps.push(Step::Refused(Refused {
                kind: Some("NetworkPolicy"),
                file: origin.file.to_string(),
                line: origin.line,
                column: origin.column,
            }));
        }
        let Some(np) = np.filter(|_| !rejected) else { return };
        let namespace = effective_namespace(&np.metadata);
        let policy = convert::network_policy(&np, &namespace, &name, &|p| obj.origin_at(p));
        self.upsert(obj, Category::Policy, "NetworkPolicy", namespace, name, Insert::Policy(policy));
    }

    fn pod(&mut self, obj: &Obj<'_>, level: Option<&'static Level>, mut findings: Vec<Finding>) {
        let pod = self.typed::<core::Pod>(obj, level, &mut findings);
        let mut name = String::new();
        if let Some(pod) = &pod {
            name = validate::object_meta(&pod.metadata, NameRule::Subdomain, true, &mut findings);
            if let Some(spec) = &pod.spec {
                validate::pod_spec(spec, SpecOf::Pod, Walk::Root.key("spec"), &mut findings);
            }
            if let Some(status) = &pod.status {
                validate::pod_status(status, &mut findings);
            }
        }
        let rejected = self.emit(obj, findings);
        let Some(pod) = pod.filter(|_| !rejected) else { return };
        let namespace = effective_namespace(&pod.metadata);
        let model = convert::pod(convert::PodParts::of_pod(&namespace, &name, &pod), obj.origin());
        self.upsert(obj, Category::Pod, "Pod", namespace, name, Insert::Pod(model));
    }

    fn workload<W: Workload>(&mut self, obj: &Obj<'_>, level: Option<&'static Level>, mut findings: Vec<Finding>) {
        let w = self.typed::<W>(obj, level, &mut findings);
        let mut name = String::new();
        if let Some(w) = &w {
            name = validate::object_meta(w.meta(), NameRule::Subdomain, true, &mut findings);
            if let Some((template, keys)) = w.template() {
                let path = Walk::Keys(keys);
                if let Some(labels) = template.metadata.as_ref().and_then(|m| m.labels.as_ref()) {
                    let metadata = path.key("metadata");
                    validate::validate_labels(labels, metadata.key("labels"), &mut findings);
                }
                if let Some(spec) = &template.spec {
                    validate::pod_spec(spec, SpecOf::Template, path.key("spec"), &mut findings);
                }
            }
        }
        let rejected = self.emit(obj, findings);
        let Some(w) = w.filter(|_| !rejected) else { return };
        let namespace = effective_namespace(w.meta());
        let parts = convert::PodParts::of_template(&namespace, &name, W::KIND, w.template().map(|(t, _)| t));
        let model = convert::pod(parts, obj.origin());
        self.upsert(obj, Category::Pod, W::KIND.as_str(), namespace, name, Insert::Pod(model));
    }

    fn service(&mut self, obj: &Obj<'_>, level: Option<&'static Level>, mut findings: Vec<Finding>) {
        let svc = self.typed::<core::Service>(obj, level, &mut findings);
        let mut name = String::new();
        if let Some(svc) = &svc {
            name = validate::object_meta(&svc.metadata, NameRule::Dns1035, true, &mut findings);
            if let Some(spec) = &svc.spec {
                validate::service_spec(spec, &mut findings);
            }
        }
        let rejected = self.emit(obj, findings);
        let Some(svc) = svc.filter(|_| !rejected) else { return };
        let namespace = effective_namespace(&svc.metadata);
        let model = convert::service(&svc, &namespace, &name, obj.origin());
        self.upsert(obj, Category::Service, "Service", namespace, name, Insert::Service(model));
    }

    fn namespace(&mut self, obj: &Obj<'_>, level: Option<&'static Level>, mut findings: Vec<Finding>) {
        let ns = self.typed::<core::Namespace>(obj, level, &mut findings);
        let mut name = String::new();
        if let Some(ns) = &ns {
            name = validate::object_meta(&ns.metadata, NameRule::Label, false, &mut findings);
        }
        let rejected = self.emit(obj, findings);
        let Some(ns) = ns.filter(|_| !rejected) else { return };
        let model = convert::namespace(&ns, &name, obj.origin());
        self.upsert(obj, Category::Namespace, "Namespace", String::new(), name, Insert::Namespace(model));
    }
}

/// What an [`Upsert`] adds to the cluster.
pub(crate) enum Insert {
    Namespace(netpol_model::Namespace),
    Pod(netpol_model::Pod),
    Service(netpol_model::Service),
    Policy(netpol_model::NetworkPolicy),
    Node(netpol_model::Node),
    ServiceAccount(netpol_model::ServiceAccount),
    Tier(netpol_model::Tier),
    Tiered(netpol_model::TieredPolicy),
}

impl Insert {
    /// Appends; returns the index (0 for namespaces, which are keyed by name).
    pub fn push(self, cluster: &mut Cluster) -> usize {
        match self {
            Insert::Namespace(ns) => {
                cluster.namespaces.insert(ns.name.clone(), ns);
                0
            }
            Insert::Pod(p) => {
                cluster.pods.push(p);
                cluster.pods.len() - 1
            }
            Insert::Service(s) => {
                cluster.services.push(s);
                cluster.services.len() - 1
            }
            Insert::Policy(p) => {
                cluster.policies.push(p);
                cluster.policies.len() - 1
            }
            Insert::Node(n) => {
                cluster.nodes.push(n);
                cluster.nodes.len() - 1
            }
            Insert::ServiceAccount(sa) => {
                cluster.service_accounts.push(sa);
                cluster.service_accounts.len() - 1
            }
            Insert::Tier(t) => {
                cluster.tiers.push(t);
                cluster.tiers.len() - 1
            }
            Insert::Tiered(p) => {
                cluster.tiered.push(p);
                cluster.tiered.len() - 1
            }
        }
    }

    pub fn replace(self, cluster: &mut Cluster, index: usize) {
        match self {
            Insert::Namespace(ns) => {
                cluster.namespaces.insert(ns.name.clone(), ns);
            }
            Insert::Pod(p) => cluster.pods[index] = p,
            Insert::Service(s) => cluster.services[index] = s,
            Insert::Policy(p) => cluster.policies[index] = p,
            Insert::Node(n) => cluster.nodes[index] = n,
            Insert::ServiceAccount(sa) => cluster.service_accounts[index] = sa,
            Insert::Tier(t) => cluster.tiers[index] = t,
            Insert::Tiered(p) => cluster.tiered[index] = p,
        }
    }
}

/// `metadata.namespace`, or `default` as `kubectl apply` without `-n` uses.
fn effective_namespace(meta: &ObjectMeta) -> String {
    meta.namespace.clone().filter(|n| !n.is_empty()).unwrap_or_else(|| "default".to_string())
}

/// A top-level string field; a non-string value is a finding.
fn string_field<'a>(doc: &'a Node, key: &str, findings: &mut Vec<Finding>) -> Option<&'a str> {
    let node = doc.get(key)?;
    match &node.value {
        Value::Str(s) => Some(s),
        Value::Null => None,
        _ => {
            findings.push(Finding::value(
                d::INVALID_TYPE,
                FieldPath::root().key(key),
                format!("`{key}` must be a string"),
            ));
            None
        }
    }
}

/// Keys written twice in one mapping (the later one wins, as in the API server's
/// decoder). Linear in the document: a path on the stack, no allocation unless found.
fn duplicate_keys(node: &Node, path: Walk<'_>, findings: &mut Vec<Finding>) {
    match &node.value {
        Value::Map(entries) => {
            let mut seen = (entries.len() > 32).then(|| std::collections::HashSet::with_capacity(entries.len()));
            for (i, (k, _)) in entries.iter().enumerate() {
                let Some(key) = k.as_str() else { continue };
                let repeated = match seen.as_mut() {
                    Some(seen) => !seen.insert(key),
                    None => entries[..i].iter().any(|e| e.0.as_str() == Some(key)),
                };
                if repeated {
                    // find() resolves to the last copy: the one that wins.
                    let at = path.key(key).path();
                    findings.push(
                        Finding::key(d::DUPLICATE_FIELD, at.clone(), format!("duplicate field `{at}`"))
                            .help("the later value wins: remove one of them"),
                    );
                }
            }
            for (k, v) in entries {
                if matches!(v.value, Value::Map(_) | Value::Seq(_)) {
                    match k.as_str() {
                        Some(key) => duplicate_keys(v, path.key(key), findings),
                        None => {
                            let text = k.key_text();
                            duplicate_keys(v, path.key(&text), findings);
                        }
                    }
                }
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if matches!(item.value, Value::Map(_) | Value::Seq(_)) {
                    duplicate_keys(item, path.index(i), findings);
                }
            }
        }
        _ => {}
    }
}

/// Why a peer came out empty: selectors left null, or only unknown fields.
fn empty_peer_help(peer: &Node) -> String {
    let entries = peer.as_map().unwrap_or(&[]);
    let null_known = entries
        .iter()
        .find(|(k, v)| v.is_null() && matches!(k.as_str(), Some("podSelector" | "namespaceSelector" | "ipBlock")));
    match null_known.and_then(|(k, _)| k.as_str()) {
        Some("ipBlock") => "`ipBlock` has nothing under it (null): put `cidr:` under it, indented".to_string(),
        Some(key) => format!(
            "`{key}` has nothing under it, which is null, not `{{}}`: write `{key}: {{}}` to mean every pod, or put its fields under it"
        ),
        None if !entries.is_empty() => "its fields are all unknown (see above), so the API server sees an empty peer".to_string(),
        None => "set `podSelector`, `namespaceSelector` or `ipBlock`; `podSelector: {}` means every pod of the namespace".to_string(),
    }
}

/// Warnings that do not reject a policy: a null or missing podSelector, no namespace.
fn policy_warnings(doc: &Node, name: &str, meta: &ObjectMeta, findings: &mut Vec<Finding>) {
    let spec = FieldPath::root().key("spec");
    match doc.get("spec") {
        None => findings.push(
            Finding::value(d::NULL_POD_SELECTOR, FieldPath::root(), format!("NetworkPolicy `{name}` has no `spec`: it selects every pod of its namespace and denies them all ingress"))
                .help("add a `spec` with a `podSelector` and the rules you mean"),
        ),
        Some(spec_node) => match spec_node.entry("podSelector") {
            Some((_, v)) if v.is_null() => findings.push(
                Finding::key(d::NULL_POD_SELECTOR, spec.key("podSelector"), "`podSelector` is empty (null): it is treated as `{}` and selects every pod of the namespace")
                    .help("write `podSelector: {}` to say so, or add `matchLabels` under it to select some pods"),
            ),
            Some(_) => {}
            None if spec_node.as_map().is_some() => findings.push(
                Finding::key(d::NULL_POD_SELECTOR, spec.clone(), "`spec.podSelector` is missing: it defaults to `{}` and selects every pod of the namespace")
                    .help("write `podSelector: {}` to say so, or add `matchLabels` to select some pods"),
            ),
            None => {}
        },
    }
    if meta.namespace.as_deref().is_none_or(str::is_empty) {
        findings.push(
            Finding::key(d::POLICY_WITHOUT_NAMESPACE, FieldPath::root().key("metadata"), format!("NetworkPolicy `{name}` has no `metadata.namespace`: it goes to `default`, as `kubectl apply` without -n"))
                .help("set `metadata.namespace` to the namespace of the pods it should select"),
        );
    }
}

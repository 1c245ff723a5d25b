//! Checking the ordered-policy kinds and Nodes: apiVersion, typed decode,
//! validation ([`crate::tiered`]), and the model objects they become.

use k8s_openapi::api::core::v1 as core;
use netpol_model::TieredKind;

use super::{effective_namespace, Category, Checker, Insert, Obj};
use crate::diagnostic as d;
use crate::node::FieldPath;
use crate::schema::{self, Level};
use crate::tiered::{self, Which};
use crate::validate::{self, Finding, NameRule};
use crate::Refused;

impl Checker<'_> {
    /// An ordered-policy kind or Tier under its apiVersion.
    pub(super) fn ordered(
        &mut self,
        obj: &Obj<'_>,
        kind: &str,
        which: Which,
        served: &'static str,
        api_version: Option<&str>,
        mut findings: Vec<Finding>,
    ) {
        // Calico's CRDs are also served as `crd.projectcalico.org/v1` (its storage version).
        let also: &[&str] = if served == tiered::CALICO_V3 { &["crd.projectcalico.org/v1"] } else { &[] };
        findings.extend(super::api_version_finding(kind, api_version, served, also));
        super::duplicate_keys(obj.doc, crate::node::Walk::Root, &mut findings);
        let level = schema::root_level_ordered(which);
        let origin_at = |p: &FieldPath| obj.origin_at(p);
        let (category, kind_name, namespace, name, insert) = match which {
            Which::Anp => {
                let Some(o) = self.typed::<tiered::Upstream<tiered::AnpSpec>>(obj, level, &mut findings) else {
                    return self.refuse(obj, findings, "AdminNetworkPolicy");
                };
                let name = validate::object_meta(&o.metadata, NameRule::Subdomain, false, &mut findings);
                let p = tiered::anp(&o, &name, &origin_at, &mut findings);
                (
                    Category::Tiered(TieredKind::AdminNetworkPolicy),
                    "AdminNetworkPolicy",
                    String::new(),
                    name,
                    Some(Insert::Tiered(p)),
                )
            }
            Which::Banp => {
                let Some(o) = self.typed::<tiered::Upstream<tiered::BanpSpec>>(obj, level, &mut findings) else {
                    return self.refuse(obj, findings, "BaselineAdminNetworkPolicy");
                };
                let name = validate::object_meta(&o.metadata, NameRule::Subdomain, false, &mut findings);
                let p = tiered::banp(&o, &name, &origin_at, &mut findings);
                (
                    Category::Tiered(TieredKind::BaselineAdminNetworkPolicy),
                    "BaselineAdminNetworkPolicy",
                    String::new(),
                    name,
                    Some(Insert::Tiered(p)),
                )
            }
            Which::Cnp => {
                let Some(o) = self.typed::<tiered::Upstream<tiered::CnpSpec>>(obj, level, &mut findings) else {
                    return self.refuse(obj, findings, "ClusterNetworkPolicy");
                };
                let name = validate::object_meta(&o.metadata, NameRule::Subdomain, false, &mut findings);
                let p = tiered::cnp(&o, &name, &origin_at, &mut findings);
                (
                    Category::Tiered(TieredKind::ClusterNetworkPolicy),
                    "ClusterNetworkPolicy",
                    String::new(),
                    name,
                    Some(Insert::Tiered(p)),
                )
            }
            Which::Calico(flavor) => {
                let Some(mut o) = self.typed::<tiered::Calico>(obj, level, &mut findings) else {
                    return self.refuse(obj, findings, kind_label(flavor));
                };
                tiered::foreign_fields(&mut o, flavor, self.options.lenient, &mut findings);
                let namespaced = flavor == tiered::CalicoFlavor::Namespaced;
                let name = validate::object_meta(&o.metadata, NameRule::Subdomain, namespaced, &mut findings);
                let namespace = namespaced.then(|| effective_namespace(&o.metadata));
                if flavor == tiered::CalicoFlavor::V1 {
                    findings.push(Finding::value(d::CALICO_V1, FieldPath::root().key("kind"), format!("Calico v1 policy `{name}`: read as Calico's v1-to-v3 conversion reads it, a GlobalNetworkPolicy")).help("`netpol convert -f FILE` prints the projectcalico.org/v3 form"));
                }
                let p = tiered::calico_policy(&o, flavor, &name, namespace.as_deref(), &origin_at, &mut findings);
                let kind = if namespaced { TieredKind::CalicoNetworkPolicy } else { TieredKind::GlobalNetworkPolicy };
                (Category::Tiered(kind), kind_label(flavor), namespace.unwrap_or_default(), name, p.map(Insert::Tiered))
            }
            Which::Tier => {
                let Some(o) = self.typed::<tiered::CalicoTier>(obj, level, &mut findings) else {
                    return self.refuse(obj, findings, "Tier");
                };
                let name = validate::object_meta(&o.metadata, NameRule::Subdomain, false, &mut findings);
                let t = tiered::calico_tier(&o, &name, &origin_at, &mut findings);
                (Category::Tier, "Tier", String::new(), name, Some(Insert::Tier(t)))
            }
        };
        let rejected = self.emit(obj, findings);
        if rejected {
            if !self.recovering {
                self.push_refused(obj, kind_name);
            }
            return;
        }
        if let Some(insert) = insert {
            self.upsert(obj, category, kind_name, namespace, name, insert);
        }
    }

    fn refuse(&mut self, obj: &Obj<'_>, findings: Vec<Finding>, kind: &'static str) {
        self.emit(obj, findings);
        if !self.recovering {
            self.push_refused(obj, kind);
        }
    }

    fn push_refused(&mut self, obj: &Obj<'_>, kind: &'static str) {
        let origin = obj.origin();
        self.steps.push(super::Step::Refused(Refused {
            kind: Some(kind),
            file: origin.file.to_string(),
            line: origin.line,
            column: origin.column,
        }));
    }

    /// A Node: its labels and addresses, for `nodes` peers.
    pub(super) fn node(&mut self, obj: &Obj<'_>, level: Option<&'static Level>, mut findings: Vec<Finding>) {
        let node = self.typed::<core::Node>(obj, level, &mut findings);
        let mut name = String::new();
        if let Some(n) = &node {
            name = validate::object_meta(&n.metadata, NameRule::Subdomain, false, &mut findings);
        }
        let rejected = self.emit(obj, findings);
        let Some(n) = node.filter(|_| !rejected) else { return };
        let model = crate::convert::node(&n, &name, obj.origin());
        self.upsert(obj, Category::Node, "Node", String::new(), name, Insert::Node(model));
    }

    /// A ServiceAccount: its labels are what Calico's ServiceAccount selectors read.
    pub(super) fn service_account(&mut self, obj: &Obj<'_>, level: Option<&'static Level>, mut findings: Vec<Finding>) {
        let sa = self.typed::<core::ServiceAccount>(obj, level, &mut findings);
        let mut name = String::new();
        if let Some(sa) = &sa {
            name = validate::object_meta(&sa.metadata, NameRule::Subdomain, true, &mut findings);
        }
        let rejected = self.emit(obj, findings);
        let Some(sa) = sa.filter(|_| !rejected) else { return };
        let namespace = effective_namespace(&sa.metadata);
        let model = netpol_model::ServiceAccount {
            labels: crate::convert::labels(sa.metadata.labels.as_ref()),
            namespace: namespace.clone(),
            name: name.clone(),
            origin: Some(obj.origin()),
        };
        self.upsert(obj, Category::ServiceAccount, "ServiceAccount", namespace, name, Insert::ServiceAccount(model));
    }
}

fn kind_label(flavor: tiered::CalicoFlavor) -> &'static str {
    match flavor {
        tiered::CalicoFlavor::Namespaced => "projectcalico.org/NetworkPolicy",
        tiered::CalicoFlavor::Global => "GlobalNetworkPolicy",
        tiered::CalicoFlavor::V1 => "policy",
    }
}

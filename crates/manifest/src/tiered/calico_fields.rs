//! The fields one Calico policy kind or version shares its wire type with but
//! does not have: a namespaced NetworkPolicy has none of GlobalNetworkPolicy's
//! `namespaceSelector`, `doNotTrack`, `preDNAT` and `applyOnForward`;
//! `projectcalico.org/v3` has none of Calico v1's `net`, `notNet`, `tag` and
//! `notTag`; a v1 `policy` has none of v3's tiers, namespace, service-account
//! and HTTP matches. Calico's API server rejects them as unknown fields, and so
//! does netpol (NP0010), with the kind or version that has the field as help.
//! Each is taken out of the object, so that under `--lenient`, where unknown
//! fields are dropped with a warning, the policy is read without it.

use super::api::{Calico, CalicoEntityRule, CalicoRule};
use super::calico::CalicoFlavor;
use crate::diagnostic as d;
use crate::node::Walk;
use crate::validate::Finding;

/// Reports (and takes out) each field of `policy` that its flavor does not have.
pub(crate) fn foreign_fields(policy: &mut Calico, flavor: CalicoFlavor, lenient: bool, out: &mut Vec<Finding>) {
    let mut report = Report { dropped: if lenient { " (dropped)" } else { "" }, out };
    let spec = Walk::Root.key("spec");
    let s = &mut policy.spec;
    match flavor {
        CalicoFlavor::Namespaced => {
            let global = "a GlobalNetworkPolicy field: a namespaced NetworkPolicy applies to the endpoints of its \
                          own namespace; make the policy a GlobalNetworkPolicy or remove the field";
            report.take(&mut s.namespace_selector, spec.key("namespaceSelector"), global);
            report.take(&mut s.do_not_track, spec.key("doNotTrack"), global);
            report.take(&mut s.pre_dnat, spec.key("preDNAT"), global);
            report.take(&mut s.apply_on_forward, spec.key("applyOnForward"), global);
        }
        CalicoFlavor::V1 => {
            let v3 = "a projectcalico.org/v3 field that Calico v1 policies do not have; write the policy as \
                      projectcalico.org/v3 (`netpol convert -f FILE` prints it)";
            report.take(&mut s.tier, spec.key("tier"), v3);
            report.take(&mut s.namespace_selector, spec.key("namespaceSelector"), v3);
            report.take(&mut s.service_account_selector, spec.key("serviceAccountSelector"), v3);
            report.take(&mut s.performance_hints, spec.key("performanceHints"), v3);
        }
        CalicoFlavor::Global => {}
    }
    for (key, rules) in [("ingress", &mut s.ingress), ("egress", &mut s.egress)] {
        for (i, rule) in rules.iter_mut().enumerate() {
            report.rule(rule, flavor, spec.key(key).index(i));
        }
    }
}

struct Report<'a> {
    dropped: &'static str,
    out: &'a mut Vec<Finding>,
}

impl Report<'_> {
    fn take<T>(&mut self, slot: &mut Option<T>, at: Walk<'_>, help: &str) {
        if slot.take().is_some() {
            let path = at.path();
            let message = format!("unknown field `{path}`{}", self.dropped);
            self.out.push(Finding::key(d::UNKNOWN_FIELD, path, message).help(help));
        }
    }

    fn rule(&mut self, rule: &mut CalicoRule, flavor: CalicoFlavor, at: Walk<'_>) {
        if flavor == CalicoFlavor::V1 {
            let v3 = "a projectcalico.org/v3 rule field that Calico v1 rules do not have";
            self.take(&mut rule.http, at.key("http"), v3);
            self.take(&mut rule.metadata, at.key("metadata"), v3);
        }
        self.entity(&mut rule.source, flavor, at.key("source"));
        self.entity(&mut rule.destination, flavor, at.key("destination"));
    }

    fn entity(&mut self, e: &mut CalicoEntityRule, flavor: CalicoFlavor, at: Walk<'_>) {
        match flavor {
            CalicoFlavor::Namespaced | CalicoFlavor::Global => {
                self.take(&mut e.net, at.key("net"), "Calico v1's `net`: projectcalico.org/v3 has `nets: [CIDR]`");
                self.take(
                    &mut e.not_net,
                    at.key("notNet"),
                    "Calico v1's `notNet`: projectcalico.org/v3 has `notNets: [CIDR]`",
                );
                let tags = "Calico v1's tags: projectcalico.org/v3 has none; match the label instead \
                            (`selector: \"TAG == ''\"`, as Calico's v1-to-v3 conversion wrote it)";
                self.take(&mut e.tag, at.key("tag"), tags);
                self.take(&mut e.not_tag, at.key("notTag"), tags);
            }
            CalicoFlavor::V1 => {
                let v3 = "a projectcalico.org/v3 entity field that Calico v1 rules do not have; write the policy \
                          as projectcalico.org/v3 (`netpol convert -f FILE` prints it)";
                self.take(&mut e.namespace_selector, at.key("namespaceSelector"), v3);
                self.take(&mut e.services, at.key("services"), v3);
                self.take(&mut e.service_accounts, at.key("serviceAccounts"), v3);
            }
        }
    }
}

//! Tables of the field names valid at each level of the kinds netpol reads, and
//! the help they give for an unknown field: "did you mean `protocol`?", "`policyTypes`
//! belongs to `spec`, not `spec.podSelector`", "`cidr` belongs inside `ipBlock`".
//!
//! The typed decoders (k8s-openapi through serde_ignored) *find* unknown fields for
//! every kind; these tables only *explain* them. A level marked `complete` lists
//! every field the API has there (NetworkPolicy, ObjectMeta, LabelSelector, ports);
//! the others list the common ones, which is enough for suggestions.

use strsim::levenshtein;

use crate::node::{FieldPath, Node, Seg};

#[derive(Debug)]
pub(crate) struct Level {
    /// The API type's name, for messages.
    pub name: &'static str,
    pub fields: &'static [(&'static str, Child)],
    pub complete: bool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Child {
    Leaf,
    Obj(&'static Level),
    List(&'static Level),
}

impl Level {
    pub fn child(&self, field: &str) -> Option<Child> {
        self.fields.iter().find(|(name, _)| *name == field).map(|(_, c)| *c)
    }

    fn nested(&self, field: &str) -> Option<&'static Level> {
        match self.child(field)? {
            Child::Obj(l) | Child::List(l) => Some(l),
            Child::Leaf => None,
        }
    }
}

macro_rules! level {
    ($static:ident, $name:literal, $complete:literal, [$($field:literal => $child:expr),* $(,)?]) => {
        pub(crate) static $static: Level = Level { name: $name, complete: $complete, fields: &[$(($field, $child)),*] };
    };
}

use Child::{Leaf, List, Obj};

level!(OBJECT_META, "ObjectMeta", true, [
    "name" => Leaf, "namespace" => Leaf, "labels" => Leaf, "annotations" => Leaf, "generateName" => Leaf,
    "uid" => Leaf, "resourceVersion" => Leaf, "generation" => Leaf, "creationTimestamp" => Leaf,
    "deletionTimestamp" => Leaf, "deletionGracePeriodSeconds" => Leaf, "finalizers" => Leaf,
    "managedFields" => Leaf, "ownerReferences" => Leaf, "selfLink" => Leaf,
]);
level!(LABEL_SELECTOR, "LabelSelector", true, ["matchLabels" => Leaf, "matchExpressions" => List(&REQUIREMENT)]);
level!(REQUIREMENT, "LabelSelectorRequirement", true, ["key" => Leaf, "operator" => Leaf, "values" => Leaf]);

level!(NETWORK_POLICY, "NetworkPolicy", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Obj(&NP_SPEC),
]);
level!(NP_SPEC, "NetworkPolicySpec", true, [
    "podSelector" => Obj(&LABEL_SELECTOR), "policyTypes" => Leaf,
    "ingress" => List(&NP_INGRESS_RULE), "egress" => List(&NP_EGRESS_RULE),
]);
level!(NP_INGRESS_RULE, "NetworkPolicyIngressRule", true, ["from" => List(&NP_PEER), "ports" => List(&NP_PORT)]);
level!(NP_EGRESS_RULE, "NetworkPolicyEgressRule", true, ["to" => List(&NP_PEER), "ports" => List(&NP_PORT)]);
level!(NP_PEER, "NetworkPolicyPeer", true, [
    "podSelector" => Obj(&LABEL_SELECTOR), "namespaceSelector" => Obj(&LABEL_SELECTOR), "ipBlock" => Obj(&IP_BLOCK),
]);
level!(IP_BLOCK, "IPBlock", true, ["cidr" => Leaf, "except" => Leaf]);
level!(NP_PORT, "NetworkPolicyPort", true, ["protocol" => Leaf, "port" => Leaf, "endPort" => Leaf]);

level!(NAMESPACE, "Namespace", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Leaf, "status" => Leaf,
]);

level!(SERVICE_ACCOUNT, "ServiceAccount", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "secrets" => Leaf, "imagePullSecrets" => Leaf,
    "automountServiceAccountToken" => Leaf,
]);

level!(POD, "Pod", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Obj(&POD_SPEC), "status" => Obj(&POD_STATUS),
]);
level!(POD_SPEC, "PodSpec", false, [
    "containers" => List(&CONTAINER), "initContainers" => List(&CONTAINER), "hostNetwork" => Leaf, "nodeName" => Leaf,
    "volumes" => Leaf, "restartPolicy" => Leaf, "serviceAccountName" => Leaf, "nodeSelector" => Leaf,
    "affinity" => Leaf, "tolerations" => Leaf, "securityContext" => Leaf, "dnsPolicy" => Leaf, "hostname" => Leaf,
    "subdomain" => Leaf, "imagePullSecrets" => Leaf, "terminationGracePeriodSeconds" => Leaf, "priorityClassName" => Leaf,
]);
level!(POD_STATUS, "PodStatus", false, [
    "podIP" => Leaf, "podIPs" => Leaf, "hostIP" => Leaf, "hostIPs" => Leaf, "phase" => Leaf, "conditions" => Leaf,
    "containerStatuses" => Leaf, "startTime" => Leaf, "qosClass" => Leaf,
]);
level!(CONTAINER, "Container", false, [
    "name" => Leaf, "image" => Leaf, "ports" => List(&CONTAINER_PORT), "command" => Leaf, "args" => Leaf, "env" => Leaf,
    "envFrom" => Leaf, "resources" => Leaf, "volumeMounts" => Leaf, "livenessProbe" => Leaf, "readinessProbe" => Leaf,
    "startupProbe" => Leaf, "imagePullPolicy" => Leaf, "securityContext" => Leaf, "workingDir" => Leaf,
]);
level!(CONTAINER_PORT, "ContainerPort", true, [
    "name" => Leaf, "containerPort" => Leaf, "protocol" => Leaf, "hostPort" => Leaf, "hostIP" => Leaf,
]);
level!(POD_TEMPLATE, "PodTemplateSpec", true, ["metadata" => Obj(&OBJECT_META), "spec" => Obj(&POD_SPEC)]);

level!(WORKLOAD, "workload", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Obj(&WORKLOAD_SPEC), "status" => Leaf,
]);
level!(WORKLOAD_SPEC, "workload spec", false, [
    "selector" => Obj(&LABEL_SELECTOR), "template" => Obj(&POD_TEMPLATE), "replicas" => Leaf, "strategy" => Leaf,
    "serviceName" => Leaf, "minReadySeconds" => Leaf, "revisionHistoryLimit" => Leaf, "updateStrategy" => Leaf,
    "volumeClaimTemplates" => Leaf, "backoffLimit" => Leaf, "completions" => Leaf, "parallelism" => Leaf,
]);
level!(CRON_JOB, "CronJob", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Obj(&CRON_JOB_SPEC), "status" => Leaf,
]);
level!(CRON_JOB_SPEC, "CronJobSpec", true, [
    "schedule" => Leaf, "jobTemplate" => Obj(&JOB_TEMPLATE), "timeZone" => Leaf, "concurrencyPolicy" => Leaf,
    "suspend" => Leaf, "startingDeadlineSeconds" => Leaf, "successfulJobsHistoryLimit" => Leaf, "failedJobsHistoryLimit" => Leaf,
]);
level!(JOB_TEMPLATE, "JobTemplateSpec", true, ["metadata" => Obj(&OBJECT_META), "spec" => Obj(&WORKLOAD_SPEC)]);

level!(SERVICE, "Service", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Obj(&SERVICE_SPEC), "status" => Leaf,
]);
level!(SERVICE_SPEC, "ServiceSpec", false, [
    "selector" => Leaf, "ports" => List(&SERVICE_PORT), "clusterIP" => Leaf, "clusterIPs" => Leaf, "type" => Leaf,
    "externalName" => Leaf, "sessionAffinity" => Leaf, "ipFamilies" => Leaf, "ipFamilyPolicy" => Leaf,
    "externalTrafficPolicy" => Leaf, "internalTrafficPolicy" => Leaf, "loadBalancerIP" => Leaf, "externalIPs" => Leaf,
]);
level!(SERVICE_PORT, "ServicePort", true, [
    "name" => Leaf, "port" => Leaf, "targetPort" => Leaf, "protocol" => Leaf, "nodePort" => Leaf, "appProtocol" => Leaf,
]);

/// The table for a kind's top level.
pub(crate) fn root_level(kind: &str) -> Option<&'static Level> {
    Some(match kind {
        "NetworkPolicy" => &NETWORK_POLICY,
        "Namespace" => &NAMESPACE,
        "Pod" => &POD,
        "Service" => &SERVICE,
        "Node" => &NAMESPACE,
        "ServiceAccount" => &SERVICE_ACCOUNT,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => &WORKLOAD,
        "CronJob" => &CRON_JOB,
        _ => return None,
    })
}

/// The level of an ordered-policy kind (its spec is explained by field name only).
pub(crate) fn root_level_ordered(which: crate::tiered::Which) -> Option<&'static Level> {
    use crate::tiered::Which;
    Some(match which {
        Which::Anp | Which::Banp | Which::Cnp => &UPSTREAM_POLICY,
        Which::Calico(_) => &CALICO_POLICY,
        Which::Tier => &CALICO_TIER,
    })
}

level!(UPSTREAM_POLICY, "AdminNetworkPolicy", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Obj(&UPSTREAM_SPEC), "status" => Leaf,
]);
level!(UPSTREAM_SPEC, "AdminNetworkPolicySpec", false, [
    "tier" => Leaf, "priority" => Leaf, "subject" => Obj(&UPSTREAM_SUBJECT), "ingress" => List(&UPSTREAM_RULE), "egress" => List(&UPSTREAM_RULE),
]);
level!(UPSTREAM_SUBJECT, "AdminNetworkPolicySubject", true, ["namespaces" => Obj(&LABEL_SELECTOR), "pods" => Obj(&NAMESPACED_POD)]);
level!(NAMESPACED_POD, "NamespacedPod", true, ["namespaceSelector" => Obj(&LABEL_SELECTOR), "podSelector" => Obj(&LABEL_SELECTOR)]);
level!(UPSTREAM_RULE, "AdminNetworkPolicyRule", false, [
    "name" => Leaf, "action" => Leaf, "from" => List(&UPSTREAM_PEER), "to" => List(&UPSTREAM_PEER), "ports" => List(&UPSTREAM_PORT), "protocols" => Leaf,
]);
level!(UPSTREAM_PEER, "AdminNetworkPolicyPeer", true, [
    "namespaces" => Obj(&LABEL_SELECTOR), "pods" => Obj(&NAMESPACED_POD), "nodes" => Obj(&LABEL_SELECTOR), "networks" => Leaf, "domainNames" => Leaf,
]);
level!(UPSTREAM_PORT, "AdminNetworkPolicyPort", true, ["portNumber" => Leaf, "namedPort" => Leaf, "portRange" => Leaf]);
level!(CALICO_POLICY, "NetworkPolicy (projectcalico.org/v3)", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Obj(&CALICO_SPEC),
]);
level!(CALICO_SPEC, "NetworkPolicySpec (projectcalico.org/v3)", true, [
    "tier" => Leaf, "order" => Leaf, "selector" => Leaf, "namespaceSelector" => Leaf, "serviceAccountSelector" => Leaf,
    "types" => Leaf, "ingress" => List(&CALICO_RULE), "egress" => List(&CALICO_RULE), "doNotTrack" => Leaf,
    "preDNAT" => Leaf, "applyOnForward" => Leaf, "performanceHints" => Leaf,
]);
level!(CALICO_RULE, "Rule (projectcalico.org/v3)", true, [
    "action" => Leaf, "ipVersion" => Leaf, "protocol" => Leaf, "notProtocol" => Leaf, "icmp" => Leaf, "notICMP" => Leaf,
    "source" => Obj(&CALICO_ENTITY), "destination" => Obj(&CALICO_ENTITY), "http" => Leaf, "metadata" => Leaf,
]);
level!(CALICO_ENTITY, "EntityRule (projectcalico.org/v3)", true, [
    "nets" => Leaf, "selector" => Leaf, "namespaceSelector" => Leaf, "services" => Leaf, "ports" => Leaf,
    "notNets" => Leaf, "notSelector" => Leaf, "notPorts" => Leaf, "serviceAccounts" => Obj(&CALICO_SA_MATCH),
    "net" => Leaf, "notNet" => Leaf, "tag" => Leaf, "notTag" => Leaf,
]);
level!(CALICO_SA_MATCH, "ServiceAccountMatch (projectcalico.org/v3)", true, ["names" => Leaf, "selector" => Leaf]);
level!(CALICO_TIER, "Tier (projectcalico.org/v3)", true, [
    "apiVersion" => Leaf, "kind" => Leaf, "metadata" => Obj(&OBJECT_META), "spec" => Leaf, "status" => Leaf,
]);

/// The mapping levels along `path` (root first): each prefix of `path` at which
/// the document holds a mapping of a known level.
fn chain(root: &'static Level, path: &FieldPath) -> Vec<(FieldPath, &'static Level)> {
    let mut out = vec![(FieldPath::root(), root)];
    let mut current: Option<Child> = Some(Child::Obj(root));
    let mut prefix = FieldPath::root();
    for seg in &path.0 {
        current = match (seg, current) {
            (Seg::Key(k), Some(Child::Obj(l))) => l.child(k),
            (Seg::Index(_), Some(Child::List(l))) => Some(Child::Obj(l)),
            _ => None,
        };
        prefix.0.push(seg.clone());
        match current {
            Some(Child::Obj(l)) => out.push((prefix.clone(), l)),
            Some(_) => {}
            None => break,
        }
    }
    out
}

/// Help for an unknown field, and where (and as what) it probably belongs.
pub(crate) struct UnknownHelp {
    pub help: Option<String>,
    /// The level the field was probably meant for, to look inside it.
    pub meant_as: Option<Child>,
}

fn place(path: &FieldPath) -> String {
    if path.is_root() {
        "the top level".to_string()
    } else {
        format!("`{path}`")
    }
}

/// Explains the unknown field at `path` of an object of level `root`.
pub(crate) fn explain_unknown(root: &'static Level, object: &Node, path: &FieldPath) -> UnknownHelp {
    let parent = path.parent();
    let levels = chain(root, &parent);
    match levels.last() {
        Some((p, _)) if *p == parent => explain_in(&levels, object.find(&parent).value, path),
        _ => UnknownHelp { help: None, meant_as: None },
    }
}

/// `levels` ends with the level of `parent_node`, the mapping holding the unknown key.
fn explain_in(levels: &[(FieldPath, &'static Level)], parent_node: &Node, path: &FieldPath) -> UnknownHelp {
    let none = UnknownHelp { help: None, meant_as: None };
    let (Some(key), Some((parent, level))) = (path.last_key(), levels.last()) else { return none };
    let siblings = parent_node.as_map().unwrap_or(&[]);
    // 1. Beside a null field whose type has it: `cidr` next to `ipBlock:` (nothing under it).
    for (k, v) in siblings {
        let Some(name) = k.as_str() else { continue };
        if let Some(inner) = level.nested(name) {
            if v.is_null() && inner.child(key).is_some() {
                return UnknownHelp {
                    help: Some(format!("`{key}` belongs inside `{name}`: indent it under `{name}:`")),
                    meant_as: inner.child(key),
                };
            }
        }
    }
    // 2. A misspelling of a field valid here.
    if let Some(best) = closest(key, level.fields.iter().map(|(n, _)| *n)) {
        let help = if best.eq_ignore_ascii_case(key) {
            format!("did you mean `{best}`? field names are case-sensitive (the API server has matched them exactly since Kubernetes 1.23)")
        } else {
            format!("did you mean `{best}`?")
        };
        return UnknownHelp { help: Some(help), meant_as: level.child(best) };
    }
    // 3. A field of an enclosing level: indented too far.
    for (ancestor, alevel) in levels[..levels.len() - 1].iter().rev() {
        if let Some(child) = alevel.child(key) {
            let help = if parent.is_root() {
                format!("`{key}` belongs to {}: check its indentation", place(ancestor))
            } else {
                format!("`{key}` belongs to {}, not `{parent}`: check its indentation", place(ancestor))
            };
            return UnknownHelp { help: Some(help), meant_as: Some(child) };
        }
    }
    // 4. A field of a sibling's type: not indented enough.
    for (k, _) in siblings {
        let Some(name) = k.as_str() else { continue };
        if let Some(inner) = level.nested(name) {
            if let Some(child) = inner.child(key) {
                return UnknownHelp {
                    help: Some(format!("`{key}` belongs inside `{name}`: indent it under `{name}:`")),
                    meant_as: Some(child),
                };
            }
        }
    }
    if level.complete {
        let names = level.fields.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ");
        return UnknownHelp { help: Some(format!("{} has the fields {names}", level.name)), meant_as: None };
    }
    none
}

/// The candidate equal ignoring case, else the nearest within edit distance 2.
pub(crate) fn closest<'a>(word: &str, candidates: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    if let Some(same) = candidates.clone().find(|c| c.eq_ignore_ascii_case(word)) {
        return Some(same);
    }
    let limit = if word.chars().count() <= 3 { 1 } else { 2 };
    candidates.map(|c| (levenshtein(word, c), c)).filter(|(d, _)| *d <= limit).min_by_key(|(d, _)| *d).map(|(_, c)| c)
}

/// An unknown field found inside a misplaced subtree.
pub(crate) struct NestedUnknown {
    pub path: FieldPath,
    pub help: Option<String>,
}

/// Looks inside a misplaced field's value as if it stood where it belongs, so
/// every mistake in it is reported at once (the API server stops at the outer one).
pub(crate) fn unknown_inside(value: &Node, path: &FieldPath, meant_as: Child, out: &mut Vec<NestedUnknown>) {
    let mut levels = Vec::new();
    walk(value, path, meant_as, &mut levels, out);
}

fn walk(
    node: &Node,
    path: &FieldPath,
    child: Child,
    levels: &mut Vec<(FieldPath, &'static Level)>,
    out: &mut Vec<NestedUnknown>,
) {
    match child {
        Child::Leaf => {}
        Child::List(level) => {
            for (i, item) in node.as_seq().unwrap_or(&[]).iter().enumerate() {
                walk(item, &path.index(i), Child::Obj(level), levels, out);
            }
        }
        Child::Obj(level) => {
            let Some(entries) = node.as_map() else { return };
            levels.push((path.clone(), level));
            for (k, v) in entries {
                let Some(key) = k.as_str() else { continue };
                let field_path = path.key(key);
                match level.child(key) {
                    Some(c) => walk(v, &field_path, c, levels, out),
                    None => {
                        let explained = explain_in(levels, node, &field_path);
                        if let Some(meant) = explained.meant_as {
                            walk(v, &field_path, meant, levels, out);
                        }
                        out.push(NestedUnknown { path: field_path, help: explained.help });
                    }
                }
            }
            levels.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::parse_documents;

    fn help(yaml: &str, path: &FieldPath) -> Option<String> {
        let doc = parse_documents(yaml).unwrap().remove(0);
        explain_unknown(&NETWORK_POLICY, &doc, path).help
    }

    #[test]
    fn closest_table() {
        let fields = ["protocol", "port", "endPort"];
        let cases = [
            ("protoco", Some("protocol")),
            ("protocal", Some("protocol")),
            ("Protocol", Some("protocol")),
            ("endport", Some("endPort")),
            ("prot", Some("port")),
            ("xyz", None),
            ("cidr", None),
        ];
        for (word, want) in cases {
            assert_eq!(closest(word, fields.iter().copied()), want, "{word}");
        }
    }

    #[test]
    fn misplaced_fields_get_their_place() {
        let root = FieldPath::root();
        let yaml = "spec:\n  podSelector:\n    matchLabels: {}\n    policyTypes: [Egress]\n";
        let got = help(yaml, &root.key("spec").key("podSelector").key("policyTypes"));
        assert_eq!(
            got.as_deref(),
            Some("`policyTypes` belongs to `spec`, not `spec.podSelector`: check its indentation")
        );

        let yaml = "spec:\n  ingress:\n  - from:\n    - ipBlock:\n      cidr: 10.0.0.0/8\n";
        let got = help(yaml, &root.key("spec").key("ingress").index(0).key("from").index(0).key("cidr"));
        assert_eq!(got.as_deref(), Some("`cidr` belongs inside `ipBlock`: indent it under `ipBlock:`"));

        let yaml = "podSelector: {}\nspec: {}\n";
        let got = help(yaml, &root.key("podSelector"));
        assert_eq!(got.as_deref(), Some("`podSelector` belongs inside `spec`: indent it under `spec:`"));

        let yaml = "spec:\n  bogus: 1\n";
        let got = help(yaml, &root.key("spec").key("bogus")).unwrap();
        assert!(got.starts_with("NetworkPolicySpec has the fields `podSelector`"), "{got}");
    }

    #[test]
    fn nested_unknowns_inside_a_misplaced_field() {
        let yaml = "ingress:\n- from:\n  - podSelector:\n      matchLabel: {a: b}\n  ports:\n  - protocal: TCP\n";
        let doc = parse_documents(yaml).unwrap().remove(0);
        let mut out = Vec::new();
        let at = FieldPath::root().key("ingress");
        unknown_inside(doc.get("ingress").unwrap(), &at, Child::List(&NP_INGRESS_RULE), &mut out);
        let got: Vec<_> = out.iter().map(|u| (u.path.to_string(), u.help.clone().unwrap_or_default())).collect();
        assert_eq!(
            got,
            [
                ("ingress[0].from[0].podSelector.matchLabel".to_string(), "did you mean `matchLabels`?".to_string()),
                ("ingress[0].ports[0].protocal".to_string(), "did you mean `protocol`?".to_string()),
            ]
        );
    }
}

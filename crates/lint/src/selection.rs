//! Selectors that match nothing (NP0101-NP0103), pods no policy isolates
//! (NP0110), policies in undeclared namespaces (NP0115).

use netpol_model::{Direction, NetworkPolicy, Peer, Pod, METADATA_NAME_LABEL};

use crate::codes::{
    DANGLING_NAMESPACE_SELECTOR, DANGLING_POD_SELECTOR, NOT_ISOLATED, POLICY_IN_UNDECLARED_NAMESPACE, UNSELECTED_POLICY,
};
use crate::context::{plural, policy_target, rule_target, selector_text, some_of, Context};
use crate::{Finding, Target};

pub(crate) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for policy in &cx.cluster.policies {
        let undeclared = undeclared_namespace(cx, policy, out);
        if !cx.cluster.pods.is_empty() {
            unselected(cx, policy, undeclared, out);
        }
        for (direction, index, rule) in Context::rules(policy) {
            for (j, peer) in rule.peers.iter().enumerate() {
                dangling(cx, policy, direction, index, j, peer, out);
            }
        }
    }
    not_isolated(cx, out);
}

/// NP0115. Returns whether it fired with no pod in the namespace either.
fn undeclared_namespace(cx: &Context<'_>, policy: &NetworkPolicy, out: &mut Vec<Finding>) -> bool {
    let ns = &policy.namespace;
    if cx.cluster.namespaces.get(ns).is_some_and(|n| n.declared) {
        return false;
    }
    let empty = !cx.cluster.pods.iter().any(|p| &p.namespace == ns);
    let message = format!(
        "`{}` is in namespace `{ns}`, which no manifest declares{}",
        policy.key(),
        if empty { ", and no pod of the input is in it" } else { "" }
    );
    let help = format!(
        "check the namespace's spelling; if `{ns}` is right, add its Namespace manifest with the labels it really has (namespaceSelectors read them)"
    );
    out.push(cx.finding(
        POLICY_IN_UNDECLARED_NAMESPACE,
        cx.field_at(policy, "metadata.namespace"),
        message,
        help,
        policy_target(policy),
    ));
    empty
}

/// NP0101.
fn unselected(cx: &Context<'_>, policy: &NetworkPolicy, undeclared_and_empty: bool, out: &mut Vec<Finding>) {
    if undeclared_and_empty || !cx.subjects(policy).is_empty() {
        return;
    }
    let ns = &policy.namespace;
    let there: Vec<&Pod> = cx.cluster.pods.iter().filter(|p| &p.namespace == ns).collect();
    let sel = selector_text(&policy.pod_selector);
    let message = if there.is_empty() {
        format!("`{}` selects no pod: namespace `{ns}` has no pod in the input", policy.key())
    } else if there.iter().all(|p| p.host_network) {
        format!(
            "`{}` selects no pod: the pods of namespace `{ns}` are hostNetwork pods, which policies never select",
            policy.key()
        )
    } else {
        format!(
            "`{}` selects no pod: podSelector `{sel}` matches none of the {} in namespace `{ns}`",
            policy.key(),
            plural(there.len(), "pod", "pods")
        )
    };
    let help = format!(
        "a policy that selects no pod isolates and allows nothing; compare the podSelector with the pods' labels (`kubectl get pods -n {ns} --show-labels`)"
    );
    out.push(cx.finding(
        UNSELECTED_POLICY,
        cx.field_at(policy, "spec.podSelector"),
        message,
        help,
        policy_target(policy),
    ));
}

/// NP0102 and NP0103 for one peer.
fn dangling(
    cx: &Context<'_>,
    policy: &NetworkPolicy,
    direction: Direction,
    index: usize,
    j: usize,
    peer: &Peer,
    out: &mut Vec<Finding>,
) {
    let Peer::Pods { pod_selector, namespace_selector } = peer else { return };
    // Policies alone (no pods): namespaces are not known well enough to judge.
    if cx.cluster.pods.is_empty() {
        return;
    }
    let peer_path = format!("{}[{j}]", direction.peers_key());
    if let Some(ns_sel) = namespace_selector {
        let matched: Vec<&str> =
            cx.namespaces().filter(|n| ns_sel.matches(&n.labels)).map(|n| n.name.as_str()).collect();
        if matched.is_empty() {
            let undeclared: Vec<&str> = cx.namespaces().filter(|n| !n.declared).map(|n| n.name.as_str()).collect();
            let mut message =
                format!("namespaceSelector `{}` matches no namespace of the input", selector_text(ns_sel));
            if !undeclared.is_empty() {
                message.push_str(&format!(
                    " (undeclared namespaces carry only `{METADATA_NAME_LABEL}`: {})",
                    some_of(&undeclared)
                ));
            }
            let named = ns_sel
                .match_labels
                .iter()
                .map(|(_, v)| v)
                .find(|v| cx.namespaces().any(|n| n.name == *v))
                .map(str::to_string);
            let help = match named {
                Some(name) => format!(
                    "to select namespace `{name}` by name use `namespaceSelector: {{matchLabels: {{{METADATA_NAME_LABEL}: {name}}}}}` (the API server sets it on every namespace), or give the Namespace `{name}` the labels this selector asks for"
                ),
                None => format!(
                    "give the namespaces you mean these labels in their Namespace manifests, or select them by `{METADATA_NAME_LABEL}`"
                ),
            };
            let at = cx.rule_field_at(policy, direction, index, &format!("{peer_path}.namespaceSelector"));
            out.push(cx.finding(DANGLING_NAMESPACE_SELECTOR, at, message, help, rule_target(policy, direction, index)));
            return;
        }
    }
    let Some(pod_sel) = pod_selector else { return };
    if cx.cluster.pods.iter().any(|p| cx.peer_matches(policy, peer, p)) {
        return;
    }
    let scope = match namespace_selector {
        None => format!("namespace `{}`", policy.namespace),
        Some(ns_sel) => {
            let names: Vec<&str> =
                cx.namespaces().filter(|n| ns_sel.matches(&n.labels)).map(|n| n.name.as_str()).collect();
            format!("the namespaces namespaceSelector `{}` selects ({})", selector_text(ns_sel), some_of(&names))
        }
    };
    let message = format!("peer podSelector `{}` matches no pod in {scope}", selector_text(pod_sel));
    // Pods with these labels elsewhere: the podSelector-alone trap.
    let elsewhere: Vec<&str> = {
        let mut v: Vec<&str> = cx
            .cluster
            .pods
            .iter()
            .filter(|p| !p.host_network && pod_sel.matches(&p.labels))
            .map(|p| p.namespace.as_str())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let help = match (namespace_selector, elsewhere.first()) {
        (None, Some(other)) => format!(
            "pods with these labels are in namespace {}: a podSelector alone looks only in the policy's namespace `{}`; add `namespaceSelector: {{matchLabels: {{{METADATA_NAME_LABEL}: {other}}}}}` to this peer",
            some_of(&elsewhere),
            policy.namespace
        ),
        _ => "compare the selector with the pods' labels (`kubectl get pods -A --show-labels`); a peer that matches nothing allows nothing".to_string(),
    };
    let at = cx.rule_field_at(policy, direction, index, &format!("{peer_path}.podSelector"));
    out.push(cx.finding(DANGLING_POD_SELECTOR, at, message, help, rule_target(policy, direction, index)));
}

/// NP0110: per namespace and direction, either every pod is unisolated (one
/// finding, at the namespace) or the unisolated pods are named one by one.
fn not_isolated(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut namespaces: Vec<&str> = cx.cluster.pods.iter().map(|p| p.namespace.as_str()).collect();
    namespaces.sort();
    namespaces.dedup();
    for ns in namespaces {
        let pods: Vec<&Pod> = cx.cluster.pods.iter().filter(|p| p.namespace == ns && !p.host_network).collect();
        let Some(first) = pods.first() else { continue };
        for direction in Direction::ALL {
            let open: Vec<&Pod> = pods
                .iter()
                .copied()
                .filter(|pod| !cx.cluster.policies.iter().any(|p| p.affects(direction) && p.selects(*pod)))
                .collect();
            if open.is_empty() {
                continue;
            }
            let (what, other) = match direction {
                Direction::Ingress => ("ingress", "any pod or address may connect to"),
                Direction::Egress => ("egress", "may connect to any pod or address"),
            };
            let help = format!(
                "if that is not intended, add a policy with `policyTypes: [{direction}]` selecting them (a default deny: `podSelector: {{}}` and no {what} rules), then allow what they need"
            );
            if open.len() == pods.len() {
                let at = cx
                    .cluster
                    .namespaces
                    .get(ns)
                    .and_then(|n| n.origin.clone())
                    .or_else(|| first.origin.clone())
                    .unwrap_or_else(|| netpol_model::Origin::new(format!("namespace {ns}"), 0, 0));
                let message = match direction {
                    Direction::Ingress => format!(
                        "no policy isolates namespace `{ns}` for ingress: {other} its {}",
                        plural(pods.len(), "pod", "pods")
                    ),
                    Direction::Egress => format!(
                        "no policy isolates namespace `{ns}` for egress: its {} {other}",
                        plural(pods.len(), "pod", "pods")
                    ),
                };
                out.push(cx.finding(NOT_ISOLATED, at, message, help, Target::Other));
                continue;
            }
            for pod in open {
                let Some(at) = pod.origin.clone() else { continue };
                let message = match direction {
                    Direction::Ingress => format!("no policy isolates `{}` for ingress: {other} it", pod.key()),
                    Direction::Egress => format!("no policy isolates `{}` for egress: it {other}", pod.key()),
                };
                out.push(cx.finding(NOT_ISOLATED, at, message, help.clone(), Target::Other));
            }
        }
    }
}

//! What `netpol exposure` prints: for each subject and direction, the grants
//! as sentences ("TCP 80 from any pod labelled app=web in namespace shop"),
//! then the other side's policies that can narrow them.

use std::fmt::Write as _;

use netpol_engine::{Exposure, Grant, NamespaceScope, Ports, Reach};
use netpol_model::{Direction, LabelSelector, PortSet};

/// The text of one or more exposures of one subject (one per direction).
/// Without `header`, the subject's name is left out (for grouped output).
pub fn exposure_text(exposures: &[Exposure], header: bool) -> String {
    let mut out = String::new();
    if header {
        if let Some(first) = exposures.first() {
            let _ = writeln!(out, "{}", first.subject);
        }
    }
    for e in exposures {
        direction_text(&mut out, e);
    }
    out
}

/// Exposures of many subjects, one block per distinct text: subjects whose
/// exposures read alike are listed together.
pub fn exposures_grouped(per_subject: &[Vec<Exposure>]) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for exposures in per_subject {
        let Some(first) = exposures.first() else { continue };
        let body = exposure_text(exposures, false);
        match groups.iter_mut().find(|(b, _)| *b == body) {
            Some((_, subjects)) => subjects.push(first.subject.to_string()),
            None => groups.push((body, vec![first.subject.to_string()])),
        }
    }
    let mut out = String::new();
    for (i, (body, subjects)) in groups.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", subjects.join(", "));
        out.push_str(body);
    }
    out
}

fn direction_text(out: &mut String, e: &Exposure) {
    let (word, towards) = match e.direction {
        Direction::Ingress => ("ingress", "from"),
        Direction::Egress => ("egress", "to"),
    };
    if e.isolated_by.is_empty() {
        let _ = writeln!(out, "  {word}: not isolated (no policy selects it for {})", e.direction.as_str());
    } else {
        let by: Vec<String> = e
            .isolated_by
            .iter()
            .map(|p| match &p.origin {
                Some(o) => format!("{} ({o})", p.policy),
                None => p.policy.clone(),
            })
            .collect();
        let _ = writeln!(out, "  {word}: isolated by {}", by.join(", "));
    }
    if e.grants.is_empty() {
        let _ = writeln!(out, "    nothing: no rule allows {word}");
    }
    for g in &e.grants {
        let _ = writeln!(out, "    {} {towards} {}", ports_text(&g.ports), reach_text(g, e));
        if let Some(via) = &g.via {
            let at = via.origin.as_ref().map(|o| format!(", {o}")).unwrap_or_default();
            let _ = writeln!(out, "      (rule {} of {}{at})", via.rule + 1, via.policy);
        }
    }
    if let Some(node) = &e.own_node {
        let _ = writeln!(
            out,
            "    (pods on its node {node} receive it as node traffic: their ingress policies do not apply)"
        );
    }
    if e.direction == Direction::Ingress && !e.isolated_by.is_empty() {
        let _ = writeln!(
            out,
            "    (and node traffic from its own node: kubelet probes, hostNetwork pods there, always admitted)"
        );
    }
    if e.grants.is_empty() || e.other_side.is_empty() {
        return;
    }
    let (theirs, verb) = match e.direction {
        Direction::Ingress => ("egress", "may send it"),
        Direction::Egress => ("ingress", "may receive from it"),
    };
    let _ = writeln!(out, "    but a pod there is also held to its own {theirs} policies:");
    for side in &e.other_side {
        for (i, limit) in side.policies.iter().enumerate() {
            let lead = if i == 0 { format!("in {}:", side.namespace) } else { String::new() };
            let at = limit.policy.origin.as_ref().map(|o| format!(" ({o})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "      {lead:<width$} pods selected by {}{at} [{}] {verb}: {}",
                limit.policy.policy,
                selector_text(&limit.selects, "every pod"),
                ports_text(&limit.ports),
                width = side.namespace.len() + 4,
            );
        }
    }
    let _ = writeln!(out, "      (a pod several of these select gets the union; a pod none selects is not held back)");
}

fn selector_text(s: &LabelSelector, empty: &str) -> String {
    if s.is_empty() {
        empty.to_string()
    } else {
        s.to_string()
    }
}

/// `all ports`, `TCP 80,443; UDP 53`, `named port http/TCP`, or `nothing`.
pub fn ports_text(p: &Ports) -> String {
    let mut parts = Vec::new();
    if p.numbers == PortSet::all() {
        parts.push("all ports".to_string());
    } else if !p.numbers.is_empty() {
        parts.push(p.numbers.to_string());
    }
    for (protocol, name) in &p.named {
        parts.push(format!("named port {name}/{protocol}"));
    }
    if parts.is_empty() {
        "nothing".to_string()
    } else {
        parts.join(" and ")
    }
}

fn reach_text(g: &Grant, e: &Exposure) -> String {
    match &g.reach {
        Reach::Everything => "every pod in every namespace (present or future) and every address".to_string(),
        Reach::Pods { namespaces, pods } => {
            let who = if pods.is_empty() { "every pod".to_string() } else { format!("any pod labelled {pods}") };
            match namespaces {
                NamespaceScope::Named { name } => format!("{who} in namespace {name}"),
                NamespaceScope::Matching { selector, .. } if selector.is_empty() => {
                    format!("{who} in any namespace (present or future)")
                }
                NamespaceScope::Matching { selector, now } => {
                    let now =
                        if now.is_empty() { "none does now".to_string() } else { format!("now: {}", now.join(", ")) };
                    format!("{who} in any namespace labelled {selector} ({now})")
                }
            }
        }
        Reach::Addresses { block } => {
            let pods = if e.ipblock_matches_pods {
                "pod IPs included, as ipBlocks match pod IPs here"
            } else {
                "not pod IPs: --ipblock-ignores-pods"
            };
            let named = if g.ports.named.is_empty() { "" } else { "; a port name only where the address is a pod's" };
            format!("any address in {block} ({pods}{named})")
        }
    }
}

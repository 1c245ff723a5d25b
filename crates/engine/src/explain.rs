//! The text `netpol check` prints for a [`Decision`].

use std::fmt::Write as _;

use netpol_model::{Direction, Origin};

use crate::decision::{Decision, DirectionDecision, Status};

fn at(origin: &Option<Origin>) -> String {
    origin.as_ref().map(|o| format!(" ({o})")).unwrap_or_default()
}

/// Renders a decision as text: the verdict, then each direction's reasoning
/// (which policies isolate the endpoint, every rule match that allowed the
/// flow, or, when denied, why each rule of each isolating policy did not match).
pub fn explain(decision: &Decision) -> String {
    let mut out = String::new();
    let f = &decision.flow;
    let _ = writeln!(out, "{}: {} -> {} on {}/{}", decision.verdict.as_str(), f.src, f.dst, f.port, f.protocol);
    let mut printed: Vec<&str> = Vec::new();
    for info in [&decision.src, &decision.dst] {
        // A flow from a workload to itself would otherwise say the same thing twice.
        if let Some(note) = info.note.as_deref().filter(|n| !printed.contains(n)) {
            let _ = writeln!(out, "  note: {note}");
            printed.push(note);
        }
    }
    direction(&mut out, &decision.egress, "source");
    direction(&mut out, &decision.ingress, "destination");
    out
}

fn direction(out: &mut String, d: &DirectionDecision, role: &str) {
    let word = if d.allowed { "allowed" } else { "DENIED" };
    let dir = d.direction.as_str().to_lowercase();
    let _ = writeln!(out, "\n{dir} at {role} {}: {word}", d.endpoint);
    match d.status {
        Status::SelfTraffic | Status::NotAPod | Status::HostNetwork | Status::OwnNode | Status::NotIsolated => {
            let _ = writeln!(out, "  {}", d.summary);
        }
        Status::Isolated => isolated(out, d),
        Status::Ordered => {
            for step in &d.tiers {
                let _ = writeln!(out, "  {}{}", step.describe(), at(&step.origin));
            }
            if !d.policies.is_empty() {
                isolated(out, d);
            }
        }
    }
    if d.status == Status::Isolated && !d.tiers.is_empty() {
        let chain = d.tiers.iter().map(|s| s.describe()).collect::<Vec<_>>().join(" -> ");
        let _ = writeln!(out, "  ordered policies: {chain}");
    }
    for note in &d.notes {
        let _ = writeln!(out, "  note: {note}");
    }
}

fn isolated(out: &mut String, d: &DirectionDecision) {
    let dir = d.direction.as_str().to_lowercase();
    let by = d.policies.iter().map(|p| format!("{}{}", p.policy, at(&p.origin))).collect::<Vec<_>>();
    let _ = writeln!(out, "  isolated for {dir} by {}", by.join(", "));
    if !d.allowed_by.is_empty() {
        for m in &d.allowed_by {
            let peer = m.peer.map(|i| format!(" peer[{i}]")).unwrap_or_else(|| " (any peer)".to_string());
            let port = m.port.map(|i| format!(" port[{i}]")).unwrap_or_else(|| " (any port)".to_string());
            let _ = writeln!(out, "  allowed by {} {dir}[{}]{peer}{port}{}", m.policy, m.rule, at(&m.origin));
            let _ = writeln!(out, "    {}", m.peer_reason);
            let _ = writeln!(out, "    {}", m.port_reason);
        }
        return;
    }
    let _ = writeln!(out, "  no rule allows this flow:");
    let (key, peers) = match d.direction {
        Direction::Ingress => ("ingress", "from"),
        Direction::Egress => ("egress", "to"),
    };
    for p in &d.policies {
        if p.rules.is_empty() {
            let _ = writeln!(
                out,
                "  - {}{}: has no {key} rules, so it allows no {key} (a default deny)",
                p.policy,
                at(&p.origin)
            );
            continue;
        }
        for r in &p.rules {
            let _ = writeln!(out, "  - {} {key}[{}]{}:", p.policy, r.index, at(&r.origin));
            if r.peers.is_empty() && r.reasons.iter().all(|x| !x.starts_with("peer[")) {
                let _ = writeln!(out, "      every peer matches (no `{peers}`)");
            }
            for reason in &r.reasons {
                let _ = writeln!(out, "      {reason}");
            }
        }
    }
}

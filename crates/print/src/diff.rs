//! `netpol diff`: what a [`Diff`] says, as text for people, JSON (a stable
//! shape, documented in docs/cli.md) and Markdown for a pull-request comment
//! (a one-line summary, then the details in a collapsible block).
//!
//! Text and Markdown group the pairs of one workload: pairs whose sources (or
//! destinations) belong to the same workload and whose gains, losses and causes
//! are identical are printed once, with the workload and a count of its pods.
//! Which workload a pod belongs to is the caller's knowledge ([`Workloads`]);
//! JSON always lists every pair.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use netpol_matrix::{Diff, PairChange, PolicyChange};
use netpol_model::{PodKey, PortSet, Protocol};
use serde::Serialize;

/// The output formats of `netpol diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    Text,
    Json,
    Md,
}

/// The workload each pod belongs to (e.g. `Deployment shop/web`), where known.
/// Pods not in the map stand alone.
pub type Workloads = HashMap<PodKey, String>;

/// `+TCP 8080-8081 +UDP 53` (or `+all`): a set of (protocol, port) with a sign per protocol.
pub fn signed(set: &PortSet, sign: char) -> String {
    if set.is_all() {
        return format!("{sign}all");
    }
    let mut parts = Vec::new();
    for p in Protocol::ALL {
        let ranges = set.ranges(p);
        if ranges.is_empty() {
            continue;
        }
        if set.is_all_of(p) {
            parts.push(format!("{sign}{p} all"));
            continue;
        }
        let list: Vec<String> = ranges.iter().map(ToString::to_string).collect();
        parts.push(format!("{sign}{p} {}", list.join(",")));
    }
    parts.join(" ")
}

/// `+TCP 8080 -UDP 53`: what a pair gained, then what it lost.
fn change_text(p: &PairChange) -> String {
    let mut parts = Vec::new();
    if !p.added.is_empty() {
        parts.push(signed(&p.added, '+'));
    }
    if !p.removed.is_empty() {
        parts.push(signed(&p.removed, '-'));
    }
    parts.join(" ")
}

/// Pairs printed once: sources and destinations of one workload that change alike.
struct Row<'a> {
    from: String,
    to: String,
    change: &'a PairChange,
}

/// Groups `diff.pairs`: first the sources of one workload (same destination,
/// same change, same causes), then the destinations of one workload.
fn rows<'a>(diff: &'a Diff, workloads: &Workloads) -> Vec<Row<'a>> {
    let label = |k: &PodKey| workloads.get(k).cloned();
    let same = |a: &PairChange, b: &PairChange| a.added == b.added && a.removed == b.removed && a.causes == b.causes;
    // Keyed by (source workload or pod, destination workload or pod), in order of first appearance.
    let mut groups: BTreeMap<(String, String), Vec<Vec<&PairChange>>> = BTreeMap::new();
    for p in &diff.pairs {
        let key =
            (label(&p.src).unwrap_or_else(|| p.src.to_string()), label(&p.dst).unwrap_or_else(|| p.dst.to_string()));
        let buckets = groups.entry(key).or_default();
        match buckets.iter_mut().find(|b| same(b[0], p)) {
            Some(b) => b.push(p),
            None => buckets.push(vec![p]),
        }
    }
    let mut out = Vec::new();
    for ((from, to), buckets) in groups {
        for bucket in buckets {
            let count = |f: fn(&PairChange) -> &PodKey| {
                let mut v: Vec<&PodKey> = bucket.iter().map(|p| f(p)).collect();
                v.sort();
                v.dedup();
                v.len()
            };
            let (srcs, dsts) = (count(|p| &p.src), count(|p| &p.dst));
            let name = |name: &str, n: usize, key: &PodKey, grouped: bool| {
                if grouped {
                    format!("{name} ({n} pod{})", if n == 1 { "" } else { "s" })
                } else {
                    key.to_string()
                }
            };
            let first = bucket[0];
            let grouped = label(&first.src).is_some() && label(&first.dst).is_some();
            // Between the pods of one workload: every ordered pair of distinct pods (a pod reaches itself).
            if grouped && from == to && srcs == dsts && srcs > 1 && bucket.len() == srcs * (srcs - 1) {
                out.push(Row {
                    from: name(&from, srcs, &first.src, true),
                    to: "one another".to_string(),
                    change: first,
                });
                continue;
            }
            // A workload's pods are one row only when every pair of theirs is in the bucket.
            if bucket.len() == srcs * dsts {
                out.push(Row {
                    from: name(&from, srcs, &first.src, label(&first.src).is_some()),
                    to: name(&to, dsts, &first.dst, label(&first.dst).is_some()),
                    change: first,
                });
            } else {
                out.extend(bucket.iter().map(|p| Row { from: p.src.to_string(), to: p.dst.to_string(), change: p }));
            }
        }
    }
    out
}

fn causes_text(diff: &Diff, p: &PairChange) -> String {
    if p.causes.is_empty() {
        return "no policy changed here (labels, namespaces or endpoints did)".to_string();
    }
    p.causes.iter().map(|&i| policy_text(&diff.policies[i])).collect::<Vec<_>>().join(", ")
}

/// `shop/db (changed, file.yaml:1:1)`.
fn policy_text(p: &PolicyChange) -> String {
    let origin = p.new_origin.as_ref().or(p.old_origin.as_ref());
    match origin {
        Some(o) => format!("{} ({}, {o})", p.key(), p.kind.as_str()),
        None => format!("{} ({})", p.key(), p.kind.as_str()),
    }
}

/// The counts the summaries print.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiffCounts {
    /// Ordered pairs whose connections changed.
    pub pairs: usize,
    /// Of those, the pairs that gained and that lost some connection.
    pub opened: usize,
    pub closed: usize,
    pub endpoints_added: usize,
    pub endpoints_removed: usize,
    pub policies_changed: usize,
}

impl DiffCounts {
    pub fn of(diff: &Diff) -> Self {
        DiffCounts {
            pairs: diff.pairs.len(),
            opened: diff.pairs.iter().filter(|p| !p.added.is_empty()).count(),
            closed: diff.pairs.iter().filter(|p| !p.removed.is_empty()).count(),
            endpoints_added: diff.added_endpoints.len(),
            endpoints_removed: diff.removed_endpoints.len(),
            policies_changed: diff.policies.len(),
        }
    }

    /// `3 pairs changed: 2 gained connections, 1 lost some; 1 endpoint added; 1 policy object changed`.
    fn line(&self) -> String {
        let mut parts = vec![if self.pairs == 0 {
            "no connection changed".to_string()
        } else {
            format!(
                "{} pair{} changed: {} gained connections, {} lost some",
                self.pairs,
                plural(self.pairs),
                self.opened,
                self.closed
            )
        }];
        if self.endpoints_added > 0 {
            parts.push(format!("{} endpoint{} added", self.endpoints_added, plural(self.endpoints_added)));
        }
        if self.endpoints_removed > 0 {
            parts.push(format!("{} endpoint{} removed", self.endpoints_removed, plural(self.endpoints_removed)));
        }
        if self.policies_changed > 0 {
            parts.push(format!("{} policy object{} changed", self.policies_changed, plural(self.policies_changed)));
        }
        parts.join("; ")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[derive(Serialize)]
struct JsonDiff<'a> {
    summary: DiffCounts,
    pairs: Vec<JsonPair<'a>>,
    endpoints: JsonEndpoints,
    policies: Vec<JsonPolicy>,
}

#[derive(Serialize)]
struct JsonPair<'a> {
    from: String,
    to: String,
    added: &'a PortSet,
    removed: &'a PortSet,
    old: &'a PortSet,
    new: &'a PortSet,
    policies: Vec<String>,
}

#[derive(Serialize)]
struct JsonEndpoints {
    added: Vec<String>,
    removed: Vec<String>,
}

#[derive(Serialize)]
struct JsonPolicy {
    namespace: String,
    name: String,
    change: &'static str,
    old_origin: Option<String>,
    new_origin: Option<String>,
}

fn json(diff: &Diff) -> String {
    let value = JsonDiff {
        summary: DiffCounts::of(diff),
        pairs: diff
            .pairs
            .iter()
            .map(|p| JsonPair {
                from: p.src.to_string(),
                to: p.dst.to_string(),
                added: &p.added,
                removed: &p.removed,
                old: &p.old,
                new: &p.new,
                policies: p.causes.iter().map(|&i| diff.policies[i].key()).collect(),
            })
            .collect(),
        endpoints: JsonEndpoints {
            added: diff.added_endpoints.iter().map(ToString::to_string).collect(),
            removed: diff.removed_endpoints.iter().map(ToString::to_string).collect(),
        },
        policies: diff
            .policies
            .iter()
            .map(|p| JsonPolicy {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
                change: p.kind.as_str(),
                old_origin: p.old_origin.as_ref().map(ToString::to_string),
                new_origin: p.new_origin.as_ref().map(ToString::to_string),
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&value).expect("plain data serialises");
    out.push('\n');
    out
}

/// `diff` in `format`.
pub fn diff(diff: &Diff, workloads: &Workloads, format: DiffFormat) -> String {
    match format {
        DiffFormat::Json => json(diff),
        DiffFormat::Text => text(diff, workloads),
        DiffFormat::Md => md(diff, workloads),
    }
}

fn text(diff: &Diff, workloads: &Workloads) -> String {
    let mut out = String::new();
    for row in rows(diff, workloads) {
        let _ = writeln!(out, "{} -> {}: {}", row.from, row.to, change_text(row.change));
        let _ = writeln!(out, "  caused by: {}", causes_text(diff, row.change));
    }
    let names = |v: &[PodKey]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    if !diff.added_endpoints.is_empty() {
        let _ = writeln!(
            out,
            "endpoints added (their connections are NEW's, see `netpol matrix`): {}",
            names(&diff.added_endpoints)
        );
    }
    if !diff.removed_endpoints.is_empty() {
        let _ = writeln!(out, "endpoints removed: {}", names(&diff.removed_endpoints));
    }
    for p in &diff.policies {
        let origins = match (&p.old_origin, &p.new_origin) {
            (Some(a), Some(b)) if a != b => format!(" (was {a}, now {b})"),
            (_, Some(b)) => format!(" ({b})"),
            (Some(a), None) => format!(" ({a})"),
            (None, None) => String::new(),
        };
        let _ = writeln!(out, "policy {} {}{origins}", p.kind.as_str(), p.key());
    }
    let _ = writeln!(out, "{}", DiffCounts::of(diff).line());
    out
}

fn md(diff: &Diff, workloads: &Workloads) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "**netpol diff:** {}", DiffCounts::of(diff).line());
    if diff.is_empty() && diff.policies.is_empty() {
        return out;
    }
    out.push_str("\n<details>\n<summary>Details</summary>\n\n");
    let rows = rows(diff, workloads);
    if !rows.is_empty() {
        out.push_str("| from | to | opened | closed | caused by |\n|---|---|---|---|---|\n");
        for row in rows {
            let cell = |s: &PortSet, sign| if s.is_empty() { String::new() } else { format!("`{}`", signed(s, sign)) };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md_escape(&row.from),
                md_escape(&row.to),
                cell(&row.change.added, '+'),
                cell(&row.change.removed, '-'),
                md_escape(&causes_text(diff, row.change)),
            );
        }
        out.push('\n');
    }
    let names = |v: &[PodKey]| v.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    if !diff.added_endpoints.is_empty() {
        let _ = writeln!(out, "Endpoints added: {}\n", names(&diff.added_endpoints));
    }
    if !diff.removed_endpoints.is_empty() {
        let _ = writeln!(out, "Endpoints removed: {}\n", names(&diff.removed_endpoints));
    }
    if !diff.policies.is_empty() {
        out.push_str("Policy objects:\n\n");
        for p in &diff.policies {
            let _ = writeln!(
                out,
                "- {} `{}`{}",
                p.kind.as_str(),
                p.key(),
                match p.new_origin.as_ref().or(p.old_origin.as_ref()) {
                    Some(o) => format!(" ({})", md_escape(&o.to_string())),
                    None => String::new(),
                }
            );
        }
        out.push('\n');
    }
    out.push_str("</details>\n");
    out
}

/// Keeps a table cell one cell: `|` escaped, line breaks and `<` made harmless.
fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace('<', "&lt;").replace(['\n', '\r'], " ")
}

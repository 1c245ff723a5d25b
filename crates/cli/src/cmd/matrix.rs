//! `netpol matrix`: all-pairs reachability, from the compiled form (`netpol-matrix`).
//!
//! With `--port`: one truth table per (port, protocol). Without: for each pair,
//! every allowed connection over the whole port space. `--summary`: counts only,
//! for clusters too big to print. The JSON shapes are documented in docs/matrix.md.

use std::fmt::Write as _;

use anyhow::Context as _;
use netpol_matrix::{ClassMatrix, Compiled, Options, PodId};
use netpol_model::Protocol;
use serde::Serialize;

use crate::cmd::check::parse_protocol;
use crate::cmd::{load, InputArgs};
use crate::output::{print, Outcome};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Ports to probe, comma-separated (`80,443`). Without it: every allowed
    /// connection of each pair, over the whole port space.
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..))]
    port: Vec<u16>,
    /// Protocols to probe with `--port`, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "TCP", value_parser = parse_protocol)]
    protocol: Vec<Protocol>,
    /// `table` (truth tables like the upstream e2e tests), `json`, `csv` or `md`.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    output: Format,
    /// Print counts only: pods, classes, and allowed ordered pairs per probe (needs `--port`).
    #[arg(long)]
    summary: bool,
    /// Do not let ipBlock peers match pod IPs (as Cilium does); see `netpol check`.
    #[arg(long)]
    ipblock_ignores_pods: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Csv,
    Md,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if args.summary && args.port.is_empty() {
        anyhow::bail!("--summary counts allowed pairs per probe: give the ports to probe with --port");
    }
    let cluster = load(&args.input)?;
    let progress =
        Progress::start(&format!("compiling {} pods, {} policies", cluster.pods.len(), cluster.policies.len()));
    let options = Options { ipblock_matches_pods: !args.ipblock_ignores_pods };
    let compiled = Compiled::build(&cluster, options);
    drop(cluster);
    let mut probes = Vec::new();
    for &port in &args.port {
        for &protocol in &dedup(&args.protocol) {
            progress.message(format!("probing {port}/{protocol} over {} classes", compiled.classes()));
            probes.push(compiled.probe(protocol, port));
        }
    }
    progress.finish();
    let text = if args.summary {
        summary(&compiled, &probes, args.output)?
    } else {
        let view = View::new(&compiled);
        if probes.is_empty() {
            connections(&view, args.output)?
        } else {
            truth_tables(&view, &probes, args.output)?
        }
    };
    print(&text)?;
    Ok(Outcome::Clean)
}

fn dedup(protocols: &[Protocol]) -> Vec<Protocol> {
    let mut out: Vec<Protocol> = Vec::new();
    for p in protocols {
        if !out.contains(p) {
            out.push(*p);
        }
    }
    out
}

// ---------------------------------------------------------------- summary

#[derive(Serialize)]
struct Summary {
    pods: usize,
    classes: usize,
    probes: Vec<SummaryProbe>,
}

#[derive(Serialize)]
struct SummaryProbe {
    port: u16,
    protocol: String,
    allowed_pairs: u64,
}

fn summary(compiled: &Compiled, probes: &[ClassMatrix], format: Format) -> anyhow::Result<String> {
    let s = Summary {
        pods: compiled.pod_count(),
        classes: compiled.classes(),
        probes: probes
            .iter()
            .map(|m| SummaryProbe {
                port: m.port,
                protocol: m.protocol.to_string(),
                allowed_pairs: compiled.allowed_pairs_in(m),
            })
            .collect(),
    };
    let n = s.pods as u64;
    let pairs = n * n.saturating_sub(1);
    let mut out = String::new();
    match format {
        Format::Json => out = serde_json::to_string_pretty(&s)? + "\n",
        Format::Table => {
            let _ = writeln!(out, "{} pods in {} classes; {pairs} ordered pairs of distinct pods", s.pods, s.classes);
            for p in &s.probes {
                let _ = writeln!(
                    out,
                    "{:>6}/{:<4} {} allowed ({:.1}%)",
                    p.port,
                    p.protocol,
                    p.allowed_pairs,
                    pct(p.allowed_pairs, pairs)
                );
            }
        }
        Format::Csv => {
            out.push_str("port,protocol,pods,classes,allowed_pairs\n");
            for p in &s.probes {
                let _ = writeln!(out, "{},{},{},{},{}", p.port, p.protocol, s.pods, s.classes, p.allowed_pairs);
            }
        }
        Format::Md => {
            let _ = writeln!(out, "{} pods in {} classes.\n", s.pods, s.classes);
            out.push_str("| port | protocol | allowed pairs | of |\n|---:|---|---:|---:|\n");
            for p in &s.probes {
                let _ = writeln!(out, "| {} | {} | {} | {pairs} |", p.port, p.protocol, p.allowed_pairs);
            }
        }
    }
    Ok(out)
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

// ---------------------------------------------------------------- views

/// The pods in output order (sorted by `namespace/name`), with their classes.
struct View<'a> {
    compiled: &'a Compiled,
    ids: Vec<PodId>,
    names: Vec<String>,
    classes: Vec<usize>,
}

impl<'a> View<'a> {
    fn new(compiled: &'a Compiled) -> Self {
        let mut pods: Vec<(String, PodId)> = compiled.pods().map(|(id, p)| (p.key().to_string(), id)).collect();
        pods.sort();
        let classes = pods.iter().map(|(_, id)| compiled.class_of(*id).unwrap_or(usize::MAX)).collect();
        let (names, ids) = pods.into_iter().unzip();
        View { compiled, ids, names, classes }
    }

    fn allowed(&self, m: &ClassMatrix, i: usize, j: usize) -> bool {
        self.compiled.allowed_in(m, self.ids[i], self.ids[j])
    }
}

// ---------------------------------------------------------------- truth tables

#[derive(Serialize)]
struct JsonMatrix<'a> {
    pods: &'a [String],
    probes: Vec<JsonProbe>,
}

#[derive(Serialize)]
struct JsonProbe {
    port: u16,
    protocol: String,
    allowed: Vec<Vec<bool>>,
}

fn truth_tables(view: &View, probes: &[ClassMatrix], format: Format) -> anyhow::Result<String> {
    let n = view.ids.len();
    let mut out = String::new();
    match format {
        Format::Json => {
            let probes = probes
                .iter()
                .map(|m| JsonProbe {
                    port: m.port,
                    protocol: m.protocol.to_string(),
                    allowed: (0..n).map(|i| (0..n).map(|j| view.allowed(m, i, j)).collect()).collect(),
                })
                .collect();
            out = serde_json::to_string_pretty(&JsonMatrix { pods: &view.names, probes })
                .context("serialising the matrix")?;
            out.push('\n');
        }
        Format::Csv => {
            out.push_str("port,protocol,from,to,allowed\n");
            for m in probes {
                for i in 0..n {
                    for j in 0..n {
                        let _ = writeln!(
                            out,
                            "{},{},{},{},{}",
                            m.port,
                            m.protocol,
                            view.names[i],
                            view.names[j],
                            view.allowed(m, i, j)
                        );
                    }
                }
            }
        }
        Format::Md => {
            for m in probes {
                let _ = writeln!(out, "### {}/{}\n", m.port, m.protocol);
                out.push_str("| from \\ to |");
                for name in &view.names {
                    let _ = write!(out, " {name} |");
                }
                out.push_str("\n|---|");
                out.push_str(&":---:|".repeat(n));
                out.push('\n');
                for i in 0..n {
                    let _ = write!(out, "| **{}** |", view.names[i]);
                    for j in 0..n {
                        out.push_str(if view.allowed(m, i, j) { " . |" } else { " X |" });
                    }
                    out.push('\n');
                }
                out.push('\n');
            }
            out.push_str("`.` allowed, `X` denied; rows are sources, columns destinations.\n");
        }
        Format::Table => {
            let width = terminal_width();
            let per_pod = grid_width(&view.names);
            let grouped = per_pod > width;
            for (k, m) in probes.iter().enumerate() {
                if k > 0 {
                    out.push('\n');
                }
                let _ = writeln!(out, "{}/{}:", m.port, m.protocol);
                if grouped {
                    out.push_str(&class_table(view, m));
                } else {
                    out.push_str(&pod_table(view, m));
                }
            }
            out.push_str("\n. allowed  X denied  (rows: from, columns: to; a pod always reaches itself)\n");
            if grouped {
                let _ = writeln!(
                    out,
                    "Pods are grouped by class (pods no policy can tell apart): {} pods do not fit {width} columns.",
                    n
                );
            }
        }
    }
    Ok(out)
}

/// The width of a pod-by-pod grid with tab-like padding.
fn grid_width(names: &[String]) -> usize {
    let w = names.iter().map(String::len).max().unwrap_or(1);
    (w + 1) * (names.len() + 1)
}

fn terminal_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return cols;
    }
    console::Term::stdout().size_checked().map(|(_, cols)| usize::from(cols)).unwrap_or(120)
}

/// Upstream e2e style: a header of destinations, one row per source, `.`/`X` cells.
fn pod_table(view: &View, m: &ClassMatrix) -> String {
    let w = view.names.iter().map(String::len).max().unwrap_or(1);
    let mut out = format!("{:<w$}", "-");
    for name in &view.names {
        let _ = write!(out, " {name:<w$}");
    }
    out = out.trim_end().to_string() + "\n";
    for (i, from) in view.names.iter().enumerate() {
        let mut line = format!("{from:<w$}");
        for j in 0..view.names.len() {
            let _ = write!(line, " {:<w$}", if view.allowed(m, i, j) { "." } else { "X" });
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Classes in order of their first pod; `C0 (3 pods): x/a, x/b, ...` and a grid of classes.
fn class_table(view: &View, m: &ClassMatrix) -> String {
    let mut order: Vec<usize> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (i, &c) in view.classes.iter().enumerate() {
        match order.iter().position(|&o| o == c) {
            Some(k) => members[k].push(i),
            None => {
                order.push(c);
                members.push(vec![i]);
            }
        }
    }
    let labels: Vec<String> = (0..order.len()).map(|k| format!("C{k}")).collect();
    let w = labels.iter().map(String::len).max().unwrap_or(2);
    let mut out = format!("{:<w$}", "-");
    for l in &labels {
        let _ = write!(out, " {l:<w$}");
    }
    out.push('\n');
    for (a, la) in labels.iter().enumerate() {
        let mut line = format!("{la:<w$}");
        for (b, _) in labels.iter().enumerate() {
            // Distinct pods of the two classes; a lone pod's own class is that pod to itself.
            let allowed = if a == b && members[a].len() == 1 {
                view.allowed(m, members[a][0], members[a][0])
            } else {
                m.class_allowed(order[a], order[b])
            };
            let cell = if allowed { "." } else { "X" };
            let _ = write!(line, " {cell:<w$}");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for (k, pods) in members.iter().enumerate() {
        let shown: Vec<&str> = pods.iter().take(5).map(|&i| view.names[i].as_str()).collect();
        let more = if pods.len() > 5 { format!(", ... ({} more)", pods.len() - 5) } else { String::new() };
        let _ = writeln!(
            out,
            "{:<w$} {} pod{}: {}{more}",
            labels[k],
            pods.len(),
            if pods.len() == 1 { "" } else { "s" },
            shown.join(", ")
        );
    }
    out
}

// ---------------------------------------------------------------- connections

#[derive(Serialize)]
struct JsonConnections<'a> {
    pods: &'a [String],
    connections: Vec<Vec<String>>,
}

/// Without `--port`: every allowed connection of each ordered pair, over the whole port space.
fn connections(view: &View, format: Format) -> anyhow::Result<String> {
    let n = view.ids.len();
    // Pairs of classes repeat: compute each once.
    let mut cache: std::collections::HashMap<(usize, usize), String> = std::collections::HashMap::new();
    let hosts: Vec<bool> = view.ids.iter().map(|id| view.compiled.pod(*id).is_some_and(|p| p.host_network)).collect();
    let mut cell = |i: usize, j: usize| -> String {
        // Self pairs and node traffic have pod-level exceptions: not cached by class.
        if i == j || hosts[i] {
            return view.compiled.connections(view.ids[i], view.ids[j]).to_string();
        }
        cache
            .entry((view.classes[i], view.classes[j]))
            .or_insert_with(|| view.compiled.connections(view.ids[i], view.ids[j]).to_string())
            .clone()
    };
    let grid: Vec<Vec<String>> = (0..n).map(|i| (0..n).map(|j| cell(i, j)).collect()).collect();
    let mut out = String::new();
    match format {
        Format::Json => {
            out = serde_json::to_string_pretty(&JsonConnections { pods: &view.names, connections: grid })?;
            out.push('\n');
        }
        Format::Csv => {
            out.push_str("from,to,allowed\n");
            for (i, j) in distinct_pairs(n) {
                let _ = writeln!(out, "{},{},\"{}\"", view.names[i], view.names[j], grid[i][j]);
            }
        }
        Format::Md => {
            out.push_str("| from | to | allowed |\n|---|---|---|\n");
            for (i, j) in distinct_pairs(n) {
                let _ = writeln!(out, "| {} | {} | {} |", view.names[i], view.names[j], grid[i][j]);
            }
        }
        Format::Table => {
            let wf = view.names.iter().map(String::len).max().unwrap_or(4).max(4);
            let _ = writeln!(out, "{:<wf$}  {:<wf$}  ALLOWED", "FROM", "TO");
            for (i, j) in distinct_pairs(n) {
                let _ = writeln!(out, "{:<wf$}  {:<wf$}  {}", view.names[i], view.names[j], grid[i][j]);
            }
            out.push_str(
                "\nALLOWED is every (protocol, port) the source may open to the destination, over ports 1-65535.\n",
            );
        }
    }
    Ok(out)
}

/// Ordered pairs `(i, j)` of distinct indices below `n`, row by row.
fn distinct_pairs(n: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n).flat_map(move |i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
}

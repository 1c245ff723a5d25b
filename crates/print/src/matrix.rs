//! `netpol matrix --port ..`: truth tables of a [`Compiled`] cluster, one per
//! [`PortTable`], as a grid of pods (or of classes when pods do not fit), JSON,
//! CSV or Markdown.

use std::fmt::Write as _;

use netpol_matrix::{Compiled, PodId, PortTable};

use crate::grid::{grid, grid_width};
use crate::legend::{legend, legend_md, Mark};
use crate::tables::{TruthTable, TruthTables};

/// The output formats of `netpol matrix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Grids like the upstream e2e truth tables.
    Table,
    Json,
    Csv,
    Md,
}

/// The pods of a compiled cluster in output order (sorted by `namespace/name`).
pub struct MatrixView<'a> {
    pub(crate) compiled: &'a Compiled,
    pub(crate) ids: Vec<PodId>,
    pub(crate) names: Vec<String>,
}

impl<'a> MatrixView<'a> {
    pub fn new(compiled: &'a Compiled) -> Self {
        let mut pods: Vec<(String, PodId)> = compiled.pods().map(|(id, p)| (p.key().to_string(), id)).collect();
        pods.sort();
        let (names, ids) = pods.into_iter().unzip();
        MatrixView { compiled, ids, names }
    }

    /// The pods, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn allowed(&self, table: &PortTable, i: usize, j: usize) -> bool {
        self.compiled.allowed_in(table, self.ids[i], self.ids[j])
    }

    /// Every pod-to-pod verdict of `tables`: what `-o json` prints.
    pub fn truth_tables(&self, tables: &[PortTable]) -> TruthTables {
        let n = self.ids.len();
        TruthTables {
            pods: self.names.clone(),
            tables: tables
                .iter()
                .map(|t| TruthTable {
                    port: t.port,
                    protocol: t.protocol,
                    allowed: (0..n).map(|i| (0..n).map(|j| self.allowed(t, i, j)).collect()).collect(),
                })
                .collect(),
        }
    }

    /// The pods grouped by class, classes in order of their first pod: indices into [`MatrixView::names`].
    fn class_groups(&self) -> Vec<(usize, Vec<usize>)> {
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (i, id) in self.ids.iter().enumerate() {
            let class = self.compiled.class_of(*id).unwrap_or(usize::MAX);
            match groups.iter_mut().find(|(c, _)| *c == class) {
                Some((_, members)) => members.push(i),
                None => groups.push((class, vec![i])),
            }
        }
        groups
    }
}

const AXES: &str = "rows: from, columns: to";

/// The truth tables of `tables` in `format`. `width` is the terminal's: a
/// `Table` grid of pods wider than that is printed by class.
pub fn truth_tables(view: &MatrixView, tables: &[PortTable], format: Format, width: usize) -> String {
    let n = view.ids.len();
    let marks = [Mark::Connected, Mark::Blocked];
    let mut out = String::new();
    match format {
        Format::Json => out = view.truth_tables(tables).json(),
        Format::Csv => {
            out.push_str("port,protocol,from,to,allowed\n");
            for t in tables {
                for i in 0..n {
                    for j in 0..n {
                        let (from, to) = (&view.names[i], &view.names[j]);
                        let _ = writeln!(out, "{},{},{from},{to},{}", t.port, t.protocol, view.allowed(t, i, j));
                    }
                }
            }
        }
        Format::Md => {
            for t in tables {
                let _ = writeln!(out, "### {}/{}\n", t.port, t.protocol);
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
                        let _ = write!(out, " {} |", Mark::of(view.allowed(t, i, j)).symbol());
                    }
                    out.push('\n');
                }
                out.push('\n');
            }
            let _ = writeln!(out, "{}; rows are sources, columns destinations.", legend_md(&marks));
        }
        Format::Table => {
            let grouped = grid_width(&view.names) > width;
            for (k, t) in tables.iter().enumerate() {
                if k > 0 {
                    out.push('\n');
                }
                let _ = writeln!(out, "{}/{}:", t.port, t.protocol);
                if grouped {
                    out.push_str(&class_table(view, t));
                } else {
                    out.push_str(&grid(&view.names, |i, j| Mark::of(view.allowed(t, i, j))));
                }
            }
            if grouped {
                let _ = writeln!(
                    out,
                    "\n{}  ({AXES}; on the diagonal, a class of several pods: between distinct pods of the class)",
                    legend(&marks)
                );
                let _ = writeln!(
                    out,
                    "Pods are grouped by class (pods no policy can tell apart): {n} pods do not fit {width} columns."
                );
            } else {
                let _ = writeln!(out, "\n{}  ({AXES}; a pod always reaches itself)", legend(&marks));
            }
        }
    }
    out
}

/// A grid of classes (`C0`, `C1`, ... in order of their first pod), then each class's pods.
/// A cell is the verdict between distinct pods of the two classes; a class of one pod
/// on the diagonal is that pod to itself.
fn class_table(view: &MatrixView, t: &PortTable) -> String {
    let groups = view.class_groups();
    let labels: Vec<String> = (0..groups.len()).map(|k| format!("C{k}")).collect();
    let mut out = grid(&labels, |a, b| {
        let allowed = match &groups[a].1[..] {
            [lone] if a == b => view.allowed(t, *lone, *lone),
            _ => t.class_allowed(groups[a].0, groups[b].0),
        };
        Mark::of(allowed)
    });
    let w = labels.iter().map(String::len).max().unwrap_or(2);
    for (label, (_, pods)) in labels.iter().zip(&groups) {
        let shown: Vec<&str> = pods.iter().take(5).map(|&i| view.names[i].as_str()).collect();
        let more = if pods.len() > 5 { format!(", ... ({} more)", pods.len() - 5) } else { String::new() };
        let s = if pods.len() == 1 { "" } else { "s" };
        let _ = writeln!(out, "{label:<w$} {} pod{s}: {}{more}", pods.len(), shown.join(", "));
    }
    out
}

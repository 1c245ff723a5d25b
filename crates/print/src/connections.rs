//! `netpol matrix` without `--port`: every allowed connection of each ordered
//! pair of pods, over the whole port space.

use std::fmt::Write as _;

use serde::Serialize;

use crate::matrix::{Format, MatrixView};

/// `{"pods": [...], "connections": [["all", "TCP 80"], ...]}`.
#[derive(Serialize)]
struct JsonConnections<'a> {
    pods: &'a [String],
    connections: Vec<Vec<String>>,
}

/// The connections of every ordered pair of `view`'s pods in `format`.
pub fn connections(view: &MatrixView, format: Format) -> String {
    let n = view.ids.len();
    let grid: Vec<Vec<String>> = view
        .compiled
        .connections_grid(&view.ids)
        .into_iter()
        .map(|row| row.into_iter().map(|c| c.to_string()).collect())
        .collect();
    let names = &view.names;
    let mut out = String::new();
    match format {
        Format::Json => {
            out = serde_json::to_string_pretty(&JsonConnections { pods: names, connections: grid })
                .expect("plain data serialises");
            out.push('\n');
        }
        Format::Csv => {
            out.push_str("from,to,allowed\n");
            for (i, j) in distinct_pairs(n) {
                let _ = writeln!(out, "{},{},\"{}\"", names[i], names[j], grid[i][j]);
            }
        }
        Format::Md => {
            out.push_str("| from | to | allowed |\n|---|---|---|\n");
            for (i, j) in distinct_pairs(n) {
                let _ = writeln!(out, "| {} | {} | {} |", names[i], names[j], grid[i][j]);
            }
        }
        Format::Table => {
            let wf = names.iter().map(String::len).max().unwrap_or(4).max(4);
            let _ = writeln!(out, "{:<wf$}  {:<wf$}  ALLOWED", "FROM", "TO");
            for (i, j) in distinct_pairs(n) {
                let _ = writeln!(out, "{:<wf$}  {:<wf$}  {}", names[i], names[j], grid[i][j]);
            }
            out.push_str(
                "\nALLOWED is every (protocol, port) the source may open to the destination, over ports 1-65535.\n",
            );
        }
    }
    out
}

/// Ordered pairs `(i, j)` of distinct indices below `n`, row by row.
fn distinct_pairs(n: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n).flat_map(move |i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
}

//! `netpol matrix --summary`: counts only, for clusters too big to print.

use std::fmt::Write as _;

use netpol_matrix::Compiled;
use netpol_model::Protocol;
use serde::Serialize;

use crate::matrix::Format;
use crate::tables::protocol_name;

/// `{"pods": N, "classes": C, "probes": [{"port", "protocol", "allowed_pairs"}]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pods: usize,
    pub classes: usize,
    /// The key is `"probes"`, a documented contract (docs/cli.md).
    #[serde(rename = "probes")]
    pub tables: Vec<TableCount>,
}

/// Ordered pairs of distinct pods allowed on one (port, protocol).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TableCount {
    pub port: u16,
    #[serde(serialize_with = "protocol_name")]
    pub protocol: Protocol,
    pub allowed_pairs: u64,
}

impl Summary {
    /// Counts every (protocol, port) of `probes` with [`Compiled::allowed_pairs`]
    /// (tile by tile: no classes x classes matrix is built).
    pub fn new(compiled: &Compiled, probes: &[(Protocol, u16)]) -> Summary {
        Summary {
            pods: compiled.pod_count(),
            classes: compiled.classes(),
            tables: probes
                .iter()
                .map(|&(protocol, port)| TableCount {
                    port,
                    protocol,
                    allowed_pairs: compiled.allowed_pairs(protocol, port),
                })
                .collect(),
        }
    }

    /// The summary in `format` (`Table` with percentages of the ordered pairs).
    pub fn print(&self, format: Format) -> String {
        let n = self.pods as u64;
        let pairs = n * n.saturating_sub(1);
        let mut out = String::new();
        match format {
            Format::Json => out = serde_json::to_string_pretty(self).expect("plain data serialises") + "\n",
            Format::Table => {
                let _ = writeln!(
                    out,
                    "{} pods in {} classes; {pairs} ordered pairs of distinct pods",
                    self.pods, self.classes
                );
                for t in &self.tables {
                    let pct = if pairs == 0 { 0.0 } else { t.allowed_pairs as f64 * 100.0 / pairs as f64 };
                    let _ = writeln!(
                        out,
                        "{:>6}/{:<4} {} allowed ({pct:.1}%)",
                        t.port,
                        t.protocol.as_str(),
                        t.allowed_pairs
                    );
                }
            }
            Format::Csv => {
                out.push_str("port,protocol,pods,classes,allowed_pairs\n");
                for t in &self.tables {
                    let _ =
                        writeln!(out, "{},{},{},{},{}", t.port, t.protocol, self.pods, self.classes, t.allowed_pairs);
                }
            }
            Format::Md => {
                let _ = writeln!(out, "{} pods in {} classes.\n", self.pods, self.classes);
                out.push_str("| port | protocol | allowed pairs | of |\n|---:|---|---:|---:|\n");
                for t in &self.tables {
                    let _ = writeln!(out, "| {} | {} | {} | {pairs} |", t.port, t.protocol, t.allowed_pairs);
                }
            }
        }
        out
    }
}

//! Observed truth tables next to the engine's prediction: disagreements, the
//! table a person reads, and the `netpol matrix -o json` shape.

use std::fmt::Write as _;

use netpol_engine::{Engine, Flow, Options};
use netpol_model::{Cluster, PodKey, Protocol};
use serde::Serialize;

use crate::probe::{Observed, Outcome};
use crate::LabError;

/// One pair where the packets and the engine disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    pub src: PodKey,
    pub dst: PodKey,
    pub port: u16,
    pub protocol: Protocol,
    pub predicted: bool,
    pub observed: Outcome,
}

/// A probe run: what was observed, what the engine predicted, where they differ.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeReport {
    pub observed: Observed,
    /// `predicted[t][i][j]` for `observed.tables[t]`.
    pub predicted: Vec<Vec<Vec<bool>>>,
    pub disagreements: Vec<Disagreement>,
}

/// The engine's verdict for one pod-to-pod flow.
pub fn predict(engine: &Engine, src: &PodKey, dst: &PodKey, protocol: Protocol, port: u16) -> Result<bool, LabError> {
    let flow = Flow::new(src.clone(), dst.clone(), protocol, port);
    engine.evaluate(&flow).map(|d| d.allowed()).map_err(|e| LabError::Predict(format!("{flow}: {e}")))
}

impl ProbeReport {
    /// Compares `observed` with the engine over `cluster`. A pair agrees when
    /// the network delivered the packet (connected or refused) exactly when the
    /// engine allows the flow.
    pub fn compare(cluster: &Cluster, observed: Observed) -> Result<ProbeReport, LabError> {
        let engine = Engine::new(cluster, Options::default());
        let mut predicted = Vec::new();
        let mut disagreements = Vec::new();
        for table in &observed.tables {
            let mut rows = Vec::new();
            for (i, src) in observed.pods.iter().enumerate() {
                let mut row = Vec::new();
                for (j, dst) in observed.pods.iter().enumerate() {
                    let allowed = predict(&engine, src, dst, table.protocol, table.port)?;
                    let outcome = &table.cells[i][j];
                    if allowed != outcome.reached() {
                        disagreements.push(Disagreement {
                            src: src.clone(),
                            dst: dst.clone(),
                            port: table.port,
                            protocol: table.protocol,
                            predicted: allowed,
                            observed: outcome.clone(),
                        });
                    }
                    row.push(allowed);
                }
                rows.push(row);
            }
            predicted.push(rows);
        }
        Ok(ProbeReport { observed, predicted, disagreements })
    }

    /// `{"pods": [...], "probes": [{"port", "protocol", "allowed": [[...]]}]}` of what was observed.
    pub fn matrix_json(&self) -> serde_json::Value {
        let probes: Vec<serde_json::Value> = self
            .observed
            .tables
            .iter()
            .map(|t| {
                let allowed: Vec<Vec<bool>> =
                    t.cells.iter().map(|row| row.iter().map(Outcome::reached).collect()).collect();
                serde_json::json!({"port": t.port, "protocol": t.protocol.as_str(), "allowed": allowed})
            })
            .collect();
        let pods: Vec<String> = self.observed.pods.iter().map(PodKey::to_string).collect();
        serde_json::json!({"pods": pods, "probes": probes})
    }

    /// The observed tables (`1` reached, `.` blocked, `X`/`x` where the engine
    /// disagrees), the skipped protocols, and every disagreement.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let names: Vec<String> = self.observed.pods.iter().map(PodKey::to_string).collect();
        let width = names.iter().map(String::len).max().unwrap_or(0);
        for (t, table) in self.observed.tables.iter().enumerate() {
            let _ = writeln!(out, "{}/{} observed (1 reached, . blocked; X reached but predicted denied, x blocked but predicted allowed)", table.port, table.protocol);
            let _ = write!(out, "{:width$}", "");
            for j in 0..names.len() {
                let _ = write!(out, " {:>2}", j + 1);
            }
            out.push('\n');
            for (i, name) in names.iter().enumerate() {
                let _ = write!(out, "{name:width$}");
                for j in 0..names.len() {
                    let reached = table.cells[i][j].reached();
                    let mark = match (reached, self.predicted[t][i][j] == reached) {
                        (true, true) => "1",
                        (false, true) => ".",
                        (true, false) => "X",
                        (false, false) => "x",
                    };
                    let _ = write!(out, " {mark:>2}");
                }
                let _ = writeln!(out, "  {}", i + 1);
            }
            out.push('\n');
        }
        for skipped in &self.observed.skipped {
            let _ = writeln!(out, "skipped {skipped}");
        }
        if self.disagreements.is_empty() {
            let probes: usize = self.observed.tables.len() * names.len() * names.len();
            let _ = writeln!(out, "{probes} probes: every observed verdict equals the engine's prediction");
        } else {
            let _ = writeln!(out, "{} disagreements with the engine:", self.disagreements.len());
            for d in &self.disagreements {
                let predicted = if d.predicted { "allowed" } else { "denied" };
                let _ = writeln!(
                    out,
                    "  {} -> {} {}/{}: predicted {predicted}, observed {}",
                    d.src, d.dst, d.port, d.protocol, d.observed
                );
            }
        }
        out
    }
}

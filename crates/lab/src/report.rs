//! Observed truth tables next to the engine's prediction: disagreements, the
//! table a person reads (the grid and legend of `netpol matrix`), and the
//! `netpol matrix -o json` shape ([`TruthTables`]).

use std::fmt::{self, Write as _};

use netpol_engine::{Engine, Flow, Options};
use netpol_model::{Cluster, PodKey, Protocol};
use netpol_print::{grid, legend, Mark, TruthTable, TruthTables};
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

impl fmt::Display for Disagreement {
    /// `x/a -> x/b 80/TCP: predicted denied, observed connected`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let predicted = if self.predicted { "allowed" } else { "denied" };
        write!(
            f,
            "{} -> {} {}/{}: predicted {predicted}, observed {}",
            self.src, self.dst, self.port, self.protocol, self.observed
        )
    }
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

    /// What was observed, in the `netpol matrix -o json` shape: `allowed[i][j]`
    /// is whether the packet from `pods[i]` reached `pods[j]`.
    pub fn truth_tables(&self) -> TruthTables {
        TruthTables {
            pods: self.observed.pods.iter().map(PodKey::to_string).collect(),
            tables: self
                .observed
                .tables
                .iter()
                .map(|t| TruthTable {
                    port: t.port,
                    protocol: t.protocol,
                    allowed: t.cells.iter().map(|row| row.iter().map(Outcome::reached).collect()).collect(),
                })
                .collect(),
        }
    }

    /// The observed tables with the legend of `netpol matrix` (`.` reached,
    /// `X` blocked, `!` where the engine predicted otherwise), the skipped
    /// protocols, and every disagreement.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let names: Vec<String> = self.observed.pods.iter().map(PodKey::to_string).collect();
        for (t, table) in self.observed.tables.iter().enumerate() {
            let _ = writeln!(out, "{}/{} observed:", table.port, table.protocol);
            out.push_str(&grid(&names, |i, j| {
                let reached = table.cells[i][j].reached();
                if self.predicted[t][i][j] == reached {
                    Mark::of(reached)
                } else {
                    Mark::Disagrees
                }
            }));
            out.push('\n');
        }
        if !self.observed.tables.is_empty() {
            let marks = [Mark::Connected, Mark::Blocked, Mark::Disagrees];
            let _ = writeln!(
                out,
                "{}  (rows: from, columns: to; connected: the packet reached the pod, even if refused)\n",
                legend(&marks)
            );
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
                let _ = writeln!(out, "  {d}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Table;

    fn report() -> ProbeReport {
        let (a, b): (PodKey, PodKey) = ("x/a".parse().unwrap(), "x/b".parse().unwrap());
        let observed = Observed {
            pods: vec![a.clone(), b.clone()],
            tables: vec![Table {
                port: 80,
                protocol: Protocol::Tcp,
                cells: vec![vec![Outcome::Connected, Outcome::TimedOut], vec![Outcome::Refused, Outcome::Connected]],
            }],
            skipped: vec!["SCTP: no SCTP sockets on this kernel".into()],
        };
        let disagreement = |src: &PodKey, dst: &PodKey, predicted, observed| Disagreement {
            src: src.clone(),
            dst: dst.clone(),
            port: 80,
            protocol: Protocol::Tcp,
            predicted,
            observed,
        };
        let disagreements =
            vec![disagreement(&a, &b, true, Outcome::TimedOut), disagreement(&b, &a, false, Outcome::Refused)];
        ProbeReport { observed, predicted: vec![vec![vec![true, true], vec![false, true]]], disagreements }
    }

    #[test]
    fn text_uses_the_matrix_legend_and_marks_disagreements() {
        let want = "\
80/TCP observed:
-   x/a x/b
x/a .   !
x/b !   .

. connected  X blocked  ! observed differs from the engine  (rows: from, columns: to; connected: the packet reached the pod, even if refused)

skipped SCTP: no SCTP sockets on this kernel
2 disagreements with the engine:
  x/a -> x/b 80/TCP: predicted allowed, observed timed out
  x/b -> x/a 80/TCP: predicted denied, observed refused
";
        assert_eq!(report().text(), want);
    }

    #[test]
    fn truth_tables_are_what_reached() {
        let tables = report().truth_tables();
        assert_eq!(tables.pods, ["x/a", "x/b"]);
        assert_eq!(tables.tables.len(), 1);
        assert_eq!(tables.tables[0].allowed, [[true, false], [true, true]]);
    }
}

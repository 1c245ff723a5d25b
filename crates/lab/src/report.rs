//! Observed truth tables next to the engine's prediction: disagreements, the
//! table a person reads (the grid and legend of `netpol matrix`, with a column
//! per external when the lab has some), and the `netpol matrix -o json` shape
//! ([`TruthTables`], pods only).

use std::fmt::{self, Write as _};

use netpol_engine::{Endpoint, Engine, Flow, Options};
use netpol_model::{Cluster, PodKey, Protocol};
use netpol_print::{grid, legend, Mark, TruthTable, TruthTables};
use serde::Serialize;

use crate::probe::{Observed, Outcome};
use crate::LabError;

/// One pair where the packets and the engine disagree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    pub src: PodKey,
    /// A pod, or an external's address.
    pub dst: Endpoint,
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
    /// `predicted_externals[t][i][k]` for `observed.tables[t].to_externals`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub predicted_externals: Vec<Vec<Vec<bool>>>,
    pub disagreements: Vec<Disagreement>,
}

/// The engine's verdict for one pod-to-pod flow.
pub fn predict(engine: &Engine, src: &PodKey, dst: &PodKey, protocol: Protocol, port: u16) -> Result<bool, LabError> {
    predict_flow(engine, &Flow::new(src.clone(), dst.clone(), protocol, port))
}

/// The engine's verdict for one flow.
pub fn predict_flow(engine: &Engine, flow: &Flow) -> Result<bool, LabError> {
    engine.evaluate(flow).map(|d| d.allowed()).map_err(|e| LabError::Predict(format!("{flow}: {e}")))
}

impl ProbeReport {
    /// Compares `observed` with the engine over `cluster`. A pair agrees when
    /// the network delivered the packet (connected or refused) exactly when the
    /// engine allows the flow.
    pub fn compare(cluster: &Cluster, observed: Observed) -> Result<ProbeReport, LabError> {
        let engine = Engine::new(cluster, Options::default());
        let mut predicted = Vec::new();
        let mut predicted_externals = Vec::new();
        let mut disagreements = Vec::new();
        let pods: Vec<Endpoint> = observed.pods.iter().cloned().map(Endpoint::Pod).collect();
        let externals: Vec<Endpoint> = observed.externals.iter().copied().map(Endpoint::Ip).collect();
        for table in &observed.tables {
            let mut compare_row =
                |src: &PodKey, dsts: &[Endpoint], outcomes: &[Outcome]| -> Result<Vec<bool>, LabError> {
                    let mut row = Vec::with_capacity(dsts.len());
                    for (dst, outcome) in dsts.iter().zip(outcomes) {
                        let allowed =
                            predict_flow(&engine, &Flow::new(src.clone(), dst.clone(), table.protocol, table.port))?;
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
                    Ok(row)
                };
            let mut rows = Vec::new();
            let mut outside = Vec::new();
            for (i, src) in observed.pods.iter().enumerate() {
                rows.push(compare_row(src, &pods, &table.cells[i])?);
                if let Some(cells) = table.to_externals.get(i) {
                    outside.push(compare_row(src, &externals, cells)?);
                }
            }
            predicted.push(rows);
            if !externals.is_empty() {
                predicted_externals.push(outside);
            }
        }
        Ok(ProbeReport { observed, predicted, predicted_externals, disagreements })
    }

    /// The observed outcome from `src` to `dst` (a pod or an external) on `port`/`protocol`.
    pub fn outcome(&self, src: &PodKey, dst: &Endpoint, port: u16, protocol: Protocol) -> Option<&Outcome> {
        let table = self.observed.tables.iter().find(|t| t.port == port && t.protocol == protocol)?;
        let i = self.observed.pods.iter().position(|p| p == src)?;
        match dst {
            Endpoint::Pod(key) => table.cells.get(i)?.get(self.observed.pods.iter().position(|p| p == key)?),
            Endpoint::Ip(ip) => table.to_externals.get(i)?.get(self.observed.externals.iter().position(|e| e == ip)?),
        }
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
        let mark = |predicted: bool, outcome: &Outcome| {
            let reached = outcome.reached();
            if predicted == reached {
                Mark::of(reached)
            } else {
                Mark::Disagrees
            }
        };
        for (t, table) in self.observed.tables.iter().enumerate() {
            let _ = writeln!(out, "{}/{} observed:", table.port, table.protocol);
            if self.observed.externals.is_empty() {
                out.push_str(&grid(&names, |i, j| mark(self.predicted[t][i][j], &table.cells[i][j])));
            } else {
                let mut columns = names.clone();
                columns.extend(self.observed.externals.iter().map(|ip| ip.to_string()));
                let n = names.len();
                out.push_str(&wide_grid(&names, &columns, |i, j| match j.checked_sub(n) {
                    None => mark(self.predicted[t][i][j], &table.cells[i][j]),
                    Some(k) => mark(self.predicted_externals[t][i][k], &table.to_externals[i][k]),
                }));
            }
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
            let columns = names.len() + self.observed.externals.len();
            let probes: usize = self.observed.tables.len() * names.len() * columns;
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

/// [`grid`] with more columns than rows (the pods, then the externals), in the same layout.
fn wide_grid(rows: &[String], columns: &[String], cell: impl Fn(usize, usize) -> Mark) -> String {
    let w = rows.iter().chain(columns).map(String::len).max().unwrap_or(1);
    let mut header = format!("{:<w$}", "-");
    for label in columns {
        let _ = write!(header, " {label:<w$}");
    }
    let mut out = header.trim_end().to_string();
    out.push('\n');
    for (i, from) in rows.iter().enumerate() {
        let mut line = format!("{from:<w$}");
        for j in 0..columns.len() {
            let _ = write!(line, " {:<w$}", cell(i, j).symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Table;

    fn report() -> ProbeReport {
        let (a, b): (PodKey, PodKey) = ("x/a".parse().unwrap(), "x/b".parse().unwrap());
        let observed = Observed {
            pods: vec![a.clone(), b.clone()],
            externals: Vec::new(),
            tables: vec![Table {
                port: 80,
                protocol: Protocol::Tcp,
                cells: vec![vec![Outcome::Connected, Outcome::TimedOut], vec![Outcome::Refused, Outcome::Connected]],
                to_externals: Vec::new(),
            }],
            skipped: vec!["SCTP: no SCTP sockets on this kernel".into()],
        };
        let disagreement = |src: &PodKey, dst: &PodKey, predicted, observed| Disagreement {
            src: src.clone(),
            dst: Endpoint::Pod(dst.clone()),
            port: 80,
            protocol: Protocol::Tcp,
            predicted,
            observed,
        };
        let disagreements =
            vec![disagreement(&a, &b, true, Outcome::TimedOut), disagreement(&b, &a, false, Outcome::Refused)];
        ProbeReport {
            observed,
            predicted: vec![vec![vec![true, true], vec![false, true]]],
            predicted_externals: Vec::new(),
            disagreements,
        }
    }

    /// The same report with one external, 8.8.8.8: `x/a` reaches it as predicted,
    /// `x/b` does not although the engine allows it.
    fn report_with_external() -> ProbeReport {
        let mut r = report();
        let ip: std::net::IpAddr = "8.8.8.8".parse().unwrap();
        r.observed.externals.push(ip);
        r.observed.tables[0].to_externals = vec![vec![Outcome::Connected], vec![Outcome::TimedOut]];
        r.predicted_externals = vec![vec![vec![true], vec![true]]];
        r.disagreements.push(Disagreement {
            src: "x/b".parse().unwrap(),
            dst: Endpoint::Ip(ip),
            port: 80,
            protocol: Protocol::Tcp,
            predicted: true,
            observed: Outcome::TimedOut,
        });
        r
    }

    #[test]
    fn externals_are_columns_after_the_pods() {
        let want = "\
80/TCP observed:
-       x/a     x/b     8.8.8.8
x/a     .       !       .
x/b     !       .       !

";
        let text = report_with_external().text();
        assert!(text.starts_with(want), "{text}");
        assert!(text.ends_with("  x/b -> 8.8.8.8 80/TCP: predicted allowed, observed timed out\n"), "{text}");
        let r = report_with_external();
        let (a, b): (PodKey, PodKey) = ("x/a".parse().unwrap(), "x/b".parse().unwrap());
        let ip = Endpoint::Ip("8.8.8.8".parse().unwrap());
        assert_eq!(r.outcome(&a, &ip, 80, Protocol::Tcp), Some(&Outcome::Connected));
        assert_eq!(r.outcome(&b, &ip, 80, Protocol::Tcp), Some(&Outcome::TimedOut));
        assert_eq!(r.outcome(&a, &Endpoint::Pod(b.clone()), 80, Protocol::Tcp), Some(&Outcome::TimedOut));
        assert_eq!(r.outcome(&a, &ip, 81, Protocol::Tcp), None);
        assert_eq!(r.truth_tables().pods, ["x/a", "x/b"], "the matrix shape has pods only");
    }

    #[test]
    fn compare_predicts_externals_as_addresses() {
        let (a, b): (PodKey, PodKey) = ("x/a".parse().unwrap(), "x/b".parse().unwrap());
        let ip: std::net::IpAddr = "8.8.8.8".parse().unwrap();
        let pod = |key: &PodKey, addr: &str| netpol_model::Pod {
            namespace: key.namespace.clone(),
            name: key.name.clone(),
            kind: netpol_model::WorkloadKind::Pod,
            labels: netpol_model::Labels::from_iter([("pod", key.name.as_str())]),
            ips: vec![addr.parse().unwrap()],
            ports: Vec::new(),
            host_network: false,
            node: None,
            origin: None,
            service_account: Default::default(),
        };
        // No policies: everything is allowed, so x/b's silence towards 8.8.8.8 disagrees.
        let cluster = Cluster { pods: vec![pod(&a, "10.0.0.1"), pod(&b, "10.0.0.2")], ..Cluster::default() };
        let observed = Observed {
            pods: vec![a.clone(), b.clone()],
            externals: vec![ip],
            tables: vec![Table {
                port: 53,
                protocol: Protocol::Udp,
                cells: vec![vec![Outcome::Connected; 2]; 2],
                to_externals: vec![vec![Outcome::Connected], vec![Outcome::TimedOut]],
            }],
            skipped: Vec::new(),
        };
        let r = ProbeReport::compare(&cluster, observed).unwrap();
        assert_eq!(r.predicted_externals, [[[true], [true]]]);
        let got: Vec<String> = r.disagreements.iter().map(ToString::to_string).collect();
        assert_eq!(got, ["x/b -> 8.8.8.8 53/UDP: predicted allowed, observed timed out"]);
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

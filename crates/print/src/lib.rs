//! netpol-print: the text, tables and JSON a person reads, one printer per
//! output (as ripgrep's grep-printer), apart from the binary that prints them.
//!
//! Where it sits: after the answers. `netpol-matrix` computes a [`PortTable`]
//! per (port, protocol) and the connections of every pair; the engine answers
//! which pods a selector matches; this crate turns those into the truth tables
//! of `netpol matrix` ([`truth_tables`], [`connections`], [`Summary`]), the
//! `kubectl describe` text of `netpol describe` ([`describe_policies`]), what
//! `netpol diff` prints ([`diff()`]), what `netpol lint` prints ([`findings()`]:
//! text, JSON, SARIF), and the
//! pieces `netpol lab probe` prints its observations with: one JSON shape
//! ([`TruthTables`]), one grid ([`grid`]) and one legend ([`Mark`]: `.`
//! connected, `X` blocked, `!` where real packets disagree with the engine).
//! Pure: printers return strings; writing them is the caller's business.
//!
//! [`PortTable`]: netpol_matrix::PortTable
//!
//! ```
//! use netpol_matrix::{Compiled, Options};
//! use netpol_model::{Cluster, Labels, Pod, Protocol, WorkloadKind};
//! use netpol_print::{truth_tables, Format, MatrixView};
//!
//! let pod = |name: &str| Pod {
//!     namespace: "default".into(), name: name.into(), kind: WorkloadKind::Pod,
//!     labels: Labels::from_iter([("app", name)]), ips: vec![], ports: vec![],
//!     host_network: false, node: None, origin: None, service_account: Default::default(),
//! };
//! let cluster = Cluster { pods: vec![pod("a"), pod("b")], ..Cluster::default() };
//! let compiled = Compiled::build(&cluster, Options::default());
//! let table = compiled.port_table(Protocol::Tcp, 80);
//! let text = truth_tables(&MatrixView::new(&compiled), &[table], Format::Table, 80);
//! assert!(text.starts_with("80/TCP:\n-         default/a default/b\ndefault/a .         .\n"));
//! ```

mod connections;
mod describe;
mod diff;
mod exposure;
mod findings;
mod grid;
mod legend;
mod matrix;
mod summary;
mod tables;

pub use connections::{connections, write_connections};
pub use describe::{describe, describe_policies, matches};
pub use diff::{diff, signed, DiffCounts, DiffFormat, Workloads};
pub use exposure::{exposure_text, exposures_grouped, ports_text};
pub use findings::{findings, sarif, FindingsFormat, Tool};
pub use grid::{grid, grid_width};
pub use legend::{legend, legend_md, Mark};
pub use matrix::{truth_tables, Format, MatrixView};
pub use summary::{Summary, TableCount};
pub use tables::{TruthTable, TruthTables};

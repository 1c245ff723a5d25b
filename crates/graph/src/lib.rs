//! netpol-graph: the picture of who may connect to whom, as `netpol graph` draws it.
//!
//! Where it sits: after the answers. `model::Cluster --compile--> netpol-matrix`
//! gives the connections between classes of pods (pods no policy can tell
//! apart); the engine gives the connections to and from the addresses that
//! ipBlocks name, and explains each edge. [`Graph::build`] puts them together:
//!
//! - a **node** is a class of pods (in practice the pods of one workload, or a
//!   lone pod), shown in its namespace's cluster with its isolation (`isolated:
//!   ingress, egress`, and a fill colour), or a region of addresses outside the
//!   pod network that the same ipBlocks contain ([`External`]);
//! - an **edge** from A to B is every (protocol, port) on which the pods of A
//!   may open connections to the pods of B (both directions' policies agree):
//!   `TCP 80`, `UDP 53`, `TCP 8000-8080`, or `all`. Exact over the whole port
//!   space, never sampled.
//!
//! The renderers are pure and return text: [`dot()`] (Graphviz), [`mermaid()`]
//! (Markdown), and [`html()`], which inlines an SVG that the caller had Graphviz
//! draw (running `dot` is the caller's I/O) with every edge's explanation from
//! [`explain_text`] (the engine's, as `netpol check` prints it).
//!
//! ```
//! use netpol_graph::{dot, Graph, Options};
//! use netpol_model::{Cluster, Direction, LabelSelector, Labels, NetworkPolicy, Pod, Rule, WorkloadKind};
//!
//! let pod = |name: &str| Pod {
//!     namespace: "shop".into(), name: name.into(), kind: WorkloadKind::Pod,
//!     labels: Labels::from_iter([("app", name)]), ips: vec![], ports: vec![],
//!     host_network: false, node: None, origin: None, service_account: Default::default(),
//! };
//! // db admits nothing: web -> db disappears, db -> web stays.
//! let deny = NetworkPolicy {
//!     namespace: "shop".into(), name: "db".into(), pod_selector: LabelSelector::from_labels([("app", "db")]),
//!     policy_types: vec![Direction::Ingress], policy_types_defaulted: false,
//!     ingress: vec![], egress: vec![], meta: Default::default(), origin: None,
//! };
//! let cluster = Cluster { pods: vec![pod("web"), pod("db")], policies: vec![deny], ..Cluster::default() };
//! let graph = Graph::build(&cluster, Options::default());
//! assert_eq!(graph.nodes.len(), 2);
//! assert_eq!(graph.edges.len(), 1);
//! assert_eq!(graph.nodes[graph.edges[0].from].key(), "shop/db");
//! assert_eq!(graph.edges[0].ports.to_string(), "all");
//! assert!(dot(&graph, false).contains("subgraph \"cluster_ns-shop\""));
//! ```

mod dot;
mod explain;
mod external;
mod graph;
mod html;
mod mermaid;

pub use dot::dot;
pub use explain::{explain_edge, explain_text, Explanation};
pub use external::{regions, External};
pub use graph::{port_filter, Edge, Graph, Node, Options, Pods, What};
pub use html::html;
pub use mermaid::mermaid;

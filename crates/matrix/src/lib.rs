//! netpol-matrix: all-pairs reachability, compiled.
//!
//! Where it sits: `model::Cluster --compile--> Compiled --port_table--> PortTable`,
//! and `Compiled::diff(OLD, NEW) --> Diff` (what `netpol diff` prints).
//! The engine (`netpol-engine`) answers one flow with its explanation; this
//! crate answers every pair at once, for clusters of 100,000 pods, and keeps
//! the answer current as pods, namespaces and policies change. The engine is
//! the reference: the differential tests check that both agree on every pair,
//! port and protocol.
//!
//! How: pods that no policy can tell apart share a *class* (same namespace,
//! same values of the label keys selectors read, same resolution of the port
//! names rules use, inside the same ipBlock ranges, same hostNetwork
//! flag). Every selector and ipBlock becomes a bitset over classes, evaluated
//! once per class; a port table ORs, per class and direction, the peer bitsets of
//! the rules whose ports admit the probed port, and ANDs egress with the
//! transposed ingress. Cost grows with classes and rules, not pods squared.
//!
//! ```
//! use netpol_matrix::{Change, Compiled, Options};
//! use netpol_model::{Cluster, Labels, NetworkPolicy, Pod, Protocol, WorkloadKind};
//!
//! let pod = |name: &str| Pod {
//!     namespace: "default".into(), name: name.into(), kind: WorkloadKind::Pod,
//!     labels: Labels::from_iter([("app", name)]), ips: vec![], ports: vec![],
//!     host_network: false, node: None, origin: None, service_account: Default::default(),
//! };
//! let cluster = Cluster { pods: vec![pod("a"), pod("b")], ..Cluster::default() };
//! let mut compiled = Compiled::build(&cluster, Options::default());
//! assert_eq!(compiled.allowed_pairs(Protocol::Tcp, 80), 2); // nothing isolated yet
//!
//! // A default-deny ingress policy: a and b no longer reach each other.
//! let deny = NetworkPolicy {
//!     namespace: "default".into(), name: "deny".into(), pod_selector: Default::default(),
//!     policy_types: vec![netpol_model::Direction::Ingress], policy_types_defaulted: false,
//!     ingress: vec![], egress: vec![], meta: Default::default(), origin: None,
//! };
//! compiled.apply(Change::UpsertPolicy(deny)).unwrap();
//! assert_eq!(compiled.allowed_pairs(Protocol::Tcp, 80), 0);
//! let (a, b) = (compiled.pod_id(&"default/a".parse().unwrap()).unwrap(), compiled.pod_id(&"default/b".parse().unwrap()).unwrap());
//! assert!(!compiled.allowed(a, b, Protocol::Tcp, 80));
//! assert!(compiled.allowed(a, a, Protocol::Tcp, 80)); // a pod always reaches itself
//! assert_eq!(compiled.connections(a, b).to_string(), "none");
//! ```

mod arena;
mod atoms;
mod bitset;
mod change;
mod classes;
mod compile;
mod count;
mod diff;
mod slots;
mod table;
mod tiers;

pub use bitset::{BitMatrix, Bitset};
pub use change::{Change, ChangeError};
pub use compile::{Compiled, Options, PodId};
pub use diff::{Diff, PairChange, PolicyChange, PolicyChangeKind};
// What `Compiled::connections` returns: the model's, shared with the engine.
pub use netpol_model::PortSet;
pub use table::PortTable;

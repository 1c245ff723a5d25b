//! netpol-lab: a local lab where pods are Linux network namespaces, policies
//! are enforced by the rendered nftables ruleset, and verdicts are real packets.
//!
//! Where it sits in the data flow:
//! ```text
//! model::Cluster --Topology::plan--> namespaces, veths, addresses (pure)
//!                --Lab::up--> node namespace (routes between pods; the `inet netpol` table of netpol-nft)
//!                             + one namespace per pod (servers on every containerPort; kube-dns answers services)
//!                --Lab::connect / Lab::probe--> real TCP/UDP attempts --compare--> netpol-engine's predictions
//! ```
//! Each pod's `eth0` is one end of a veth whose other end lives in a single node
//! namespace; forwarding is enabled in the node namespace only, so every packet
//! between pods crosses the node's `forward` hook, where the ruleset applies.
//! Nothing outside the lab's own namespaces is touched, and every address a
//! probe targets is a lab pod's or a lab external's: an address outside the
//! cluster (`8.8.8.8`, [`Lab::up_with_externals`]) that the lab stands up in
//! a namespace of its own behind the node, so that egress to it crosses the
//! same `forward` hook. A hostNetwork pod is served at its node's address in
//! the node namespace itself, so connections to it cross the `input` hook.
//! The state file ([`state`]) records what was made, so `down` (or a failed
//! `up`) removes all of it.
//!
//! Planning is pure and runs anywhere; building needs root, `ip` and `nft`:
//! ```
//! use netpol_lab::Topology;
//! use netpol_model::{Cluster, ContainerPort, Labels, Pod, Protocol, WorkloadKind};
//!
//! let web = Pod {
//!     namespace: "default".into(), name: "web".into(), kind: WorkloadKind::Pod,
//!     labels: Labels::from_iter([("app", "web")]), ips: vec![],
//!     ports: vec![ContainerPort { name: None, port: 80, protocol: Protocol::Tcp }],
//!     host_network: false, node: None, origin: None, service_account: Default::default(),
//! };
//! let plan = Topology::plan("demo", &Cluster { pods: vec![web], ..Cluster::default() }).unwrap();
//! assert_eq!(plan.node_netns, "np-demo-node");
//! // The web pod gets a lab address; a kube-dns pod is added for name resolution.
//! let names: Vec<String> = plan.pods.iter().map(|p| format!("{} {}", p.key, p.ips[0])).collect();
//! assert_eq!(names, ["default/web 10.250.0.1", "kube-system/kube-dns 10.250.0.2"]);
//! ```
//! With root: `Lab::up(&cluster, &LabOptions::new("demo"), &|| false)?`, then
//! `lab.connect(&PodKey::new("default", "web"), &"kube-dns.kube-system:53/UDP".parse()?, timeout)?`
//! or `lab.probe(&[(80, Protocol::Tcp)], timeout, 64)?`, and `lab.down()?`.
//!
//! With [`LabOptions::api`] ([`api`]), a control plane runs beside the lab,
//! every lab pod and namespace is registered in it, and `netpol agent
//! --kubernetes` enforces what it holds in the node namespace: policies and
//! labels then change with kubectl, and [`Lab::use_cluster`] predicts with
//! what the API holds.

pub mod api;
mod connect;
mod control;
pub mod dns;
mod error;
pub mod hold;
pub mod netns;
pub mod probe;
pub mod process;
mod report;
mod serve;
pub mod state;
mod topology;

pub use api::ApiOptions;
pub use connect::{Connection, Target};
pub use control::{enforce, serve_detached, Enforcement, Lab, LabOptions, Prediction, ServerMode};
pub use error::LabError;
pub use probe::{Observed, Outcome, Resolution, Table, SCTP_UNSUPPORTED};
pub use report::{Disagreement, ProbeReport};
pub use serve::Servers;
pub use topology::{check_id, LabExternal, LabPod, Topology, EXTERNAL_PORTS, LAB_POD_CIDR};

//! netpol-engine: evaluates one flow against `networking.k8s.io/v1`
//! NetworkPolicies, exactly as upstream Kubernetes defines them, and explains
//! the verdict.
//!
//! Where it sits in the data flow:
//! `manifest` (YAML -> [`netpol_model::Cluster`]) -> **engine** ([`Engine::evaluate`]
//! a [`Flow`] -> [`Decision`] with reasons; [`explain`] renders it) -> the `check`
//! command. The `matrix` crate compiles the same semantics for all pairs and is
//! tested against [`Engine::allowed_connections`]. The rules and the choices made
//! where upstream leaves behaviour to the plugin are in docs/semantics.md.
//!
//! The engine is pure: no I/O, no global state. A decision is data: per
//! direction (egress at the source, ingress at the destination) the policies that
//! isolate the endpoint, every (policy, rule, peer, port) that allows the flow,
//! or, when denied, why each rule did not match.
//!
//! ```
//! use netpol_engine::{explain, Engine, Flow, Options};
//! use netpol_model::{Direction, LabelSelector, NetworkPolicy, Cluster, Namespace, Pod, PodKey, Protocol};
//!
//! let mut cluster = Cluster::default();
//! for name in ["frontend", "backend"] {
//!     cluster.pods.push(Pod {
//!         namespace: "default".into(),
//!         name: name.into(),
//!         kind: Default::default(),
//!         labels: [("run", name)].into_iter().collect(),
//!         ips: vec![],
//!         ports: vec![],
//!         host_network: false,
//!         node: None,
//!         service_account: Default::default(),
//!         origin: None,
//!     });
//! }
//! cluster.policies.push(NetworkPolicy {
//!     namespace: "default".into(),
//!     name: "default-deny".into(),
//!     pod_selector: LabelSelector::default(),
//!     policy_types: vec![Direction::Ingress, Direction::Egress],
//!     policy_types_defaulted: false,
//!     ingress: vec![],
//!     egress: vec![],
//!     meta: Default::default(),
//!     origin: None,
//! });
//! cluster.add_implicit_namespaces();
//!
//! let engine = Engine::new(&cluster, Options::default());
//! let flow = Flow::new(PodKey::new("default", "frontend"), PodKey::new("default", "backend"), Protocol::Tcp, 80);
//! let decision = engine.evaluate(&flow).unwrap();
//! assert!(!decision.allowed());
//! assert!(explain(&decision).starts_with("DENIED: default/frontend -> default/backend on 80/TCP"));
//! let ports = engine.allowed_connections(&flow.src, &flow.dst).unwrap();
//! assert_eq!(ports.to_string(), "none");
//! ```

mod decision;
mod endpoint;
mod error;
mod evaluate;
mod explain;
mod exposure;
mod peer;
mod port;
mod tiers;

pub use decision::{
    Check, Decision, DirectionDecision, EndpointInfo, EndpointKind, PolicyCheck, PolicyRef, RuleCheck, RuleMatch,
    Status, Verdict,
};
pub use endpoint::{Endpoint, EndpointParseError, Flow};
pub use error::EngineError;
pub use evaluate::{Engine, Options};
pub use explain::explain;
pub use exposure::{Candidate, Exposure, Grant, Limit, NamespaceScope, OtherSide, PolicyOf, Ports, Reach, RuleOf};
pub use tiers::{PeerKey, StepAction, TierStep};
// What `allowed_connections` returns: defined in the model, shared with the matrix.
pub use netpol_model::{PortRange, PortSet, MAX_PORT, MIN_PORT};

//! The netpol data model: namespaces, pods, services and `networking.k8s.io/v1`
//! NetworkPolicy, as plain data; and [`PortSet`], the set of (protocol, port)
//! a pair of endpoints may use, as both the engine and the matrix report it.
//!
//! Where it sits: `manifest` turns YAML into these types (after validation and
//! API-server defaulting), `engine` evaluates flows over them, `matrix` compiles
//! them, `nft` renders them. This crate does no I/O and knows nothing of kube,
//! serde-YAML, tokio or netlink.
//!
//! The model is *post-defaulting*: `policy_types` is always filled in the way
//! the API server fills it, protocols default to TCP, and a policy that the API
//! server would reject never reaches the model.
//!
//! ```
//! use netpol_model::{LabelSelector, Labels};
//! let sel = LabelSelector::from_labels([("app", "web")]);
//! let labels = Labels::from_iter([("app", "web"), ("tier", "front")]);
//! assert!(sel.matches(&labels));
//! assert!(LabelSelector::default().matches(&Labels::new()));
//! ```

mod calico;
mod cluster;
mod direction;
mod ipblock;
mod label;
mod origin;
mod policy;
mod port;
mod portset;
mod selection;
mod selector;
mod tiered;
mod tiered_selection;

pub use calico::{CalicoSelector, SelectorError};
pub use cluster::{
    Cluster, ContainerPort, Namespace, Node, Pod, PodKey, PodKeyError, PodServiceAccount, Service, ServiceAccount,
    ServicePort, WorkloadKind,
};
pub use direction::Direction;
pub use ipblock::IpBlock;
pub use label::{Labels, METADATA_NAME_LABEL};
pub use origin::Origin;
pub use policy::{NetworkPolicy, ObjectMeta, Peer, Rule};
pub use port::{PolicyPort, PortRef, Protocol, ProtocolError};
pub use portset::{PortRange, PortSet, MAX_PORT, MIN_PORT};
pub use selection::{Namespaces, PeerEnd, PodSelection, PodView};
pub use selector::{LabelSelector, Operator, Requirement};
pub use tiered::{
    compare_order, Action, CalicoEntity, Order, RuleProtocol, Subject, Tier, TierDefault, TieredKind, TieredPeer,
    TieredPolicy, TieredRule, DEFAULT_TIER, KUBE_ADMIN_TIER, KUBE_BASELINE_TIER, V1_POLICY_ORDER,
};
pub use tiered_selection::{
    calico_namespace_labels, calico_pod_label, TieredEnd, CALICO_NAMESPACE_LABEL, CALICO_NAMESPACE_PREFIX,
    CALICO_NAME_LABEL, CALICO_ORCHESTRATOR_LABEL, CALICO_SERVICE_ACCOUNT_LABEL, CALICO_SERVICE_ACCOUNT_PREFIX,
};

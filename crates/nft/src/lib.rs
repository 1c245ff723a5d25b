//! netpol-nft: enforcing NetworkPolicy with nftables.
//!
//! Where it sits in the data flow:
//! ```text
//! model::Cluster --render--> Ruleset (IR, pure) --script--> `nft -f` text --apply--> kernel
//!                                      \--evaluate(Packet)--> accept/drop + the rule comments that decided
//! ```
//! [`render`] and [`Ruleset::script`] are pure and deterministic (sorted inputs,
//! stable names); [`apply`] is the only module doing I/O. Everything lives in
//! one table of our own, `inet netpol`, replaced atomically; no other table is
//! touched. Isolated pods are grouped by the policies selecting them: one chain
//! and one merged set lookup per group, direction and family, so a new
//! connection costs the same whatever the number of policies. Chain and set
//! names come from policy identities, addresses live only in set and map
//! elements, so pod IP churn changes elements, not chains. Every set element
//! carries the comment `ns/policy ingress[i] peer[j] port[k]` of the rule allowing it.
//! [`render_cached`] gives the same result as [`render`] and, after a policy
//! change, renders again only the groups that policy touches ([`RenderCache`]).
//!
//! ```
//! use netpol_model::{Cluster, Pod, WorkloadKind, Labels};
//! use netpol_nft::{render, Hook, Packet, RenderOptions};
//!
//! let pod = |name: &str, ip: &str| Pod {
//!     namespace: "default".into(), name: name.into(), kind: WorkloadKind::Pod,
//!     labels: Labels::from_iter([("app", name)]), ips: vec![ip.parse().unwrap()],
//!     ports: vec![], host_network: false, node: None, origin: None, service_account: Default::default(),
//! };
//! let cluster = Cluster { pods: vec![pod("a", "10.0.0.1"), pod("b", "10.0.0.2")], ..Cluster::default() };
//! let ruleset = render(&cluster, &RenderOptions::default());
//! assert!(ruleset.script().contains("table inet netpol {"));
//! // No policy selects anything: nothing is isolated, everything passes.
//! let packet = Packet { src: "10.0.0.1".parse().unwrap(), dst: "10.0.0.2".parse().unwrap(),
//!                       protocol: netpol_model::Protocol::Tcp, port: 80 };
//! assert!(ruleset.evaluate(Hook::Forward, &packet).allowed);
//! ```

pub mod apply;
mod cache;
pub mod conntrack;
mod evaluate;
mod ir;
mod name;
mod range;
mod render;
mod script;
mod select;
mod union;

pub use cache::RenderCache;
pub use evaluate::{Evaluation, Packet};
pub use ir::{
    Action, AddrRange, BaseHook, Chain, ChainRule, CtState, Element, Family, Field, Hook, Lookup, Map, MapEntry, Match,
    NftVerdict, Ruleset, Set, SetKey, Stats, EVERY_PORT, TABLE,
};
pub use render::{render, render_cached, RenderOptions};

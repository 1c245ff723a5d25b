//! The upstream network-policy-api conformance suite as table tests: every
//! `PokeServer(client, server, protocol, port, shouldConnect)` of its tests,
//! evaluated by the engine against the manifests the test had applied then.
//!
//! Upstream: kubernetes-sigs/network-policy-api,
//! - v0.1.8 (commit 5a62954284765fb16f2e601f11907ca0b839b89f), the last v1alpha1
//!   release: AdminNetworkPolicy and BaselineAdminNetworkPolicy;
//! - v0.2.0 (commit a17adecd0316b8ff1c3f83939ec0441d68cd6cce): ClusterNetworkPolicy,
//!   `tier: Admin` and `tier: Baseline`.
//!
//! v0.2.0 ported each v0.1.8 test to ClusterNetworkPolicy under the same file name
//! (`conformance/tests/admin-network-policy-*.go` and `baseline-admin-network-policy-*.go`)
//! with the same subtests and the same pokes; only the manifests (kind, `Allow` ->
//! `Accept`, `ports` -> `protocols`), the base folders (`admin_network_policy` ->
//! `admin_tier`, `baseline_admin_network_policy` -> `baseline_tier`), the test names
//! and nine subtest names changed. So each upstream test is one table (in
//! `network-policy-api/anp.rs` and `banp.rs`), run once per tag, each run on that
//! tag's manifests.
//!
//! The manifests are in `network-policy-api/`: `base.yaml` (the suite's
//! `conformance/base/manifests.yaml` as the cluster runs it: namespaces, the pods of
//! its StatefulSets with IPs, the Nodes of its hostNetwork pods) and, under the tag,
//! each base manifest a test applies (`<name>.yaml`) and each state a test's patches
//! leave it in (`<name>.patch-<n>.yaml`, `<name>.named-port.yaml`): upstream
//! subtests patch the live object, so a later subtest sees every earlier patch.
//!
//! Each poke is also checked against `Engine::allowed_connections` (the explained
//! verdict must agree with the port set) and against the compiled matrix
//! (`netpol_matrix::Compiled::allowed`), and, pod to pod, against the rendered
//! nftables ruleset (`netpol_nft::Ruleset::evaluate` on the forward hook). A disagreement with upstream is reported
//! with the manifests, the flow, both answers and netpol's explanation.
//!
//! Skipped: nothing. The suite uses no `domainNames` (the one kind of peer netpol
//! cannot decide offline); its `networks` pokes target pod IPs and its `nodes`
//! pokes a hostNetwork pod on a Node, both in `base.yaml`.

use std::path::Path;

use netpol_engine::{explain, Engine, Flow, Options};
use netpol_manifest::{load, LoadOptions};
use netpol_matrix::Compiled;
use netpol_model::{Cluster, PodKey, Protocol};
use netpol_nft::{Hook, Packet, Ruleset};

/// A table run on both tags: the v0.1.8 test and its v0.2.0 port.
macro_rules! conformance {
    ($($table:path => $v0_1_8:ident, $v0_2_0:ident;)*) => {
        $(
            #[test]
            fn $v0_1_8() {
                $crate::check($crate::Version::V0_1_8, &$table);
            }

            #[test]
            fn $v0_2_0() {
                $crate::check($crate::Version::V0_2_0, &$table);
            }
        )*
    };
}

#[path = "network-policy-api/anp.rs"]
mod anp;
#[path = "network-policy-api/banp.rs"]
mod banp;

pub const HARRY_0: &str = "network-policy-conformance-gryffindor/harry-potter-0";
pub const HARRY_1: &str = "network-policy-conformance-gryffindor/harry-potter-1";
pub const DRACO_0: &str = "network-policy-conformance-slytherin/draco-malfoy-0";
pub const DRACO_1: &str = "network-policy-conformance-slytherin/draco-malfoy-1";
pub const CEDRIC_0: &str = "network-policy-conformance-hufflepuff/cedric-diggory-0";
pub const CEDRIC_1: &str = "network-policy-conformance-hufflepuff/cedric-diggory-1";
pub const LUNA_0: &str = "network-policy-conformance-ravenclaw/luna-lovegood-0";
pub const LUNA_1: &str = "network-policy-conformance-ravenclaw/luna-lovegood-1";
/// A hostNetwork pod: its IP is its Node's.
pub const CENTAUR_1: &str = "network-policy-conformance-forbidden-forrest/centaur-1";

/// The suite's `HostNetworkPorts` with its default range (34345 and the next seven).
pub const HOST_NETWORK_PORTS: [u16; 8] = [34345, 34346, 34347, 34348, 34349, 34350, 34351, 34352];

/// One upstream `ConformanceTest`.
pub struct Test {
    /// Under `conformance/tests/`, the same at both tags.
    pub file: &'static str,
    /// Its `ShortName` at v0.1.8 and at v0.2.0.
    pub short_names: [&'static str; 2],
    /// The `PokeServer` calls in its code (the same at both tags).
    pub upstream_pokes: usize,
    pub subtests: &'static [Subtest],
}

/// One `t.Run`: the manifests as the subtest finds them (after its own patch), and its pokes.
pub struct Subtest {
    pub name: &'static str,
    /// Its name at v0.2.0, when v0.2.0 reworded it.
    pub renamed: Option<&'static str>,
    /// Applied over `base.yaml`: a file under the tag's folder, named with v0.1.8's
    /// folders (see [`Version::path`]).
    pub manifests: &'static str,
    pub pokes: &'static [Poke],
}

/// `PokeServer(client, server, protocol, port, shouldConnect)`: the client pod
/// connects to the server pod's IP.
pub struct Poke(pub &'static str, pub &'static str, pub Protocol, pub u16, pub bool);

pub const fn sub(name: &'static str, manifests: &'static str, pokes: &'static [Poke]) -> Subtest {
    Subtest { name, renamed: None, manifests, pokes }
}

impl Subtest {
    pub const fn renamed(self, name: &'static str) -> Subtest {
        Subtest { renamed: Some(name), ..self }
    }
}

#[derive(Clone, Copy)]
pub enum Version {
    /// AdminNetworkPolicy, BaselineAdminNetworkPolicy.
    V0_1_8,
    /// ClusterNetworkPolicy.
    V0_2_0,
}

impl Version {
    fn tag(self) -> &'static str {
        match self {
            Version::V0_1_8 => "v0.1.8",
            Version::V0_2_0 => "v0.2.0",
        }
    }

    /// The manifests of a subtest at this tag: v0.2.0 renamed the base folders.
    pub fn path(self, manifests: &str) -> String {
        let manifests = match self {
            Version::V0_1_8 => manifests.to_string(),
            Version::V0_2_0 => manifests.replacen("baseline_admin_network_policy/", "baseline_tier/", 1).replacen(
                "admin_network_policy/",
                "admin_tier/",
                1,
            ),
        };
        format!("{}/{manifests}", self.tag())
    }

    fn index(self) -> usize {
        self as usize
    }
}

fn cluster(manifests: &str) -> Result<Cluster, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/network-policy-api");
    let files: Vec<(String, String)> = ["base.yaml", manifests]
        .iter()
        .map(|f| (f.to_string(), std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))))
        .collect();
    let loaded = load(files.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default());
    if loaded.has_errors() {
        let all: Vec<String> = loaded.diagnostics.iter().map(|d| d.to_string()).collect();
        return Err(all.join("\n"));
    }
    Ok(loaded.cluster)
}

/// What is wrong with one poke: `None` when netpol agrees with upstream, through
/// the engine's explained verdict, its port sets, and the compiled matrix.
fn disagreement(engine: &Engine, compiled: &Compiled, ruleset: &Ruleset, poke: &Poke) -> Option<String> {
    let &Poke(from, to, protocol, port, should_connect) = poke;
    let flow = Flow::new(from.parse::<PodKey>().unwrap(), to.parse::<PodKey>().unwrap(), protocol, port);
    let decision = match engine.evaluate(&flow) {
        Ok(d) => d,
        Err(e) => return Some(format!("evaluate failed: {e}")),
    };
    let ports = engine.allowed_connections(&flow.src, &flow.dst).unwrap();
    let answer = |allowed: bool| if allowed { "connects" } else { "is dropped" };
    let mut problems = Vec::new();
    if decision.allowed() != ports.contains(protocol, port) {
        problems.push(format!(
            "the explained verdict ({}) disagrees with allowed_connections ({ports})",
            answer(decision.allowed())
        ));
    }
    if decision.allowed() != should_connect {
        problems.push(format!("upstream: {}; netpol: {}", answer(should_connect), answer(decision.allowed())));
    }
    let id = |p: &str| compiled.pod_id(&p.parse::<PodKey>().unwrap()).expect("the pod is compiled");
    let matrix = compiled.allowed(id(from), id(to), protocol, port);
    if matrix != should_connect {
        problems.push(format!("upstream: {}; the compiled matrix: {}", answer(should_connect), answer(matrix)));
    }
    // The kernel's view: a pod-to-pod connection crosses the forward hook once,
    // egress and ingress chains both. (Towards a hostNetwork pod the path is the
    // node's input hook: judged by the engine and the matrix only.)
    let (src, dst) = (&decision.src, &decision.dst);
    if let (Some(a), Some(b), netpol_engine::EndpointKind::Pod, netpol_engine::EndpointKind::Pod) =
        (src.address, dst.address, src.kind, dst.kind)
    {
        let e = ruleset.evaluate(Hook::Forward, &Packet { src: a, dst: b, protocol, port });
        if e.allowed != should_connect {
            problems.push(format!(
                "upstream: {}; nft: {} ({:?})",
                answer(should_connect),
                answer(e.allowed),
                e.because
            ));
        }
    }
    if problems.is_empty() {
        return None;
    }
    Some(format!("{}\n{}", problems.join("\n"), explain(&decision)))
}

/// Runs every poke of `test` on `version`'s manifests; fails with every disagreement.
pub fn check(version: Version, test: &Test) {
    let pokes: usize = test.subtests.iter().map(|s| s.pokes.len()).sum();
    assert_eq!(pokes, test.upstream_pokes, "{}: a poke is missing from the table", test.file);
    let short_name = test.short_names[version.index()];
    let mut failures = Vec::new();
    for sub in test.subtests {
        let name = match version {
            Version::V0_2_0 => sub.renamed.unwrap_or(sub.name),
            Version::V0_1_8 => sub.name,
        };
        let manifests = version.path(sub.manifests);
        let at = format!("{} ({short_name}), subtest {name:?}\nmanifests: base.yaml + {manifests}", test.file);
        let cluster = match cluster(&manifests) {
            Ok(c) => c,
            Err(diagnostics) => {
                failures.push(format!("{at}\nrefused by the loader:\n{diagnostics}"));
                continue;
            }
        };
        let engine = Engine::new(&cluster, Options::default());
        let compiled = Compiled::build(&cluster, netpol_matrix::Options::default());
        let ruleset = netpol_nft::render(&cluster, &netpol_nft::RenderOptions::default());
        for poke in sub.pokes {
            if let Some(why) = disagreement(&engine, &compiled, &ruleset, poke) {
                let Poke(from, to, protocol, port, _) = poke;
                failures.push(format!("{at}\nflow: {from} -> {to} {port}/{protocol}\n{why}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{short_name}: {} disagreement(s) with network-policy-api {}\n\n{}",
        failures.len(),
        version.tag(),
        failures.join("\n\n")
    );
}

#[test]
fn every_upstream_poke_is_in_a_table() {
    let pokes: usize = anp::ALL.iter().chain(banp::ALL).map(|t| t.upstream_pokes).sum();
    // The `PokeServer(` calls in conformance/tests/*.go, at either tag.
    assert_eq!(pokes, 289);
    // Its 24 `ConformanceTest`s (22 files: three declare two).
    assert_eq!(anp::ALL.len() + banp::ALL.len(), 24);
}

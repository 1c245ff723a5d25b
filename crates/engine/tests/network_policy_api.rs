//! The upstream network-policy-api conformance suite as table tests: every
//! `PokeServer(client, server, protocol, port, shouldConnect)` of its tests,
//! evaluated by the engine against the manifests the test had applied then.
//!
//! The tables and manifests are shared with the lab's replay
//! (crates/lab/tests/network_policy_api.rs, real connections): they live in
//! `netpol_testkit::network_policy_api` (upstream tags and commits, how v0.2.0
//! ported v0.1.8's tests, and where each manifest comes from are documented
//! there), with the manifests under `crates/testkit/data/network-policy-api/`.
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

use netpol_engine::{explain, Engine, Flow, Options};
use netpol_manifest::{load, LoadOptions};
use netpol_matrix::Compiled;
use netpol_model::{Cluster, PodKey};
use netpol_nft::{Hook, Packet, Ruleset};
use netpol_testkit::network_policy_api::{self as suite, sources, Poke, Test, Version};

netpol_testkit::network_policy_api_tests!(crate::check);

fn cluster(manifests: &str) -> Result<Cluster, String> {
    let files = sources(manifests);
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
    let short_name = test.short_name(version);
    let mut failures = Vec::new();
    for sub in test.subtests {
        let name = sub.name_at(version);
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
    let pokes: usize = suite::all().map(|t| t.upstream_pokes).sum();
    // The `PokeServer(` calls in conformance/tests/*.go, at either tag.
    assert_eq!(pokes, 289);
    assert_eq!(pokes, suite::UPSTREAM_POKES);
    // Its 24 `ConformanceTest`s (22 files: three declare two).
    assert_eq!(suite::anp::ALL.len() + suite::banp::ALL.len(), 24);
}

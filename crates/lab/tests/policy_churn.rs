//! Policies change in a loop (re-render + one atomic apply each time) while
//! threads inside x/a keep opening new connections to x/b, a pair that every
//! policy set denies: not one probe may get through. A second pair (x/c -> x/b)
//! flips between allowed and denied, and is checked after every apply, so the
//! applies demonstrably change what the kernel enforces.

mod labkit;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use netpol_engine::{Engine, Flow, Options};
use netpol_lab::{netns, probe, Outcome};
use netpol_model::{Cluster, Direction, PodKey, Protocol};
use netpol_testkit::*;

fn base() -> ClusterBuilder {
    let mut c = cluster().namespace(namespace("x").label("ns", "x"));
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        c = c.pod(
            pod("x", name).label("pod", name).ip(&format!("10.244.1.{}", 11 + i)).port("http", 80, Protocol::Tcp).port(
                "dns-ish",
                80,
                Protocol::Udp,
            ),
        );
    }
    c
}

/// Every set denies x/a -> x/b on 80 (TCP and UDP); x/c -> x/b alternates.
fn policy_sets() -> Vec<(&'static str, Cluster, bool)> {
    vec![
        (
            "b admits c only",
            base()
                .policy(policy("x", "b").select(sel!("pod" => "b")).ingress(rule().from(pods(sel!("pod" => "c")))))
                .build(),
            true,
        ),
        (
            "default deny all",
            base().policy(policy("x", "deny").types([Direction::Ingress, Direction::Egress])).build(),
            false,
        ),
        (
            "b admits the /24 except a",
            base()
                .policy(
                    policy("x", "b")
                        .select(sel!("pod" => "b"))
                        .ingress(rule().from(ip_block("10.244.1.0/24", &["10.244.1.11/32"]))),
                )
                .build(),
            true,
        ),
        (
            "a may only send to c",
            base()
                .policy(
                    policy("x", "a")
                        .select(sel!("pod" => "a"))
                        .types([Direction::Egress])
                        .egress(rule().to(pods(sel!("pod" => "c")))),
                )
                .policy(
                    policy("x", "b")
                        .select(sel!("pod" => "b"))
                        .ingress(rule().from(pods(sel!("pod" => "a"))).port(tcp(81))),
                )
                .build(),
            false,
        ),
    ]
}

#[test]
fn denied_pair_stays_denied_while_policies_change() {
    require_privileged!();
    let sets = policy_sets();
    let (a, b, c) = (PodKey::new("x", "a"), PodKey::new("x", "b"), PodKey::new("x", "c"));
    for (name, cluster, c_to_b) in &sets {
        let engine = Engine::new(cluster, Options::default());
        for protocol in [Protocol::Tcp, Protocol::Udp] {
            let denied = !engine.evaluate(&Flow::new(a.clone(), b.clone(), protocol, 80)).unwrap().allowed();
            assert!(denied, "{name}: the engine must deny x/a -> x/b 80/{protocol}");
        }
        let got = engine.evaluate(&Flow::new(c.clone(), b.clone(), Protocol::Tcp, 80)).unwrap().allowed();
        assert_eq!(got, *c_to_b, "{name}");
    }

    let mut lab = labkit::up("c", &sets[0].1);
    let topology = lab.topology().unwrap().clone();
    let a_ns = topology.pod(&a).unwrap().netns.clone();
    let c_ns = topology.pod(&c).unwrap().netns.clone();
    let b_addr = topology.pod(&b).unwrap().ips[0];

    let stop = AtomicBool::new(false);
    let probes = AtomicUsize::new(0);
    let leaks: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let applies = 40;
    std::thread::scope(|scope| {
        for worker in 0..6 {
            let (stop, probes, leaks, a_ns) = (&stop, &probes, &leaks, &a_ns);
            scope.spawn(move || {
                netns::enter(a_ns).unwrap();
                let protocol = if worker % 2 == 0 { Protocol::Tcp } else { Protocol::Udp };
                let deadline = Instant::now() + Duration::from_secs(120);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let outcome = probe::attempt((b_addr, 80).into(), protocol, Duration::from_millis(150));
                    probes.fetch_add(1, Ordering::Relaxed);
                    if outcome != Outcome::TimedOut {
                        leaks.lock().unwrap().push(format!("x/a -> x/b 80/{protocol}: {outcome}"));
                    }
                }
            });
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for i in 0..applies {
                let (name, cluster, c_to_b) = &sets[i % sets.len()];
                lab.apply(cluster).unwrap_or_else(|e| panic!("apply {i} ({name}): {e}"));
                let outcome = netns::run_in(&c_ns, || {
                    probe::attempt((b_addr, 80).into(), Protocol::Tcp, Duration::from_millis(500))
                })
                .unwrap();
                assert_eq!(outcome.reached(), *c_to_b, "apply {i} ({name}): x/c -> x/b observed {outcome}");
            }
        }));
        stop.store(true, Ordering::Relaxed);
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    });
    let probes = probes.into_inner();
    let leaks = leaks.into_inner().unwrap();
    eprintln!("{applies} applies, {probes} probes of the denied pair, {} got through", leaks.len());
    assert!(leaks.is_empty(), "the denied pair was reachable:\n{}", leaks.join("\n"));
    assert!(probes >= 100, "too few probes ({probes}) to mean anything");
    lab.down().unwrap();
}

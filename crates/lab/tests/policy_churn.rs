//! Policies change in a loop (re-render + one atomic apply each time) while
//! threads inside x/a keep opening new connections to x/b, a pair that every
//! policy set denies: not one probe may get through. A second pair (x/c -> x/b)
//! flips between allowed and denied, and is checked after every apply, so the
//! applies demonstrably change what the kernel enforces.

mod labkit;

use std::time::Duration;

use netpol_engine::{Engine, Flow, Options};
use netpol_lab::{netns, probe};
use netpol_model::Protocol;
use netpol_testkit::require_privileged;
use netpol_testkit::scenarios::{churn_denied, churn_flipping, churn_policy_sets};

#[test]
fn denied_pair_stays_denied_while_policies_change() {
    require_privileged!();
    let sets = churn_policy_sets();
    let ((a, b), (c, _)) = (churn_denied(), churn_flipping());
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

    let applies = 40;
    let (watched, ()) = probe::watch(&a_ns, (b_addr, 80).into(), 6, Duration::from_millis(150), || {
        for i in 0..applies {
            let (name, cluster, c_to_b) = &sets[i % sets.len()];
            lab.apply(cluster).unwrap_or_else(|e| panic!("apply {i} ({name}): {e}"));
            let outcome =
                netns::run_in(&c_ns, || probe::attempt((b_addr, 80).into(), Protocol::Tcp, Duration::from_millis(500)))
                    .unwrap();
            assert_eq!(outcome.reached(), *c_to_b, "apply {i} ({name}): x/c -> x/b observed {outcome}");
        }
    })
    .unwrap();
    let (probes, leaks) = (watched.attempts, watched.reached);
    eprintln!("{applies} applies, {probes} probes of the denied pair, {} got through", leaks.len());
    assert!(leaks.is_empty(), "the denied pair x/a -> x/b was reachable:\n{}", leaks.join("\n"));
    assert!(probes >= 100, "too few probes ({probes}) to mean anything");
    lab.down().unwrap();
}

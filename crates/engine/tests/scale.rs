//! A single flow in a large cluster (run with `--ignored`; prints timings).

use std::time::Instant;

use netpol_engine::{Engine, Flow, Options};
use netpol_model::{Direction, PodKey, Protocol};
use netpol_testkit::*;

#[test]
#[ignore = "timing figure: cargo test -p netpol-engine --release --test scale -- --ignored --nocapture"]
fn evaluate_in_100k_pods_10k_policies() {
    let t = Instant::now();
    let mut c = cluster();
    for n in 0..100 {
        let ns = format!("ns{n}");
        c = c.namespace(namespace(&ns).label("team", &format!("t{}", n % 10)));
        for p in 0..1000 {
            c = c.pod(
                pod(&ns, &format!("p{p}"))
                    .label("app", &format!("a{}", p % 50))
                    .ip(&format!("10.{}.{}.{}", n, p / 250, p % 250 + 1))
                    .port("http", 8080, Protocol::Tcp),
            );
        }
        for k in 0..100 {
            c = c.policy(
                policy(&ns, &format!("np{k}"))
                    .select(sel!("app" => &format!("a{}", k % 50)))
                    .types([Direction::Ingress, Direction::Egress])
                    .ingress(
                        rule()
                            .from(pods_in_namespaces(sel!("team" => &format!("t{}", k % 10)), sel!("app" => "a1")))
                            .port(named_port("http", Protocol::Tcp)),
                    )
                    .egress(rule().to(ip_block("10.0.0.0/8", &["10.99.0.0/16"])).port(port_range(
                        Protocol::Tcp,
                        8000,
                        9000,
                    ))),
            );
        }
    }
    let c = c.build();
    let built = t.elapsed();
    let t = Instant::now();
    let engine = Engine::new(&c, Options::default());
    let indexed = t.elapsed();
    let flow = Flow::new(PodKey::new("ns1", "p1"), PodKey::new("ns7", "p3"), Protocol::Tcp, 8080);
    let t = Instant::now();
    let n = 1000;
    let mut allowed = 0;
    for _ in 0..n {
        allowed += usize::from(engine.evaluate(&flow).unwrap().allowed());
    }
    let per_eval = t.elapsed() / n;
    let t = Instant::now();
    let ports = engine.allowed_connections(&flow.src, &flow.dst).unwrap();
    let per_set = t.elapsed();
    println!(
        "pods={} policies={}: build {built:?}, index {indexed:?}, evaluate {per_eval:?}/flow (allowed {allowed}/{n}), allowed_connections {per_set:?} ({ports})",
        c.pods.len(),
        c.policies.len()
    );
    assert!(allowed == n as usize || allowed == 0);
}

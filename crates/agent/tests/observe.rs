//! Observability without root: the sync loop counting into `Metrics` (a
//! folder source, the kernel replaced by `testing::FakeDataplane`), and the
//! HTTP endpoints served on 127.0.0.1 and read over a plain `TcpStream`.

use std::net::TcpStream;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use netpol_agent::testing::FakeDataplane;
use netpol_agent::{serve, Agent, Event, FolderSource, Metrics, Schedule, Step, Syncer, OPENMETRICS};
use netpol_manifest::LoadOptions;
use netpol_nft::RenderOptions;
use netpol_testkit::http;
use netpol_testkit::write_renamed as write;

const PODS: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {containers: [{name: c, image: nginx}]}
status: {podIP: 10.9.0.1}
";

const POLICY: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
";

const BROKEN: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec: {podSelector: {matchLabels: {app: web}}, policyTypess: [Ingress]}
";

/// The value of one sample (`name{labels}`) in the OpenMetrics text.
fn sample(text: &str, series: &str) -> f64 {
    http::sample(text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[test]
fn the_loop_counts_its_events_and_readiness_follows_the_last_step() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", BROKEN);
    let metrics = Arc::new(Metrics::new());
    let source = FolderSource::new(dir.path(), LoadOptions::default(), Duration::from_millis(2), false).unwrap();
    let source = source.with_metrics(Arc::clone(&metrics));
    let syncer = Syncer::with_dataplane(FakeDataplane::new(), RenderOptions::default(), false);
    let mut agent = Agent::new(source, syncer).with_metrics(Arc::clone(&metrics));
    assert_eq!(metrics.ready(), Err("waiting for the initial lists".into()), "the folder is not read yet");
    let step = |agent: &mut Agent<FolderSource, FakeDataplane>| {
        let mut events = Vec::new();
        agent.step(Step::Everything, Instant::now(), &mut |e: Event| events.push(e.to_string()));
        events
    };

    // A policy that never loaded: nothing applied, not ready.
    let events = step(&mut agent);
    assert!(events.last().unwrap().starts_with("not applying"), "{events:?}");
    let why = metrics.ready().unwrap_err();
    assert!(
        why.starts_with("never synced: ") && why.ends_with("policy.yaml has errors and no earlier good version"),
        "{why}"
    );
    let text = metrics.encode();
    assert_eq!(sample(&text, "netpol_waiting"), 1.0);
    assert_eq!(sample(&text, "netpol_input_diagnostics{severity=\"error\"}"), 1.0);
    assert_eq!(sample(&text, "netpol_syncs_total{result=\"changed\"}"), 0.0);
    // The folder source counts what it holds (the broken policy is left out).
    assert_eq!(sample(&text, "netpol_objects{kind=\"Pod\"}"), 1.0);
    assert_eq!(sample(&text, "netpol_objects{kind=\"NetworkPolicy\"}"), 0.0);

    // Fixed, but the kernel refuses the first apply: still not ready.
    write(dir.path(), "policy.yaml", POLICY);
    agent.syncer_mut().dataplane_mut().fail_next_whole();
    let events = step(&mut agent);
    assert!(events[0].starts_with("sync failed"), "{events:?}");
    assert!(metrics.ready().unwrap_err().starts_with("last sync failed: "));
    assert_eq!(sample(&metrics.encode(), "netpol_errors_total{stage=\"sync\"}"), 1.0);

    // The retry applies: ready, and the applied ruleset's sizes are the gauges.
    let events = step(&mut agent);
    assert!(events[0].starts_with("sync changed"), "{events:?}");
    assert_eq!(metrics.ready(), Ok(()));
    let stats = agent.syncer().applied().unwrap().stats();
    let text = metrics.encode();
    assert_eq!(sample(&text, "netpol_syncs_total{result=\"changed\"}"), 1.0);
    assert_eq!(sample(&text, "netpol_rules"), stats.rules as f64);
    assert_eq!(sample(&text, "netpol_set_elements"), stats.elements as f64);
    assert_eq!(sample(&text, "netpol_chains"), stats.chains as f64);
    assert_eq!(sample(&text, "netpol_applies_total{script=\"whole\"}"), 1.0);
    assert_eq!(sample(&text, "netpol_change_to_commit_seconds_count"), 1.0);
    assert_eq!(sample(&text, "netpol_input_diagnostics{severity=\"error\"}"), 0.0);
    assert_eq!(sample(&text, "netpol_waiting"), 0.0);
    assert_eq!(sample(&text, "netpol_ready"), 1.0);
    assert_eq!(sample(&text, "netpol_objects{kind=\"NetworkPolicy\"}"), 1.0);
}

#[test]
fn the_loop_beats_the_liveness_clock() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    let metrics = Arc::new(Metrics::new());
    let source = FolderSource::new(dir.path(), LoadOptions::default(), Duration::from_millis(2), false).unwrap();
    let syncer = Syncer::with_dataplane(FakeDataplane::new(), RenderOptions::default(), false);
    let mut agent = Agent::new(source, syncer).with_metrics(Arc::clone(&metrics));
    let schedule =
        Schedule { once: true, resync: None, retry: Duration::from_millis(20), retry_max: Duration::from_secs(1) };
    assert!(format!("{metrics:?}").contains("live: Ok(())"));
    let mut synced = 0;
    agent.run(&schedule, &AtomicBool::new(false), &mut |e: Event| {
        synced += usize::from(matches!(e, Event::Synced { .. }))
    });
    assert_eq!(synced, 1);
    assert_eq!(sample(&metrics.encode(), "netpol_syncs_total{result=\"changed\"}"), 1.0, "counted by the loop");
    assert_eq!(metrics.live(), Ok(()), "the loop beat just now");
}

#[test]
fn serves_metrics_health_and_readiness_until_dropped() {
    let metrics = Arc::new(Metrics::new());
    let server = serve("127.0.0.1:0".parse().unwrap(), Arc::clone(&metrics)).unwrap();
    let addr = server.local_addr();
    assert_ne!(addr.port(), 0);
    let get = |path: &str| http::get(addr, path).unwrap();

    let got = get("/metrics");
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.header("content-type"), Some(OPENMETRICS));
    assert!(got.body.contains("# TYPE netpol_syncs counter\n") && got.body.ends_with("# EOF\n"), "{}", got.body);
    assert_eq!(sample(&got.body, "netpol_syncs_total{result=\"changed\"}"), 0.0);

    let got = get("/healthz");
    assert_eq!((got.status, got.body.as_str()), (200, "ok\n"));

    let got = get("/readyz");
    assert_eq!((got.status, got.body.as_str()), (503, "waiting for the initial lists\n"));
    metrics.set_source_ready(true);
    assert_eq!(get("/readyz").body, "never synced\n");
    metrics.observe(&Event::Failed("nft: exit 1".into()));
    let got = get("/readyz");
    assert_eq!((got.status, got.body.as_str()), (503, "last sync failed: nft: exit 1\n"));

    // What the server shows is what the metrics hold now.
    let report = netpol_agent::SyncReport {
        changed: true,
        stats: netpol_nft::Stats { chains: 2, rules: 7, sets: 1, elements: 9 },
        applied_bytes: 10,
        whole: true,
        render: Duration::from_millis(1),
        apply: Duration::from_millis(1),
        reset: 0,
    };
    let since_change = Duration::from_millis(3);
    metrics.observe(&Event::Synced { report, since_change, stale: vec![], skipped: vec![], unmodeled: vec![] });
    let got = get("/readyz");
    assert_eq!((got.status, got.body.as_str()), (200, "ok\n"));
    let got = get("/metrics");
    assert_eq!(sample(&got.body, "netpol_rules"), 7.0);
    assert_eq!(sample(&got.body, "netpol_ready"), 1.0);

    let got = get("/nope");
    assert_eq!(got.status, 404);
    assert!(got.body.contains("/nope"), "{}", got.body);
    let got = http::request(addr, "POST", "/metrics").unwrap();
    assert_eq!((got.status, got.header("allow")), (405, Some("GET, HEAD")));

    // Dropped: the port stops accepting.
    drop(server);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_ok() {
        assert!(Instant::now() < deadline, "{addr} still accepts connections after the server was dropped");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_address_in_use_is_an_error() {
    let metrics = Arc::new(Metrics::new());
    let first = serve("127.0.0.1:0".parse().unwrap(), Arc::clone(&metrics)).unwrap();
    let err = serve(first.local_addr(), metrics).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse, "{err}");
}

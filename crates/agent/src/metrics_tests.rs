use std::collections::BTreeMap;
use std::time::Duration;

use netpol_manifest::{Diagnostic, Severity};
use netpol_nft::Stats;

use super::*;
use crate::SyncReport;

/// Every sample of the OpenMetrics text: `name{labels}` -> value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
            (series.to_string(), value.parse().unwrap_or_else(|_| panic!("not a number: {line}")))
        })
        .collect()
}

fn value(metrics: &Metrics, series: &str) -> f64 {
    let text = metrics.encode();
    *samples(&text).get(series).unwrap_or_else(|| panic!("no series {series} in\n{text}"))
}

struct Given {
    changed: bool,
    rules: usize,
    render_ms: u64,
    apply_ms: u64,
    applied_bytes: usize,
    reset: usize,
    since_change_ms: u64,
}

fn synced(s: Given) -> Event {
    let report = SyncReport {
        changed: s.changed,
        stats: Stats { chains: 3, rules: s.rules, sets: 4, elements: 2 * s.rules },
        applied_bytes: s.applied_bytes,
        whole: false,
        render: Duration::from_millis(s.render_ms),
        apply: Duration::from_millis(s.apply_ms),
        reset: s.reset,
    };
    Event::Synced {
        report,
        since_change: Duration::from_millis(s.since_change_ms),
        stale: vec!["old.yaml".into()],
        skipped: vec![],
        unmodeled: vec![],
    }
}

fn changed(rules: usize) -> Event {
    synced(Given { changed: true, rules, render_ms: 1, apply_ms: 2, applied_bytes: 100, reset: 2, since_change_ms: 5 })
}

fn unchanged(rules: usize) -> Event {
    synced(Given { changed: false, rules, render_ms: 20, apply_ms: 0, applied_bytes: 0, reset: 0, since_change_ms: 30 })
}

fn diagnostic(severity: Severity) -> Diagnostic {
    Diagnostic { code: "NP0001", severity, file: "a.yaml".into(), line: 1, column: 1, message: "m".into(), help: None }
}

#[test]
fn metrics_are_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<Metrics>();
}

#[test]
fn every_series_is_there_before_any_event() {
    let metrics = Metrics::new();
    let text = metrics.encode();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(text.contains("# TYPE netpol_sync_duration_seconds histogram\n"), "{text}");
    assert!(text.contains("# UNIT netpol_sync_duration_seconds seconds\n"), "{text}");
    assert!(text.contains("# TYPE netpol_syncs counter\n"), "{text}");
    let all = samples(&text);
    for (series, want) in [
        ("netpol_syncs_total{result=\"changed\"}", 0.0),
        ("netpol_syncs_total{result=\"unchanged\"}", 0.0),
        ("netpol_errors_total{stage=\"sync\"}", 0.0),
        ("netpol_diagnostics_total{severity=\"error\"}", 0.0),
        ("netpol_sync_duration_seconds_count", 0.0),
        ("netpol_sync_duration_seconds_bucket{le=\"0.0005\"}", 0.0),
        ("netpol_sync_duration_seconds_bucket{le=\"10.0\"}", 0.0),
        ("netpol_rules", 0.0),
        ("netpol_ready", 0.0),
    ] {
        assert_eq!(all.get(series), Some(&want), "{series} in\n{text}");
    }
}

#[test]
fn a_sequence_of_events_is_counted() {
    let metrics = Metrics::new();
    metrics.observe(&changed(10));
    let v = |series: &str| value(&metrics, series);
    assert_eq!(v("netpol_syncs_total{result=\"changed\"}"), 1.0);
    assert_eq!(v("netpol_syncs_total{result=\"unchanged\"}"), 0.0);
    assert_eq!(v("netpol_applies_total{script=\"difference\"}"), 1.0);
    assert_eq!(v("netpol_rules"), 10.0);
    assert_eq!(v("netpol_set_elements"), 20.0);
    assert_eq!(v("netpol_chains"), 3.0);
    assert_eq!(v("netpol_reset_connections_total"), 2.0);
    assert_eq!(v("netpol_inputs_with_errors{state=\"stale\"}"), 1.0);
    // render 1 ms + apply 2 ms = 3 ms: above the 2.5 ms bucket, inside the 5 ms one.
    assert_eq!(v("netpol_sync_duration_seconds_bucket{le=\"0.0025\"}"), 0.0);
    assert_eq!(v("netpol_sync_duration_seconds_bucket{le=\"0.005\"}"), 1.0);
    assert!((v("netpol_sync_duration_seconds_sum") - 0.003).abs() < 1e-9);
    assert_eq!(v("netpol_apply_duration_seconds_count"), 1.0);
    assert_eq!(v("netpol_change_to_commit_seconds_count"), 1.0);
    assert!((v("netpol_change_to_commit_seconds_sum") - 0.005).abs() < 1e-9);
    assert!(v("netpol_last_sync_timestamp_seconds") > 1.6e9, "a Unix time");

    // Nothing applied, nothing changed: neither the apply nor the change-to-commit histogram moves.
    metrics.observe(&unchanged(11));
    assert_eq!(v("netpol_syncs_total{result=\"unchanged\"}"), 1.0);
    assert_eq!(v("netpol_sync_duration_seconds_count"), 2.0);
    assert_eq!(v("netpol_apply_duration_seconds_count"), 1.0);
    assert_eq!(v("netpol_change_to_commit_seconds_count"), 1.0);
    assert_eq!(v("netpol_rules"), 11.0);
    assert_eq!(v("netpol_reset_connections_total"), 2.0);

    metrics.observe(&Event::Failed("nft: exit 1".into()));
    assert_eq!(v("netpol_errors_total{stage=\"sync\"}"), 1.0);
    assert_eq!(v("netpol_rules"), 11.0, "a failure keeps what the kernel holds");

    // A read with diagnostics: counted, and the input's current ones are a gauge...
    let three = [Severity::Error, Severity::Warning, Severity::Warning].map(diagnostic).to_vec();
    metrics.observe(&Event::Diagnostics(three));
    metrics.observe(&unchanged(11));
    assert_eq!(v("netpol_diagnostics_total{severity=\"error\"}"), 1.0);
    assert_eq!(v("netpol_diagnostics_total{severity=\"warning\"}"), 2.0);
    assert_eq!(v("netpol_input_diagnostics{severity=\"warning\"}"), 2.0);
    // ...that drops to zero when the next read has none; the counter stays.
    metrics.observe(&unchanged(11));
    assert_eq!(v("netpol_input_diagnostics{severity=\"warning\"}"), 0.0);
    assert_eq!(v("netpol_diagnostics_total{severity=\"warning\"}"), 2.0);

    metrics.observe(&Event::Waiting { skipped: vec!["a.yaml".into(), "b.yaml".into()], incomplete: vec![] });
    assert_eq!(v("netpol_waiting"), 1.0);
    assert_eq!(v("netpol_inputs_with_errors{state=\"skipped\"}"), 2.0);
    metrics.observe(&changed(12));
    assert_eq!(v("netpol_waiting"), 0.0);
    assert_eq!(v("netpol_inputs_with_errors{state=\"skipped\"}"), 0.0);
    assert_eq!(v("netpol_syncs_total{result=\"changed\"}"), 2.0);
}

#[test]
fn what_a_source_reports_is_counted_by_kind() {
    let metrics = Metrics::new();
    metrics.set_objects("Pod", 3);
    metrics.set_objects("Pod", 5);
    metrics.set_objects("NetworkPolicy", 2);
    metrics.watch_restart("Pod");
    metrics.watch_restart("Pod");
    metrics.object_skipped("NetworkPolicy");
    metrics.error("watch");
    let v = |series: &str| value(&metrics, series);
    assert_eq!(v("netpol_objects{kind=\"Pod\"}"), 5.0);
    assert_eq!(v("netpol_objects{kind=\"NetworkPolicy\"}"), 2.0);
    assert_eq!(v("netpol_watch_restarts_total{kind=\"Pod\"}"), 2.0);
    assert_eq!(v("netpol_objects_skipped_total{kind=\"NetworkPolicy\"}"), 1.0);
    assert_eq!(v("netpol_errors_total{stage=\"watch\"}"), 1.0);
    assert_eq!(v("netpol_errors_total{stage=\"sync\"}"), 0.0);
}

#[test]
fn readiness_needs_the_source_and_a_successful_last_sync() {
    let metrics = Metrics::new();
    let ready = || metrics.ready();
    let gauge = || value(&metrics, "netpol_ready");
    assert_eq!(ready(), Err("waiting for the initial lists".into()));
    metrics.observe(&changed(1));
    assert_eq!(ready(), Err("waiting for the initial lists".into()), "synced, but the source is not complete");
    assert_eq!(gauge(), 0.0);

    let metrics = Metrics::new();
    let ready = || metrics.ready();
    let gauge = || value(&metrics, "netpol_ready");
    metrics.set_source_ready(true);
    assert_eq!(ready(), Err("never synced".into()));
    metrics.observe(&Event::Waiting { skipped: vec!["a.yaml".into()], incomplete: vec![] });
    assert_eq!(ready(), Err("never synced: a.yaml has errors and no earlier good version".into()));
    metrics.observe(&changed(1));
    assert_eq!(ready(), Ok(()));
    assert_eq!(gauge(), 1.0);
    metrics.observe(&Event::Failed("nft: exit 1".into()));
    assert_eq!(ready(), Err("last sync failed: nft: exit 1".into()));
    assert_eq!(gauge(), 0.0);
    metrics.observe(&Event::Diagnostics(vec![diagnostic(Severity::Error)]));
    assert!(ready().is_err(), "diagnostics alone do not make it ready");
    metrics.observe(&unchanged(1));
    assert_eq!(ready(), Ok(()), "ready again after a successful sync");
    assert_eq!(gauge(), 1.0);
    metrics.set_source_ready(false);
    assert_eq!(ready(), Err("waiting for the initial lists".into()));
    assert_eq!(gauge(), 0.0);
}

#[test]
fn liveness_fails_once_the_loop_is_silent_longer_than_its_limit() {
    let metrics = Metrics::with_liveness_floor(Duration::from_millis(50));
    std::thread::sleep(Duration::from_millis(80));
    assert_eq!(metrics.live(), Ok(()), "no loop beating yet: live");
    metrics.heartbeat();
    assert_eq!(metrics.live(), Ok(()));
    // The first turn takes 300 ms: silent longer than the floor, the loop is not live...
    std::thread::sleep(Duration::from_millis(300));
    let dead = metrics.live().unwrap_err();
    assert!(dead.starts_with("the sync loop has not turned for 0."), "{dead}");
    // ...and once it beats again, its limit is three times that turn (900 ms), not the floor.
    metrics.heartbeat();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(metrics.live(), Ok(()));
    assert!(format!("{metrics:?}").contains("live: Ok(())"));
}

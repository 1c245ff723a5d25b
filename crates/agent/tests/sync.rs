//! The sync loop's state sequences without root: the folder (a temporary
//! directory, or manifests in memory) through the `Source` seam, the kernel
//! replaced by `testing::FakeDataplane`, which records every call and holds
//! what the last committed transaction left. After every step what the syncer
//! believes it applied must be what the fake table holds.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use netpol_agent::testing::{Call, FakeDataplane};
use netpol_agent::{Agent, Event, Folder, FolderSource, Schedule, Snapshot, Source, Step, Syncer, Wait};
use netpol_manifest::LoadOptions;
use netpol_model::Cluster;
use netpol_nft::RenderOptions;
use netpol_testkit::write_renamed as write;
use proptest::prelude::*;

const PODS: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {containers: [{name: c, image: nginx}]}
status: {podIP: 10.9.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec: {containers: [{name: c, image: busybox}]}
status: {podIP: 10.9.0.2}
";

const OTHER_POD: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: default, labels: {app: client}}
spec: {containers: [{name: c, image: busybox}]}
status: {podIP: 10.9.0.3}
";

const DENY_CLIENT_EGRESS: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress]}
";

const BROKEN: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: client}}}]
    ports: [{port: 81, protocoll: TCP}]
";

fn allow(port: u16) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: web, namespace: default}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  ingress:
  - from: [{{podSelector: {{matchLabels: {{app: client}}}}}}]
    ports: [{{port: {port}}}]
"
    )
}

fn cluster(docs: &[&str]) -> Cluster {
    let loaded = netpol_manifest::load([("c.yaml", docs.join("---\n").as_str())], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.cluster
}

fn fake_syncer(reset_denied: bool) -> Syncer<FakeDataplane> {
    Syncer::with_dataplane(FakeDataplane::new(), RenderOptions::default(), reset_denied)
}

/// What the syncer believes it applied is what the fake table holds.
fn assert_consistent(syncer: &Syncer<FakeDataplane>) {
    match (syncer.applied(), syncer.dataplane().table()) {
        (Some(applied), Some(table)) => assert!(applied.same_rules(table), "the syncer and the table disagree"),
        (None, None) => {}
        (applied, table) => panic!("applied {:?} but the table holds {:?}", applied.is_some(), table.is_some()),
    }
}

/// The rules a fresh syncer would apply for `cluster`.
fn fresh(cluster: &Cluster) -> netpol_nft::Ruleset {
    let mut syncer = fake_syncer(false);
    syncer.sync(cluster, 0).unwrap();
    syncer.applied().unwrap().clone()
}

const WHOLE: Call = Call::Apply { whole: true, committed: true };
const DIFFERENCE: Call = Call::Apply { whole: false, committed: true };

#[test]
fn a_refused_difference_replaces_the_whole_table() {
    let mut syncer = fake_syncer(false);
    let first = syncer.sync(&cluster(&[PODS, &allow(80)]), 1).unwrap();
    assert!(first.changed && first.whole && first.applied_bytes > 0, "{first}");
    assert_eq!(syncer.dataplane_mut().take_calls(), [WHOLE]);

    syncer.dataplane_mut().refuse_next_difference();
    let next = cluster(&[PODS, &allow(443)]);
    let report = syncer.sync(&next, 1).unwrap();
    assert!(report.changed && report.whole && report.applied_bytes > 0, "{report}");
    let refused = Call::Apply { whole: false, committed: false };
    assert_eq!(syncer.dataplane_mut().take_calls(), [refused, WHOLE]);
    assert_consistent(&syncer);
    assert!(syncer.applied().unwrap().same_rules(&fresh(&next)));

    // The next change goes back to a difference, from the replaced table.
    let report = syncer.sync(&cluster(&[PODS, &allow(8080)]), 1).unwrap();
    assert!(report.changed && !report.whole, "{report}");
    assert_eq!(syncer.dataplane().calls(), [DIFFERENCE]);
    assert_consistent(&syncer);
}

#[test]
fn a_failed_reset_is_retried_by_the_next_sync_until_it_succeeds() {
    let mut syncer = fake_syncer(true);
    syncer.dataplane_mut().deny(2);
    let report = syncer.sync(&cluster(&[PODS, &allow(80)]), 1).unwrap();
    assert_eq!(report.reset, 2, "{report}");
    let reset = Call::Reset { done: true, current: true };
    assert_eq!(syncer.dataplane_mut().take_calls(), [WHOLE, reset.clone()]);

    let next = cluster(&[PODS, &allow(443)]);
    syncer.dataplane_mut().fail_next_reset();
    syncer.dataplane_mut().fail_next_reset();
    assert!(syncer.sync(&next, 1).is_err());
    let failed = Call::Reset { done: false, current: true };
    assert_eq!(syncer.dataplane_mut().take_calls(), [DIFFERENCE, failed.clone()]);
    assert_consistent(&syncer);
    assert!(syncer.applied().unwrap().same_rules(&fresh(&next)), "the new rules are in place");

    // No rule change, still the reset is owed: tried again, fails again, then succeeds.
    assert!(syncer.sync(&next, 1).is_err());
    assert_eq!(syncer.dataplane_mut().take_calls(), [failed]);
    let report = syncer.sync(&next, 1).unwrap();
    assert!(!report.changed && report.applied_bytes == 0 && report.reset == 2, "{report}");
    assert_eq!(syncer.dataplane_mut().take_calls(), [reset]);

    // Paid: an unchanged sync resets nothing.
    let report = syncer.sync(&next, 1).unwrap();
    assert_eq!(report.reset, 0, "{report}");
    assert_eq!(syncer.dataplane().calls(), []);
}

#[test]
fn a_failed_whole_apply_leaves_applied_unchanged_and_the_next_sync_retries() {
    let mut syncer = fake_syncer(true);
    let first = cluster(&[PODS, &allow(80)]);
    syncer.dataplane_mut().fail_next_whole();
    assert!(syncer.sync(&first, 1).is_err());
    assert!(syncer.applied().is_none());
    assert_eq!(syncer.dataplane_mut().take_calls(), [Call::Apply { whole: true, committed: false }]);
    assert_consistent(&syncer);

    syncer.sync(&first, 1).unwrap();
    let reset = Call::Reset { done: true, current: true };
    assert_eq!(syncer.dataplane_mut().take_calls(), [WHOLE, reset.clone()]);

    // A refused difference whose whole replace fails too: the old rules stay, no reset.
    let next = cluster(&[PODS, &allow(443)]);
    syncer.dataplane_mut().refuse_next_difference();
    syncer.dataplane_mut().fail_next_whole();
    assert!(syncer.sync(&next, 1).is_err());
    let failed = |whole| Call::Apply { whole, committed: false };
    assert_eq!(syncer.dataplane_mut().take_calls(), [failed(false), failed(true)]);
    assert!(syncer.applied().unwrap().same_rules(&fresh(&first)));
    assert_consistent(&syncer);

    // The retry sends the difference from what is really there.
    let report = syncer.sync(&next, 1).unwrap();
    assert!(report.changed && !report.whole, "{report}");
    assert_eq!(syncer.dataplane_mut().take_calls(), [DIFFERENCE, reset]);
    assert!(syncer.applied().unwrap().same_rules(&fresh(&next)));
    assert_consistent(&syncer);
}

#[test]
fn a_resync_replaces_the_whole_table_and_unchanged_input_applies_nothing() {
    let mut syncer = fake_syncer(true);
    let both = cluster(&[PODS, &allow(80)]);
    syncer.sync(&both, 1).unwrap();
    syncer.dataplane_mut().take_calls();

    let report = syncer.sync(&both, 1).unwrap();
    assert!(!report.changed && report.applied_bytes == 0 && !report.whole, "{report}");
    assert_eq!(syncer.dataplane_mut().take_calls(), [], "nothing applied, nothing reset");

    let report = syncer.resync(&both, 1).unwrap();
    assert!(!report.changed && report.whole && report.applied_bytes > 0, "{report}");
    assert_eq!(syncer.dataplane_mut().take_calls(), [WHOLE], "no reset: the rules did not change");
    assert_consistent(&syncer);
}

fn folder_agent(dir: &Path, watch: bool) -> Agent<FolderSource, FakeDataplane> {
    let source = FolderSource::new(dir, LoadOptions::default(), Duration::from_millis(2), watch).unwrap();
    Agent::new(source, fake_syncer(false))
}

/// One step; its events as lines.
fn step<S: Source>(agent: &mut Agent<S, FakeDataplane>, how: Step) -> (bool, Vec<String>) {
    let mut events = Vec::new();
    let ok = agent.step(how, Instant::now(), &mut |e: Event| events.push(e.to_string()));
    assert_consistent(agent.syncer());
    (ok, events)
}

#[test]
fn a_bad_file_keeps_the_last_good_state() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", allow(80));
    let mut agent = folder_agent(dir.path(), false);
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok && events[0].starts_with("sync changed"), "{events:?}");
    let before = agent.syncer().applied().unwrap().clone();
    agent.syncer_mut().dataplane_mut().take_calls();

    write(dir.path(), "policy.yaml", BROKEN);
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok, "{events:?}");
    assert!(events[0].contains("policy.yaml") && events[0].contains("error"), "diagnostics first: {events:?}");
    assert!(events[1].starts_with("sync unchanged") && events[1].contains("kept the last good version of"));
    assert_eq!(agent.syncer().dataplane().calls(), [], "nothing applied");
    assert!(agent.syncer().applied().unwrap().same_rules(&before));
    assert!(agent.syncer().applied().unwrap().same_rules(&fresh(&cluster(&[PODS, &allow(80)]))));
}

#[test]
fn at_start_a_file_left_out_applies_nothing_until_it_loads() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", BROKEN);
    let mut agent = folder_agent(dir.path(), false);
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok && events[1].starts_with("not applying: "), "{events:?}");
    assert!(agent.syncer().applied().is_none() && agent.syncer().dataplane().calls().is_empty());

    write(dir.path(), "policy.yaml", allow(80));
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok && events[0].starts_with("sync changed"), "{events:?}");
    assert_eq!(agent.syncer().dataplane().calls(), [WHOLE]);
}

#[test]
fn the_folder_vanishing_is_an_error_and_the_rules_stay() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "pods.yaml", PODS);
    write(&dir, "policy.yaml", allow(80));
    let mut agent = folder_agent(&dir, false);
    assert!(step(&mut agent, Step::Everything).0);
    let before = agent.syncer().applied().unwrap().clone();
    agent.syncer_mut().dataplane_mut().take_calls();

    let moved = parent.path().join("moved");
    std::fs::rename(&dir, &moved).unwrap();
    for how in [Step::Changes, Step::Everything, Step::Resync] {
        let (ok, events) = step(&mut agent, how);
        assert!(!ok, "a gone folder is retried ({how:?})");
        assert!(events.len() == 1 && events[0].starts_with("sync failed") && events[0].contains("gone"), "{events:?}");
    }
    assert_eq!(agent.syncer().dataplane().calls(), [], "nothing applied: not an empty cluster");
    assert!(agent.syncer().applied().unwrap().same_rules(&before));

    std::fs::rename(&moved, &dir).unwrap();
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok && events[0].starts_with("sync unchanged"), "{events:?}");
    assert_eq!(agent.syncer().dataplane().calls(), []);
}

/// The loop itself, with a real watcher: a failed first apply is retried,
/// then a change the watcher reports is applied as a difference.
#[test]
fn run_retries_a_failed_apply_and_applies_what_the_watcher_reports() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", allow(80));
    let mut agent = folder_agent(dir.path(), true);
    agent.syncer_mut().dataplane_mut().fail_next_whole();
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<String>();
    let runner = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let schedule = Schedule {
                once: false,
                resync: None,
                retry: Duration::from_millis(20),
                retry_max: Duration::from_millis(20),
            };
            agent.run(&schedule, &stop, &mut |e: Event| {
                let _ = tx.send(e.to_string());
            });
            agent
        })
    };
    // The next report that is not "unchanged" (a watcher may report the
    // temporary file of a write on its own: reading it changes nothing).
    let next = |what: &str| loop {
        let line = rx.recv_timeout(Duration::from_secs(10)).expect("an event within 10 s");
        if !line.starts_with("sync unchanged") {
            assert!(line.starts_with(what), "expected {what:?}: {line}");
            return;
        }
    };
    next("sync failed");
    next("sync changed");
    write(dir.path(), "policy.yaml", allow(443));
    next("sync changed");
    stop.store(true, Ordering::SeqCst);
    let agent = runner.join().unwrap();
    let failed = Call::Apply { whole: true, committed: false };
    assert_eq!(agent.syncer().dataplane().calls(), [failed, WHOLE, DIFFERENCE]);
    assert_consistent(agent.syncer());
    assert!(agent.syncer().applied().unwrap().same_rules(&fresh(&cluster(&[PODS, &allow(443)]))));
}

/// Manifests in memory, as a source: `files` is the folder's content now;
/// `gone` makes every read fail, as a vanished folder does.
struct Memory {
    folder: Folder,
    files: BTreeMap<String, String>,
    gone: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("the manifests are gone")]
struct Gone;

impl Source for Memory {
    type Error = Gone;

    fn wait(&mut self, _: Duration) -> Wait {
        Wait::Closed
    }

    fn read(&mut self, _everything: bool) -> Result<Snapshot<'_>, Gone> {
        if self.gone {
            return Err(Gone);
        }
        let read =
            |text: &String| if text == UNREADABLE { Err("not UTF-8 text".to_string()) } else { Ok(text.clone()) };
        Ok(self.folder.load_read(self.files.iter().map(|(n, t)| (n.clone(), read(t))).collect()))
    }
}

const FILES: [&str; 3] = ["a.yaml", "b/c.yaml", "pods.yaml"];

/// Stands for a file that cannot be read (issue 14: a file with errors).
const UNREADABLE: &str = "\u{0}unreadable";

fn document(i: usize) -> String {
    match i {
        0 => PODS.to_string(),
        1 => allow(80),
        2 => allow(443),
        3 => DENY_CLIENT_EGRESS.to_string(),
        4 => OTHER_POD.to_string(),
        5 => BROKEN.to_string(),
        _ => UNREADABLE.to_string(),
    }
}

/// What happens between syncs.
#[derive(Clone, Debug)]
enum Op {
    Write(usize, usize),
    Delete(usize),
    Sync(Step),
    RefuseDifference,
    FailWhole,
    FailReset,
    Vanish,
    Return,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..FILES.len(), 0..7usize).prop_map(|(f, d)| Op::Write(f, d)),
        1 => (0..FILES.len()).prop_map(Op::Delete),
        4 => prop_oneof![Just(Step::Changes), Just(Step::Everything), Just(Step::Resync)].prop_map(Op::Sync),
        1 => Just(Op::RefuseDifference),
        1 => Just(Op::FailWhole),
        1 => Just(Op::FailReset),
        1 => Just(Op::Vanish),
        1 => Just(Op::Return),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Calico's calc-graph test for the agent: whatever came before (edits,
    /// broken or unreadable files, refused or failed applies and resets, the folder gone and
    /// back, syncs of every kind in any order and number), once the input
    /// settles on a final state (written file by file in any order, with syncs
    /// between) the loop ends with exactly what a fresh sync of that state
    /// applies, and the table holds it.
    #[test]
    fn any_history_ends_where_a_fresh_sync_of_the_final_state_does(
        history in prop::collection::vec(op(), 0..24),
        finals in prop::collection::vec(prop::option::of(0..5usize), FILES.len()),
        order in Just((0..FILES.len()).collect::<Vec<_>>()).prop_shuffle(),
        sync_between in any::<bool>(),
        reset_denied in any::<bool>(),
    ) {
        let source = Memory { folder: Folder::new("unused", LoadOptions::default()), files: BTreeMap::new(), gone: false };
        let mut agent = Agent::new(source, fake_syncer(reset_denied));
        let mut ops = history;
        for &f in &order {
            ops.push(match finals[f] {
                Some(d) => Op::Write(f, d),
                None => Op::Delete(f),
            });
            if sync_between {
                ops.push(Op::Sync(Step::Changes));
            }
        }
        ops.push(Op::Return);
        for op in ops {
            match op {
                Op::Write(f, d) => {
                    agent.source_mut().files.insert(FILES[f].to_string(), document(d));
                }
                Op::Delete(f) => {
                    agent.source_mut().files.remove(FILES[f]);
                }
                Op::Vanish => agent.source_mut().gone = true,
                Op::Return => agent.source_mut().gone = false,
                Op::RefuseDifference => agent.syncer_mut().dataplane_mut().refuse_next_difference(),
                Op::FailWhole => agent.syncer_mut().dataplane_mut().fail_next_whole(),
                Op::FailReset => agent.syncer_mut().dataplane_mut().fail_next_reset(),
                Op::Sync(how) => { step(&mut agent, how); }
            }
        }
        // Retry as the loop does until a step succeeds (each failure uses up one order).
        let mut tries = 0;
        while !step(&mut agent, Step::Everything).0 {
            tries += 1;
            prop_assert!(tries < 30, "never succeeded");
        }
        // One load of the final files in path order (FILES is sorted so).
        let docs: Vec<String> = finals.iter().filter_map(|d| d.map(document)).collect();
        let expected = fresh(&cluster(&docs.iter().map(String::as_str).collect::<Vec<_>>()));
        prop_assert!(agent.syncer().applied().is_some_and(|a| a.same_rules(&expected)));
        let table = agent.syncer().dataplane().table();
        prop_assert!(table.is_some_and(|t| t.same_rules(&expected)));
        // Settled: one more step applies and resets nothing.
        agent.syncer_mut().dataplane_mut().take_calls();
        prop_assert!(step(&mut agent, Step::Changes).0);
        prop_assert_eq!(agent.syncer().dataplane().calls(), &[] as &[Call]);
    }
}

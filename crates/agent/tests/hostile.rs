//! Issue 14, the agent parts: hostile input and faults, as state sequences
//! through the sync seam (a temporary folder or an in-memory source, the
//! kernel replaced by `testing::FakeDataplane`; no root needed). Each test is
//! named after the item of the issue it pins down.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use netpol_agent::testing::{Call, FakeDataplane};
use netpol_agent::{Agent, Event, Folder, FolderSource, Schedule, Snapshot, Source, Step, Syncer, Wait};
use netpol_manifest::LoadOptions;
use netpol_model::Cluster;
use netpol_nft::{RenderOptions, Ruleset};
use netpol_testkit::write_renamed as write;

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

const DENY_CLIENT_EGRESS: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress]}
";

fn allow(port: u16) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: web-{port}, namespace: default}}
spec:
  podSelector: {{matchLabels: {{app: web}}}}
  ingress:
  - from: [{{podSelector: {{matchLabels: {{app: client}}}}}}]
    ports: [{{port: {port}}}]
"
    )
}

/// A valid custom resource nested deeper than the YAML parser goes.
fn deep_widget() -> String {
    let depth = 1_500; // beyond the loader's 1000-level limit: the file carries an error
    format!(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w, namespace: default}}\nspec:\n  a: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

fn cluster(docs: &[&str]) -> Cluster {
    let loaded = netpol_manifest::load([("c.yaml", docs.join("---\n").as_str())], &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.cluster
}

fn fake_syncer() -> Syncer<FakeDataplane> {
    Syncer::with_dataplane(FakeDataplane::new(), RenderOptions::default(), false)
}

/// The rules a fresh syncer would apply for `docs`.
fn fresh(docs: &[&str]) -> Ruleset {
    let mut syncer = fake_syncer();
    syncer.sync(&cluster(docs), 0).unwrap();
    syncer.applied().unwrap().clone()
}

fn folder_agent(dir: &Path, watch: bool) -> Agent<FolderSource, FakeDataplane> {
    let source = FolderSource::new(dir, LoadOptions::default(), Duration::from_millis(2), watch).unwrap();
    Agent::new(source, fake_syncer())
}

fn step<S: Source>(agent: &mut Agent<S, FakeDataplane>, how: Step) -> (bool, Vec<String>) {
    let mut events = Vec::new();
    let ok = agent.step(how, Instant::now(), &mut |e: Event| events.push(e.to_string()));
    (ok, events)
}

fn table_is(agent: &Agent<impl Source, FakeDataplane>, want: &Ruleset) -> bool {
    agent.syncer().dataplane().table().is_some_and(|t| t.same_rules(want))
}

const WHOLE: Call = Call::Apply { whole: true, committed: true };

/// Runs `agent` on a thread until `done` says so of a report line (or 20 s
/// pass: then it panics), and gives it back with every line it reported.
fn run_until<S: Source + Send + 'static>(
    mut agent: Agent<S, FakeDataplane>,
    schedule: Schedule,
    during: impl FnOnce(),
    done: impl Fn(&str) -> bool,
) -> (Agent<S, FakeDataplane>, Vec<String>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<String>();
    let runner = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            agent.run(&schedule, &stop, &mut |e: Event| {
                let _ = tx.send(e.to_string());
            });
            agent
        })
    };
    during();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            stop.store(true, Ordering::SeqCst);
            panic!("not done within 20 s; reported: {lines:#?}");
        };
        let finished = done(&line);
        lines.push(line);
        if finished {
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    (runner.join().unwrap(), lines)
}

fn schedule(resync: Option<Duration>) -> Schedule {
    Schedule { once: false, resync, retry: Duration::from_millis(10), retry_max: Duration::from_millis(80) }
}

#[test]
fn issue14_unreadable_file_keeps_last_good_and_resync_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", allow(80));
    let mut agent = folder_agent(dir.path(), true);
    assert!(step(&mut agent, Step::Everything).0);
    let good = fresh(&[PODS, &allow(80)]);
    agent.syncer_mut().dataplane_mut().take_calls();

    // An edit that is not UTF-8, and a new file that never was.
    write(dir.path(), "policy.yaml", b"kind: NetworkPolicy\n\xff\xfe\n");
    write(dir.path(), "new.yaml", b"\xc3\x28");
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok, "an unreadable file is no failed read: {events:?}");
    assert!(events[0].contains("policy.yaml:1:1: error[NP0001]: cannot read the file: not UTF-8"), "{events:?}");
    assert!(events[1].starts_with("sync unchanged"), "{events:?}");
    assert!(events[1].contains("kept the last good version of") && events[1].contains("policy.yaml"));
    assert!(events[1].contains("left out") && events[1].contains("new.yaml"), "{events:?}");
    assert_eq!(agent.syncer().dataplane().calls(), [], "nothing changed, nothing applied");
    assert!(table_is(&agent, &good));

    // Someone flushes the table; the resync, on its own clock, puts it back,
    // and no sync fails on the way.
    agent.syncer_mut().dataplane_mut().flush();
    assert!(!table_is(&agent, &good));
    let resync = schedule(Some(Duration::from_millis(200)));
    let (agent, lines) =
        run_until(agent, resync, || {}, |line| line.starts_with("sync") && line.contains("whole table"));
    assert!(lines.iter().all(|l| !l.starts_with("sync failed")), "{lines:#?}");
    assert!(table_is(&agent, &good), "the resync replaced the flushed table with the last good rules");
    assert!(agent.syncer().dataplane().calls().contains(&WHOLE));
}

/// An in-memory source: every wait reports a change (a storm of events, as
/// the issue saw 20 a second), and the first `fail` reads fail; it records
/// when each read happened.
struct Storm {
    folder: Folder,
    files: Vec<(String, String)>,
    fail: usize,
    reads: Vec<Instant>,
}

#[derive(Debug, thiserror::Error)]
#[error("the read failed (as told to)")]
struct ReadFailed;

impl Source for Storm {
    type Error = ReadFailed;

    fn wait(&mut self, _: Duration) -> Wait {
        std::thread::sleep(Duration::from_millis(2));
        Wait::Changed(Instant::now())
    }

    fn read(&mut self, _everything: bool) -> Result<Snapshot<'_>, ReadFailed> {
        self.reads.push(Instant::now());
        if self.fail > 0 {
            self.fail -= 1;
            return Err(ReadFailed);
        }
        Ok(self.folder.load(self.files.clone()))
    }
}

#[test]
fn issue14_retries_back_off_and_the_resync_runs_through_failures_and_storms() {
    let files = vec![("pods.yaml".to_string(), PODS.to_string()), ("policy.yaml".to_string(), allow(80))];
    let source = Storm { folder: Folder::new("unused", LoadOptions::default()), files, fail: 0, reads: Vec::new() };
    let mut agent = Agent::new(source, fake_syncer());
    assert!(step(&mut agent, Step::Everything).0);
    agent.syncer_mut().dataplane_mut().flush();
    agent.source_mut().fail = 8;
    agent.source_mut().reads.clear();

    // Failures until about 470 ms (10 + 20 + 40 + 80 + ...); the resync falls due among them.
    let plan = schedule(Some(Duration::from_millis(400)));
    let (agent, lines) = run_until(agent, plan, || {}, |line| line.starts_with("sync") && line.contains("whole table"));
    let failed = lines.iter().filter(|l| l.starts_with("sync failed")).count();
    assert_eq!(failed, 8, "{lines:#?}");
    // Each retry before the resync fell due waited at least its backoff: 10 ms doubling to 80 ms.
    let reads = &agent.source().reads;
    for (n, pair) in reads.windows(2).take(6).enumerate() {
        let waited = pair[1] - pair[0];
        let backoff = plan.backoff(n as u32 + 1);
        assert!(waited >= backoff, "retry {} after {waited:?}, before its backoff {backoff:?}", n + 1);
    }
    assert_eq!(plan.backoff(1), Duration::from_millis(10));
    assert_eq!(plan.backoff(4), Duration::from_millis(80));
    assert_eq!(plan.backoff(40), Duration::from_millis(80));
    // The storm of changes never starved the resync: the flushed table is back.
    assert!(table_is(&agent, &fresh(&[PODS, &allow(80)])));
}

#[test]
fn issue14_recreated_folder_is_watched_again() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "pods.yaml", PODS);
    write(&dir, "default-deny.yaml", DENY_CLIENT_EGRESS);
    let agent = folder_agent(&dir, true);
    let want = fresh(&[PODS, &allow(80)]);
    let recreate = || {
        std::thread::sleep(Duration::from_millis(200)); // the first sync ran
        std::fs::remove_dir_all(&dir).unwrap();
        std::thread::sleep(Duration::from_millis(100)); // seen gone
        std::fs::create_dir(&dir).unwrap();
        write(&dir, "pods.yaml", PODS);
        write(&dir, "policy.yaml", allow(80));
    };
    // No resync: only the watch (or the retries while the folder is gone) can see it.
    let (agent, lines) = run_until(agent, schedule(None), recreate, |line| line.contains("changed"));
    assert!(lines.iter().any(|l| l.starts_with("sync changed")), "{lines:#?}");
    let mut agent = agent;
    let mut tries = 0;
    while !table_is(&agent, &want) {
        // The recreated folder may have been read between its two writes.
        tries += 1;
        assert!(tries < 5, "the recreated folder's rules are not applied");
        step(&mut agent, Step::Changes);
    }
    // The new folder is watched: a later edit is applied without a resync.
    let edit = || {
        std::thread::sleep(Duration::from_millis(300)); // after the run's first read
        write(&dir, "deny.yaml", DENY_CLIENT_EGRESS);
    };
    let want = fresh(&[DENY_CLIENT_EGRESS, PODS, &allow(80)]);
    let (agent, lines) = run_until(agent, schedule(None), edit, |line| line.starts_with("sync changed"));
    assert!(lines[0].starts_with("sync unchanged"), "the run's first read saw no edit yet: {lines:#?}");
    assert!(table_is(&agent, &want), "{lines:#?}");
}

#[test]
fn issue14_self_links_are_walked_once_and_syncs_go_on() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", allow(80));
    std::os::unix::fs::symlink(".", dir.path().join("self-a")).unwrap();
    std::os::unix::fs::symlink(".", dir.path().join("self-b")).unwrap();
    let mut agent = folder_agent(dir.path(), true);
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok && events[0].starts_with("sync changed"), "{events:?}");
    assert!(table_is(&agent, &fresh(&[PODS, &allow(80)])));

    let edit = || {
        std::thread::sleep(Duration::from_millis(300)); // after the run's first read
        write(dir.path(), "policy.yaml", allow(443));
    };
    let (mut agent, _) = run_until(agent, schedule(None), edit, |line| line.starts_with("sync changed"));
    assert!(table_is(&agent, &fresh(&[PODS, &allow(443)])));
    let (ok, events) = step(&mut agent, Step::Resync);
    assert!(ok && events[0].contains("whole table"), "{events:?}");
}

#[test]
fn issue14_burst_of_files_is_coalesced_and_a_deny_in_it_is_enforced() {
    const FILES: u16 = 1_000;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    let agent = folder_agent(dir.path(), true);
    let burst = || {
        std::thread::sleep(Duration::from_millis(100));
        for port in 1..=FILES {
            write(dir.path(), &format!("p{port:05}.yaml"), allow(port));
            if port == FILES / 2 {
                write(dir.path(), "deny.yaml", DENY_CLIENT_EGRESS);
            }
        }
    };
    let policies: Vec<String> = (1..=FILES).map(allow).collect();
    let mut docs: Vec<&str> = vec![DENY_CLIENT_EGRESS];
    docs.extend(policies.iter().map(String::as_str));
    docs.push(PODS);
    let want = fresh(&docs);
    let stats = want.stats();
    let all = format!(": {} rules, {} elements, {} chains;", stats.rules, stats.elements, stats.chains);
    let done = |line: &str| line.starts_with("sync changed") && line.contains(&all);
    let (agent, lines) = run_until(agent, schedule(None), burst, done);
    let syncs = lines.iter().filter(|l| l.starts_with("sync changed")).count();
    assert!(syncs < 100, "{FILES} files took {syncs} syncs: events were not coalesced");
    assert!(table_is(&agent, &want), "every file and the deny are applied");
}

#[test]
fn issue14_unmodeled_kind_with_errors_does_not_block_the_first_apply() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", allow(80));
    write(dir.path(), "widget.yaml", deep_widget());
    let mut agent = folder_agent(dir.path(), false);
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok, "{events:?}");
    assert!(events[0].contains("widget.yaml") && events[0].contains("error[NP0001]"), "{events:?}");
    assert!(events[1].starts_with("sync changed"), "applied at once: {events:?}");
    assert!(events[1].contains("widget.yaml (never loaded cleanly; only kinds netpol does not model)"));
    assert_eq!(agent.syncer().dataplane().calls(), [WHOLE]);
    assert!(table_is(&agent, &fresh(&[PODS, &allow(80)])));

    // A broken NetworkPolicy with no good version still holds back a first apply.
    let other = tempfile::tempdir().unwrap();
    write(other.path(), "pods.yaml", PODS);
    write(other.path(), "widget.yaml", deep_widget());
    write(other.path(), "policy.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec: [[[\n");
    let mut agent = folder_agent(other.path(), false);
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok && events[1].starts_with("not applying: ") && events[1].contains("policy.yaml"), "{events:?}");
    assert!(!events[1].contains("widget.yaml"), "{events:?}");
    assert_eq!(agent.syncer().dataplane().calls(), []);
}

/// Documented in docs/enforcement.md: the agent cannot tell "every file
/// deleted on purpose" from "every file lost", and does what the folder
/// says: an empty folder lifts every policy (the folder itself gone is
/// different: an error, and the rules stay).
#[test]
fn issue14_every_file_disappearing_lifts_every_policy_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", DENY_CLIENT_EGRESS);
    let mut agent = folder_agent(dir.path(), false);
    assert!(step(&mut agent, Step::Everything).0);
    std::fs::remove_file(dir.path().join("pods.yaml")).unwrap();
    std::fs::remove_file(dir.path().join("policy.yaml")).unwrap();
    let (ok, events) = step(&mut agent, Step::Everything);
    assert!(ok && events[0].starts_with("sync changed"), "{events:?}");
    assert!(table_is(&agent, &fresh(&[])), "an empty folder is an empty cluster");
}

//! The agent: last-good-per-file reading (pure), and the watch loop applying
//! into a network namespace this test creates (privileged: behind testkit's
//! gate, and the namespace is deleted in Drop even on panic).

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use netpol_agent::{run, Config, Event, Folder};
use netpol_manifest::LoadOptions;
use netpol_nft::apply;
use netpol_testkit::require_privileged;
use netpol_testkit::write_renamed as write;
use support::sorted;

const PODS: &str = "\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80, name: http}]}]}
status: {podIP: 10.9.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: default, labels: {app: client}}
spec: {containers: [{name: c, image: busybox}]}
status: {podIP: 10.9.0.2}
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

fn source(name: &str, text: &str) -> (String, String) {
    (name.to_string(), text.to_string())
}

fn ports_of(folder: &mut Folder, sources: Vec<(String, String)>) -> (Vec<String>, netpol_agent::Snapshot<'_>) {
    let read = folder.load(sources);
    let ports = read
        .cluster
        .policies
        .iter()
        .flat_map(|p| p.ingress.iter().flat_map(|r| r.ports.iter().map(|p| p.to_string())))
        .collect();
    (ports, read)
}

#[test]
fn a_bad_file_keeps_its_last_good_version() {
    let mut folder = Folder::new("unused", LoadOptions::default());
    let (ports, read) = ports_of(&mut folder, vec![source("pods.yaml", PODS), source("policy.yaml", &allow(80))]);
    assert_eq!(ports, vec!["80/TCP"]);
    assert!(read.stale.is_empty() && read.skipped.is_empty());

    let (ports, read) = ports_of(&mut folder, vec![source("pods.yaml", PODS), source("policy.yaml", BROKEN)]);
    assert_eq!(ports, vec!["80/TCP"], "the broken edit is not enforced; the last good one stays");
    assert_eq!(read.stale, vec!["policy.yaml"]);
    assert!(read.diagnostics.iter().any(|d| d.is_error() && d.file == "policy.yaml"));
    assert_eq!(read.cluster.pods.len(), 2, "the good file still loads");

    let (ports, _) = ports_of(&mut folder, vec![source("pods.yaml", PODS), source("policy.yaml", &allow(443))]);
    assert_eq!(ports, vec!["443/TCP"], "a fixed file is taken as it is");

    let (ports, read) = ports_of(&mut folder, vec![source("pods.yaml", PODS), source("new.yaml", BROKEN)]);
    assert!(ports.is_empty(), "policy.yaml was deleted; new.yaml never loaded cleanly");
    assert_eq!(read.skipped, vec!["new.yaml"]);
}

/// Waits for the next sync report (skipping other events).
fn next_sync(rx: &mpsc::Receiver<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("a sync within 10 s");
        if line.starts_with("sync ") {
            return line;
        }
    }
}

#[test]
fn agent_applies_changes_keeps_rules_on_bad_input_and_on_exit() {
    let ns = require_privileged!().netns("agent-test");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", allow(80));
    let config = Config { netns: Some(ns.name().to_string()), ..Config::new(dir.path()) };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<String>();
    let agent = {
        let (config, stop) = (config.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            run(&config, &stop, &mut |event: Event| {
                let _ = tx.send(event.to_string());
            })
        })
    };
    let listed = || apply::list_table(Some(ns.name())).unwrap().unwrap_or_default();

    let first = next_sync(&rx);
    assert!(first.starts_with("sync changed"), "{first}");
    assert!(listed().contains("10.9.0.2 . tcp . 80 "), "{}", listed());

    write(dir.path(), "policy.yaml", allow(443));
    let second = next_sync(&rx);
    assert!(second.starts_with("sync changed"), "{second}");
    assert!(listed().contains("10.9.0.2 . tcp . 443 "), "{}", listed());

    write(dir.path(), "policy.yaml", BROKEN);
    let third = next_sync(&rx);
    assert!(third.starts_with("sync unchanged") && third.contains("kept the last good version"), "{third}");
    assert!(listed().contains("10.9.0.2 . tcp . 443 "), "the last good rules stay");

    stop.store(true, Ordering::SeqCst);
    agent.join().unwrap().unwrap();
    assert!(listed().contains("10.9.0.2 . tcp . 443 "), "rules stay in place after the agent exits");
}

#[test]
fn per_file_loading_gives_the_cluster_one_load_gives() {
    let cluster = netpol_synth::generate(&netpol_synth::Spec { namespaces: 6, pods: 60, policies: 20, seed: 3 });
    let mut sources: Vec<(String, String)> =
        netpol_synth::documents(&cluster).into_iter().map(|d| (d.path, d.text)).collect();
    // A namespace used in one file and declared in a later one, and a duplicate policy.
    sources.push(source("zz-extra.yaml", &allow(80)));
    sources.push(source("zz-extra-2.yaml", &allow(8080)));
    // The folder takes files in path order, as a folder walk gives them
    // ("zz-extra-2.yaml" < "zz-extra.yaml": zz-extra.yaml's policy wins).
    sources.sort_by(|a, b| std::path::Path::new(&a.0).cmp(std::path::Path::new(&b.0)));
    let whole = netpol_manifest::load(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default());
    let mut folder = Folder::new("unused", LoadOptions::default());
    let read = folder.load(sources.clone());
    assert_eq!(sorted(read.cluster), sorted(&whole.cluster));
    assert!(read.cluster.policies.iter().any(|p| p.name == "web" && p.ingress[0].ports[0].to_string() == "80/TCP"));
    // Unchanged files come from the cache; the result is the same.
    assert_eq!(sorted(folder.load(sources).cluster), sorted(&whole.cluster));
}

/// Found in review: differences are computed against what the agent applied,
/// so an element someone else adds to the table would stay; a resync replaces
/// the whole table. And a change of warnings alone is no change for the kernel.
#[test]
fn resync_undoes_changes_made_by_others_and_warnings_alone_apply_nothing() {
    let ns = require_privileged!().netns("agent-test");
    let load = |text: &str| netpol_manifest::load([("c.yaml", text)], &LoadOptions::default()).cluster;
    let cluster = load(&format!("{PODS}---\n{}", allow(80)));
    let mut syncer =
        netpol_agent::Syncer::new(Some(ns.name().to_string()), netpol_nft::RenderOptions::default(), false);
    let first = syncer.sync(&cluster, 1).unwrap();
    assert!(first.changed && first.whole && first.applied_bytes > 0, "{first}");

    // Another pod claiming web's address: a warning, the same rules.
    let duplicate = "apiVersion: v1\nkind: Pod\nmetadata: {name: zz-dup, namespace: zz}\n\
                     spec: {containers: [{name: c, image: i}]}\nstatus: {podIP: 10.9.0.1}\n";
    let with_duplicate = load(&format!("{PODS}---\n{}---\n{duplicate}", allow(80)));
    let report = syncer.sync(&with_duplicate, 2).unwrap();
    assert!(!report.changed && report.applied_bytes == 0, "{report}");
    assert!(!syncer.applied().unwrap().warnings.is_empty());

    let listed = || apply::list_table(Some(ns.name())).unwrap().unwrap_or_default();
    let tamper = "add element inet netpol dispatch/ingress/v4 { 10.9.9.9 : accept }\n";
    apply::apply(tamper, Some(ns.name())).unwrap();
    assert!(listed().contains("10.9.9.9"));
    let report = syncer.sync(&with_duplicate, 2).unwrap();
    assert!(report.applied_bytes == 0 && listed().contains("10.9.9.9"), "a sync alone does not see it: {report}");
    let report = syncer.resync(&with_duplicate, 2).unwrap();
    assert!(!report.changed && report.whole && report.applied_bytes > 0, "{report}");
    assert!(!listed().contains("10.9.9.9"), "the resync replaced the table:\n{}", listed());
}

/// Runs the agent on `config` on a thread; its report lines arrive on the receiver.
fn start(config: &Config) -> (Arc<AtomicBool>, mpsc::Receiver<String>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<String>();
    let agent = {
        let (config, stop) = (config.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            run(&config, &stop, &mut |event: Event| {
                let _ = tx.send(event.to_string());
            })
            .unwrap()
        })
    };
    (stop, rx, agent)
}

/// Issue 14: a file that is not UTF-8 in the folder, then the table flushed
/// from outside. The file is a file with errors (no failed sync, no retry
/// storm), and the resync puts the rules back in the kernel.
#[test]
fn issue14_flush_while_unreadable_is_undone_by_the_resync_in_nft() {
    let ns = require_privileged!().netns("agent-test");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pods.yaml", PODS);
    write(dir.path(), "policy.yaml", allow(80));
    let config =
        Config { netns: Some(ns.name().to_string()), resync: Some(Duration::from_secs(1)), ..Config::new(dir.path()) };
    let (stop, rx, agent) = start(&config);
    let listed = || apply::list_table(Some(ns.name())).unwrap().unwrap_or_default();
    assert!(next_sync(&rx).starts_with("sync changed"));
    assert!(listed().contains("10.9.0.2 . tcp . 80 "), "{}", listed());

    std::fs::write(dir.path().join("binary.yaml"), b"\xff\xfe\x00kind").unwrap();
    let seen = loop {
        let line = next_sync(&rx);
        if line.contains("binary.yaml") {
            break line;
        }
    };
    assert!(!seen.starts_with("sync failed") && seen.contains("left out"), "{seen}");
    let before = listed();
    // `flush table` empties every chain (the sets and maps keep their elements).
    apply::apply("flush table inet netpol\n", Some(ns.name())).unwrap();
    assert!(listed().len() < before.len(), "flushed:\n{}", listed());

    let resync = loop {
        let line = next_sync(&rx);
        assert!(!line.starts_with("sync failed"), "{line}");
        if line.contains("whole table") {
            break line;
        }
    };
    assert!(resync.starts_with("sync unchanged"), "{resync}");
    assert_eq!(listed(), before, "the resync restored the rules");
    stop.store(true, Ordering::SeqCst);
    agent.join().unwrap();
}

const DENY_CLIENT_EGRESS: &str = "\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: default}
spec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress]}
";

/// Issue 14: the folder removed and created again at the same path, with no
/// resync: what the new folder holds is enforced, and so is a later edit in it.
#[test]
fn issue14_recreated_folder_is_enforced_in_nft() {
    let ns = require_privileged!().netns("agent-test");
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("manifests");
    std::fs::create_dir(&dir).unwrap();
    write(&dir, "pods.yaml", PODS);
    write(&dir, "policy.yaml", allow(80));
    let config = Config { netns: Some(ns.name().to_string()), resync: None, ..Config::new(&dir) };
    let (stop, rx, agent) = start(&config);
    let listed = || apply::list_table(Some(ns.name())).unwrap().unwrap_or_default();
    assert!(next_sync(&rx).starts_with("sync changed"));
    assert!(listed().contains("10.9.0.2 . tcp . 80 "), "{}", listed());

    std::fs::remove_dir_all(&dir).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(listed().contains("10.9.0.2 . tcp . 80 "), "the folder gone, the rules stay");
    // The new folder, written in one step (built aside, renamed into place).
    let staged = parent.path().join(".staged");
    std::fs::create_dir(&staged).unwrap();
    write(&staged, "pods.yaml", PODS);
    write(&staged, "deny.yaml", DENY_CLIENT_EGRESS);
    std::fs::rename(&staged, &dir).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !listed().contains("default/deny-egress") || listed().contains("10.9.0.2 . tcp . 80 ") {
        assert!(Instant::now() < deadline, "the recreated folder is not enforced:\n{}", listed());
        std::thread::sleep(Duration::from_millis(50));
    }
    while rx.try_recv().is_ok() {}
    write(&dir, "policy.yaml", allow(443));
    let edit = loop {
        let line = next_sync(&rx);
        if line.starts_with("sync changed") {
            break line;
        }
    };
    assert!(listed().contains("10.9.0.2 . tcp . 443 "), "the new folder is watched ({edit}):\n{}", listed());
    stop.store(true, Ordering::SeqCst);
    agent.join().unwrap();
}

//! Enforcement benchmark (needs root, `ip` and `nft`; works in network
//! namespaces it creates and deletes): render + apply time and ruleset size at
//! 100/1,000/10,000 policies, and time from a manifest change to enforcement
//! (the `nft -f` transaction committed) at 1,000 policies; and (issue 14) how
//! long a burst of new files (a GitOps sync of a big repository: one object
//! per file) takes to be enforced whole.
//!
//! `cargo run --release -p netpol-agent --example enforce_bench [all|sizes|changes|changes-node|changes-all|burst] [CHANGES|FILES]`

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use netpol_agent::{run, Config, Event};
use netpol_nft::{apply, render, RenderOptions};
use netpol_synth::{documents, generate, Spec};
use netpol_testkit::latency::{Commits, Summary};

struct Netns(String);

impl Netns {
    fn create(tag: &str) -> Netns {
        let name = format!("netpol-bench-{}-{tag}", std::process::id());
        let ok = Command::new("ip").args(["netns", "add", &name]).status().is_ok_and(|s| s.success());
        assert!(ok, "cannot create network namespace {name} (root needed)");
        Netns(name)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(samples: &[Duration]) -> Summary {
    Summary::of(samples).expect("samples")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn spec(policies: usize) -> Spec {
    Spec { namespaces: (policies / 10).max(4), pods: policies * 10, policies, seed: 1 }
}

fn size_table() {
    println!("| policies | pods | scope | render (ms) | apply (ms) | re-apply (ms) | chains | rules | sets | elements | script bytes |");
    println!("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for policies in [100, 1_000, 10_000] {
        let spec = spec(policies);
        let cluster = generate(&spec);
        let node = cluster.pods.iter().find_map(|p| p.node.clone());
        for (scope, options) in [
            ("one node", RenderOptions { node: node.clone(), ..RenderOptions::default() }),
            ("all pods", RenderOptions::default()),
        ] {
            let runs = if policies >= 10_000 { 3 } else { 5 };
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..runs {
                let start = Instant::now();
                let ruleset = render(&cluster, &options);
                let script = ruleset.script();
                times.push(start.elapsed());
                last = Some((ruleset, script));
            }
            let (ruleset, script) = last.unwrap();
            let ns = Netns::create(&format!("{policies}"));
            let first = apply::apply(&script, Some(&ns.0)).expect("apply");
            let again = apply::apply(&script, Some(&ns.0)).expect("re-apply");
            let s = ruleset.stats();
            println!(
                "| {policies} | {} | {scope} | {:.1} | {:.1} | {:.1} | {} | {} | {} | {} | {} |",
                spec.pods,
                ms(median(times)),
                ms(first.duration),
                ms(again.duration),
                s.chains,
                s.rules,
                s.sets,
                s.elements,
                script.len()
            );
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

/// A policy edit: the kube-system marker policy admits port 10000+i.
fn marker(i: usize) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: bench-marker, namespace: kube-system}}
spec:
  podSelector: {{}}
  ingress:
  - ports: [{{port: {}}}]
",
        10_000 + i
    )
}

/// A pod edit: a kube-system pod on `node` whose address changes (pod IP churn).
fn churn_pod(i: usize, node: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: bench-churn, namespace: kube-system, labels: {{app: bench-churn}}}}
spec: {{nodeName: {node}, containers: [{{name: c, image: i, ports: [{{containerPort: 80}}]}}]}}
status: {{podIP: 10.255.{}.{}}}
",
        (i / 250) % 250,
        i % 250 + 1
    )
}

/// What changes in each round: the text of one file.
#[derive(Clone, Copy, PartialEq)]
enum Change {
    Policy,
    PodAddress,
}

fn change_to_enforced(changes: usize, scope: &str, node: bool, change: Change) {
    let cluster = generate(&spec(1_000));
    let dir = tempfile::tempdir().unwrap();
    for doc in documents(&cluster) {
        let path = dir.path().join(&doc.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, doc.text).unwrap();
    }
    let churn_node = cluster.pods.iter().find(|p| p.namespace == "kube-system").and_then(|p| p.node.clone()).unwrap();
    let edit = |i: usize| match change {
        Change::Policy => ("bench-marker.yaml", marker(i)),
        Change::PodAddress => ("bench-churn.yaml", churn_pod(i, &churn_node)),
    };
    write(dir.path(), "bench-marker.yaml", &marker(0));
    write(dir.path(), "bench-churn.yaml", &churn_pod(0, &churn_node));
    let ns = Netns::create("watch");
    let mut render_options = RenderOptions::default();
    if node {
        render_options.node = Some(churn_node.clone());
    }
    let config = Config { netns: Some(ns.0.clone()), render: render_options, ..Config::new(dir.path()) };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<(Instant, bool)>();
    let agent = {
        let (config, stop) = (config.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            run(&config, &stop, &mut |event| {
                if let Event::Synced { report, .. } = &event {
                    if std::env::var_os("BENCH_VERBOSE").is_some() {
                        eprintln!("{event}");
                    }
                    let _ = tx.send((Instant::now(), report.changed));
                } else {
                    eprintln!("{event}");
                }
            })
        })
    };
    rx.recv_timeout(Duration::from_secs(60)).expect("first sync");
    let commits = Commits::listen(&ns.0).expect("the commit listener");
    let (mut committed, mut exited) = (Vec::with_capacity(changes), Vec::with_capacity(changes));
    // Round 0 only makes sure the listener hears commits before anything is measured.
    for i in 0..=changes {
        let start = Instant::now();
        let (name, text) = edit(i + 1);
        write(dir.path(), name, &text);
        let synced = loop {
            let (at, changed) = rx.recv_timeout(Duration::from_secs(10)).expect("a sync after the change");
            if changed {
                break at;
            }
        };
        let commit = commits.next(Duration::from_secs(10)).expect("a commit after the change");
        commits.drain();
        if i > 0 {
            committed.push(commit - start);
            exited.push(synced - start);
        }
    }
    stop.store(true, Ordering::SeqCst);
    agent.join().unwrap().unwrap();
    let listed = apply::list_table(Some(&ns.0)).unwrap().unwrap_or_default();
    let last = match change {
        Change::Policy => format!("tcp . {} comment", 10_000 + changes + 1),
        Change::PodAddress => format!("10.255.{}.{} comment", ((changes + 1) / 250) % 250, (changes + 1) % 250 + 1),
    };
    assert!(listed.contains(&last), "the last change is in the kernel: {last}");
    let what = match change {
        Change::Policy => "policy edit",
        Change::PodAddress => "pod address",
    };
    println!("| 1000 | 10000 | {scope} | {what} | {changes} | {} | {} |", summary(&committed), summary(&exited));
}

/// A burst of `files` new files, one object each (pods and policies of a
/// synthetic cluster; its namespaces are in place before), written as fast as
/// the writer can into a watched folder: the time from the first write until a
/// sync has applied the rules of all of them, and how many syncs it took.
fn burst(files: usize) {
    let policies = (files / 10).max(1);
    let spec = Spec { namespaces: (files / 100).max(4), pods: files - policies, policies, seed: 1 };
    let cluster = generate(&spec);
    let dir = tempfile::tempdir().unwrap();
    let mut objects = Vec::new();
    for doc in documents(&cluster) {
        if doc.path == "namespaces.yaml" {
            write(dir.path(), &doc.path, &doc.text);
            continue;
        }
        let stem = doc.path.trim_end_matches(".yaml").replace('/', "-");
        for (i, object) in doc.text.split("---\n").filter(|o| !o.trim().is_empty()).enumerate() {
            objects.push((format!("{stem}-{i:05}.yaml"), object.to_string()));
        }
    }
    assert_eq!(objects.len(), files);
    let all: String = std::iter::once(std::fs::read_to_string(dir.path().join("namespaces.yaml")).unwrap())
        .chain(objects.iter().map(|(_, o)| format!("---\n{o}")))
        .collect();
    let loaded = netpol_manifest::load([("all.yaml", all.as_str())], &Default::default());
    let want = render(&loaded.cluster, &RenderOptions::default()).stats();
    let ns = Netns::create("burst");
    let config = Config { netns: Some(ns.0.clone()), resync: None, ..Config::new(dir.path()) };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<(Instant, netpol_nft::Stats)>();
    let agent = {
        let (config, stop) = (config.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            run(&config, &stop, &mut |event| {
                if let Event::Synced { report, .. } = &event {
                    let _ = tx.send((Instant::now(), report.stats));
                }
                if std::env::var_os("BENCH_VERBOSE").is_some() {
                    eprintln!("{event}");
                }
            })
        })
    };
    rx.recv_timeout(Duration::from_secs(60)).expect("first sync");
    let start = Instant::now();
    for (name, text) in &objects {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let written = start.elapsed();
    let mut syncs = 0;
    let converged = loop {
        let (at, stats) = rx.recv_timeout(Duration::from_secs(120)).expect("a sync within 120 s");
        syncs += 1;
        if stats == want {
            break at - start;
        }
    };
    stop.store(true, Ordering::SeqCst);
    agent.join().unwrap().unwrap();
    println!(
        "| {files} | {} | {} | {:.2} | {:.2} | {:.2} | {syncs} | {} | {} |",
        spec.pods,
        spec.policies,
        written.as_secs_f64(),
        converged.as_secs_f64(),
        converged.saturating_sub(written).as_secs_f64(),
        want.rules,
        want.elements
    );
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let changes: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    if mode == "burst" {
        let files = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(20_000);
        println!(
            "| files | pods | policies | written (s) | converged (s) | after the last write (s) | syncs | rules | elements |"
        );
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        burst(files);
        return;
    }
    if mode == "all" || mode == "sizes" {
        size_table();
        println!();
    }
    if mode == "all" || mode.starts_with("changes") {
        println!("| policies | pods | scope | change | changes | committed p50 | p90 | p99 | max (ms) | nft exited p50 | p90 | p99 | max (ms) |");
        println!("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        if mode != "changes-all" {
            change_to_enforced(changes, "one node", true, Change::Policy);
            change_to_enforced(changes, "one node", true, Change::PodAddress);
        }
        if mode != "changes-node" {
            change_to_enforced(changes, "all pods", false, Change::Policy);
            change_to_enforced(changes, "all pods", false, Change::PodAddress);
        }
    }
}

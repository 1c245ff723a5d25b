//! Enforcement benchmark (needs root, `ip` and `nft`; works in network
//! namespaces it creates and deletes): render + apply time and ruleset size at
//! 100/1,000/10,000 policies, and time from a manifest change to enforcement
//! (the `nft -f` transaction committed) at 1,000 policies.
//!
//! `cargo run --release -p netpol-agent --example enforce_bench [all|sizes|changes] [CHANGES]`

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use netpol_agent::{run, Config, Event};
use netpol_nft::{apply, render, RenderOptions};
use netpol_synth::{documents, generate, Spec};

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

fn change_to_enforced(changes: usize, scope: &str, node: bool) {
    let cluster = generate(&spec(1_000));
    let dir = tempfile::tempdir().unwrap();
    for doc in documents(&cluster) {
        let path = dir.path().join(&doc.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, doc.text).unwrap();
    }
    write(dir.path(), "bench-marker.yaml", &marker(0));
    let ns = Netns::create("watch");
    let mut render_options = RenderOptions::default();
    if node {
        render_options.node = cluster.pods.iter().find(|p| p.namespace == "kube-system").and_then(|p| p.node.clone());
    }
    let config = Config { netns: Some(ns.0.clone()), render: render_options, ..Config::new(dir.path()) };
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<(Instant, bool)>();
    let agent = {
        let (config, stop) = (config.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            run(&config, &stop, &mut |event| {
                if let Event::Synced { report, .. } = &event {
                    let _ = tx.send((Instant::now(), report.changed));
                } else {
                    eprintln!("{event}");
                }
            })
        })
    };
    rx.recv_timeout(Duration::from_secs(60)).expect("first sync");
    let mut samples = Vec::with_capacity(changes);
    for i in 1..=changes {
        let start = Instant::now();
        write(dir.path(), "bench-marker.yaml", &marker(i));
        loop {
            let (at, changed) = rx.recv_timeout(Duration::from_secs(10)).expect("a sync after the change");
            if changed {
                samples.push(at - start);
                break;
            }
        }
    }
    stop.store(true, Ordering::SeqCst);
    agent.join().unwrap().unwrap();
    let listed = apply::list_table(Some(&ns.0)).unwrap().unwrap_or_default();
    assert!(listed.contains(&format!("tcp . {} comment", 10_000 + changes)), "the last change is in the kernel");
    samples.sort();
    let pct = |p: f64| ms(samples[((samples.len() as f64 * p).ceil() as usize).saturating_sub(1)]);
    println!(
        "| 1000 | 10000 | {scope} | {changes} | {:.1} | {:.1} | {:.1} | {:.1} |",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        ms(*samples.last().unwrap())
    );
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let changes: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    if mode == "all" || mode == "sizes" {
        size_table();
        println!();
    }
    if mode == "all" || mode == "changes" {
        println!("| policies | pods | scope | changes | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |");
        println!("|---:|---:|---|---:|---:|---:|---:|---:|");
        change_to_enforced(changes, "one node", true);
        change_to_enforced(changes, "all pods", false);
    }
}

//! Criterion benchmarks at the three scales. Names carry the scale:
//! `matrix/compile/pods=10000,policies=1000`.
//!
//! Run one scale: `cargo bench -p netpol-matrix --bench matrix -- pods=10000,`.
//! Sizes (classes, atoms) are printed before each group. `diff_remove_policy`
//! (`Compiled::diff`, what `netpol diff` computes) runs at the two smaller scales.
//! The incremental changes also run on the realistic shape at 100,000 pods
//! (`matrix/change_relabel_pod/realistic,pods=100000,policies=10000`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use netpol_engine::{Endpoint, Engine, Flow};
use netpol_matrix::{Change, Compiled, Options};
use netpol_model::{Protocol, WorkloadKind};
use netpol_synth::{generate, generate_shaped, Shape, Spec};

const SCALES: [(usize, usize, usize); 3] = [(1_000, 100, 10), (10_000, 1_000, 100), (100_000, 10_000, 1_000)];

fn bench(c: &mut Criterion) {
    for (pods, policies, namespaces) in SCALES {
        let scale = format!("pods={pods},policies={policies}");
        let cluster = generate(&Spec { namespaces, pods, policies, seed: 1 });
        let compiled = Compiled::build(&cluster, Options::default());
        eprintln!(
            "{scale}: {} classes, {} atoms, {} policies",
            compiled.classes(),
            compiled.atom_count(),
            compiled.policy_count()
        );
        let mut g = c.benchmark_group("matrix");
        g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));

        g.bench_function(format!("compile/{scale}"), |b| {
            b.iter(|| Compiled::build(black_box(&cluster), Options::default()))
        });
        g.bench_function(format!("probe/{scale}"), |b| {
            b.iter(|| compiled.allowed_pairs(black_box(Protocol::Tcp), black_box(8080)))
        });

        // A single flow, both ways: compiled lookup and the engine's explained evaluation.
        let (src, dst) = (&cluster.pods[pods / 3], &cluster.pods[2 * pods / 3]);
        let (s, d) = (compiled.pod_id(&src.key()).unwrap(), compiled.pod_id(&dst.key()).unwrap());
        g.bench_function(format!("check/{scale}"), |b| {
            b.iter(|| compiled.allowed(black_box(s), black_box(d), Protocol::Tcp, 8080))
        });
        let engine = Engine::new(&cluster, netpol_engine::Options::default());
        let flow = Flow::new(Endpoint::Pod(src.key()), Endpoint::Pod(dst.key()), Protocol::Tcp, 8080);
        g.bench_function(format!("engine_evaluate/{scale}"), |b| b.iter(|| engine.evaluate(black_box(&flow)).unwrap()));

        changes(&mut g, &scale, &cluster, &compiled);
        // `netpol diff` of the cluster against itself with one policy removed
        // (class pairs squared: not run at the largest scale).
        if pods <= 10_000 {
            let mut edited = compiled.clone();
            let first = &cluster.policies[0];
            let remove = Change::RemovePolicy { namespace: first.namespace.clone(), name: first.name.clone() };
            edited.apply(remove).unwrap();
            g.bench_function(format!("diff_remove_policy/{scale}"), |b| b.iter(|| compiled.diff(black_box(&edited))));
        }
        g.finish();
    }
    // Issue 12: the incremental changes again on the realistic shape (every
    // workload 20 replicas spread over 1,000 nodes, 300 distinct ipBlocks).
    let (pods, policies, namespaces) = (100_000, 10_000, 100);
    let scale = format!("realistic,pods={pods},policies={policies}");
    let cluster = generate_shaped(&Spec { namespaces, pods, policies, seed: 1 }, &Shape::realistic());
    let compiled = Compiled::build(&cluster, Options::default());
    eprintln!("{scale}: {} classes, {} atoms", compiled.classes(), compiled.atom_count());
    let mut g = c.benchmark_group("matrix");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    changes(&mut g, &scale, &cluster, &compiled);
    g.finish();
}

/// One incremental change each, applied to a fresh copy (the copy is not timed):
/// a pod added and removed, a pod relabelled, a policy added, a policy removed.
fn changes(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    scale: &str,
    cluster: &netpol_model::Cluster,
    compiled: &Compiled,
) {
    let (pods, policies) = (cluster.pods.len(), cluster.policies.len());
    {
        let mut new_pod = cluster.pods[pods / 2].clone();
        new_pod.name = "bench-new-pod".into();
        new_pod.kind = WorkloadKind::Pod;
        let mut relabelled = cluster.pods[pods / 2].clone();
        relabelled.labels.insert("tier", "bench-tier");
        let mut policy = cluster.policies[policies / 2].clone();
        policy.name = "bench-new-policy".into();
        // Adding a pod: add then remove it again on one long-lived form (a clone
        // would have no spare capacity, and time a reallocation instead).
        let mut live = compiled.clone();
        let (add, remove) = (Change::UpsertPod(new_pod.clone()), Change::RemovePod(new_pod.key()));
        g.bench_function(format!("change_add_then_remove_pod/{scale}"), |b| {
            b.iter(|| {
                live.apply(add.clone()).unwrap();
                live.apply(remove.clone()).unwrap();
            })
        });
        let changes = [
            ("relabel_pod", Change::UpsertPod(relabelled)),
            ("add_policy", Change::UpsertPolicy(policy)),
            (
                "remove_policy",
                Change::RemovePolicy {
                    namespace: cluster.policies[0].namespace.clone(),
                    name: cluster.policies[0].name.clone(),
                },
            ),
        ];
        for (name, change) in &changes {
            g.bench_function(format!("change_{name}/{scale}"), |b| {
                b.iter_batched_ref(|| compiled.clone(), |m| m.apply(change.clone()).unwrap(), BatchSize::LargeInput)
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

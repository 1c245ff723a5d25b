//! The agent on the Kubernetes API at scale (issue 10): how soon a change
//! made through the API is enforced, and what the agent process costs in
//! memory and CPU, with a synthetic cluster created through a real API server.
//!
//! Needs root (a network namespace, nft) and control-plane binaries
//! (`eval "$(tools/k8s/build.sh --print-env)"`), and a release `netpol`
//! beside this example (`target/release/netpol`, or `--netpol PATH`):
//! `bash benches/api.sh [ARGS]` builds both and runs it.
//!
//! 1. Starts etcd + kube-apiserver (testkit's `ControlPlane`) and creates a
//!    `netpol_synth` cluster through the API with kube-rs, `--concurrency`
//!    requests in flight: namespaces (server-side apply), policies and pods
//!    (create), and each pod's status (phase Running, podIP, podIPs) through
//!    the status subresource, as a kubelet would. Prints the throughput.
//! 2. Runs the real agent process as the DaemonSet does (`netpol agent
//!    --kubernetes --node NODE`, JSON logs, metrics on 127.0.0.1:0) with the
//!    ServiceAccount token of `deploy/10-rbac.yaml`, enforcing into a network
//!    namespace of its own; waits for its first sync. Only difference from
//!    the DaemonSet: `--resync-seconds 0`, as a periodic whole-table replace
//!    would be heard as a commit in the middle of a measurement.
//! 3. Changes one object at a time and measures from the API call returning
//!    (and from its start) to the kernel's commit (`NFT_MSG_NEWGEN`, heard in
//!    the namespace, see `netpol_testkit::latency`), beside the agent's own
//!    `since_change_ms` (watch event seen -> its sync done) and the
//!    `netpol_change_to_commit_seconds` histogram of its `/metrics`.
//! 4. Reads the agent's CPU (utime + stime, and its `nft` children's) and
//!    memory (VmHWM, VmRSS) from `/proc`.
//!
//! Output: Markdown tables on stdout, progress on stderr. Everything it
//! starts (processes, namespace, temp dirs) is stopped and removed on exit,
//! also on an error or Ctrl-C.
//!
//! `api_bench [--pods 10000] [--policies 1000] [--changes 200] [--kubectl 20] [--concurrency 48] [--node node-0] [--netpol PATH]`

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Client;
use netpol_testkit::control_plane::{Binaries, Options};
use netpol_testkit::latency::{Commits, Summary};
use netpol_testkit::privileged::{gate, CONTROL_PLANE};
use netpol_testkit::{http, ControlPlane};
use serde_json::json;

mod objects;
mod process;

use process::{AgentProcess, Usage};

#[derive(Debug)]
struct Args {
    pods: usize,
    policies: usize,
    changes: usize,
    kubectl: usize,
    concurrency: usize,
    node: String,
    netpol: PathBuf,
}

impl Args {
    fn parse() -> anyhow::Result<Args> {
        let beside = std::env::current_exe()?.parent().and_then(Path::parent).map(|dir| dir.join("netpol"));
        let mut args = Args {
            pods: 10_000,
            policies: 1_000,
            changes: 200,
            kubectl: 20,
            concurrency: 48,
            node: "node-0".into(),
            netpol: beside.unwrap_or_else(|| "netpol".into()),
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
            let number = || value.parse::<usize>().with_context(|| format!("{flag} {value}"));
            match flag.as_str() {
                "--pods" => args.pods = number()?,
                "--policies" => args.policies = number()?,
                "--changes" => args.changes = number()?,
                "--kubectl" => args.kubectl = number()?,
                "--concurrency" => args.concurrency = number()?.max(1),
                "--node" => args.node = value,
                "--netpol" => args.netpol = value.into(),
                _ => bail!("unknown argument {flag} (see the header of crates/kube/examples/api_bench.rs)"),
            }
        }
        Ok(args)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `later - earlier` in milliseconds, negative when `later` came first.
fn signed_ms(later: Instant, earlier: Instant) -> f64 {
    match later.checked_duration_since(earlier) {
        Some(d) => ms(d),
        None => -ms(earlier - later),
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    let Some(privileged) = gate("api_bench", &[CONTROL_PLANE]) else {
        bail!("api_bench needs root, ip, nft and control-plane binaries (the line above says what is missing)");
    };
    anyhow::ensure!(
        args.netpol.exists(),
        "no netpol binary at {} (build it: see benches/api.sh)",
        args.netpol.display()
    );
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let binaries = Binaries::locate().map_err(anyhow::Error::msg)?;
    // The bench's admin is in system:masters (exempt from API Priority and
    // Fairness); the agent's ServiceAccount is not: room for its watches.
    let options = Options {
        extra_apiserver_args: vec!["--max-requests-inflight=800".into(), "--max-mutating-requests-inflight=400".into()],
        ..Options::default()
    };
    eprintln!("starting etcd and kube-apiserver");
    let cp = ControlPlane::start_with(&binaries, &options)?;
    let client = rt.block_on(client(cp.kubeconfig()))?;

    let spec = netpol_synth::Spec {
        namespaces: (args.policies / 10).max(4),
        pods: args.pods,
        policies: args.policies,
        seed: 1,
    };
    let cluster = netpol_synth::generate(&spec);
    let on_node = cluster.pods.iter().filter(|p| p.node.as_deref() == Some(args.node.as_str())).count();
    eprintln!(
        "creating {} namespaces, {} policies and {} pods ({} on {}) through the API, {} in flight",
        cluster.namespaces.len(),
        cluster.policies.len(),
        cluster.pods.len(),
        on_node,
        args.node,
        args.concurrency
    );
    let phases = rt.block_on(objects::create(&client, &cluster, &args.node, args.concurrency, &stop))?;
    println!("### Creating the cluster through the API ({} in flight)\n", args.concurrency);
    println!("| objects | count | requests | seconds | objects/s | requests/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for p in &phases {
        let s = p.seconds.max(1e-9);
        println!(
            "| {} | {} | {} | {:.1} | {:.0} | {:.0} |",
            p.what,
            p.objects,
            p.requests,
            p.seconds,
            p.objects as f64 / s,
            p.requests as f64 / s
        );
    }
    println!();

    cp.kubectl_output(&["apply", "-f", &deploy("00-namespace.yaml"), "-f", &deploy("10-rbac.yaml")], None)?;
    let token = cp.token("netpol-system", "netpol-agent")?;
    let ns = privileged.netns("api-bench");
    let mut agent = AgentProcess::spawn(&args.netpol, &token.kubeconfig, &args.node, ns.name())?;
    eprintln!("agent started (pid {}); waiting for its first sync", agent.pid());
    let first = agent.first_sync(Duration::from_secs(900), &stop)?;
    let at_sync = agent.usage()?;
    // Listening only now: while anyone listens, the kernel also announces every
    // element a transaction adds, which would slow the first (whole) apply down.
    let commits = Commits::listen(ns.name())?;
    std::thread::sleep(Duration::from_secs(3));
    let steady = agent.usage()?;
    let ready = http::get(agent.metrics(), "/readyz")?.status;

    let mut live = Live {
        rt: &rt,
        client,
        agent,
        commits,
        cp: &cp,
        stop: &stop,
        node: args.node.clone(),
        marker: 0,
        scenarios: Vec::new(),
    };
    live.policy_edits(args.changes)?;
    live.pod_labels(args.changes)?;
    live.pod_creates(args.changes)?;
    live.kubectl_applies(args.kubectl)?;
    let table = netpol_nft::apply::list_table(Some(ns.name()))?.unwrap_or_default();
    let last = format!("tcp . {} comment", objects::marker_port(live.marker));
    anyhow::ensure!(table.contains(&last), "the last policy edit is not in the kernel ({last})");
    let end = live.agent.usage()?;
    let servers: Vec<String> = cp
        .pids()
        .iter()
        .zip(["kube-apiserver", "etcd"])
        .filter_map(|(pid, name)| Usage::of(*pid).ok().map(|u| format!("{name} {:.0} MiB", u.rss_mib)))
        .collect();
    live.agent.stop()?;

    println!("### The agent process (`--node {}`: {} of the cluster's pods)\n", args.node, on_node);
    println!("| pods | policies | namespaces | first sync (s) | CPU to first sync (s) | nft CPU (s) | peak RSS (MiB) | RSS after sync (MiB) | RSS per 10k pods (MiB) | RSS at end (MiB) | rules | elements |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let per_10k = steady.rss_mib / (cluster.pods.len() as f64 / 10_000.0);
    println!(
        "| {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.1} | {:.0} | {} | {} |",
        cluster.pods.len(),
        cluster.policies.len(),
        cluster.namespaces.len(),
        first.after.as_secs_f64(),
        at_sync.cpu,
        at_sync.children_cpu,
        steady.hwm_mib,
        steady.rss_mib,
        per_10k,
        end.rss_mib,
        first.line["rules"],
        first.line["elements"]
    );
    let field = |key: &str| first.line[key].as_f64().unwrap_or(f64::NAN);
    println!(
        "\n/readyz after the first sync: {ready}; first sync: render {:.1} ms, apply {:.1} ms; at the end: {}.\n",
        field("render_ms"),
        field("apply_ms"),
        servers.join(", ")
    );
    live.report();
    Ok(())
}

fn deploy(file: &str) -> String {
    format!("{}/../../deploy/{file}", env!("CARGO_MANIFEST_DIR"))
}

async fn client(kubeconfig: &Path) -> anyhow::Result<Client> {
    let file = Kubeconfig::read_from(kubeconfig)?;
    let config = kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default()).await?;
    Ok(Client::try_from(config)?)
}

/// One measured change.
struct Sample {
    /// The API call itself.
    call: f64,
    /// From the call returning to the commit (negative: the commit came first).
    returned: f64,
    /// From the call starting to the commit.
    started: f64,
    /// The agent's own `since_change_ms` for the sync that committed it.
    agent: f64,
}

/// One kind of change, measured `samples.len()` times.
struct Scenario {
    change: &'static str,
    how: &'static str,
    samples: Vec<Sample>,
    /// API writes made (some rounds take more than the measured one).
    writes: usize,
    /// Agent CPU over the scenario, and its `nft` children's (seconds).
    cpu: f64,
    children_cpu: f64,
    /// The agent's `netpol_change_to_commit_seconds` over the scenario.
    histogram: Histogram,
}

/// The running bench: the API, the agent and the commits it makes.
struct Live<'a> {
    rt: &'a tokio::runtime::Runtime,
    client: Client,
    agent: AgentProcess,
    commits: Commits,
    cp: &'a ControlPlane,
    stop: &'a AtomicBool,
    node: String,
    /// Edits of the marker policy so far.
    marker: usize,
    scenarios: Vec<Scenario>,
}

const WITHIN: Duration = Duration::from_secs(10);

impl Live<'_> {
    fn check_stop(&self) -> anyhow::Result<()> {
        if self.stop.load(Ordering::Relaxed) {
            bail!("interrupted");
        }
        Ok(())
    }

    /// Waits for the agent's sync after a change (and the commit it made, if any) and forgets both.
    fn settle(&mut self) -> anyhow::Result<()> {
        self.agent.next_sync(None, WITHIN)?;
        std::thread::sleep(Duration::from_millis(20));
        self.commits.drain();
        self.agent.drain();
        Ok(())
    }

    /// One change: `call` is the API call; the commit and the agent's sync must follow.
    fn measure(&mut self, what: &str, call: impl FnOnce(&Self) -> anyhow::Result<()>) -> anyhow::Result<Sample> {
        self.check_stop()?;
        self.commits.drain();
        self.agent.drain();
        let start = Instant::now();
        call(self).with_context(|| format!("{what}: the API call"))?;
        let returned = Instant::now();
        // A commit heard before the call started belongs to an earlier change.
        let commit = std::iter::from_fn(|| self.commits.next(WITHIN))
            .find(|at| *at >= start)
            .ok_or_else(|| anyhow!("{what}: no commit within {WITHIN:?}"))?;
        let sync = self.agent.next_sync(Some(true), WITHIN).with_context(|| format!("{what}: the agent's sync"))?;
        Ok(Sample {
            call: ms(returned - start),
            returned: signed_ms(commit, returned),
            started: signed_ms(commit, start),
            agent: sync["since_change_ms"].as_f64().unwrap_or(f64::NAN),
        })
    }

    /// Runs `rounds` of `round` (one measured change each, with warm-up round 0 not kept) as one scenario.
    fn scenario(
        &mut self,
        change: &'static str,
        how: &'static str,
        rounds: usize,
        writes_per_round: usize,
        mut round: impl FnMut(&mut Self, usize) -> anyhow::Result<Sample>,
    ) -> anyhow::Result<()> {
        if rounds == 0 {
            return Ok(());
        }
        eprintln!("measuring: {change} ({how}), {rounds} times");
        round(self, 0)?;
        let (before, hist_before) = (self.agent.usage()?, self.histogram()?);
        let mut samples = Vec::with_capacity(rounds);
        for i in 1..=rounds {
            samples.push(round(self, i)?);
            if i % 50 == 0 {
                eprintln!("  {i}/{rounds}");
            }
        }
        let (after, hist_after) = (self.agent.usage()?, self.histogram()?);
        self.scenarios.push(Scenario {
            change,
            how,
            samples,
            writes: rounds * writes_per_round,
            cpu: after.cpu - before.cpu,
            children_cpu: after.children_cpu - before.children_cpu,
            histogram: hist_after.minus(&hist_before),
        });
        Ok(())
    }

    fn histogram(&self) -> anyhow::Result<Histogram> {
        let text = http::get(self.agent.metrics(), "/metrics")?.body;
        Ok(Histogram::parse(&text, "netpol_change_to_commit_seconds"))
    }

    fn block<T>(&self, f: impl std::future::Future<Output = Result<T, kube::Error>>) -> anyhow::Result<T> {
        Ok(self.rt.block_on(f)?)
    }

    /// The bench's marker policy admits another port: server-side apply, as `kubectl apply --server-side`.
    fn policy_edits(&mut self, rounds: usize) -> anyhow::Result<()> {
        self.scenario("policy edit", "server-side apply (kube-rs)", rounds, 1, |live, _| {
            live.marker += 1;
            let policy = objects::marker(live.marker);
            live.measure("policy edit", |live| {
                let api: Api<NetworkPolicy> = Api::namespaced(live.client.clone(), "kube-system");
                let params = PatchParams::apply("api-bench").force();
                live.block(api.patch(objects::MARKER, &params, &Patch::Apply(&policy))).map(drop)
            })
        })
    }

    /// The same edit through the real kubectl (client-side apply); "returned" is when kubectl exited.
    fn kubectl_applies(&mut self, rounds: usize) -> anyhow::Result<()> {
        self.scenario("policy edit", "`kubectl apply -f -` (process exit)", rounds, 1, |live, _| {
            live.marker += 1;
            let text = objects::marker(live.marker).to_string();
            live.measure("kubectl apply", |live| {
                live.cp.kubectl_output(&["apply", "-f", "-"], Some(&text)).map(drop).map_err(Into::into)
            })
        })
    }

    /// A pod on the node moves in and out of a policy's selector (a label patch, as `kubectl label`).
    fn pod_labels(&mut self, rounds: usize) -> anyhow::Result<()> {
        self.scenario("pod label (in/out of a selector)", "merge patch of labels", rounds, 1, |live, i| {
            live.measure("pod label", |live| {
                let api: Api<Pod> = Api::namespaced(live.client.clone(), "kube-system");
                let value = if i % 2 == 0 { "selected" } else { "other" };
                let patch = json!({"metadata": {"labels": {"bench": value}}});
                live.block(api.patch(objects::CHURN, &PatchParams::default(), &Patch::Merge(&patch))).map(drop)
            })
        })
    }

    /// A pod is created on the node (no address yet: the agent syncs, nothing to
    /// enforce), then gets its address through the status subresource (measured),
    /// then is deleted (grace period 0; measured as its own scenario).
    fn pod_creates(&mut self, rounds: usize) -> anyhow::Result<()> {
        let mut deletes = Vec::new();
        self.scenario(
            "pod created, then status set",
            "create; then patch of status (measured)",
            rounds,
            3,
            |live, i| {
                let api: Api<Pod> = Api::namespaced(live.client.clone(), "kube-system");
                let name = format!("bench-new-{i}");
                live.block(api.create(&PostParams::default(), &objects::new_pod(&name, &live.node)))?;
                live.settle()?;
                let sample = live.measure("pod status", |live| {
                    let status = objects::running(&objects::churn_ip(i + 1));
                    live.block(api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))).map(drop)
                })?;
                let deleted = live.measure("pod delete", |live| {
                    let params = DeleteParams { grace_period_seconds: Some(0), ..DeleteParams::default() };
                    live.block(api.delete(&name, &params)).map(drop)
                })?;
                if i > 0 {
                    deletes.push(deleted);
                }
                Ok(sample)
            },
        )?;
        if let Some(created) = self.scenarios.last() {
            let (cpu, children_cpu, writes) = (created.cpu, created.children_cpu, created.writes);
            self.scenarios.push(Scenario {
                change: "pod deleted",
                how: "delete, grace period 0 (same rounds as above)",
                samples: deletes,
                writes,
                cpu,
                children_cpu,
                histogram: Histogram::default(),
            });
        }
        Ok(())
    }

    fn report(&self) {
        println!("### From the API call to the kernel's commit (NEWGEN), `--node {}`\n", self.node);
        println!("| change | how | n | API call p50 (ms) | returned -> commit p50 | p90 | p99 | max (ms) | started -> commit p50 | p99 (ms) | agent since_change (to nft exit) p50 | p99 (ms) | agent CPU per write (ms) | nft CPU per write (ms) |");
        println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for s in &self.scenarios {
            let of = |f: fn(&Sample) -> f64| Summary::of_ms(s.samples.iter().map(f).collect());
            let (Some(call), Some(returned), Some(started), Some(agent)) =
                (of(|x| x.call), of(|x| x.returned), of(|x| x.started), of(|x| x.agent))
            else {
                continue;
            };
            println!(
                "| {} | {} | {} | {:.1} | {returned} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} |",
                s.change,
                s.how,
                s.samples.len(),
                call.p50,
                started.p50,
                started.p99,
                agent.p50,
                agent.p99,
                s.cpu * 1000.0 / s.writes as f64,
                s.children_cpu * 1000.0 / s.writes as f64
            );
        }
        println!("\nThe agent's `netpol_change_to_commit_seconds` (its `/metrics`) over each scenario (syncs that changed the rules; p50/p99 as the histogram's bucket bounds):\n");
        println!("| change | how | syncs | mean (ms) | p50 <= (ms) | p99 <= (ms) |");
        println!("|---|---|---:|---:|---:|---:|");
        for s in self.scenarios.iter().filter(|s| s.histogram.count > 0.0) {
            let h = &s.histogram;
            println!(
                "| {} | {} | {} | {:.1} | {} | {} |",
                s.change,
                s.how,
                h.count,
                h.sum / h.count * 1000.0,
                h.bound(0.5),
                h.bound(0.99)
            );
        }
    }
}

/// A Prometheus histogram read from `/metrics` (cumulative buckets).
#[derive(Debug, Default)]
struct Histogram {
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
}

impl Histogram {
    fn parse(text: &str, name: &str) -> Histogram {
        let value = |series: &str| http::sample(text, series).unwrap_or(0.0);
        let bucket = format!("{name}_bucket{{le=\"");
        let buckets = text
            .lines()
            .filter_map(|line| line.strip_prefix(&bucket))
            .filter_map(|rest| {
                let (le, count) = rest.split_once("\"} ")?;
                Some((if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? }, count.trim().parse().ok()?))
            })
            .collect();
        Histogram { buckets, sum: value(&format!("{name}_sum")), count: value(&format!("{name}_count")) }
    }

    fn minus(&self, before: &Histogram) -> Histogram {
        let buckets =
            self.buckets.iter().zip(&before.buckets).map(|((le, now), (_, then))| (*le, now - then)).collect();
        Histogram { buckets, sum: self.sum - before.sum, count: self.count - before.count }
    }

    /// The upper bound of the bucket holding quantile `q`, in milliseconds.
    fn bound(&self, q: f64) -> String {
        match self.buckets.iter().find(|(_, n)| *n >= q * self.count) {
            Some((le, _)) if le.is_finite() => format!("{}", le * 1000.0),
            _ => "+Inf".into(),
        }
    }
}

/// Created objects, counted as they finish, `concurrency` requests in flight.
async fn bounded<T, F, Fut>(
    what: &'static str,
    items: Vec<T>,
    concurrency: usize,
    requests_each: usize,
    stop: &AtomicBool,
    each: F,
) -> anyhow::Result<objects::Phase>
where
    F: Fn(T) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let start = Instant::now();
    let total = items.len();
    let mut shown = Instant::now();
    let mut done = 0;
    let mut results = futures::stream::iter(items.into_iter().map(each)).buffer_unordered(concurrency);
    while let Some(result) = results.next().await {
        result?;
        done += 1;
        if stop.load(Ordering::Relaxed) {
            bail!("interrupted");
        }
        if shown.elapsed() > Duration::from_secs(5) {
            shown = Instant::now();
            let rate = done as f64 / start.elapsed().as_secs_f64();
            eprintln!("  {what}: {done}/{total} ({rate:.0}/s)");
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    Ok(objects::Phase { what, objects: total, requests: total * requests_each, seconds })
}

//! `netpol agent`: watch a folder of manifests, or the Kubernetes API
//! (`--kubernetes`), and enforce it with nftables, reporting each sync on
//! stderr (text or JSON) and, with `--metrics-addr`, serving metrics and
//! health. SIGINT/SIGTERM stop it and leave the rules in place.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ipnet::IpNet;
use netpol_agent::{Config, Event, Metrics};
use netpol_nft::RenderOptions;

use crate::logs::{self, LogFormat};
use crate::output::Outcome;

#[derive(clap::Args)]
pub struct Args {
    /// The folder of manifests to enforce (watched recursively: .yaml, .yml, .json).
    #[arg(long, value_name = "DIR", required_unless_present = "kubernetes", conflicts_with = "kubernetes")]
    manifests: Option<PathBuf>,
    /// Enforce what the Kubernetes API holds: watch Namespaces, Pods and
    /// NetworkPolicies (in a pod: its service account; else as kubectl finds a
    /// kubeconfig). Nothing is applied before every first list has arrived.
    #[arg(long)]
    kubernetes: bool,
    /// With --kubernetes: the kubeconfig to use (default: in-cluster, $KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "PATH", requires = "kubernetes")]
    kubeconfig: Option<PathBuf>,
    /// With --kubernetes: the kubeconfig context to use.
    #[arg(long, value_name = "NAME", requires = "kubernetes")]
    context: Option<String>,
    /// Apply inside this named network namespace (`ip netns exec NAME`).
    #[arg(long, value_name = "NAME")]
    netns: Option<String>,
    /// Only the pods scheduled on this node (`spec.nodeName`); default: every pod
    /// (with --kubernetes: $NODE_NAME, as the DaemonSet sets it from the downward API).
    #[arg(long, value_name = "NAME")]
    node: Option<String>,
    /// This node's pod address range (repeatable): an address inside it that is no
    /// known pod is dropped until its pod appears (fail closed).
    #[arg(long = "pod-cidr", value_name = "CIDR")]
    pod_cidrs: Vec<IpNet>,
    /// After a change, delete the conntrack entries of established connections the
    /// new policies deny (default: existing connections are kept, as Calico does).
    #[arg(long)]
    reset_denied: bool,
    /// Load manifests as the API server would with field validation off.
    #[arg(long)]
    lenient: bool,
    /// Quiet time after a file event before reloading, in milliseconds.
    #[arg(long, default_value_t = 2, value_name = "MS")]
    debounce_ms: u64,
    /// Sync once and exit (0 applied or unchanged, 1 not applied because of bad input, 2 failed).
    #[arg(long)]
    once: bool,
    /// Replace the whole table every this many seconds even when nothing changed,
    /// undoing what anything else changed in `table inet netpol` (0: never).
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    resync_seconds: u64,
    /// Serve Prometheus metrics (`/metrics`), liveness (`/healthz`) and readiness
    /// (`/readyz`) over HTTP on this address, e.g. 127.0.0.1:9090 (default: no server).
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// How to log on stderr: `text` (`netpol agent: ...` lines) or `json` (one object per line).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, value_name = "FORMAT")]
    log_format: LogFormat,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    logs::init(args.log_format);
    let metrics = Arc::new(Metrics::new());
    let node = match (&args.node, args.kubernetes) {
        (None, true) => std::env::var("NODE_NAME").ok().filter(|n| !n.is_empty()),
        (node, _) => node.clone(),
    };
    let config = Config {
        manifests: args.manifests.clone().unwrap_or_default(),
        netns: args.netns,
        render: RenderOptions { node, pod_cidrs: args.pod_cidrs, ..RenderOptions::default() },
        reset_denied: args.reset_denied,
        lenient: args.lenient,
        debounce: Duration::from_millis(args.debounce_ms),
        once: args.once,
        resync: (args.resync_seconds > 0).then(|| Duration::from_secs(args.resync_seconds)),
        metrics: Some(Arc::clone(&metrics)),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).context("installing signal handlers")?;
    }
    // Stops serving when dropped, after the loop.
    let _server = match args.metrics_addr {
        Some(addr) => {
            let server = netpol_agent::serve(addr, metrics).with_context(|| format!("serving metrics on {addr}"))?;
            let addr = server.local_addr();
            tracing::info!(event = "serving", addr = %addr, "serving /metrics, /healthz and /readyz on http://{addr}");
            Some(server)
        }
        None => None,
    };
    let mut failed = None;
    let mut waiting = false;
    let mut on_event = |event: Event| {
        match &event {
            Event::Failed(why) => failed = Some(why.clone()),
            Event::Waiting { .. } => waiting = true,
            Event::Synced { .. } => failed = None,
            Event::Diagnostics(_) => {}
        }
        logs::event(&event);
    };
    if args.kubernetes {
        let cluster = netpol_kube::Source { kubeconfig: args.kubeconfig, context: args.context };
        netpol_kube::run_agent(&config, &cluster, &stop, &mut on_event)?;
    } else {
        netpol_agent::run(&config, &stop, &mut on_event)?;
    }
    if let Some(why) = failed.filter(|_| config.once) {
        anyhow::bail!("{why}");
    }
    Ok(if waiting && config.once { Outcome::Findings } else { Outcome::Clean })
}

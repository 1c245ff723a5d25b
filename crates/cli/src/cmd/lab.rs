//! `netpol lab`: pods as network namespaces on this machine, the rendered
//! ruleset enforcing, and real connections. Needs root, `ip` and `nft`.
//! `up --api` adds a Kubernetes API (etcd, kube-apiserver) and this binary's
//! `agent --kubernetes` enforcing what it holds: it prints `export
//! KUBECONFIG=...` on stdout (the rest on stderr), and `connect` and `probe`
//! then predict with what the API holds.
//!
//! Exit codes: `connect` 0 connected, 1 not; `probe` 0 when every observed
//! verdict equals the engine's, 1 on any disagreement; 2 could not run.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use netpol_lab::{state, ApiOptions, Lab, LabOptions, ProbeReport, ServerMode, Target};
use netpol_model::{PodKey, Protocol};

use crate::cmd::{load, read_cluster, InputArgs};
use crate::output::{eprint, print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

/// Which lab, and where its state lives.
#[derive(clap::Args, Clone, Debug)]
struct LabArgs {
    /// Lab id (1-12 of a-z, 0-9): several labs can be up at once.
    #[arg(long, default_value = "lab")]
    id: String,
    /// Where the state file `<id>.json` is kept.
    #[arg(long, default_value = state::DEFAULT_STATE_DIR, value_name = "DIR")]
    state_dir: PathBuf,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Build the lab: a namespace per pod, a node namespace routing between
    /// them and enforcing the rendered ruleset, servers on every containerPort,
    /// and a kube-dns pod answering Service names. Up again = apply.
    Up {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        lab: LabArgs,
        /// Do not enforce: traffic flows whatever the policies say (a cluster
        /// whose network plugin ignores NetworkPolicy).
        #[arg(long)]
        no_enforce: bool,
        /// Also run a Kubernetes API (etcd and kube-apiserver on 127.0.0.1, as
        /// tools/k8s/build.sh builds them) holding every lab pod and namespace,
        /// and `netpol agent --kubernetes` enforcing it in the node namespace;
        /// prints `export KUBECONFIG=...` on stdout: then use kubectl.
        #[arg(long, conflicts_with = "no_enforce")]
        api: bool,
        /// An address outside the cluster (e.g. 8.8.8.8) to stand up inside the
        /// lab: a namespace behind the node serving TCP and UDP on 53, 80, 443 and
        /// every declared port, so pods' egress to it is enforced and probed. Repeatable.
        #[arg(long, value_name = "IP")]
        external: Vec<IpAddr>,
    },
    /// Re-render and apply the rules (and DNS records) after the manifests changed.
    Apply {
        #[command(flatten)]
        input: InputArgs,
        #[command(flatten)]
        lab: LabArgs,
    },
    /// Remove everything the lab made (also after an interrupted `up`).
    Down {
        #[command(flatten)]
        lab: LabArgs,
    },
    /// The lab's pods: namespaces, addresses, ports.
    Status {
        #[command(flatten)]
        lab: LabArgs,
    },
    /// One real connection from inside a pod, like `kubectl exec POD -- curl TARGET`.
    /// Exit 0 connected, 1 not.
    Connect {
        /// The client pod.
        #[arg(value_name = "NS/POD")]
        from: PodKey,
        /// A Service name (resolved through the lab DNS from inside the pod) or an
        /// address; port 80 and TCP by default.
        #[arg(value_name = "TARGET[:PORT][/PROTO]")]
        target: Target,
        #[command(flatten)]
        lab: LabArgs,
        /// Per attempt (DNS query or connection), in milliseconds.
        #[arg(long, default_value_t = 2000)]
        timeout_ms: u64,
    },
    /// Real connections for every pair of pods (and from every pod to every
    /// external), compared with the engine. Exit 1 on any disagreement.
    Probe {
        #[command(flatten)]
        lab: LabArgs,
        /// Ports to probe (default: every declared containerPort).
        #[arg(long, value_delimiter = ',')]
        port: Vec<u16>,
        /// TCP, UDP (SCTP is reported and skipped: no SCTP sockets on this kernel).
        /// Default: TCP with --port, else every declared protocol.
        #[arg(long, value_delimiter = ',', value_parser = crate::cmd::check::parse_protocol)]
        protocol: Vec<Protocol>,
        /// `table` (observed truth tables and disagreements) or `json` (what was
        /// observed, in the `netpol matrix -o json` format).
        #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
        output: Format,
        /// Per attempt, in milliseconds: silence this long means blocked.
        #[arg(long, default_value_t = 1000)]
        timeout_ms: u64,
        /// Attempts in flight at once.
        #[arg(long, default_value_t = 64)]
        parallel: usize,
    },
    /// (internal) Run the pods' servers of a lab until it is down.
    #[command(hide = true)]
    Serve {
        #[command(flatten)]
        lab: LabArgs,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Command::Up { input, lab, no_enforce, api, external } => up(&input, &lab, !no_enforce, api, &external),
        Command::Apply { input, lab } => apply(&input, &lab),
        Command::Down { lab } => {
            let api = Lab::open(&lab.id, &lab.state_dir).ok().and_then(|l| l.state().api.clone());
            let removed = Lab::down_by_id(&lab.id, &lab.state_dir)?;
            let mut text = format!("lab `{}` is down: removed {} network namespaces\n", lab.id, removed.len());
            if let Some(api) = api {
                text.push_str(&format!(
                    "stopped its agent, kube-apiserver and etcd, and removed {}\n",
                    api.dir.display()
                ));
            }
            print(&text)?;
            Ok(Outcome::Clean)
        }
        Command::Status { lab } => {
            let lab = Lab::open(&lab.id, &lab.state_dir)?;
            print(&status(&lab)?)?;
            Ok(Outcome::Clean)
        }
        Command::Connect { from, target, lab, timeout_ms } => connect(&lab, &from, &target, timeout_ms),
        Command::Probe { lab, port, protocol, output, timeout_ms, parallel } => {
            probe(&lab, &port, &protocol, output, timeout_ms, parallel)
        }
        Command::Serve { lab } => {
            netpol_lab::serve_detached(&lab.id, &lab.state_dir)?;
            Ok(Outcome::Clean)
        }
    }
}

fn up(
    input: &InputArgs,
    args: &LabArgs,
    enforce: bool,
    with_api: bool,
    externals: &[IpAddr],
) -> anyhow::Result<Outcome> {
    if state::path(&args.state_dir, &args.id).exists() {
        anyhow::ensure!(
            !with_api,
            "lab `{0}` is already up; run `netpol lab down --id {0}` first to build it again with --api",
            args.id
        );
        if !externals.is_empty() {
            let lab = Lab::open(&args.id, &args.state_dir)?;
            let has: Vec<IpAddr> = lab.topology()?.externals.iter().map(|e| e.ip).collect();
            anyhow::ensure!(
                externals.iter().all(|ip| has.contains(ip)),
                "lab `{0}` is already up without some of those --external addresses; run `netpol lab down --id {0}` \
                 first to build it again with them",
                args.id
            );
        }
        eprint(&format!("lab `{}` is already up: applying the manifests to it\n", args.id));
        return apply(input, args);
    }
    let cluster = load(input)?;
    let program = std::env::current_exe().context("finding the netpol executable for `lab serve`")?;
    let api = if with_api { Some(ApiOptions::locate(program.clone(), vec!["agent".into()])?) } else { None };
    let options = LabOptions {
        id: args.id.clone(),
        state_dir: args.state_dir.clone(),
        servers: ServerMode::Detached { program, args: vec!["lab".into(), "serve".into()] },
        enforce,
        api,
    };
    if with_api {
        eprint(&format!(
            "building lab `{}` with a Kubernetes API (the API server takes 10-30 s to start)...\n",
            args.id
        ));
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&interrupted))
        .context("installing the Ctrl-C handler")?;
    let lab = Lab::up_with_externals(&cluster, externals, &options, &|| interrupted.load(Ordering::SeqCst))?;
    let mut text = String::new();
    if let Ok(topology) = lab.topology() {
        for note in &topology.notes {
            text.push_str(&format!("note: {note}\n"));
        }
    }
    text.push_str(&status(&lab)?);
    let kubeconfig = lab.state().api.as_ref().map(|api| api.kubeconfig.clone());
    text.push_str(match (&kubeconfig, enforce) {
        (Some(_), _) => "policies and labels come from the API now: kubectl apply, label, edit (-f gave the pods)\n",
        (None, true) => "enforcing: the rendered ruleset is applied in the node namespace\n",
        (None, false) => "NOT enforcing (--no-enforce): every connection flows whatever the policies say\n",
    });
    text.push_str(&format!("down with: netpol lab down --id {}\n", args.id));
    lab.detach();
    match kubeconfig {
        // Only the export on stdout: `eval "$(netpol lab up --api ...)"` sets it.
        Some(kubeconfig) => {
            eprint(&text);
            print(&format!("export KUBECONFIG={}\n", shell_quote(&kubeconfig.display().to_string())))?;
        }
        None => print(&text)?,
    }
    Ok(Outcome::Clean)
}

/// `text` as one shell word (quoted only when it needs to be).
fn shell_quote(text: &str) -> String {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@".contains(&b)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// For a lab with an API: predict with what the API holds now (the policies
/// and labels kubectl changed), not with what `up` was given.
fn follow_api(lab: &mut Lab) -> anyhow::Result<()> {
    let Some(api) = lab.state().api.clone() else { return Ok(()) };
    let input = InputArgs {
        files: Vec::new(),
        kubeconfig: Some(api.kubeconfig.clone()),
        context: None,
        without: Vec::new(),
        lenient: false,
        max_input_bytes: None,
    };
    let (live, _) = read_cluster(&input).with_context(|| format!("reading lab `{}`'s API", lab.id()))?;
    lab.use_cluster(&live.cluster)?;
    Ok(())
}

fn apply(input: &InputArgs, args: &LabArgs) -> anyhow::Result<Outcome> {
    let cluster = load(input)?;
    let mut lab = Lab::open(&args.id, &args.state_dir)?;
    match lab.apply(&cluster)? {
        Some(e) => print(&format!(
            "applied to lab `{}` in {:.1} ms: {} ({} bytes); DNS records updated\n",
            args.id,
            e.duration.as_secs_f64() * 1000.0,
            e.stats,
            e.bytes
        ))?,
        None => print(&format!("lab `{}` does not enforce (--no-enforce): DNS records updated\n", args.id))?,
    }
    Ok(Outcome::Clean)
}

fn status(lab: &Lab) -> anyhow::Result<String> {
    let topology = lab.topology()?;
    let width = topology.pods.iter().map(|p| p.key.to_string().len()).max().unwrap_or(0);
    let mut text = format!("lab `{}`: node namespace {}\n", lab.id(), topology.node_netns);
    for pod in &topology.pods {
        let ips: Vec<String> = pod.ips.iter().map(ToString::to_string).collect();
        let ports: Vec<String> = pod.ports.iter().map(|p| format!("{}/{}", p.port, p.protocol)).collect();
        let dns = if pod.dns { "  (cluster DNS)" } else { "" };
        text.push_str(&format!(
            "  {:width$}  {:<16} {}  serves {}{dns}\n",
            pod.key.to_string(),
            ips.join(","),
            pod.netns,
            if ports.is_empty() { "nothing".to_string() } else { ports.join(" ") }
        ));
    }
    for external in &topology.externals {
        let ports: Vec<String> = external.ports.iter().map(|p| format!("{}/{}", p.port, p.protocol)).collect();
        text.push_str(&format!(
            "  {:width$}  {:<16} {}  serves {}  (external)\n",
            "external",
            external.ip.to_string(),
            external.netns,
            ports.join(" ")
        ));
    }
    if let Some(api) = &lab.state().api {
        let pids: Vec<String> = api.processes.iter().map(|p| format!("{} {}", p.name, p.pid)).collect();
        text.push_str(&format!(
            "Kubernetes API {} (kubeconfig {}); pods on node {}\n",
            api.server.as_deref().unwrap_or("(not started)"),
            api.kubeconfig.display(),
            api.node
        ));
        text.push_str(&format!("  processes: {}; the agent's log: {}\n", pids.join(", "), api.agent_log.display()));
    }
    Ok(text)
}

fn connect(args: &LabArgs, from: &PodKey, target: &Target, timeout_ms: u64) -> anyhow::Result<Outcome> {
    let mut lab = Lab::open(&args.id, &args.state_dir)?;
    follow_api(&mut lab)?;
    let connection = lab.connect(from, target, Duration::from_millis(timeout_ms))?;
    let prediction = lab.predict(&connection)?;
    let verdict = |allowed: bool| if allowed { "allowed" } else { "denied" };
    let mut text = connection.to_string();
    let mut engine = Vec::new();
    if let Some(dns) = prediction.dns {
        engine.push(format!("DNS query {}", verdict(dns)));
    }
    if let Some(allowed) = prediction.connection {
        engine.push(format!("connection {}", verdict(allowed)));
    }
    if !engine.is_empty() {
        text.push_str(&format!("  engine: {}\n", engine.join(", ")));
    }
    print(&text)?;
    Ok(if connection.connected() { Outcome::Clean } else { Outcome::Findings })
}

fn probe(
    args: &LabArgs,
    ports: &[u16],
    protocols: &[Protocol],
    output: Format,
    timeout_ms: u64,
    parallel: usize,
) -> anyhow::Result<Outcome> {
    let mut lab = Lab::open(&args.id, &args.state_dir)?;
    follow_api(&mut lab)?;
    let topology = lab.topology()?;
    let targets: Vec<(u16, Protocol)> = if ports.is_empty() {
        netpol_lab::probe::declared_targets(topology)
            .into_iter()
            .filter(|(_, proto)| protocols.is_empty() || protocols.contains(proto))
            .collect()
    } else {
        let protocols = if protocols.is_empty() { &[Protocol::Tcp][..] } else { protocols };
        protocols.iter().flat_map(|proto| ports.iter().map(move |port| (*port, *proto))).collect()
    };
    anyhow::ensure!(!targets.is_empty(), "nothing to probe: no pod declares a port of those protocols (use --port)");
    let report: ProbeReport = lab.probe(&targets, Duration::from_millis(timeout_ms), parallel)?;
    match output {
        Format::Table => print(&report.text())?,
        Format::Json => {
            print(&report.truth_tables().json())?;
            for skipped in &report.observed.skipped {
                eprint(&format!("skipped {skipped}\n"));
            }
            for d in &report.disagreements {
                eprint(&format!("disagreement: {d}\n"));
            }
        }
    }
    Ok(if report.disagreements.is_empty() { Outcome::Clean } else { Outcome::Findings })
}

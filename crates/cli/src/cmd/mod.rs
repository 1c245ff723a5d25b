//! One module per subcommand: `Args` (clap) and `run(Args) -> Result<Outcome>`,
//! plus the input handling every command shares.

use std::path::PathBuf;

use anyhow::Context as _;
use netpol_input::ReadOptions;
use netpol_manifest::api::{Live, Owner};
use netpol_manifest::overlay::{overlay, ObjectRef};
use netpol_manifest::{LoadOptions, Loaded, Severity};
use netpol_model::{Cluster, PodKey};

use crate::output::eprint;
use crate::progress::Progress;

pub mod agent;
pub mod check;
pub mod completions;
pub mod convert;
pub mod create;
pub mod describe;
pub mod diff;
pub mod explain;
pub mod exposure;
pub mod get;
pub mod graph;
pub mod lab;
pub mod lint;
pub mod matrix;
pub mod render;
pub mod synth;
pub mod validate;

/// `-f PATH` (repeatable), `--lenient`, and the cluster to read: what every
/// command that evaluates takes. See [`load_input`] for how they combine.
#[derive(clap::Args, Clone, Debug)]
pub struct InputArgs {
    /// Manifest file, folder (recursive: .yaml, .yml, .json) or `-` for stdin. Repeatable.
    /// With a cluster: evaluate as if these files were applied to it (what-if).
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Read the live cluster through this kubeconfig. Without -f, the cluster is
    /// read anyway when a kubeconfig is found ($KUBECONFIG, ~/.kube/config, in-cluster).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (reads the cluster).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Evaluate as if this object were deleted: [KIND/]NAMESPACE/NAME, KIND
    /// defaulting to networkpolicy (`default/default-deny`, `deploy/shop/web`,
    /// `ns/shop`). Repeatable; an object that is not there is an error.
    #[arg(long, value_name = "[KIND/]NS/NAME")]
    pub without: Vec<ObjectRef>,
    /// Evaluate what the API server would store with field validation off: unknown
    /// fields become warnings and are dropped (objects the API server rejects stay out).
    #[arg(long)]
    pub lenient: bool,
    /// Refuse a file, stdin, or all input together, larger than this many bytes
    /// (default 1 GiB per file and 4 GiB in all; this sets both).
    #[arg(long, value_name = "BYTES")]
    pub max_input_bytes: Option<u64>,
}

/// Reads and validates the files without judging them (for `validate`).
pub fn read(input: &InputArgs) -> anyhow::Result<Loaded> {
    if input.files.is_empty() {
        return Ok(Loaded::default());
    }
    let sources = read_sources(input)?;
    let options = LoadOptions { lenient: input.lenient, ..LoadOptions::default() };
    Ok(netpol_manifest::load(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())), &options))
}

/// Reads the `-f` files (notes on stderr), for a command that needs their text
/// after loading them (`lint` locates fields in it).
pub fn read_sources(input: &InputArgs) -> anyhow::Result<Vec<netpol_input::Source>> {
    let limits = input.max_input_bytes.map_or_else(ReadOptions::default, ReadOptions::with_max_bytes);
    let read = netpol_input::read_inputs(&input.files, &limits).context("reading manifests")?;
    eprint(&read.notes.iter().map(|n| format!("note: {n}\n")).collect::<String>());
    Ok(read.sources)
}

/// `-n NS` / `-A`: which namespaces a command prints, as in kubectl. Peers in
/// other namespaces are always read.
#[derive(clap::Args, Clone, Debug)]
pub struct ScopeArgs {
    /// Only this namespace. Default: the kubeconfig context's namespace when a
    /// cluster is read (as kubectl), every namespace for files alone.
    #[arg(short = 'n', long = "namespace", value_name = "NS", conflicts_with = "all_namespaces")]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
}

impl ScopeArgs {
    /// The namespace to print, or `None` for all.
    pub fn namespace<'a>(&'a self, context: Option<&'a str>) -> Option<&'a str> {
        if self.all_namespaces {
            return None;
        }
        self.namespace.as_deref().or(context)
    }
}

/// What a command evaluates, and where it came from.
pub struct Input {
    pub cluster: Cluster,
    /// The kubeconfig context's namespace when a cluster was read (kubectl's
    /// default for `get` and `describe`).
    pub context_namespace: Option<String>,
}

/// Loads the cluster for a command that evaluates it: prints every diagnostic on
/// stderr; in strict mode, refuses input with errors.
pub fn load(input: &InputArgs) -> anyhow::Result<Cluster> {
    Ok(load_input(input)?.cluster)
}

/// The files alone (`-f`); the live cluster alone (`--kubeconfig`/`--context`, or
/// no `-f` and a kubeconfig that exists); or both: the files applied on top of
/// the cluster. Then `--without` deletes objects.
pub fn load_input(input: &InputArgs) -> anyhow::Result<Input> {
    let wants_cluster = wants_cluster(input);
    if input.files.is_empty() && !wants_cluster {
        anyhow::bail!(
            "nothing to read: give manifests with -f PATH, or a cluster with --kubeconfig PATH or --context NAME \
             (no kubeconfig found in $KUBECONFIG or ~/.kube/config, and not running in a pod)"
        );
    }
    let (live, context_namespace) =
        if wants_cluster { read_cluster(input).map(|(live, ns)| (Some(live), Some(ns)))? } else { (None, None) };
    let mut files = if input.files.is_empty() { Cluster::default() } else { load_files(input, live.as_ref())? };
    let live = match live {
        Some(live) => live,
        None => {
            let owners = vec![None; files.pods.len()];
            Live { cluster: std::mem::take(&mut files), owners, notes: Vec::new() }
        }
    };
    let cluster = overlay(live, files, &input.without)?;
    Ok(Input { cluster, context_namespace })
}

/// The live cluster and the same cluster as if the files were applied (and
/// `--without` deleted): the two sides of `netpol diff --kubeconfig .. -f ..`.
pub struct WhatIf {
    pub live: Cluster,
    pub proposed: Cluster,
    /// The workload each live pod descends from.
    pub owners: Vec<(PodKey, Owner)>,
}

/// Reads the cluster once (`--kubeconfig`, `--context`, else the kubeconfig
/// kubectl would use) and applies the files on top as [`load_input`] does.
pub fn load_what_if(input: &InputArgs) -> anyhow::Result<WhatIf> {
    if input.kubeconfig.is_none() && input.context.is_none() && !netpol_kube::Source::discoverable() {
        anyhow::bail!(
            "nothing to compare: give OLD and NEW (files or folders), or a cluster with --kubeconfig PATH or \
             --context NAME and the proposed files with -f PATH (no kubeconfig found in $KUBECONFIG or \
             ~/.kube/config, and not running in a pod)"
        );
    }
    let (live, _) = read_cluster(input)?;
    let files = if input.files.is_empty() { Cluster::default() } else { load_files(input, Some(&live))? };
    let owners = live.cluster.pods.iter().zip(&live.owners).filter_map(|(p, o)| Some((p.key(), o.clone()?))).collect();
    let current = overlay(live.clone(), Cluster::default(), &[])?;
    let proposed = overlay(live, files, &input.without)?;
    Ok(WhatIf { live: current, proposed, owners })
}

/// Refuses a cluster with ordered policies (AdminNetworkPolicy, ClusterNetworkPolicy,
/// Calico...) for a command that does not evaluate them yet, rather than answer
/// as if they were not there.
pub fn v1_only(cluster: &Cluster, command: &str) -> anyhow::Result<()> {
    let Some(first) = cluster.tiered.first() else { return Ok(()) };
    let at = first.origin.as_ref().map(|o| format!(" at {o}")).unwrap_or_default();
    anyhow::bail!(
        "`netpol {command}` does not evaluate ordered policies yet, and the input has {} ({}{at}): \
         its answers would leave them out. `netpol check` explains flows through them (docs/semantics.md, \
         \"Ordered policies\")",
        cluster.tiered.len(),
        first.key()
    )
}

/// True when the input includes the live cluster (see [`load_input`]).
pub fn wants_cluster(input: &InputArgs) -> bool {
    input.kubeconfig.is_some()
        || input.context.is_some()
        || (input.files.is_empty() && netpol_kube::Source::discoverable())
}

/// Reads the live state through the Kubernetes API (progress on stderr, notes after it).
pub fn read_cluster(input: &InputArgs) -> anyhow::Result<(Live, String)> {
    let source = netpol_kube::Source { kubeconfig: input.kubeconfig.clone(), context: input.context.clone() };
    let connection = netpol_kube::connect(&source)?;
    let progress = Progress::start(&format!("reading the cluster at {}", connection.server));
    let read = connection.read(&mut |line| progress.message(line.to_string()));
    progress.finish();
    let read = read?;
    let live = netpol_manifest::api::from_api(&read.objects);
    let notes: String = read.notes.iter().chain(&live.notes).map(|n| format!("note: {n}\n")).collect();
    eprint(&notes);
    Ok((live, connection.namespace))
}

/// Loads `-f`: prints every diagnostic (but the namespaces the live cluster
/// declares, which the files need not); refuses errors unless `--lenient`.
fn load_files(input: &InputArgs, live: Option<&Live>) -> anyhow::Result<Cluster> {
    let progress = Progress::start("loading manifests");
    let loaded = read(input);
    progress.finish();
    let mut loaded = loaded?;
    if let Some(live) = live {
        loaded.diagnostics.retain(|d| {
            d.code != "NP0052" // IMPLICIT_NAMESPACE
                || !live.cluster.namespaces.values().any(|ns| {
                    ns.declared && d.message.starts_with(&format!("namespace `{}` ", ns.name))
                })
        });
    }
    print_diagnostics(&loaded);
    refuse(&loaded, input.lenient)?;
    Ok(loaded.cluster)
}

/// Refuses input with errors (unless `lenient`), and input that left a
/// NetworkPolicy out (always): what every command that evaluates does.
pub fn refuse(loaded: &Loaded, lenient: bool) -> anyhow::Result<()> {
    let errors = loaded.errors().count();
    if errors > 0 && !lenient {
        anyhow::bail!(
            "the input has {errors} error{}; fix {} (see `netpol validate`), or rerun with --lenient to \
             evaluate what the API server would store with validation off",
            plural(errors),
            if errors == 1 { "it" } else { "them" }
        );
    }
    // Under --lenient too: a NetworkPolicy left out would show the pairs it denies as allowed.
    if let Some(first) = loaded.refused.first() {
        let n = loaded.refused.len();
        let more = if n > 1 { format!(" and {} more", n - 1) } else { String::new() };
        anyhow::bail!(
            "{first}{more} could not be loaded (see the errors above): evaluating without {} would report \
             the connections {} denies as allowed; fix {}",
            if n == 1 { "it" } else { "them" },
            if n == 1 { "it" } else { "they" },
            if n == 1 { "it" } else { "them" },
        );
    }
    Ok(())
}

/// True for the words kubectl takes for NetworkPolicies (`get`, `describe`).
pub fn is_network_policy_resource(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    matches!(lower.as_str(), "networkpolicy" | "networkpolicies" | "netpol" | "networkpolicies.networking.k8s.io")
}

/// Prints every diagnostic on stderr, in input order.
pub fn print_diagnostics(loaded: &Loaded) {
    let mut text = String::new();
    for d in &loaded.diagnostics {
        text.push_str(&d.to_string());
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    eprint(&text);
}

/// Counts of (errors, warnings) in a load.
pub fn counts(loaded: &Loaded) -> (usize, usize) {
    let errors = loaded.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = loaded.diagnostics.iter().filter(|d| d.severity == Severity::Warning).count();
    (errors, warnings)
}

pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

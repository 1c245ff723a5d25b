//! `netpol create networkpolicy NAME`: the command seed 002's table describes
//! (kubectl has no such subcommand). The object is built by
//! `netpol_manifest::create`; this module holds the flags and the output.
//!
//! `--dry-run=client` prints it (`-o yaml`, the default, or `-o json`).
//! Otherwise it is created through the API (`netpol_kube`), or only validated
//! by the server with `--dry-run=server`, in the cluster of `--kubeconfig` /
//! `--context` (default: $KUBECONFIG, ~/.kube/config, in-cluster); without
//! `-n` it goes to the context's namespace.

use std::path::PathBuf;

use netpol_manifest::create::{self, CreateError, NetworkPolicy, Request};

use crate::output::{eprint, print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(clap::Subcommand)]
enum Kind {
    /// A NetworkPolicy that isolates the selected pods for the given policy types
    /// and allows nothing (a default deny), or, with --allow-dns, only DNS egress.
    #[command(visible_alias = "netpol")]
    Networkpolicy(NetworkPolicyArgs),
}

#[derive(clap::Args)]
pub struct NetworkPolicyArgs {
    /// The policy's name (lowercase letters, digits, '-' and '.').
    name: String,
    /// The policy's namespace; when omitted, metadata.namespace is left out (as
    /// kubectl does), so the policy goes where it is applied.
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// The pods the policy applies to: `key=value[,key=value]`; empty or omitted
    /// selects every pod of the namespace (`podSelector: {}`).
    #[arg(long, value_name = "SELECTOR", default_value = "")]
    pod_selector: String,
    /// `Ingress`, `Egress` or `Ingress,Egress`: the directions the selected pods are
    /// isolated in.
    #[arg(long, value_name = "TYPES", required = true)]
    policy_types: String,
    /// Allow egress to kube-dns (pods `k8s-app: kube-dns` in namespace kube-system)
    /// on 53/UDP and 53/TCP. Adds Egress to --policy-types when it is missing (with a
    /// note on stderr).
    #[arg(long)]
    allow_dns: bool,
    /// `client` prints the object without a cluster; `server` and `none` (the
    /// default) need a cluster connection. A bare --dry-run is `client`.
    #[arg(long, value_enum, default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    dry_run: DryRun,
    /// Output format of the printed object (through the API: the object the
    /// server returned; without -o, kubectl's one line `... created`).
    #[arg(short = 'o', long = "output", value_enum)]
    output: Option<Format>,
    /// The cluster to create it in (kubectl's flag; default: $KUBECONFIG,
    /// ~/.kube/config, or in-cluster). Not used with --dry-run=client.
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum DryRun {
    None,
    Client,
    Server,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Yaml,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.kind {
        Kind::Networkpolicy(args) => networkpolicy(args),
    }
}

fn networkpolicy(args: NetworkPolicyArgs) -> anyhow::Result<Outcome> {
    let policy = object(&args)?;
    match args.dry_run {
        DryRun::Client => {
            let text = match args.output.unwrap_or(Format::Yaml) {
                Format::Yaml => create::to_yaml(&policy)?,
                Format::Json => create::to_json(&policy)?,
            };
            print(&text)?;
            Ok(Outcome::Clean)
        }
        DryRun::Server | DryRun::None => {
            let source = netpol_kube::Source { kubeconfig: args.kubeconfig.clone(), context: args.context.clone() };
            if source.kubeconfig.is_none() && source.context.is_none() && !netpol_kube::Source::discoverable() {
                anyhow::bail!(
                    "creating through the API needs a cluster: give --kubeconfig PATH or --context NAME (no \
                     kubeconfig in $KUBECONFIG or ~/.kube/config), or print it with --dry-run=client -o yaml"
                );
            }
            let connection = netpol_kube::connect(&source)?;
            let server_dry_run = args.dry_run == DryRun::Server;
            let created = connection.create_network_policy(&policy, server_dry_run)?;
            let text = match args.output {
                Some(Format::Yaml) => create::to_yaml(&created)?,
                Some(Format::Json) => create::to_json(&created)?,
                None => format!(
                    "networkpolicy.networking.k8s.io/{} created{}\n",
                    created.metadata.name.as_deref().unwrap_or(&args.name),
                    if server_dry_run { " (server dry run)" } else { "" }
                ),
            };
            print(&text)?;
            Ok(Outcome::Clean)
        }
    }
}

/// The object to create: the flags checked and built into a NetworkPolicy; notes
/// (what was added to the request) go to stderr.
pub fn object(args: &NetworkPolicyArgs) -> anyhow::Result<NetworkPolicy> {
    let request = Request {
        name: args.name.clone(),
        namespace: args.namespace.clone(),
        pod_selector: args.pod_selector.clone(),
        policy_types: args.policy_types.clone(),
        allow_dns: args.allow_dns,
    };
    let created = create::network_policy(&request).map_err(|e| match flag(&e) {
        Some(flag) => anyhow::Error::new(e).context(flag),
        None => e.into(),
    })?;
    eprint(&created.notes.iter().map(|n| format!("note: {n}\n")).collect::<String>());
    Ok(created.policy)
}

/// The flag an error is about, when its message does not say it (name and
/// namespace errors do).
fn flag(error: &CreateError) -> Option<&'static str> {
    match error {
        CreateError::NotAPair { .. }
        | CreateError::LabelKey { .. }
        | CreateError::LabelValue { .. }
        | CreateError::DuplicateKey { .. } => Some("--pod-selector"),
        CreateError::PolicyType { .. } | CreateError::NoPolicyType => Some("--policy-types"),
        CreateError::Name { .. } | CreateError::Namespace { .. } | CreateError::Print(_) => None,
    }
}

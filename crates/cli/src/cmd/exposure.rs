//! `netpol exposure`: what could reach a pod or workload (or what it could
//! reach) beyond the pods that exist now, as selectors. The answer is
//! `netpol_engine::Engine::exposure`; the text `netpol_print::exposure_text`.

use anyhow::Context as _;
use netpol_engine::{Engine, Exposure, Options};
use netpol_model::{Direction, PodKey};

use crate::cmd::{load, InputArgs};
use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// The pod or workload (NAMESPACE/NAME). Without it: every pod and workload,
    /// those whose exposure reads alike listed together.
    #[arg(value_name = "NS/NAME")]
    subject: Option<PodKey>,
    /// `ingress` (what could connect to it), `egress` (what it could connect to), or `both`.
    #[arg(long, value_enum, default_value = "both")]
    direction: Which,
    /// `text` or `json` (a list of exposures, one per subject and direction).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Format,
    /// Do not let ipBlock peers match pod IPs (as Cilium does); see `netpol check`.
    #[arg(long)]
    ipblock_ignores_pods: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Ingress,
    Egress,
    Both,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let cluster = load(&args.input)?;
    crate::cmd::v1_only(&cluster, "exposure")?;
    let engine = Engine::new(&cluster, Options { ipblock_matches_pods: !args.ipblock_ignores_pods });
    let directions: &[Direction] = match args.direction {
        Which::Ingress => &[Direction::Ingress],
        Which::Egress => &[Direction::Egress],
        Which::Both => &[Direction::Ingress, Direction::Egress],
    };
    let subjects: Vec<_> = match &args.subject {
        Some(key) => vec![cluster
            .pod(key)
            .with_context(|| format!("{key}: no such pod or workload in the input (NAMESPACE/NAME)"))?],
        None => cluster.pods.iter().filter(|p| !p.host_network).collect(),
    };
    let per_subject: Vec<Vec<Exposure>> =
        subjects.iter().map(|p| directions.iter().map(|d| engine.exposure(p, *d)).collect()).collect();
    let text = match args.output {
        Format::Json => serde_json::to_string_pretty(&per_subject.concat())? + "\n",
        Format::Text if args.subject.is_some() => netpol_print::exposure_text(&per_subject[0], true),
        Format::Text => netpol_print::exposures_grouped(&per_subject),
    };
    print(&text)?;
    Ok(Outcome::Clean)
}

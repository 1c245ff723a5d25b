//! `netpol diff`: which ordered pairs of endpoints gain or lose connections
//! between two versions of a cluster, and which policy objects did it.
//!
//! `netpol diff OLD NEW` compares two sets of manifests (each read as `-f`
//! reads it, with the same strict loading and refusals as `matrix`);
//! `netpol diff --kubeconfig .. -f PROPOSED` compares the live cluster with the
//! same cluster as if the files were applied (and `--without` deleted). The
//! comparison is `netpol_matrix::Compiled::diff`; the printing `netpol_print::diff`.

use std::path::PathBuf;

use netpol_matrix::{Compiled, Options};
use netpol_print::{DiffFormat, Workloads};

use crate::cmd::{load, load_what_if, InputArgs};
use crate::output::{print, Outcome};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    /// OLD and NEW: each a manifest file, folder (recursive) or `-` for stdin.
    /// Without them: the live cluster against the cluster with `-f` applied.
    #[arg(value_name = "OLD NEW", num_args = 0..=2)]
    sides: Vec<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
    /// Which changes exit 1: connections `added` (opened), `removed` (closed), or `any`.
    /// Endpoints present on one side only never do.
    #[arg(long, value_enum, default_value = "any")]
    fail_on: FailOn,
    /// `text`, `json` (every pair) or `md` (a pull-request comment).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Format,
    /// Do not let ipBlock peers match pod IPs (as Cilium does); see `netpol check`.
    #[arg(long)]
    ipblock_ignores_pods: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FailOn {
    Added,
    Removed,
    Any,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Md,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (old, new, workloads) = match args.sides.as_slice() {
        [old, new] => {
            let input = &args.input;
            if !input.files.is_empty() || input.kubeconfig.is_some() || input.context.is_some() {
                anyhow::bail!(
                    "give either OLD and NEW, or a cluster (--kubeconfig/--context) and the proposed files with -f, not both"
                );
            }
            if !input.without.is_empty() {
                anyhow::bail!("--without goes with a cluster (live against proposed); with OLD and NEW, edit NEW");
            }
            if old.as_os_str() == "-" && new.as_os_str() == "-" {
                anyhow::bail!("OLD and NEW cannot both be `-` (stdin is read once)");
            }
            let side = |path: &PathBuf| InputArgs { files: vec![path.clone()], ..input.clone() };
            (load(&side(old))?, load(&side(new))?, Workloads::new())
        }
        [] => {
            let what_if = load_what_if(&args.input)?;
            let workloads: Workloads = what_if
                .owners
                .into_iter()
                .map(|(pod, (kind, ns, name))| (pod, format!("{} {ns}/{name}", kind.as_str())))
                .collect();
            (what_if.live, what_if.proposed, workloads)
        }
        _ => anyhow::bail!("give both OLD and NEW (files or folders), or neither (a cluster and -f PROPOSED)"),
    };
    crate::cmd::v1_only(&old, "diff")?;
    crate::cmd::v1_only(&new, "diff")?;
    let progress = Progress::start(&format!(
        "comparing {} and {} pods, {} and {} policies",
        old.pods.len(),
        new.pods.len(),
        old.policies.len(),
        new.policies.len()
    ));
    let options = Options { ipblock_matches_pods: !args.ipblock_ignores_pods };
    let diff = Compiled::build(&old, options).diff(&Compiled::build(&new, options));
    progress.finish();
    let format = match args.output {
        Format::Text => DiffFormat::Text,
        Format::Json => DiffFormat::Json,
        Format::Md => DiffFormat::Md,
    };
    print(&netpol_print::diff(&diff, &workloads, format))?;
    let fails = match args.fail_on {
        FailOn::Added => diff.has_added(),
        FailOn::Removed => diff.has_removed(),
        FailOn::Any => !diff.pairs.is_empty(),
    };
    Ok(if fails { Outcome::Findings } else { Outcome::Clean })
}

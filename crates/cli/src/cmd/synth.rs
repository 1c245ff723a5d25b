//! `netpol synth`: writes a seeded synthetic cluster as manifests (to stdout, or files in a folder).

use std::path::PathBuf;

use anyhow::Context as _;
use netpol_synth::{documents, generate_shaped, stream, Shape, Spec};

use crate::output::{eprint, print, Outcome};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    /// Namespaces (`kube-system`, `monitoring`, then team namespaces).
    #[arg(long, default_value_t = 10)]
    namespaces: usize,
    /// Pods, exactly.
    #[arg(long, default_value_t = 100)]
    pods: usize,
    /// NetworkPolicies, exactly.
    #[arg(long, default_value_t = 20)]
    policies: usize,
    /// The seed: the same arguments always write the same manifests.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// `default` (workloads of 1-20 replicas, three fixed ipBlocks: the shape of the
    /// first benchmarks) or `realistic` (20 replicas each, 300 distinct ipBlocks, some
    /// inside the pod range: the hard shape of issue 12).
    #[arg(long, value_enum, default_value = "default")]
    shape: ShapeArg,
    /// Replicas of every workload (overrides the shape's).
    #[arg(long, value_name = "N")]
    replicas: Option<usize>,
    /// Distinct ipBlocks in the policies' CIDR rules (overrides the shape's).
    #[arg(long, value_name = "N")]
    ip_blocks: Option<usize>,
    /// Add N AdminNetworkPolicies (each guarding a team's namespaces; written to admin.yaml).
    #[arg(long, value_name = "N", default_value_t = 0)]
    admin_policies: usize,
    /// Add the BaselineAdminNetworkPolicy (`default`).
    #[arg(long)]
    baseline: bool,
    /// Write files into this folder (`namespaces.yaml`, `pods/<ns>.yaml`,
    /// `policies/<ns>.yaml`, `admin.yaml`) instead of one YAML stream on stdout.
    #[arg(short = 'o', long = "output-dir", value_name = "DIR")]
    output_dir: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ShapeArg {
    Default,
    Realistic,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let spec = Spec { namespaces: args.namespaces, pods: args.pods, policies: args.policies, seed: args.seed };
    let mut shape = match args.shape {
        ShapeArg::Default => Shape::default(),
        ShapeArg::Realistic => Shape::realistic(),
    };
    shape.replicas = args.replicas.or(shape.replicas);
    shape.ip_blocks = args.ip_blocks.unwrap_or(shape.ip_blocks);
    shape.admin_policies = args.admin_policies;
    shape.baseline = args.baseline;
    let progress = Progress::start(&format!("generating {} pods, {} policies", spec.pods, spec.policies));
    let cluster = generate_shaped(&spec, &shape);
    let Some(dir) = args.output_dir else {
        let text = stream(&cluster);
        progress.finish();
        print(&text)?;
        return Ok(Outcome::Clean);
    };
    let docs = documents(&cluster);
    progress.message(format!("writing {} files", docs.len()));
    for doc in &docs {
        let path = dir.join(&doc.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, &doc.text).with_context(|| format!("writing {}", path.display()))?;
    }
    progress.finish();
    eprint(&format!(
        "wrote {} namespaces, {} pods, {} policies in {} files under {}\n",
        cluster.namespaces.len(),
        cluster.pods.len(),
        cluster.policies.len(),
        docs.len(),
        dir.display()
    ));
    Ok(Outcome::Clean)
}

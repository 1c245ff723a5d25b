//! `netpol validate`: every finding, like the API server and
//! `kubectl apply --validate=strict`. Exit 0 clean, 1 any error, 2 could not run.

use netpol_manifest::overlay::overlay;

use crate::cmd::{counts, plural, read, read_cluster, wants_cluster, InputArgs};
use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// Output format: `text` (file:line:col: error[NPxxxx]: message) or `json`
    /// (a list of {code, severity, file, line, column, message, help}).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut loaded = read(&args.input)?;
    if wants_cluster(&args.input) {
        // The live objects passed the API server's validation; what is left to
        // find is cluster-wide (the DNS trap), on the files applied on top.
        let (live, _) = read_cluster(&args.input)?;
        let merged = overlay(live, loaded.cluster.clone(), &args.input.without)?;
        for d in netpol_manifest::lint(&merged) {
            if !loaded.diagnostics.contains(&d) {
                loaded.diagnostics.push(d);
            }
        }
        loaded.cluster = merged;
    }
    let (errors, warnings) = counts(&loaded);
    match args.output {
        Format::Json => print(&(serde_json::to_string_pretty(&loaded.diagnostics)? + "\n"))?,
        Format::Text => {
            let mut out = String::new();
            for d in &loaded.diagnostics {
                out.push_str(&d.to_string());
                if !out.ends_with('\n') {
                    out.push('\n');
                }
            }
            let objects = loaded.cluster.policies.len()
                + loaded.cluster.pods.len()
                + loaded.cluster.services.len()
                + loaded.cluster.namespaces.values().filter(|n| n.declared).count()
                + loaded.cluster.tiered.len()
                + loaded.cluster.tiers.len()
                + loaded.cluster.nodes.len()
                + loaded.cluster.service_accounts.len();
            out.push_str(&format!(
                "{errors} error{}, {warnings} warning{} ({objects} object{} accepted; {} document{}, {} byte{} read)\n",
                plural(errors),
                plural(warnings),
                plural(objects),
                loaded.documents,
                plural(loaded.documents),
                loaded.bytes,
                plural(loaded.bytes),
            ));
            print(&out)?;
        }
    }
    Ok(if errors > 0 { Outcome::Findings } else { Outcome::Clean })
}

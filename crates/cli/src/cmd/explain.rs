//! `netpol explain`: `kubectl explain` for NetworkPolicy, offline (the text
//! comes from `netpol_explain`, which embeds the API server's OpenAPI v3 document).

use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    /// RESOURCE[.FIELD]...: networkpolicy (or networkpolicies, netpol), then field names,
    /// e.g. networkpolicy.spec.ingress.from.
    path: String,
    /// Print every field below the path, names and types only.
    #[arg(long)]
    recursive: bool,
    /// GROUP/VERSION of the resource; only networking.k8s.io/v1 is embedded.
    #[arg(long, value_name = "GROUP/VERSION")]
    api_version: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let explainer = netpol_explain::Explainer::embedded()?;
    let request = netpol_explain::Request { path: args.path, recursive: args.recursive, api_version: args.api_version };
    print(&explainer.explain(&request)?)?;
    Ok(Outcome::Clean)
}

//! `netpol graph`: the picture of who may connect to whom, as Graphviz DOT,
//! SVG (Graphviz draws the DOT), a Mermaid flowchart, or one self-contained HTML
//! page whose edges click through to their explanations. The graph and its text
//! come from `netpol-graph`; running Graphviz is `crate::graphviz`'s.

use netpol_engine::Engine;
use netpol_graph::{Graph, Options};

use crate::cmd::{load, InputArgs};
use crate::graphviz;
use crate::output::{print, Outcome};
use crate::progress::Progress;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// `dot` (Graphviz), `svg` (drawn by Graphviz's `dot`), `mermaid` (for Markdown),
    /// or `html` (one self-contained page: the SVG, each edge's explanation on click).
    #[arg(short = 'o', long = "output", value_enum, default_value = "dot")]
    output: Format,
    /// Only connections on this port (of every protocol).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    port: Option<u16>,
    /// Do not let ipBlock peers match pod IPs (as Cilium does); see `netpol check`.
    #[arg(long)]
    ipblock_ignores_pods: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Dot,
    Svg,
    Mermaid,
    Html,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let cluster = load(&args.input)?;
    crate::cmd::v1_only(&cluster, "graph")?;
    let progress = Progress::start(&format!(
        "building the graph of {} pods, {} policies",
        cluster.pods.len(),
        cluster.policies.len()
    ));
    let options = Options { ipblock_ignores_pods: args.ipblock_ignores_pods, port: args.port };
    let graph = Graph::build(&cluster, options);
    progress.finish();
    let text = match args.output {
        Format::Dot => netpol_graph::dot(&graph, false),
        Format::Mermaid => netpol_graph::mermaid(&graph),
        Format::Svg => graphviz::svg(&netpol_graph::dot(&graph, false))?,
        Format::Html => {
            let svg = graphviz::svg(&netpol_graph::dot(&graph, true))?;
            let engine =
                Engine::new(&cluster, netpol_engine::Options { ipblock_matches_pods: !args.ipblock_ignores_pods });
            let explanations: Vec<String> =
                graph.edges.iter().map(|edge| netpol_graph::explain_text(&graph, &engine, edge)).collect();
            netpol_graph::html(&graph, &svg, &explanations)
        }
    };
    print(&text)?;
    Ok(Outcome::Clean)
}

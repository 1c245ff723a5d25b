//! `netpol check`: can A reach B on this port, and why? Exit 0 allowed, 1 denied, 2 error.

use anyhow::Context as _;
use netpol_engine::{Endpoint, Engine, Flow, Options};
use netpol_model::{Cluster, Protocol};

use crate::cmd::{load, InputArgs};
use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    /// The client: NAMESPACE/NAME of a pod or workload, or an IP address.
    #[arg(long, value_name = "NS/NAME|IP")]
    from: String,
    /// The server: NAMESPACE/NAME of a pod or workload, or an IP address.
    #[arg(long, value_name = "NS/NAME|IP")]
    to: String,
    /// Destination port: a number, or a container port name of the destination pod.
    #[arg(long)]
    port: String,
    /// TCP, UDP or SCTP.
    #[arg(long, default_value = "TCP", value_parser = parse_protocol)]
    protocol: Protocol,
    /// `text` (the verdict and each direction's reasoning) or `json` (the same as data).
    #[arg(short = 'o', long = "output", value_enum, default_value = "text")]
    output: Format,
    /// Do not let ipBlock peers match pod IPs (some plugins, e.g. Cilium, only apply
    /// ipBlocks to traffic from outside the cluster). Default: they match, as upstream e2e expects.
    #[arg(long)]
    ipblock_ignores_pods: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum Format {
    Text,
    Json,
}

/// Accepts `tcp`, `Tcp`, `TCP`.
pub fn parse_protocol(s: &str) -> Result<Protocol, String> {
    s.to_ascii_uppercase().parse::<Protocol>().map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let cluster = load(&args.input)?;
    let options = Options { ipblock_matches_pods: !args.ipblock_ignores_pods };
    let engine = Engine::new(&cluster, options);
    let src: Endpoint = args.from.parse().with_context(|| format!("--from {}", args.from))?;
    let dst: Endpoint = args.to.parse().with_context(|| format!("--to {}", args.to))?;
    let port = resolve_port(&cluster, &dst, &args.port, args.protocol)?;
    let flow = Flow { src, dst, protocol: args.protocol, port };
    let decision = engine.evaluate(&flow)?;
    match args.output {
        Format::Text => print(&netpol_engine::explain(&decision))?,
        Format::Json => print(&(serde_json::to_string_pretty(&decision)? + "\n"))?,
    }
    Ok(if decision.allowed() { Outcome::Clean } else { Outcome::Findings })
}

/// A number, or a named container port of the destination pod (as `kubectl port-forward` accepts).
fn resolve_port(cluster: &Cluster, dst: &Endpoint, port: &str, protocol: Protocol) -> anyhow::Result<u16> {
    // A port name (an IANA_SVC_NAME) always has a letter: all digits is a number, in range or not.
    if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
        return match port.parse::<u16>() {
            Ok(n) if n != 0 => Ok(n),
            _ => anyhow::bail!("--port {port}: a port number must be 1-65535"),
        };
    }
    let Endpoint::Pod(key) = dst else {
        anyhow::bail!("--port {port}: a named port needs a pod destination (an IP has no port names)");
    };
    let pod = cluster.pod(key).with_context(|| format!("--to {key}: no such pod or workload in the input"))?;
    pod.resolve_port(port, protocol).with_context(|| {
        let declared: Vec<String> = pod
            .ports
            .iter()
            .map(|p| {
                format!("{}{}/{}", p.name.as_deref().map(|n| format!("{n}=")).unwrap_or_default(), p.port, p.protocol)
            })
            .collect();
        format!(
            "--port {port}: {key} declares no {protocol} port named `{port}` (it declares: {})",
            if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
        )
    })
}

//! `netpol get networkpolicies`: kubectl's table (NAMESPACE with `-A`, NAME,
//! POD-SELECTOR, AGE); `-o wide` adds the policy types and the pods each
//! policy selects and isolates now; `-o json|yaml` prints the objects.

use netpol_model::{Cluster, NetworkPolicy};

use crate::cmd::{is_network_policy_resource, load_input, InputArgs, ScopeArgs};
use crate::output::{print, Outcome};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    scope: ScopeArgs,
    /// The resource: networkpolicies (also networkpolicy, netpol).
    #[arg(value_name = "RESOURCE", default_value = "networkpolicies")]
    resource: String,
    /// Only this policy (in the namespace of -n, or the context's).
    name: Option<String>,
    /// `wide` (adds POLICY-TYPES, SELECTED and ISOLATED), `json` or `yaml`.
    #[arg(short = 'o', long = "output", value_enum)]
    output: Option<Format>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Wide,
    Json,
    Yaml,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if !is_network_policy_resource(&args.resource) {
        anyhow::bail!("netpol gets networkpolicies (networkpolicy, netpol), not `{}`", args.resource);
    }
    let input = load_input(&args.input)?;
    let namespace = args.scope.namespace(input.context_namespace.as_deref());
    let cluster = &input.cluster;
    let mut policies: Vec<&NetworkPolicy> =
        cluster.policies.iter().filter(|p| namespace.is_none_or(|ns| p.namespace == ns)).collect();
    if let Some(name) = &args.name {
        policies.retain(|p| &p.name == name);
        if policies.is_empty() {
            let ns = namespace.unwrap_or("default");
            anyhow::bail!("networkpolicy \"{name}\" not found in namespace {ns}");
        }
    }
    policies.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    match args.output {
        Some(Format::Json) => print(&(serde_json::to_string_pretty(&objects(&policies, args.name.is_some()))? + "\n"))?,
        Some(Format::Yaml) => print(&serde_saphyr::to_string(&objects(&policies, args.name.is_some()))?)?,
        format => {
            if policies.is_empty() {
                match namespace {
                    Some(ns) => eprintln!("No resources found in {ns} namespace."),
                    None => eprintln!("No resources found"),
                }
                return Ok(Outcome::Clean);
            }
            let now = jiff::Timestamp::now();
            print(&table(cluster, &policies, namespace.is_none(), format == Some(Format::Wide), now))?;
        }
    }
    Ok(Outcome::Clean)
}

/// One object (a NAME was given) or a `List`, as kubectl prints them.
fn objects(policies: &[&NetworkPolicy], single: bool) -> serde_json::Value {
    let items: Vec<serde_json::Value> =
        policies.iter().map(|p| serde_json::to_value(netpol_manifest::api::to_api(p)).unwrap_or_default()).collect();
    if single && items.len() == 1 {
        return items.into_iter().next().unwrap_or_default();
    }
    serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}})
}

fn table(cluster: &Cluster, policies: &[&NetworkPolicy], all: bool, wide: bool, now: jiff::Timestamp) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head: Vec<&str> = if all { vec!["NAMESPACE"] } else { vec![] };
    head.extend(["NAME", "POD-SELECTOR", "AGE"]);
    if wide {
        head.extend(["POLICY-TYPES", "SELECTED", "ISOLATED"]);
    }
    rows.push(head.into_iter().map(String::from).collect());
    for p in policies {
        let mut row = if all { vec![p.namespace.clone()] } else { vec![] };
        row.push(p.name.clone());
        row.push(p.pod_selector.to_string());
        row.push(p.meta.creation_timestamp.as_deref().map_or_else(|| "<unknown>".to_string(), |t| age(t, now)));
        if wide {
            let types: Vec<&str> = p.policy_types.iter().map(|d| d.as_str()).collect();
            let selected: Vec<_> = cluster.pods.iter().filter(|pod| p.selects(*pod)).collect();
            // hostNetwork pods share the node's network: no NetworkPolicy isolates them.
            let isolated = selected.iter().filter(|pod| !pod.host_network).count();
            row.extend([types.join(","), selected.len().to_string(), isolated.to_string()]);
        }
        rows.push(row);
    }
    tabwriter(&rows)
}

/// kubectl's tabwriter (min width 6, padding 3, the last column unpadded).
fn tabwriter(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .map(|w| (w + 3).max(6))
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}", width = widths[c]));
            }
        }
        out.push('\n');
    }
    out
}

/// `kubectl`'s AGE (`duration.HumanDuration` of apimachinery).
fn age(created: &str, now: jiff::Timestamp) -> String {
    let Ok(created) = created.parse::<jiff::Timestamp>() else { return "<unknown>".to_string() };
    let seconds = now.as_second() - created.as_second();
    human_duration(seconds)
}

fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    let s = seconds.max(0);
    let (minutes, hours) = (s / 60, s / 3600);
    let pair = |a: i64, ua: &str, b: i64, ub: &str| if b == 0 { format!("{a}{ua}") } else { format!("{a}{ua}{b}{ub}") };
    if s < 60 * 2 {
        format!("{s}s")
    } else if minutes < 10 {
        pair(minutes, "m", s % 60, "s")
    } else if minutes < 60 * 3 {
        format!("{minutes}m")
    } else if hours < 8 {
        pair(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        pair(hours / 24, "d", hours % 24, "h")
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let days = hours / 24;
        pair(days / 365, "y", days % 365, "d")
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_like_kubectl() {
        // (seconds, apimachinery's HumanDuration)
        let table = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60, "3h1m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600 + 3600, "2d1h"),
            (8 * 86400, "8d"),
            (2 * 365 * 86400 + 86400, "2y1d"),
            (9 * 365 * 86400, "9y"),
        ];
        for (s, want) in table {
            assert_eq!(human_duration(s), want, "{s}s");
        }
    }

    #[test]
    fn tabwriter_pads_like_kubectl() {
        let rows = vec![
            vec!["NAME".to_string(), "POD-SELECTOR".to_string(), "AGE".to_string()],
            vec!["a".to_string(), "<none>".to_string(), "5s".to_string()],
        ];
        assert_eq!(tabwriter(&rows), "NAME   POD-SELECTOR   AGE\na      <none>         5s\n");
    }
}

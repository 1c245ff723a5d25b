//! The synthetic cluster as API objects, created through the API, and the
//! objects the bench changes.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::Client;
use netpol_model::Cluster;
use serde_json::{json, Value};

use crate::bounded;

/// The policy the edits change: every kube-system pod admits one port.
pub const MARKER: &str = "bench-marker";
/// The pod on the node whose label moves it in and out of [`SELECT`]'s selector.
pub const CHURN: &str = "bench-churn";
/// The policy selecting pods labelled `bench: selected`.
const SELECT: &str = "bench-select";

/// One creation step and its throughput.
pub struct Phase {
    pub what: &'static str,
    pub objects: usize,
    pub requests: usize,
    pub seconds: f64,
}

/// The port the marker admits after edit `n` (0: as created).
pub fn marker_port(n: usize) -> usize {
    10_000 + n
}

/// The marker policy after edit `n`, for server-side apply or `kubectl apply`.
pub fn marker(n: usize) -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": MARKER, "namespace": "kube-system"},
        "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": marker_port(n)}]}]},
    })
}

fn select() -> Value {
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": SELECT, "namespace": "kube-system"},
        "spec": {
            "podSelector": {"matchLabels": {"bench": "selected"}},
            "ingress": [{"from": [{"ipBlock": {"cidr": "192.0.2.0/24"}}], "ports": [{"port": 9999}]}],
        },
    })
}

/// The status a kubelet writes once the pod runs.
pub fn running(ip: &str) -> Value {
    json!({"status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}})
}

/// A kube-system address outside the synthetic pod ranges, one per round.
pub fn churn_ip(i: usize) -> String {
    format!("10.255.{}.{}", 1 + (i / 250) % 250, i % 250 + 1)
}

/// A kube-system pod on `node`, with no status yet.
pub fn new_pod(name: &str, node: &str) -> Pod {
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "kube-system", "labels": {"app": "bench-new"}},
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "registry.example/app:1.0"}]},
    });
    serde_json::from_value(pod).expect("a valid Pod")
}

fn labels(labels: &netpol_model::Labels) -> Value {
    labels.iter().map(|(k, v)| (k.to_string(), Value::from(v))).collect::<serde_json::Map<_, _>>().into()
}

/// A synthetic pod as the API object (its status comes after, through the subresource).
fn pod(pod: &netpol_model::Pod) -> Pod {
    let ports: Vec<Value> = pod
        .ports
        .iter()
        .map(|p| json!({"containerPort": p.port, "name": p.name, "protocol": p.protocol.to_string()}))
        .collect();
    let object = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": pod.name, "namespace": pod.namespace, "labels": labels(&pod.labels)},
        "spec": {
            "nodeName": pod.node,
            "hostNetwork": pod.host_network,
            "containers": [{"name": "main", "image": "registry.example/app:1.0", "ports": ports}],
        },
    });
    serde_json::from_value(object).expect("a valid Pod")
}

/// Retries what a busy API server may refuse for a moment (429, 5xx, a
/// dropped connection); a create retried after its first try went through
/// finds the object there (409) and counts as done.
async fn retrying<T, Fut>(what: &str, mut call: impl FnMut() -> Fut) -> anyhow::Result<()>
where
    Fut: std::future::Future<Output = Result<T, kube::Error>>,
{
    for attempt in 1.. {
        match call().await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 && attempt > 1 => return Ok(()),
            Err(kube::Error::Api(s)) if !matches!(s.code, 429 | 500 | 503 | 504) || attempt == 5 => {
                anyhow::bail!("{what}: {s}")
            }
            Err(e @ (kube::Error::HyperError(_) | kube::Error::Service(_))) if attempt == 5 => {
                anyhow::bail!("{what}: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200 * attempt)).await,
        }
    }
    unreachable!("the loop returns")
}

/// Creates `cluster` through the API, and the bench's own objects; returns each step's throughput.
pub async fn create(
    client: &Client,
    cluster: &Cluster,
    node: &str,
    concurrency: usize,
    stop: &AtomicBool,
) -> anyhow::Result<Vec<Phase>> {
    let apply = PatchParams::apply("api-bench").force();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let names: Vec<(&String, Value)> = cluster
        .namespaces
        .values()
        .map(|ns| {
            let own: serde_json::Map<_, _> = ns
                .labels
                .iter()
                .filter(|(k, _)| *k != netpol_model::METADATA_NAME_LABEL)
                .map(|(k, v)| (k.to_string(), Value::from(v)))
                .collect();
            (&ns.name, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns.name, "labels": own}}))
        })
        .collect();
    let mut phases = vec![
        bounded("namespaces (server-side apply)", names, concurrency, 1, stop, |(name, object)| {
            let api = namespaces.clone();
            let apply = apply.clone();
            async move {
                retrying(&format!("namespace {name}"), || async {
                    api.patch(name, &apply, &Patch::Apply(&object)).await
                })
                .await
            }
        })
        .await?,
    ];

    let mut policies: Vec<NetworkPolicy> = cluster.policies.iter().map(netpol_manifest::api::to_api).collect();
    policies.push(serde_json::from_value(marker(0))?);
    policies.push(serde_json::from_value(select())?);
    phases.push(
        bounded("networkpolicies (create)", policies, concurrency, 1, stop, |np| {
            let namespace = np.metadata.namespace.clone().unwrap_or_default();
            let api: Api<NetworkPolicy> = Api::namespaced(client.clone(), &namespace);
            async move {
                let what = format!("networkpolicy {namespace}/{}", np.metadata.name.as_deref().unwrap_or_default());
                retrying(&what, || async { api.create(&PostParams::default(), &np).await }).await
            }
        })
        .await?,
    );

    let churn = netpol_testkit::pod("kube-system", CHURN).label("app", CHURN).label("bench", "other");
    let churn = churn.ip(&churn_ip(0)).node(node).build();
    let pods: Vec<&netpol_model::Pod> = cluster.pods.iter().chain([&churn]).collect();
    phases.push(
        bounded("pods (create, then status)", pods, concurrency, 2, stop, |p| {
            let api: Api<Pod> = Api::namespaced(client.clone(), &p.namespace);
            let object = pod(p);
            let status = running(&p.ips.first().map(ToString::to_string).unwrap_or_default());
            async move {
                let what = format!("pod {}/{}", p.namespace, p.name);
                retrying(&what, || async { api.create(&PostParams::default(), &object).await }).await?;
                let patch = Patch::Merge(&status);
                retrying(&format!("{what} status"), || async {
                    api.patch_status(&p.name, &PatchParams::default(), &patch).await
                })
                .await
            }
        })
        .await?,
    );
    Ok(phases)
}

//! A lab with a Kubernetes API (`netpol lab up --api`): a control plane next
//! to the lab, every lab pod and namespace registered in it, and the agent
//! (`netpol agent --kubernetes`) enforcing what the API holds in the lab's
//! node namespace. kubectl then works on the lab as on a cluster.
//!
//! Design (model, goals, implementation, processes):
//! - Model: the lab's pods are fixed when it is built (each is a network
//!   namespace with a veth); from then on the API holds the policies and
//!   the labels, and the agent enforces them. What the engine predicts for a
//!   probe comes from what the API holds too ([`crate::Lab::use_cluster`]).
//! - Objects, made from the lab's plan ([`objects`]): every Namespace with its
//!   labels; every Pod with its labels and container ports, scheduled on the
//!   lab's node (`spec.nodeName`), then given the status a kubelet would write
//!   (phase Running, `podIP`, `podIPs`: the lab address) through the status
//!   subresource; every Service, headless (the lab has no kube-proxy: a name
//!   resolves to the addresses of the pods it selects); and the policies of
//!   the files, so that the agent sees them.
//! - No window without rules: as without an API, the lab applies its own
//!   render of the files in the node namespace before the first pod exists;
//!   the agent's first sync replaces that table in one transaction, and
//!   [`start`] returns only after that sync.
//! - Processes: etcd and kube-apiserver (netpol-controlplane, detached: a
//!   process group of their own, so they outlive `lab up` and a Ctrl-C in its
//!   terminal) and the agent (the same binary: `netpol agent --kubernetes
//!   --kubeconfig K --netns NODE --node NODE --log-format json`). Each PID is
//!   journaled in the state file as soon as the process is spawned; [`stop`]
//!   stops them by PID, the agent first, each only while its command line
//!   still names the control plane's dir, and removes the dir (PKI, etcd
//!   data, logs, kubeconfig, the agent's log).
//! - Binaries: kube-apiserver and etcd are found as the tests find them
//!   (`NETPOL_KUBE_APISERVER`/`NETPOL_ETCD`, `KUBEBUILDER_ASSETS`, then the
//!   cache `tools/k8s/build.sh` fills); `kubectl` (`NETPOL_KUBECTL`) and
//!   `openssl` must run. [`ApiOptions::locate`] says what is missing before
//!   anything is built.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netpol_controlplane::{Binaries, ControlPlane, Options};
use netpol_manifest::api::{namespace_to_api, pod_to_api, service_to_api, to_api};
use serde_json::{json, Value};

use crate::process;
use crate::state::{ApiState, Process, State};
use crate::topology::Topology;
use crate::LabError;

/// The image every lab Pod names (nothing pulls it: there is no kubelet).
pub const POD_IMAGE: &str = "netpol-lab";

/// How long `up` waits for the agent's first sync.
const FIRST_SYNC: Duration = Duration::from_secs(60);

/// What a lab with an API needs beyond the lab itself.
#[derive(Clone, Debug)]
pub struct ApiOptions {
    /// The agent program and the arguments that make it `netpol agent` (the
    /// CLI: its own executable and `["agent"]`); the lab adds `--kubernetes`,
    /// `--kubeconfig`, `--netns`, `--node` and `--log-format json`.
    pub agent: PathBuf,
    pub agent_args: Vec<String>,
    pub binaries: Binaries,
    /// How long to wait for the API server's `/readyz`.
    pub ready_timeout: Duration,
}

impl ApiOptions {
    /// Finds kube-apiserver and etcd as the tests do, and checks that
    /// `kubectl` and `openssl` run; the error names what is missing and how
    /// to get it (`tools/k8s/build.sh` for the servers).
    pub fn locate(agent: PathBuf, agent_args: Vec<String>) -> Result<ApiOptions, LabError> {
        let binaries =
            Binaries::locate().map_err(|why| LabError::Missing(format!("control-plane binaries not found: {why}")))?;
        let kubectl = std::env::var_os(netpol_controlplane::KUBECTL_VAR)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("kubectl"), PathBuf::from);
        let tools: [(&Path, &[&str], &str); 2] = [
            (
                &kubectl,
                &["version", "--client"],
                "kubectl is needed to talk to the lab's API (NETPOL_KUBECTL names one)",
            ),
            (Path::new("openssl"), &["version"], "openssl makes the lab's certificates (apt-get install -y openssl)"),
        ];
        for (program, args, why) in tools {
            let ran = Command::new(program).args(args).stdin(Stdio::null()).output();
            if !ran.is_ok_and(|out| out.status.success()) {
                return Err(LabError::Missing(format!(
                    "`{} {}` does not run: {why}",
                    program.display(),
                    args.join(" ")
                )));
            }
        }
        Ok(ApiOptions { agent, agent_args, binaries, ready_timeout: Duration::from_secs(90) })
    }
}

/// The node every Pod of lab `id` is scheduled on: the name of its node namespace.
pub fn node_name(id: &str) -> String {
    crate::topology::node_netns_name(id)
}

/// The objects that register a lab in the API, in the order to create them
/// (Namespaces, Pods without status, Services, NetworkPolicies), as one `List`.
pub fn objects(topology: &Topology, node: &str) -> Value {
    let cluster = &topology.cluster;
    let mut items: Vec<Value> = Vec::new();
    let value = |object: Result<Value, serde_json::Error>| object.expect("API objects serialize");
    items.extend(cluster.namespaces.values().map(|ns| value(serde_json::to_value(namespace_to_api(ns)))));
    for pod in &cluster.pods {
        let mut pod = pod.clone();
        pod.node = Some(node.to_string());
        let mut object = pod_to_api(&pod, POD_IMAGE);
        object.status = None;
        items.push(value(serde_json::to_value(object)));
    }
    for svc in &cluster.services {
        let mut object = service_to_api(svc);
        if let Some(spec) = object.spec.as_mut() {
            spec.cluster_ip = Some("None".into());
            spec.cluster_ips = None;
        }
        items.push(value(serde_json::to_value(object)));
    }
    for policy in &cluster.policies {
        let mut object = to_api(policy);
        object.metadata.creation_timestamp = None;
        items.push(value(serde_json::to_value(object)));
    }
    json!({"apiVersion": "v1", "kind": "List", "items": items})
}

/// Starts the control plane of the lab in `state` (built: its topology is
/// set), registers the lab in it and starts the agent; returns after the
/// agent's first sync. Everything is journaled in `state` (saved at `path`)
/// as it is made, so that [`stop`] removes it whatever happens.
pub(crate) fn start(state: &mut State, path: &Path, state_dir: &Path, options: &ApiOptions) -> Result<(), LabError> {
    let topology = state.topology.clone().ok_or_else(|| LabError::Incomplete(state.id.clone()))?;
    let dir = state_dir.join(format!("{}.api", state.id));
    if dir.exists() {
        return Err(LabError::Io {
            path: dir,
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "already exists (left by a lab that was not brought down?); remove it",
            ),
        });
    }
    let node = node_name(&state.id);
    state.api = Some(ApiState {
        kubeconfig: dir.join("admin.kubeconfig"),
        agent_log: dir.join("agent.log"),
        dir: dir.clone(),
        server: None,
        node: node.clone(),
        processes: Vec::new(),
    });
    state.save(path)?;

    let cp_options = Options {
        dir: Some(dir.clone()),
        detached: true,
        context: format!("netpol-lab-{}", state.id),
        ready_timeout: options.ready_timeout,
        ..Options::default()
    };
    let mut journal: Result<(), LabError> = Ok(());
    let started = ControlPlane::start_reporting(&options.binaries, &cp_options, &mut |name, pid| {
        record(state, name, pid);
        if journal.is_ok() {
            journal = state.save(path);
        }
    });
    // An error drops the control plane, which stops its processes.
    let cp = started?;
    journal?;
    register(&cp, &topology, &node)?;
    let detached = cp.detach();
    let api = state.api.as_mut().expect("set above");
    api.server = Some(detached.server);
    let (kubeconfig, log) = (api.kubeconfig.clone(), api.agent_log.clone());
    state.save(path)?;

    let log_file = std::fs::File::create(&log).map_err(|e| LabError::io(&log, e))?;
    let mut agent = Command::new(&options.agent)
        .args(&options.agent_args)
        .arg("--kubernetes")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--netns", &topology.node_netns, "--node", &node, "--log-format", "json"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .process_group(0)
        .spawn()
        .map_err(|source| LabError::Spawn { program: options.agent.display().to_string(), source })?;
    record(state, "agent", agent.id());
    state.save(path)?;
    let deadline = Instant::now() + FIRST_SYNC;
    loop {
        if !agent_events(&log, "sync").is_empty() {
            return Ok(());
        }
        let why = match agent.try_wait() {
            Ok(Some(status)) => format!("it exited ({status})"),
            _ if Instant::now() > deadline => format!("no sync within {}s", FIRST_SYNC.as_secs()),
            _ => {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(10)..].join("\n");
        return Err(LabError::Agent(format!("{why}; the last lines of {}:\n{tail}", log.display())));
    }
}

/// Journals a spawned process at the front: the stop order is the reverse of the start.
fn record(state: &mut State, name: &str, pid: u32) {
    if let Some(api) = state.api.as_mut() {
        api.processes.insert(0, Process { name: name.to_string(), pid });
    }
}

/// Creates the lab's objects ([`objects`]) and sets every Pod's status.
fn register(cp: &ControlPlane, topology: &Topology, node: &str) -> Result<(), LabError> {
    cp.apply(&objects(topology, node).to_string())?;
    for pod in topology.cluster.pods.iter().filter(|p| !p.ips.is_empty()) {
        let ips: Vec<String> = pod.ips.iter().map(ToString::to_string).collect();
        let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
        cp.set_pod_ips(&pod.namespace, &pod.name, &ips)?;
    }
    Ok(())
}

/// Stops the agent, kube-apiserver and etcd of a lab (those still running
/// with its dir on their command line) and removes the dir. Returns what
/// could not be done.
pub(crate) fn stop(api: &ApiState) -> Vec<String> {
    let mut problems = Vec::new();
    let needle = format!("{}/", api.dir.display());
    let ours = |args: &[String]| args.iter().any(|a| a.contains(&needle));
    for p in &api.processes {
        if let Err(e) = process::stop(p.pid, &ours) {
            problems.push(format!("{} (pid {}): {e}", p.name, p.pid));
        }
    }
    if problems.is_empty() && api.dir.exists() {
        if let Err(e) = std::fs::remove_dir_all(&api.dir) {
            problems.push(format!("{}: {e}", api.dir.display()));
        }
    }
    problems
}

/// The agent's log lines (JSON) whose `event` is `event` (`sync`, `failed`,
/// `waiting`, ...), in order; lines that are not JSON are skipped.
pub fn agent_events(log: &Path, event: &str) -> Vec<Value> {
    let Ok(file) = std::fs::File::open(log) else { return Vec::new() };
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
        .filter(|line| line["event"] == event)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol_model::{Cluster, ContainerPort, Labels, Namespace, Pod, Protocol, WorkloadKind};

    #[test]
    fn objects_register_namespaces_pods_on_the_node_and_headless_services() {
        let web = Pod {
            namespace: "shop".into(),
            name: "web".into(),
            kind: WorkloadKind::Deployment,
            labels: Labels::from_iter([("app", "web")]),
            ips: vec![],
            ports: vec![ContainerPort { name: Some("http".into()), port: 80, protocol: Protocol::Tcp }],
            host_network: false,
            node: Some("elsewhere".into()),
            origin: None,
            service_account: Default::default(),
        };
        let mut cluster = Cluster { pods: vec![web], ..Cluster::default() };
        cluster.namespaces.insert("shop".into(), Namespace::new("shop", Labels::from_iter([("team", "a")])));
        let topology = Topology::plan("t1", &cluster).unwrap();
        let list = objects(&topology, "np-t1-node");
        let items = list["items"].as_array().unwrap();
        let kinds: Vec<String> = items
            .iter()
            .map(|o| format!("{} {}", o["kind"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap()))
            .collect();
        assert_eq!(kinds, ["Namespace kube-system", "Namespace shop", "Pod kube-dns", "Pod web"]);
        let shop = &items[1]["metadata"]["labels"];
        assert_eq!(shop, &json!({"kubernetes.io/metadata.name": "shop", "team": "a"}));
        let web = &items[3];
        assert_eq!(web["spec"]["nodeName"], "np-t1-node", "every pod runs on the lab's node");
        assert_eq!(web["spec"]["containers"][0]["image"], POD_IMAGE);
        assert_eq!(
            web["spec"]["containers"][0]["ports"],
            json!([{"name": "http", "containerPort": 80, "protocol": "TCP"}])
        );
        assert!(web.get("status").is_none(), "the status is set through its subresource");
    }
}

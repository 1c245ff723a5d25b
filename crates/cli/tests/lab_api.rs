//! `netpol lab up --api` (issue 10): a lab with a real Kubernetes API, driven
//! with the real kubectl, as someone learning would.
//!
//! - The seed 000 walkthrough replayed step by step with kubectl (apply,
//!   label, edit): after each change the agent synced (its log says so, with
//!   the ruleset the step's files render to), and `netpol lab probe` sees real
//!   packets equal to the engine's prediction from the API and to the step's
//!   files; the seed's connections (`netpol lab connect`) give what the seed
//!   reports, "by IP works, by name does not" before the DNS rule included.
//! - Churn through the API: kubectl applies alternating policy sets in a loop
//!   while threads probe a pair every set denies: not one probe gets through.
//! - `netpol lab down` stops the agent, kube-apiserver and etcd and removes
//!   their files.
//!
//! Root and a control plane: `require_privileged!("control-plane")`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use netpol_lab::{api, netns, probe, state, Lab};
use netpol_manifest::api::{namespace_to_api, pod_to_api, to_api};
use netpol_manifest::LoadOptions;
use netpol_model::{Cluster, Protocol};
use netpol_testkit::require_privileged;
use netpol_testkit::scenarios::{
    churn_denied, churn_flipping, churn_policy_sets, Change, SEED_000, SEED_000_CONNECTIONS,
};
use serde_json::{json, Value};

/// How long the agent may take to enforce one change.
const SYNC: Duration = Duration::from_secs(30);

/// A lab up with `--api` in a temp state dir; brought down when dropped.
struct ApiLab {
    id: String,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    down: bool,
}

fn netpol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpol")).args(args).stdin(Stdio::null()).output().expect("run netpol")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

impl ApiLab {
    /// `netpol lab up --api -f FILES`; the id is `<prefix><pid in base 36>`.
    fn up(prefix: &str, files: &Path) -> ApiLab {
        let mut pid = std::process::id();
        let mut id = String::new();
        while pid > 0 {
            id.insert(0, char::from_digit(pid % 36, 36).unwrap());
            pid /= 36;
        }
        let id = format!("{prefix}{id}");
        let dir = tempfile::Builder::new().prefix("netpol-lab-api-").tempdir().expect("temp dir");
        let mut lab = ApiLab { id, dir, kubeconfig: PathBuf::new(), down: false };
        let files = files.to_str().unwrap();
        let out = lab.netpol(&["lab", "up", "--api", "-f", files]);
        let stdout = text(&out.stdout);
        assert!(out.status.success(), "lab up --api: {}\n{stdout}{}", out.status, text(&out.stderr));
        // Only the export on stdout, so that `eval "$(netpol lab up --api ...)"` works.
        let line = stdout.strip_suffix('\n').filter(|l| !l.contains('\n')).expect("one line on stdout");
        lab.kubeconfig = PathBuf::from(line.strip_prefix("export KUBECONFIG=").expect("export KUBECONFIG="));
        assert!(lab.kubeconfig.exists(), "{}", lab.kubeconfig.display());
        let stderr = text(&out.stderr);
        assert!(stderr.contains("policies and labels come from the API now"), "{stderr}");
        lab
    }

    fn state_dir(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    /// `netpol ARGS --id ID --state-dir DIR`.
    fn netpol(&self, args: &[&str]) -> Output {
        netpol(&[args, &["--id", &self.id, "--state-dir", self.state_dir()]].concat())
    }

    fn state(&self) -> state::State {
        Lab::open(&self.id, self.dir.path()).expect("lab open").state().clone()
    }

    /// kubectl as the user runs it after `eval "$(netpol lab up --api ...)"`.
    fn kubectl(&self, args: &[&str], editor: Option<&Path>) -> String {
        let kubectl = std::env::var_os("NETPOL_KUBECTL").filter(|v| !v.is_empty()).unwrap_or("kubectl".into());
        let mut cmd = Command::new(kubectl);
        cmd.args(args).env("KUBECONFIG", &self.kubeconfig).stdin(Stdio::null());
        if let Some(editor) = editor {
            cmd.env("KUBE_EDITOR", editor);
        }
        let out = cmd.output().expect("run kubectl");
        assert!(out.status.success(), "kubectl {}: {}", args.join(" "), text(&out.stderr));
        text(&out.stdout)
    }

    /// The agent's sync lines that changed the rules.
    fn changed_syncs(&self) -> Vec<Value> {
        let log = self.state().api.expect("an API lab").agent_log;
        api::agent_events(&log, "sync").into_iter().filter(|s| s["changed"] == true).collect()
    }

    /// Waits for a sync that changed the rules after the first `seen`, and returns it.
    fn wait_for_sync(&self, seen: usize, what: &str) -> Value {
        let deadline = Instant::now() + SYNC;
        loop {
            if let Some(sync) = self.changed_syncs().into_iter().nth(seen) {
                return sync;
            }
            assert!(Instant::now() < deadline, "{what}: the agent did not sync within {SYNC:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn down(mut self) -> String {
        self.down = true;
        let out = self.netpol(&["lab", "down"]);
        assert!(out.status.success(), "lab down: {}", text(&out.stderr));
        text(&out.stdout)
    }
}

impl Drop for ApiLab {
    fn drop(&mut self) {
        if !self.down {
            let _ = self.netpol(&["lab", "down"]);
        }
    }
}

fn load(path: &Path) -> Cluster {
    let sources = netpol_input::read_paths(&[path.to_path_buf()]).expect("read");
    let loaded =
        netpol_manifest::load(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{}: {:?}", path.display(), loaded.diagnostics);
    loaded.cluster
}

/// `{(port, protocol): {(from, to): allowed}}` of a `netpol matrix -o json` document.
fn tables(json: &str) -> BTreeMap<(u64, String), BTreeMap<(String, String), bool>> {
    let doc: Value = serde_json::from_str(json).expect("JSON");
    let pods: Vec<&str> = doc["pods"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    let mut all = BTreeMap::new();
    for probe in doc["probes"].as_array().unwrap() {
        let mut cells = BTreeMap::new();
        for (i, row) in probe["allowed"].as_array().unwrap().iter().enumerate() {
            for (j, cell) in row.as_array().unwrap().iter().enumerate() {
                cells.insert((pods[i].to_string(), pods[j].to_string()), cell.as_bool().unwrap());
            }
        }
        all.insert((probe["port"].as_u64().unwrap(), probe["protocol"].as_str().unwrap().to_string()), cells);
    }
    all
}

/// `netpol lab connect FROM TARGET`: whether it connected, checked against
/// the engine's verdicts it prints (DNS query, connection).
fn connect(lab: &ApiLab, from: &str, target: &str) -> bool {
    let out = lab.netpol(&["lab", "connect", from, target, "--timeout-ms", "1500"]);
    let shown = text(&out.stdout);
    let connected = match out.status.code() {
        Some(0) => true,
        Some(1) => false,
        _ => panic!("lab connect {from} {target}: {}\n{shown}", text(&out.stderr)),
    };
    let engine = shown.lines().find_map(|l| l.trim().strip_prefix("engine: ")).unwrap_or_default();
    if engine.contains("DNS query") {
        let resolved = shown.contains("\n  resolved ");
        assert_eq!(engine.contains("DNS query allowed"), resolved, "{from} -> {target}:\n{shown}");
    }
    if engine.contains("connection") {
        let reached = shown.lines().any(|l| l.ends_with(": connected") || l.ends_with(": refused"));
        assert_eq!(engine.contains("connection allowed"), reached, "{from} -> {target}:\n{shown}");
    }
    connected
}

/// A `KUBE_EDITOR` for `kubectl edit ns`: adds `key: value` under `metadata.labels`.
fn label_editor(dir: &Path, key: &str, value: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("edit-{key}-{value}.sh"));
    let script = format!("#!/bin/sh\nsed -i 's/^  labels:$/  labels:\\n    {key}: {value}/' \"$1\"\n");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn seed_000_walkthrough_replayed_with_kubectl() {
    require_privileged!("control-plane");
    let lab = ApiLab::up("aw", &SEED_000[0].path());
    let node = lab.state().api.unwrap().node;
    for step in &SEED_000 {
        let seen = lab.changed_syncs().len();
        match step.change {
            Change::Start => {}
            Change::Apply(file) => {
                lab.kubectl(&["apply", "-f", step.path().join(file).to_str().unwrap()], None);
            }
            Change::Label { namespace, key, value } => {
                lab.kubectl(&["label", "ns", namespace, &format!("{key}={value}")], None);
            }
            Change::Edit { namespace, key, value } => {
                let editor = label_editor(lab.dir.path(), key, value);
                lab.kubectl(&["edit", "ns", namespace], Some(&editor));
                let labels = lab.kubectl(&["get", "ns", namespace, "-o", "jsonpath={.metadata.labels}"], None);
                assert!(labels.contains(&format!("\"{key}\":\"{value}\"")), "{}: kubectl edit: {labels}", step.dir);
            }
        }
        // The step's files, as the lab plans them on its node, render to the
        // ruleset the agent must have applied.
        let files = load(&step.path());
        let mut planned = netpol_lab::Topology::plan(&lab.id, &files).unwrap().cluster;
        planned.pods.iter_mut().for_each(|p| p.node = Some(node.clone()));
        let options = netpol_nft::RenderOptions { node: Some(node.clone()), ..Default::default() };
        let want = netpol_nft::render(&planned, &options).stats();
        let sync = if step.change == Change::Start {
            lab.changed_syncs().pop().expect("up waited for the first sync")
        } else {
            lab.wait_for_sync(seen, step.dir)
        };
        let got = (sync["rules"].as_u64(), sync["elements"].as_u64(), sync["chains"].as_u64());
        let want = (Some(want.rules as u64), Some(want.elements as u64), Some(want.chains as u64));
        assert_eq!(got, want, "{}: the agent's sync {sync}", step.dir);

        // Real packets: equal to the engine on what the API holds (exit 0)...
        let args = ["--port", "80,53", "--protocol", "TCP,UDP", "-o", "json"];
        let out = lab.netpol(&[&["lab", "probe", "--timeout-ms", "1000"][..], &args].concat());
        assert_eq!(out.status.code(), Some(0), "{}: lab probe: {}", step.dir, text(&out.stderr));
        let observed = tables(&text(&out.stdout));
        // ... and to the engine on the step's files.
        let out = netpol(&[&["matrix", "-f", step.path().to_str().unwrap()][..], &args].concat());
        assert!(out.status.success(), "{}: matrix: {}", step.dir, text(&out.stderr));
        assert_eq!(observed, tables(&text(&out.stdout)), "{}: observed vs the files' prediction", step.dir);

        let got = SEED_000_CONNECTIONS.map(|(from, target)| connect(&lab, from, target));
        assert_eq!(got, step.want, "{}: {:?}", step.dir, SEED_000_CONNECTIONS);
    }
    let policies = lab.kubectl(&["get", "netpol", "-A", "-o", "name"], None);
    assert_eq!(policies.lines().count(), 5, "{policies}");
    assert!(lab.kubectl(&["get", "pods", "-A", "-o", "wide"], None).contains(&node));

    let state = lab.state();
    let api = state.api.clone().unwrap();
    let shown = lab.down();
    assert!(shown.contains("stopped its agent, kube-apiserver and etcd"), "{shown}");
    // Every process, file and namespace is gone.
    let needle = format!("{}/", api.dir.display());
    for p in &api.processes {
        let running = netpol_lab::process::running(p.pid, &|args| args.iter().any(|a| a.contains(&needle)));
        assert!(!running, "{} (pid {}) still runs", p.name, p.pid);
    }
    assert!(!api.dir.exists(), "{} is left", api.dir.display());
    for name in &state.created {
        assert!(!netns::exists(name), "network namespace {name} is left");
    }
}

/// Found before anything is built (no root needed): a missing binary is exit 2
/// naming what was looked for and `tools/k8s/build.sh`.
#[test]
fn a_missing_control_plane_binary_is_an_error_naming_build_sh() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-kube-apiserver");
    let out = Command::new(env!("CARGO_BIN_EXE_netpol"))
        .args(["lab", "up", "--api", "-f", SEED_000[0].path().to_str().unwrap(), "--id", "nobin"])
        .arg("--state-dir")
        .arg(dir.path())
        .env("NETPOL_KUBE_APISERVER", &missing)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains(&format!("NETPOL_KUBE_APISERVER={}", missing.display())), "{stderr}");
    assert!(stderr.contains("tools/k8s/build.sh"), "{stderr}");
    assert!(out.stdout.is_empty(), "no export without a lab");
    assert!(!state::path(dir.path(), "nobin").exists(), "nothing was built");
}

/// A `List` of API objects as JSON text.
fn list(items: Vec<Value>) -> String {
    json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()
}

#[test]
fn denied_pair_stays_denied_while_kubectl_changes_policies() {
    require_privileged!("control-plane");
    let sets = churn_policy_sets();
    let ((a, b), (c, _)) = (churn_denied(), churn_flipping());
    let files = tempfile::tempdir().unwrap();
    // The pods, and the first set's policies: `lab up` creates them through the API.
    let first = &sets[0].1;
    let mut items: Vec<Value> =
        first.namespaces.values().filter(|ns| ns.declared).map(|ns| json!(namespace_to_api(ns))).collect();
    items.extend(first.pods.iter().map(|p| json!(pod_to_api(p, "nginx"))));
    items.extend(first.policies.iter().map(|p| json!(to_api(p))));
    std::fs::write(files.path().join("cluster.json"), list(items)).unwrap();
    let set_files: Vec<PathBuf> = sets
        .iter()
        .enumerate()
        .map(|(i, (_, cluster, _))| {
            let path = files.path().join(format!("set-{i}.json"));
            std::fs::write(&path, list(cluster.policies.iter().map(|p| json!(to_api(p))).collect())).unwrap();
            path
        })
        .collect();

    let lab = ApiLab::up("ac", files.path());
    let topology = Lab::open(&lab.id, lab.dir.path()).unwrap().topology().unwrap().clone();
    let a_ns = topology.pod(&a).unwrap().netns.clone();
    let c_ns = topology.pod(&c).unwrap().netns.clone();
    let b_addr = topology.pod(&b).unwrap().ips[0];
    let c_to_b =
        || netns::run_in(&c_ns, || probe::attempt((b_addr, 80).into(), Protocol::Tcp, Duration::from_millis(300)));

    let applies = 32;
    let (watched, ()) = probe::watch(&a_ns, (b_addr, 80).into(), 6, Duration::from_millis(150), || {
        for i in 1..=applies {
            let (name, _, want) = &sets[i % sets.len()];
            // Apply the set, then delete the policies it does not have (kubectl's prune).
            let set = set_files[i % sets.len()].to_str().unwrap();
            let prune = ["--prune", "--all", "--prune-allowlist=networking.k8s.io/v1/NetworkPolicy"];
            lab.kubectl(&[&["apply", "-n", "x", "-f", set][..], &prune].concat(), None);
            // Enforced once x/c -> x/b shows the set's verdict (it flips with every set).
            let deadline = Instant::now() + SYNC;
            loop {
                let outcome = c_to_b().unwrap();
                if outcome.reached() == *want {
                    break;
                }
                assert!(Instant::now() < deadline, "apply {i} ({name}): x/c -> x/b still {outcome} after {SYNC:?}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    })
    .unwrap();
    let (probes, leaks) = (watched.attempts, watched.reached);
    eprintln!("{applies} kubectl applies, {probes} probes of the denied pair, {} got through", leaks.len());
    assert!(leaks.is_empty(), "the denied pair x/a -> x/b was reachable:\n{}", leaks.join("\n"));
    assert!(probes >= 100, "too few probes ({probes}) to mean anything");
    let names = lab.kubectl(&["get", "netpol", "-n", "x", "-o", "name"], None);
    assert_eq!(names.trim(), "networkpolicy.networking.k8s.io/b", "the last set ({}) alone", sets[0].0);
    let log = lab.state().api.unwrap().agent_log;
    assert_eq!(api::agent_events(&log, "failed"), Vec::<Value>::new(), "the agent never failed");
    lab.down();
}

//! A lab's life: `up` (namespaces, veths, ruleset, servers, externals), `apply` (new rules
//! and DNS records for the same pods), connections and probes, and `down`.
//!
//! Design: the state file is a journal written before each namespace is
//! created, so whatever stops `up` (an error, Ctrl-C, a kill), `down` or the
//! failing `up` itself removes exactly what was made. Deleting a namespace
//! removes its veth ends and its nftables table with it; the host's interfaces,
//! tables and sysctls are never touched. Servers run either as threads of this
//! process (tests: they stop when the [`Lab`] is dropped) or as a detached
//! `lab serve` process (the CLI), which re-reads DNS records when the state file changes.
//! With [`LabOptions::api`], a control plane and the agent run beside the lab
//! (module [`crate::api`]); `down` stops them before it deletes the namespaces.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use netpol_engine::{Engine, Flow, Options};
use netpol_model::{Cluster, PodKey, Protocol};
use netpol_nft::{RenderOptions, Stats};

use crate::api::{self, ApiOptions};
use crate::connect::{self, Connection, Target};
use crate::dns::DnsTable;
use crate::netns;
use crate::probe;
use crate::process;
use crate::report::{self, ProbeReport};
use crate::serve::Servers;
use crate::state::{self, State};
use crate::topology::Topology;
use crate::LabError;

/// Where the pods' servers run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerMode {
    /// Threads of this process, stopped when the [`Lab`] is dropped or downed.
    InProcess,
    /// A detached process: `program args... --id ID --state-dir DIR`, which must
    /// call [`serve_detached`] (the CLI's hidden `netpol lab serve`).
    Detached { program: PathBuf, args: Vec<String> },
}

/// How to build a lab.
#[derive(Clone, Debug)]
pub struct LabOptions {
    pub id: String,
    pub state_dir: PathBuf,
    pub servers: ServerMode,
    /// Apply the rendered ruleset in the node namespace (off: nothing enforces
    /// the policies, as in a cluster whose network plugin ignores them).
    pub enforce: bool,
    /// Run a Kubernetes API beside the lab and the agent enforcing what it
    /// holds (`lab up --api`, module [`crate::api`]); `None`: the lab itself
    /// applies what it is given.
    pub api: Option<ApiOptions>,
}

impl LabOptions {
    pub fn new(id: impl Into<String>) -> Self {
        LabOptions {
            id: id.into(),
            state_dir: PathBuf::from(state::DEFAULT_STATE_DIR),
            servers: ServerMode::InProcess,
            enforce: true,
            api: None,
        }
    }
}

/// What one ruleset apply did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enforcement {
    pub stats: Stats,
    pub bytes: usize,
    pub duration: Duration,
}

/// The engine's view of one [`Connection`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prediction {
    /// For a name: may the pod query the DNS pod on 53/UDP?
    pub dns: Option<bool>,
    /// May the pod open the connection that was attempted (`None` when none was)?
    pub connection: Option<bool>,
}

/// A lab that is up. One made by [`Lab::up`] is removed when dropped (unless
/// [`Lab::detach`]ed); one from [`Lab::open`] is left as it is.
pub struct Lab {
    path: PathBuf,
    state: State,
    servers: Option<Servers>,
    owned: bool,
}

impl Lab {
    /// Builds the lab for `cluster`. `interrupted` is polled between steps; when
    /// it returns true, or on any error, everything made so far is removed.
    pub fn up(cluster: &Cluster, options: &LabOptions, interrupted: &dyn Fn() -> bool) -> Result<Lab, LabError> {
        Lab::up_with_externals(cluster, &[], options, interrupted)
    }

    /// [`Lab::up`], plus an *external* for each of `externals`: an address
    /// outside the cluster (`8.8.8.8`) stood up in a namespace of the lab, behind
    /// the node like a pod, serving TCP and UDP ([`crate::LabExternal`]), so that
    /// pods' egress to it is enforced and probed as pod-to-pod traffic is.
    pub fn up_with_externals(
        cluster: &Cluster,
        externals: &[IpAddr],
        options: &LabOptions,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<Lab, LabError> {
        let mut topology = Topology::plan(&options.id, cluster)?;
        topology.add_externals(externals)?;
        let path = state::path(&options.state_dir, &options.id);
        if path.exists() {
            return Err(LabError::AlreadyUp { id: options.id.clone(), path });
        }
        let mut lab =
            Lab { path, state: State { id: options.id.clone(), ..State::default() }, servers: None, owned: true };
        lab.state.save(&lab.path)?;
        match lab.build(topology, options, interrupted) {
            Ok(()) => Ok(lab),
            Err(e) => {
                let _ = lab.teardown();
                Err(e)
            }
        }
    }

    fn build(
        &mut self,
        topology: Topology,
        options: &LabOptions,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<(), LabError> {
        let check = || if interrupted() { Err(LabError::Interrupted) } else { Ok(()) };
        let node = topology.node_netns.clone();
        self.create_netns(&node)?;
        netns::make_router(&node)?;
        if options.enforce {
            enforce(&topology.cluster, &node)?;
            self.state.enforced = true;
        }
        for (ip, _) in topology.host_network_addresses() {
            netns::add_local(&node, ip)?;
        }
        for pod in &topology.pods {
            check()?;
            self.create_netns(&pod.netns)?;
            netns::wire(&node, &pod.netns, &pod.node_if, &pod.ips)?;
        }
        for external in &topology.externals {
            check()?;
            self.create_netns(&external.netns)?;
            netns::wire(&node, &external.netns, &external.node_if, &[external.ip])?;
        }
        self.state.dns = DnsTable::from_cluster(&topology.cluster);
        self.state.topology = Some(topology);
        self.state.save(&self.path)?;
        check()?;
        match &options.servers {
            ServerMode::InProcess => {
                let topology = self.topology()?;
                self.servers = Some(Servers::start(topology, self.state.dns.clone())?);
            }
            ServerMode::Detached { program, args } => self.spawn_servers(program, args, &options.state_dir)?,
        }
        if let Some(api) = &options.api {
            check()?;
            api::start(&mut self.state, &self.path, &options.state_dir, api)?;
        }
        check()
    }

    fn create_netns(&mut self, name: &str) -> Result<(), LabError> {
        if netns::exists(name) {
            return Err(LabError::Command {
                command: format!("ip netns add {name}"),
                stderr: "it already exists (another lab with this id? run `netpol lab down`)".into(),
            });
        }
        self.state.created.push(name.to_string());
        self.state.save(&self.path)?;
        netns::add(name)
    }

    fn spawn_servers(&mut self, program: &Path, args: &[String], state_dir: &Path) -> Result<(), LabError> {
        let log = log_path(state_dir, &self.state.id);
        let log_file = File::create(&log).map_err(|e| LabError::io(&log, e))?;
        let mut child = Command::new(program)
            .args(args)
            .args(["--id", &self.state.id, "--state-dir"])
            .arg(state_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .process_group(0)
            .spawn()
            .map_err(|source| LabError::Spawn { program: program.display().to_string(), source })?;
        self.state.server_pid = Some(child.id());
        self.state.save(&self.path)?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        if line.trim() == "ready" {
            return Ok(());
        }
        let _ = child.kill();
        let _ = child.wait();
        self.state.server_pid = None;
        let why = std::fs::read_to_string(&log).unwrap_or_default();
        Err(LabError::Servers(format!("`{} serve` exited: {}", program.display(), why.trim())))
    }

    /// Opens a lab that is up (for `connect`, `probe`, `apply`); dropping it leaves the lab up.
    pub fn open(id: &str, state_dir: &Path) -> Result<Lab, LabError> {
        let path = state::path(state_dir, id);
        if !path.exists() {
            return Err(LabError::NotUp { id: id.to_string(), path });
        }
        let state = State::load(&path)?;
        Ok(Lab { path, state, servers: None, owned: false })
    }

    pub fn id(&self) -> &str {
        &self.state.id
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn topology(&self) -> Result<&Topology, LabError> {
        self.state.topology.as_ref().ok_or_else(|| LabError::Incomplete(self.state.id.clone()))
    }

    /// Re-renders and applies the rules, and replaces the DNS records, for the
    /// same pods with new policies, labels or Services.
    /// A lab with an API refuses: kubectl changes it, and the agent enforces.
    pub fn apply(&mut self, cluster: &Cluster) -> Result<Option<Enforcement>, LabError> {
        if let Some(api) = &self.state.api {
            return Err(LabError::FromApi { id: self.state.id.clone(), kubeconfig: api.kubeconfig.clone() });
        }
        let new = self.replan(cluster)?;
        let enforcement = if self.state.enforced { Some(enforce(&new.cluster, &new.node_netns)?) } else { None };
        self.state.dns = DnsTable::from_cluster(&new.cluster);
        if let Some(servers) = &self.servers {
            servers.set_dns(self.state.dns.clone());
        }
        self.state.topology = Some(new);
        self.state.save(&self.path)?;
        Ok(enforcement)
    }

    /// Predicts with `cluster` from now on (this handle only; nothing is
    /// applied or saved): for a lab with an API, what the API holds now. Its
    /// pods, addresses and ports must be the lab's.
    pub fn use_cluster(&mut self, cluster: &Cluster) -> Result<(), LabError> {
        self.state.topology = Some(self.replan(cluster)?);
        Ok(())
    }

    /// The plan of `cluster` for this lab: the same pods (else an error) and the same externals.
    fn replan(&self, cluster: &Cluster) -> Result<Topology, LabError> {
        let old = self.topology()?;
        let mut new = Topology::plan(&self.state.id, cluster)?;
        old.same_pods(&new)?;
        // Same pods, so the same names and ports; checked again against the new nodes.
        let ips: Vec<IpAddr> = old.externals.iter().map(|e| e.ip).collect();
        new.add_externals(&ips)?;
        Ok(new)
    }

    /// One real connection from `src` (see [`connect::connect`]).
    pub fn connect(&self, src: &PodKey, target: &Target, timeout: Duration) -> Result<Connection, LabError> {
        connect::connect(self.topology()?, src, target, timeout)
    }

    /// What the engine says about a connection: its DNS query and the connection itself.
    pub fn predict(&self, connection: &Connection) -> Result<Prediction, LabError> {
        let topology = self.topology()?;
        let engine = Engine::new(&topology.cluster, Options::default());
        let dns = match (&connection.resolution, topology.dns_pod()) {
            (Some(_), Some(dns)) => Some(report::predict(&engine, &connection.src, &dns.key, Protocol::Udp, 53)?),
            _ => None,
        };
        let connection_verdict = match connection.address {
            Some(addr) => {
                let flow = match &connection.dst {
                    Some(dst) => {
                        Flow::new(connection.src.clone(), dst.clone(), connection.target.protocol, addr.port())
                    }
                    None => Flow::new(connection.src.clone(), addr.ip(), connection.target.protocol, addr.port()),
                };
                Some(
                    engine
                        .evaluate(&flow)
                        .map(|d| d.allowed())
                        .map_err(|e| LabError::Predict(format!("{flow}: {e}")))?,
                )
            }
            None => None,
        };
        Ok(Prediction { dns, connection: connection_verdict })
    }

    /// Probes every pair on `targets` (and every pod to every external) and compares with the engine.
    pub fn probe(
        &self,
        targets: &[(u16, Protocol)],
        timeout: Duration,
        parallel: usize,
    ) -> Result<ProbeReport, LabError> {
        let topology = self.topology()?;
        let observed = probe::probe_all(topology, targets, timeout, parallel)?;
        ProbeReport::compare(&topology.cluster, observed)
    }

    /// Leaves the lab up when this handle is dropped (the servers must be detached).
    pub fn detach(mut self) {
        self.owned = false;
        if let Some(servers) = self.servers.take() {
            std::mem::forget(servers);
        }
    }

    /// Removes everything the lab made; returns the namespaces removed.
    pub fn down(mut self) -> Result<Vec<String>, LabError> {
        self.teardown()
    }

    /// Removes a lab by id, even one whose `up` was interrupted.
    pub fn down_by_id(id: &str, state_dir: &Path) -> Result<Vec<String>, LabError> {
        let mut lab = Lab::open(id, state_dir)?;
        lab.teardown()
    }

    fn teardown(&mut self) -> Result<Vec<String>, LabError> {
        self.owned = false;
        if let Some(servers) = self.servers.take() {
            servers.stop();
        }
        let mut problems = Vec::new();
        if let Some(api) = &self.state.api {
            problems.extend(api::stop(api));
        }
        if let Some(pid) = self.state.server_pid {
            let id = self.state.id.clone();
            let ours = |args: &[String]| args.iter().any(|a| a == "serve") && args.contains(&id);
            match process::stop(pid, &ours) {
                Ok(_) => self.state.server_pid = None,
                Err(e) => problems.push(format!("lab serve: {e}")),
            }
        }
        let mut removed = Vec::new();
        for name in self.state.created.iter().rev() {
            let existed = netns::exists(name);
            match netns::delete(name) {
                Ok(()) if existed => removed.push(name.clone()),
                Ok(()) => {}
                Err(e) => problems.push(e.to_string()),
            }
        }
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::remove_file(log_path(dir, &self.state.id));
        }
        if problems.is_empty() {
            let _ = std::fs::remove_file(&self.path);
            // The state dir too, when no other lab's file is left in it
            // (`remove_dir` fails on a directory that is not empty).
            if let Some(dir) = self.path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
            Ok(removed)
        } else {
            Err(LabError::Teardown(problems.join("; ")))
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.owned {
            let _ = self.teardown();
        }
    }
}

fn log_path(state_dir: &Path, id: &str) -> PathBuf {
    state_dir.join(format!("{id}.log"))
}

/// Renders the ruleset of `cluster` and applies it in `node` in one transaction.
pub fn enforce(cluster: &Cluster, node: &str) -> Result<Enforcement, LabError> {
    let ruleset = netpol_nft::render(cluster, &RenderOptions::default());
    let script = ruleset.script();
    let applied = netpol_nft::apply::apply(&script, Some(node))
        .map_err(|e| LabError::Enforce { netns: node.to_string(), message: e.to_string() })?;
    Ok(Enforcement { stats: ruleset.stats(), bytes: applied.bytes, duration: applied.duration })
}

/// The body of the detached `lab serve` process: starts the servers of lab
/// `id`, prints `ready`, reloads DNS records when the state file changes, and
/// returns once the state file is gone (the lab is down).
pub fn serve_detached(id: &str, state_dir: &Path) -> Result<(), LabError> {
    let path = state::path(state_dir, id);
    let state = State::load(&path)?;
    let topology = state.topology.ok_or_else(|| LabError::Servers(format!("lab `{id}` is not built")))?;
    let servers = Servers::start(&topology, state.dns)?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"ready\n").and_then(|()| out.flush());
    }
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let mut seen: Option<SystemTime> = modified(&path);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        match modified(&path) {
            None => break,
            Some(m) if Some(m) != seen => {
                seen = Some(m);
                if let Ok(state) = State::load(&path) {
                    servers.set_dns(state.dns);
                }
            }
            Some(_) => {}
        }
    }
    servers.stop();
    Ok(())
}

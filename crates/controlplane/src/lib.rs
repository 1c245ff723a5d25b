//! netpol-controlplane: a real Kubernetes control plane, etcd and
//! kube-apiserver on 127.0.0.1, for the lab (`netpol lab up --api`) and for
//! tests.
//!
//! Where it sits: beside the data flow, not in it. `netpol-lab` starts one
//! next to a lab so that people learning can use kubectl against it, and the
//! agent (`netpol agent --kubernetes`) watches it; `netpol-testkit` re-exports
//! this crate as `netpol_testkit::control_plane` (with the `faults` feature)
//! for every test that needs an API server.
//!
//! Why a crate of its own: it used to be a module of netpol-testkit, a
//! dev-dependency by the house style (builders, gates, generators). Once the
//! product runs a control plane (`netpol lab up --api`), the product would
//! depend on a test crate, with its builders and gates. So the process and
//! PKI code moved here, with no dependency on any other netpol crate; what only
//! tests do to a control plane (stop and start the API server, compact etcd,
//! reach it through a proxy, apply files with their status) is behind the
//! `faults` feature, which only testkit turns on.
//!
//! Model: a [`ControlPlane`] owns two child processes and one dir (PKI, etcd
//! data, logs, kubeconfigs): a fresh `$TMPDIR/netpol-cp-*`, or
//! [`Options::dir`]. Every port is free when picked (bound to port 0 and
//! released); a start that loses that race (address in use) is retried.
//! [`ControlPlane::start`] returns once `/readyz` answers `ok`, or fails with
//! the last lines of the server's log. Two ways to own the processes:
//! - owned (tests): Drop kills every process it started by PID, waits for
//!   each (so none is left a zombie) and removes the dir: also when the test
//!   panics, as Drop runs while unwinding. (A test process killed with SIGKILL
//!   cannot clean up: its children then outlive it.)
//!   `NETPOL_KEEP_CONTROL_PLANE=1` keeps the dir and says where it is;
//! - detached (the lab): with [`Options::detached`] the processes run in a
//!   process group of their own, [`ControlPlane::start_reporting`] names each
//!   PID as soon as it is spawned (the lab journals it before anything else
//!   can go wrong), and [`ControlPlane::detach`] leaves processes and dir
//!   running after the caller exits; whoever detached them stops them by PID.
//!
//! Authentication and authorization, chosen for being the simplest that is
//! also what a real cluster does:
//! - RBAC on (`--authorization-mode=Node,RBAC`), anonymous requests only get
//!   what RBAC's defaults give them (`/readyz`, `/version`).
//! - The admin is a static bearer token (`--token-auth-file`) in the group
//!   `system:masters`: no client certificate to mint, and the admin kubeconfig
//!   ([`ControlPlane::kubeconfig`]) is a plain file that kubectl and kube-rs read.
//! - ServiceAccount tokens are real signed JWTs (TokenRequest, `kubectl create
//!   token`), checked against the ServiceAccount in etcd:
//!   [`ControlPlane::mint_token`] makes one with only the rights it is given;
//!   [`ControlPlane::token`] makes one for a ServiceAccount that exists (e.g.
//!   from a manifest under test), with the rights RBAC gives it.
//! - TLS: a throwaway CA signs the serving certificate for 127.0.0.1 (module
//!   `pki`, OpenSSL), and kubeconfigs trust that CA: no `insecure-skip-tls-verify`.
//!
//! There is no controller-manager, scheduler or kubelet: nothing creates a
//! namespace's `default` ServiceAccount, so the `ServiceAccount` admission
//! plugin is off (as in envtest), and a Pod has no status until the caller
//! sets it as a kubelet would ([`ControlPlane::set_pod_ips`], through the
//! status subresource).
//!
//! ```no_run
//! use netpol_controlplane::{ControlPlane, Rule};
//!
//! let cp = ControlPlane::start().unwrap_or_else(|e| panic!("{e}")); // stopped when `cp` drops
//! let reader = cp.mint_token("prod", "reader", &[Rule::new(&["list"], "", &["pods"])]).unwrap();
//! let out = std::process::Command::new("kubectl")
//!     .arg(format!("--kubeconfig={}", reader.kubeconfig.display()))
//!     .args(["get", "pods", "-n", "prod"])
//!     .output()
//!     .unwrap();
//! assert!(out.status.success());
//! ```

mod binaries;
#[cfg(feature = "faults")]
mod faults;
pub mod http;
mod kubectl;
mod pki;

use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use binaries::{
    cache_dir, kubernetes_version, locate_helm, locate_helm_in, pinned, Binaries, CACHE_VAR, ETCD_VAR, HELM_VAR,
    KUBEBUILDER_ASSETS_VAR, KUBECTL_VAR, KUBE_APISERVER_VAR,
};
#[cfg(feature = "faults")]
pub use faults::Stopped;
use kubectl::write_kubeconfig;
pub use kubectl::{Credentials, Rule};

/// Set (not empty, not `0`) to keep a control plane's dir after it stops.
pub const KEEP_VAR: &str = "NETPOL_KEEP_CONTROL_PLANE";

/// Why a control plane could not start or a request to it failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("control-plane binaries not found: {0}")]
    Missing(String),
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}): {stderr}")]
    Command { command: String, status: String, stderr: String },
    #[error("{name} exited ({status}) before the API server was ready; last lines of {}:\n{tail}", log.display())]
    Exited { name: &'static str, status: String, log: PathBuf, tail: String },
    #[error(
        "the API server at {server} was not ready after {waited:?} (last /readyz answer: {last}); last lines of {}:\n{tail}",
        log.display()
    )]
    NotReady { server: String, waited: Duration, last: String, log: PathBuf, tail: String },
}

/// How to start a control plane; [`Options::default`] is what [`ControlPlane::start`] uses.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long to wait for `/readyz` (90 s: a cold start on two busy cores takes 10-30 s).
    pub ready_timeout: Duration,
    /// The Service IP range (`--service-cluster-ip-range`): kubeadm's default,
    /// the range seed manifests' `clusterIP`s come from.
    pub service_cluster_ip_range: String,
    /// More `--flag=value` arguments for kube-apiserver (they come last, so they win).
    pub extra_apiserver_args: Vec<String>,
    /// The control plane's dir, created by the start (its parent too) and
    /// removed when the control plane is dropped; `None`: a fresh
    /// `$TMPDIR/netpol-cp-*`.
    pub dir: Option<PathBuf>,
    /// Start the processes in a process group of their own, so that a Ctrl-C
    /// meant for the caller's terminal does not reach them once they are
    /// [`ControlPlane::detach`]ed.
    pub detached: bool,
    /// The name of the cluster and of the context in the kubeconfigs written.
    pub context: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            ready_timeout: Duration::from_secs(90),
            service_cluster_ip_range: "10.96.0.0/12".into(),
            extra_apiserver_args: Vec::new(),
            dir: None,
            detached: false,
            context: "netpol-test".into(),
        }
    }
}

#[derive(Debug)]
struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

/// Where a control plane keeps its files: removed with it either way.
#[derive(Debug)]
enum Dir {
    Temp(tempfile::TempDir),
    Given(PathBuf),
}

impl Dir {
    fn path(&self) -> &Path {
        match self {
            Dir::Temp(t) => t.path(),
            Dir::Given(p) => p,
        }
    }
}

/// A running etcd + kube-apiserver; stopped and removed on Drop (see the module docs).
#[derive(Debug)]
pub struct ControlPlane {
    /// In stop order: kube-apiserver before etcd.
    processes: Vec<Process>,
    dir: Option<Dir>,
    server: String,
    ca_cert: PathBuf,
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    context: String,
    detached: bool,
}

/// A control plane left running by [`ControlPlane::detach`]: its processes
/// and its dir, which are now the caller's to stop and remove.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Detached {
    pub dir: PathBuf,
    pub server: String,
    pub kubeconfig: PathBuf,
    /// `(name, pid)` in stop order: kube-apiserver, then etcd.
    pub processes: Vec<(String, u32)>,
}

impl Binaries {
    /// Starts a control plane from these binaries with [`Options::default`].
    pub fn start(&self) -> Result<ControlPlane, Error> {
        ControlPlane::start_with(self, &Options::default())
    }
}

impl ControlPlane {
    /// Finds the binaries ([`Binaries::locate`]) and starts with [`Options::default`].
    pub fn start() -> Result<ControlPlane, Error> {
        Binaries::locate().map_err(Error::Missing)?.start()
    }

    /// Starts etcd and kube-apiserver and waits for `/readyz`. A start that
    /// lost a port to another process is tried again (three times in all).
    pub fn start_with(binaries: &Binaries, options: &Options) -> Result<ControlPlane, Error> {
        ControlPlane::start_reporting(binaries, options, &mut |_, _| {})
    }

    /// [`ControlPlane::start_with`], calling `spawned(name, pid)` as soon as
    /// each process is spawned (before waiting for it), so that a caller
    /// that may itself be killed while waiting can journal what to stop.
    pub fn start_reporting(
        binaries: &Binaries,
        options: &Options,
        spawned: &mut dyn FnMut(&str, u32),
    ) -> Result<ControlPlane, Error> {
        let mut attempt = 1;
        loop {
            match ControlPlane::try_start(binaries, options, spawned) {
                Err(Error::Exited { ref tail, .. }) if attempt < 3 && tail.contains("address already in use") => {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn try_start(
        binaries: &Binaries,
        options: &Options,
        spawned: &mut dyn FnMut(&str, u32),
    ) -> Result<ControlPlane, Error> {
        let dir = match &options.dir {
            Some(path) => {
                std::fs::create_dir_all(path)
                    .map_err(|source| Error::Io { what: format!("create {}", path.display()), source })?;
                Dir::Given(path.clone())
            }
            None => Dir::Temp(
                tempfile::Builder::new()
                    .prefix("netpol-cp-")
                    .tempdir()
                    .map_err(|source| Error::Io { what: "create a temp dir for the control plane".into(), source })?,
            ),
        };
        let root = dir.path().to_path_buf();
        let kubectl = std::env::var_os(KUBECTL_VAR).filter(|v| !v.is_empty()).map_or("kubectl".into(), PathBuf::from);
        let pki_dir = mkdir(&root, "pki")?;
        let pki = pki::generate(&pki_dir)?;
        let [etcd_port, peer_port, api_port] = free_ports()?;
        let server = format!("https://127.0.0.1:{api_port}");
        let mut cp = ControlPlane {
            processes: Vec::new(),
            dir: Some(dir),
            server: server.clone(),
            ca_cert: pki.ca_cert.clone(),
            kubeconfig: root.join("admin.kubeconfig"),
            kubectl,
            context: options.context.clone(),
            detached: options.detached,
        };
        // From here on an early return drops `cp`, which stops what was started.

        let etcd_url = format!("http://127.0.0.1:{etcd_port}");
        let peer_url = format!("http://127.0.0.1:{peer_port}");
        let etcd_data = mkdir(&root, "etcd")?;
        cp.spawn(
            "etcd",
            &binaries.etcd,
            &[
                "--name=netpol-test".into(),
                format!("--data-dir={}", etcd_data.display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=netpol-test={peer_url}"),
                "--unsafe-no-fsync=true".into(),
                "--log-level=warn".into(),
            ],
        )?;
        spawned("etcd", cp.pids()[0]);

        let admin_token = random_token()?;
        let tokens = root.join("tokens.csv");
        write(&tokens, &format!("{admin_token},netpol-admin,netpol-admin,\"system:masters\"\n"))?;
        let mut args = vec![
            format!("--etcd-servers={etcd_url}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={api_port}"),
            format!("--cert-dir={}", pki_dir.display()),
            format!("--tls-cert-file={}", pki.serving_cert.display()),
            format!("--tls-private-key-file={}", pki.serving_key.display()),
            format!("--token-auth-file={}", tokens.display()),
            "--authorization-mode=Node,RBAC".into(),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-account-key-file={}", pki.sa_public.display()),
            format!("--service-account-signing-key-file={}", pki.sa_key.display()),
            format!("--service-cluster-ip-range={}", options.service_cluster_ip_range),
            "--disable-admission-plugins=ServiceAccount".into(),
            "--allow-privileged=true".into(),
            "--profiling=false".into(),
        ];
        args.extend(options.extra_apiserver_args.iter().cloned());
        cp.spawn("kube-apiserver", &binaries.kube_apiserver, &args)?;
        // Stop the API server before etcd.
        cp.processes.reverse();
        spawned("kube-apiserver", cp.pids()[0]);

        write_kubeconfig(&cp.kubeconfig, &server, &cp.ca_cert, &cp.context, "netpol-admin", &admin_token)?;
        cp.wait_ready(options.ready_timeout)?;
        Ok(cp)
    }

    fn spawn(&mut self, name: &'static str, program: &Path, args: &[String]) -> Result<(), Error> {
        let log = self.dir().join(format!("{name}.log"));
        let out =
            File::create(&log).map_err(|source| Error::Io { what: format!("create {}", log.display()), source })?;
        let err = out.try_clone().map_err(|source| Error::Io { what: format!("reopen {}", log.display()), source })?;
        let mut command = Command::new(program);
        command.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
        if self.detached {
            use std::os::unix::process::CommandExt as _;
            command.process_group(0);
        }
        let child =
            command.spawn().map_err(|source| Error::Io { what: format!("start {}", program.display()), source })?;
        self.processes.push(Process { name, child, log });
        Ok(())
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), Error> {
        let start = Instant::now();
        loop {
            for p in &mut self.processes {
                if let Ok(Some(status)) = p.child.try_wait() {
                    return Err(Error::Exited {
                        name: p.name,
                        status: status.to_string(),
                        log: p.log.clone(),
                        tail: tail(&p.log),
                    });
                }
            }
            let last = match self.kubectl_output(&["get", "--raw=/readyz", "--request-timeout=5s"], None) {
                Ok(body) if body.trim() == "ok" => return Ok(()),
                Ok(body) => body.trim().to_string(),
                Err(e) => e.to_string(),
            };
            if start.elapsed() > timeout {
                let log = self.processes[0].log.clone();
                return Err(Error::NotReady {
                    server: self.server.clone(),
                    waited: timeout,
                    last,
                    tail: tail(&log),
                    log,
                });
            }
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// The admin kubeconfig (bearer token in `system:masters`, CA file): pass
    /// it to kubectl (`--kubeconfig`) or kube-rs.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The PEM file of the CA the serving certificate is signed by.
    pub fn ca_cert(&self) -> &Path {
        &self.ca_cert
    }

    /// The control plane's own dir (PKI, etcd data, logs, kubeconfigs); gone after Drop.
    pub fn dir(&self) -> &Path {
        self.dir.as_ref().expect("the dir lives as long as the control plane").path()
    }

    /// Leaves the processes running and the dir in place when this handle
    /// goes: they are the caller's now (see [`Detached`]). The processes stay
    /// this process's children until it exits; it does not wait for them.
    pub fn detach(mut self) -> Detached {
        let dir = match self.dir.take().expect("the dir lives as long as the control plane") {
            Dir::Temp(t) => t.keep(),
            Dir::Given(p) => p,
        };
        let processes = self.processes.drain(..).map(|p| (p.name.to_string(), p.child.id())).collect();
        Detached { dir, server: self.server.clone(), kubeconfig: self.kubeconfig.clone(), processes }
    }

    /// The PIDs of every process it started (kube-apiserver, then etcd).
    pub fn pids(&self) -> Vec<u32> {
        self.processes.iter().map(|p| p.child.id()).collect()
    }

    /// The log file (stdout and stderr) of `kube-apiserver` or `etcd`.
    pub fn log(&self, name: &str) -> Option<&Path> {
        self.processes.iter().find(|p| p.name == name).map(|p| p.log.as_path())
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        for p in &mut self.processes {
            // SIGKILL by PID, then reap it: no process and no zombie is left.
            let _ = p.child.kill();
            let _ = p.child.wait();
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_path_buf();
            if std::env::var(KEEP_VAR).is_ok_and(|v| !v.is_empty() && v != "0") {
                if let Dir::Temp(t) = dir {
                    let _ = t.keep();
                }
                eprintln!("{KEEP_VAR}: kept the control plane's dir {}", path.display());
            } else {
                let removed = match dir {
                    Dir::Temp(t) => t.close(),
                    Dir::Given(p) => std::fs::remove_dir_all(p),
                };
                if let Err(e) = removed {
                    eprintln!("control plane: cannot remove {}: {e}", path.display());
                }
            }
        }
    }
}

fn mkdir(root: &Path, name: &str) -> Result<PathBuf, Error> {
    let dir = root.join(name);
    std::fs::create_dir(&dir).map_err(|source| Error::Io { what: format!("create {}", dir.display()), source })?;
    Ok(dir)
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::Io { what: format!("write {}", path.display()), source })
}

/// Three distinct ports free right now on 127.0.0.1 (held together while picked).
fn free_ports() -> Result<[u16; 3], Error> {
    let bind = || {
        TcpListener::bind("127.0.0.1:0")
            .map_err(|source| Error::Io { what: "bind a free port on 127.0.0.1".into(), source })
    };
    let held = [bind()?, bind()?, bind()?];
    let port = |l: &TcpListener| {
        l.local_addr().map(|a| a.port()).map_err(|source| Error::Io { what: "read a bound port".into(), source })
    };
    Ok([port(&held[0])?, port(&held[1])?, port(&held[2])?])
}

/// 32 hex digits from /dev/urandom.
fn random_token() -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|source| Error::Io { what: "read /dev/urandom".into(), source })?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The last 30 lines of a log file.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_else(|e| format!("(cannot read it: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_tokens_random() {
        let [a, b, c] = free_ports().unwrap();
        assert!(a != b && b != c && a != c && a > 0);
        let (t1, t2) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(t1.len(), 32);
        assert_ne!(t1, t2);
    }

    #[test]
    fn the_tail_of_a_log_is_its_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.log");
        let text: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, text).unwrap();
        let t = tail(&log);
        assert!(t.starts_with("line 11\n") && t.ends_with("line 40"), "{t}");
        assert!(tail(&dir.path().join("none")).starts_with("(cannot read it:"));
    }
}

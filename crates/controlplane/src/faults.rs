//! Faults a test inflicts on a running control plane (the `faults` feature,
//! which only netpol-testkit turns on): stop and start the API server (same
//! flags, same port), compact etcd (so that watches from before get `410
//! Gone`), a kubeconfig that reaches the server another way (through
//! testkit's proxy, which a test can cut), and files applied with the status
//! their pods declare.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use super::{ControlPlane, Error, Process};

/// The command line of a stopped API server, to start it again with.
#[derive(Debug)]
pub struct Stopped {
    program: PathBuf,
    args: Vec<String>,
}

/// A process's command line, from `/proc`.
fn cmdline(pid: u32) -> Result<Vec<String>, Error> {
    let path = format!("/proc/{pid}/cmdline");
    let raw = std::fs::read(&path).map_err(|source| Error::Io { what: format!("read {path}"), source })?;
    Ok(raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect())
}

impl ControlPlane {
    fn process(&self, name: &str) -> Result<&Process, Error> {
        self.processes.iter().find(|p| p.name == name).ok_or_else(|| Error::Io {
            what: format!("find the {name} process"),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not running"),
        })
    }

    /// Kills the API server (SIGKILL, then reaped); etcd keeps running.
    /// [`ControlPlane::start_apiserver`] starts it again as it was.
    pub fn stop_apiserver(&mut self) -> Result<Stopped, Error> {
        let pid = self.process("kube-apiserver")?.child.id();
        let mut line = cmdline(pid)?;
        let program = PathBuf::from(line.remove(0));
        let at = self.processes.iter().position(|p| p.name == "kube-apiserver").expect("found above");
        let mut p = self.processes.remove(at);
        let _ = p.child.kill();
        let _ = p.child.wait();
        Ok(Stopped { program, args: line })
    }

    /// Starts the API server stopped by [`ControlPlane::stop_apiserver`] with
    /// the same flags (port, certificates, etcd) and waits for `/readyz`.
    pub fn start_apiserver(&mut self, stopped: Stopped) -> Result<(), Error> {
        self.spawn("kube-apiserver", &stopped.program, &stopped.args)?;
        // Stop order: the API server before etcd.
        self.processes.rotate_right(1);
        self.wait_ready(Duration::from_secs(90))
    }

    /// etcd's client URL (`http://127.0.0.1:PORT`).
    pub fn etcd_url(&self) -> Result<String, Error> {
        let line = cmdline(self.process("etcd")?.child.id())?;
        line.iter().find_map(|a| a.strip_prefix("--listen-client-urls=")).map(str::to_string).ok_or_else(|| Error::Io {
            what: "find etcd's client URL".into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no --listen-client-urls"),
        })
    }

    /// Compacts etcd's history up to its current revision (through etcd's
    /// JSON gateway), so that a watch resumed from an older resourceVersion
    /// gets `410 Gone` (from etcd directly when the API server runs with
    /// `--watch-cache=false`). Returns the revision.
    pub fn compact_etcd(&self) -> Result<u64, Error> {
        let url = self.etcd_url()?;
        // Any range answers with the current revision in its header.
        let status = etcd_post(&url, "/v3/kv/range", &json!({"key": "AA=="}))?;
        let revision: u64 = status["header"]["revision"]
            .as_str()
            .and_then(|r| r.parse().ok())
            .or_else(|| status["header"]["revision"].as_u64())
            .ok_or_else(|| bad_answer(&status))?;
        etcd_post(&url, "/v3/kv/compaction", &json!({"revision": revision.to_string(), "physical": true}))?;
        Ok(revision)
    }

    /// A copy of the admin kubeconfig that reaches the API server at `server`
    /// (e.g. `https://127.0.0.1:PORT` of a proxy in front of it), in the
    /// control plane's dir. The serving certificate is for 127.0.0.1, so any
    /// port there verifies.
    pub fn kubeconfig_via(&self, server: &str, name: &str) -> Result<PathBuf, Error> {
        let text = std::fs::read_to_string(&self.kubeconfig)
            .map_err(|source| Error::Io { what: format!("read {}", self.kubeconfig.display()), source })?;
        let mut config: Value = serde_json::from_str(&text).map_err(|e| Error::Io {
            what: "parse the admin kubeconfig".into(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        config["clusters"][0]["cluster"]["server"] = Value::String(server.to_string());
        let path = self.dir().join(format!("{name}.kubeconfig"));
        std::fs::write(&path, config.to_string())
            .map_err(|source| Error::Io { what: format!("write {}", path.display()), source })?;
        Ok(path)
    }

    /// `kubectl apply -f PATH` (a file or folder), then each Pod in it gets
    /// the status a kubelet would write once it runs (phase Running, podIP and
    /// podIPs from the file's own `status.podIP`), through the status
    /// subresource. Pods without a `status.podIP` keep no status.
    pub fn apply_with_status(&self, path: &Path) -> Result<(), Error> {
        let path = path.to_str().ok_or_else(|| Error::Io {
            what: format!("use {} as an argument", path.display()),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not UTF-8"),
        })?;
        self.kubectl_output(&["apply", "-f", path], None)?;
        // kubectl's own reading of the files (status included) says what to patch.
        let parsed = self.kubectl_output(&["create", "--dry-run=client", "-o", "json", "-f", path], None)?;
        for object in serde_json::Deserializer::from_str(&parsed).into_iter::<Value>() {
            let object = object.map_err(|e| Error::Io {
                what: "parse kubectl's JSON".into(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            })?;
            let items = match object["kind"].as_str() {
                Some("List") => object["items"].as_array().cloned().unwrap_or_default(),
                _ => vec![object],
            };
            for pod in items.iter().filter(|o| o["kind"] == "Pod") {
                let Some(ip) = pod["status"]["podIP"].as_str() else { continue };
                let namespace = pod["metadata"]["namespace"].as_str().unwrap_or("default");
                let name = pod["metadata"]["name"].as_str().unwrap_or_default();
                self.set_pod_ip(namespace, name, ip)?;
            }
        }
        Ok(())
    }
}

fn bad_answer(answer: &Value) -> Error {
    Error::Io {
        what: "read etcd's answer".into(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, answer.to_string()),
    }
}

/// One POST to etcd's JSON gateway (plain HTTP on 127.0.0.1); the answer's JSON body.
fn etcd_post(url: &str, path: &str, body: &Value) -> Result<Value, Error> {
    let io = |what: &str| {
        let what = format!("{what} etcd at {url}{path}");
        move |source| Error::Io { what, source }
    };
    let address = url
        .trim_start_matches("http://")
        .parse()
        .map_err(|e| io("find")(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{url}: {e}"))))?;
    let answer = crate::http::post_json(address, path, &body.to_string()).map_err(io("POST to"))?;
    if answer.status != 200 {
        return Err(Error::Command {
            command: format!("POST {url}{path}"),
            status: answer.status.to_string(),
            stderr: answer.body,
        });
    }
    serde_json::from_str(&answer.body).map_err(|e| Error::Io {
        what: format!("parse etcd's answer {:?}", answer.body),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })
}

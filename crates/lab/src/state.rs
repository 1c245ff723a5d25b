//! The state file of a lab (`<state dir>/<id>.json`): what `up` created, written
//! *before* each thing is created (a journal), so that `down` can remove
//! everything even after an `up` that was killed half-way. A process is
//! recorded as soon as it is spawned (its PID is known only then).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dns::DnsTable;
use crate::topology::Topology;
use crate::LabError;

/// Where labs keep their state by default.
pub const DEFAULT_STATE_DIR: &str = "/run/netpol-lab";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub id: String,
    /// Network namespaces, in creation order (recorded just before each is created).
    pub created: Vec<String>,
    /// Set once every namespace and veth exists.
    pub topology: Option<Topology>,
    pub dns: DnsTable,
    /// The `lab serve` process holding the servers, when they run detached.
    pub server_pid: Option<u32>,
    /// Whether the ruleset is applied in the node namespace.
    pub enforced: bool,
    /// The lab's Kubernetes API (`lab up --api`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<ApiState>,
}

/// A lab's control plane and agent (see [`crate::api`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiState {
    /// The control plane's dir (`<state dir>/<id>.api`: PKI, etcd data, logs,
    /// the kubeconfig, the agent's log), recorded before it is created.
    pub dir: PathBuf,
    /// The admin kubeconfig: what `KUBECONFIG` is set to.
    pub kubeconfig: PathBuf,
    /// The API server's URL, once it answered.
    pub server: Option<String>,
    /// The node every lab Pod is scheduled on (`spec.nodeName`), which the agent enforces for.
    pub node: String,
    /// The agent's log (JSON lines, `netpol agent --log-format json`).
    pub agent_log: PathBuf,
    /// What runs, in stop order (the agent, kube-apiserver, etcd), each
    /// recorded as soon as it was spawned.
    pub processes: Vec<Process>,
}

/// One process a lab started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Process {
    pub name: String,
    pub pid: u32,
}

pub fn path(state_dir: &Path, id: &str) -> PathBuf {
    state_dir.join(format!("{id}.json"))
}

impl State {
    pub fn load(path: &Path) -> Result<State, LabError> {
        let text = std::fs::read_to_string(path).map_err(|e| LabError::io(path, e))?;
        serde_json::from_str(&text).map_err(|source| LabError::StateFormat { path: path.to_path_buf(), source })
    }

    /// Writes the file atomically (a temporary file renamed over it), making
    /// the state dir if needed: again if another lab's `down` removed it, empty,
    /// between the two steps.
    pub fn save(&self, path: &Path) -> Result<(), LabError> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|source| LabError::StateFormat { path: path.to_path_buf(), source })?;
        let tmp = path.with_extension("json.tmp");
        let mut attempts = 0;
        loop {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| LabError::io(dir, e))?;
            }
            match std::fs::write(&tmp, &text) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 3 => attempts += 1,
                Err(e) => return Err(LabError::io(&tmp, e)),
                Ok(()) => break,
            }
        }
        std::fs::rename(&tmp, path).map_err(|e| LabError::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dir = std::env::temp_dir().join(format!("netpol-lab-state-{}", std::process::id()));
        let file = path(&dir, "t1");
        let state =
            State { id: "t1".into(), created: vec!["np-t1-node".into()], server_pid: Some(7), ..State::default() };
        state.save(&file).unwrap();
        assert_eq!(State::load(&file).unwrap(), state);
        std::fs::write(&file, "{").unwrap();
        assert!(State::load(&file).unwrap_err().to_string().starts_with("state file"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

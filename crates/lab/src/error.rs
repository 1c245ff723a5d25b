use std::path::PathBuf;

use netpol_model::PodKey;

/// Everything that can go wrong while building, using or removing a lab.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("invalid lab id `{0}`: use 1 to 12 characters among a-z and 0-9")]
    BadId(String),
    #[error("pods {first} and {second} both have the address {ip}")]
    DuplicateIp { first: PodKey, second: PodKey, ip: std::net::IpAddr },
    #[error("external address {ip}: {reason}")]
    BadExternal { ip: std::net::IpAddr, reason: String },
    #[error("the lab pod address range {0} is exhausted")]
    AddressesExhausted(String),
    #[error("the manifests have no pod the lab can build (hostNetwork pods are node traffic)")]
    NoPods,
    #[error("`{command}` failed: {stderr}")]
    Command { command: String, stderr: String },
    #[error("could not run `{program}`: {source}")]
    Spawn { program: String, source: std::io::Error },
    #[error("could not enter network namespace {netns}: {source}")]
    Enter { netns: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("socket {what} in {netns}: {source}")]
    Socket { netns: String, what: String, source: std::io::Error },
    #[error("state file {path}: {source}")]
    StateFormat { path: PathBuf, source: serde_json::Error },
    #[error("no lab `{id}` is up (no state file {path})")]
    NotUp { id: String, path: PathBuf },
    #[error("lab `{id}` is already up (state file {path}); run `netpol lab down --id {id}` first")]
    AlreadyUp { id: String, path: PathBuf },
    #[error("the pods changed since `lab up` ({0}); run `netpol lab down` and `netpol lab up` again")]
    PodsChanged(String),
    #[error("pod {0} is not in the lab")]
    UnknownPod(PodKey),
    #[error("`{0}` is not TARGET[:PORT][/PROTO] (e.g. `backend`, `backend.default:80/TCP`, `10.0.0.2:53/UDP`, `[fd00::1]:80`)")]
    BadTarget(String),
    #[error("the lab servers did not start: {0}")]
    Servers(String),
    #[error("enforcement in {netns}: {message}")]
    Enforce { netns: String, message: String },
    #[error("lab `{0}` was never completely built; run `netpol lab down --id {0}`")]
    Incomplete(String),
    #[error("could not remove everything: {0}")]
    Teardown(String),
    #[error("prediction: {0}")]
    Predict(String),
    #[error("interrupted; everything this run created was removed")]
    Interrupted,
    #[error("the lab's control plane: {0}")]
    ControlPlane(#[from] netpol_controlplane::Error),
    #[error("{0}")]
    Missing(String),
    #[error("the lab's agent: {0}")]
    Agent(String),
    #[error(
        "lab `{id}` takes its policies from its Kubernetes API: change them with kubectl \
         (export KUBECONFIG={})", kubeconfig.display()
    )]
    FromApi { id: String, kubeconfig: PathBuf },
}

impl LabError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        LabError::Io { path: path.into(), source }
    }
}

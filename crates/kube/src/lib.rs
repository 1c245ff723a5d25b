//! netpol-kube: reads a live cluster through the Kubernetes API (kube-rs).
//!
//! [`connect`] resolves the configuration as kubectl does (`--kubeconfig`,
//! `$KUBECONFIG`, `~/.kube/config`, then the in-cluster service account) and
//! [`Connection::read`] lists, at cluster scope and paginated, everything
//! netpol models: the required kinds, and the optional ones ([`Kind`] says
//! which are which; Nodes, ServiceAccounts and the ordered-policy kinds, the
//! last read as dynamic objects, since their CRDs are often not installed).
//! The objects go to `netpol_manifest::api`, the one place where API objects
//! become model types.
//!
//! Failures are data ([`Error`]) with what a user needs: the address and the
//! OS error when the server is unreachable, the TLS or credential problem,
//! and for RBAC the verb and resource that were refused.
//!
//! [`ApiSource`] is the agent's other source (`netpol agent --kubernetes`):
//! watchers instead of one read, projected into the model as objects arrive
//! ([`projection`]), handed to the same sync loop as the folder source.

use std::fmt::Debug;
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::networking::v1 as net;
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::{DynamicObject, TypeMeta};
use kube::{Client, Config};
use netpol_manifest::api::Objects;
use serde::de::DeserializeOwned;

mod decode;
mod error;
mod kind;
pub mod projection;
mod watch;

pub use error::Error;
pub use kind::{Kind, KINDS};
pub use watch::{run_agent, skipped_event, Absence, ApiSource, Counters, Note, WatchOptions, FIRST_LISTS};

/// Where the cluster is: kubectl's `--kubeconfig` and `--context`.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

impl Source {
    /// True when a configuration can be found without flags: `$KUBECONFIG`
    /// names a file that exists, `~/.kube/config` exists, or this runs in a
    /// pod (`KUBERNETES_SERVICE_HOST` and the service account token).
    pub fn discoverable() -> bool {
        let env_file = std::env::var_os("KUBECONFIG")
            .is_some_and(|v| std::env::split_paths(&v).any(|p| !p.as_os_str().is_empty() && p.exists()));
        let home_file =
            std::env::var_os("HOME").is_some_and(|h| PathBuf::from(h).join(".kube").join("config").exists());
        let in_cluster = std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
            && std::path::Path::new("/var/run/secrets/kubernetes.io/serviceaccount/token").exists();
        env_file || home_file || in_cluster
    }
}

/// A client and the runtime it runs on; the methods block.
pub struct Connection {
    client: Client,
    runtime: tokio::runtime::Runtime,
    /// The API server's URL, for messages.
    pub server: String,
    /// The context's namespace (`default` when it names none), as kubectl uses it.
    pub namespace: String,
}

/// Resolves the configuration and builds a client (no request is sent yet).
pub fn connect(source: &Source) -> Result<Connection, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Config(format!("cannot start the I/O runtime: {e}")))?;
    let options = KubeConfigOptions { context: source.context.clone(), ..KubeConfigOptions::default() };
    let mut config = runtime.block_on(async {
        match &source.kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path).map_err(|e| Error::Config(chain(&e)))?;
                Config::from_custom_kubeconfig(file, &options).await.map_err(|e| Error::Config(chain(&e)))
            }
            None if source.context.is_some() => {
                Config::from_kubeconfig(&options).await.map_err(|e| Error::Config(chain(&e)))
            }
            None => Config::infer().await.map_err(|e| Error::Config(chain(&e))),
        }
    })?;
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(120));
    let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let namespace = config.default_namespace.clone();
    let client = {
        let _guard = runtime.enter();
        Client::try_from(config).map_err(|e| Error::classify(&e, &server, "connect to", "the API server"))?
    };
    Ok(Connection { client, runtime, server, namespace })
}

/// The optional kinds [`Connection::read`] went on without, for its notes.
#[derive(Debug, Default)]
struct Absent {
    not_served: Vec<&'static str>,
    forbidden: Vec<&'static str>,
    /// What going without some of them means ([`Kind::absent_means`]).
    means: Vec<(&'static str, &'static str)>,
}

impl Absent {
    /// The items listed, or none (noted) when the server does not serve the
    /// kind or RBAC refuses it; another error stops the read.
    fn note<K>(&mut self, kind: Kind, listed: Result<Vec<K>, Error>) -> Result<Vec<K>, Error> {
        let absent = match listed {
            Ok(items) => return Ok(items),
            Err(Error::NotServed { .. }) => &mut self.not_served,
            Err(Error::Forbidden { .. }) => &mut self.forbidden,
            Err(e) => return Err(e),
        };
        absent.push(kind.resource());
        if let Some(means) = kind.absent_means() {
            self.means.push((kind.resource(), means));
        }
        Ok(Vec::new())
    }

    fn notes(self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.forbidden.is_empty() {
            notes.push(format!(
                "cannot list {} at cluster scope (forbidden by RBAC); going on without them",
                self.forbidden.join(", ")
            ));
        }
        if !self.not_served.is_empty() {
            notes.push(format!("{} not served; treating as none", self.not_served.join(", ")));
        }
        for (resource, means) in self.means {
            notes.push(format!("without {resource}, {means}"));
        }
        notes
    }
}

/// The message of an error and of every error under it.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        next = cause.source();
    }
    text
}

/// What [`Connection::read`] found, and what it could not read (one note each).
#[derive(Debug, Default)]
pub struct Read {
    pub objects: Objects,
    pub notes: Vec<String>,
}

/// Objects per page: kubectl's default chunk size.
const PAGE: u32 = 500;

impl Connection {
    /// Lists every Namespace, Pod and NetworkPolicy (required: an error stops
    /// the read), and Services, workloads, Nodes, ServiceAccounts and the ordered-policy kinds
    /// (optional: a refusal is a note, since without them netpol still answers
    /// for the pods and policies that exist; the ordered kinds the server does
    /// not serve, their CRDs not installed, are one note together).
    /// `progress` gets a line after every page.
    pub fn read(&self, progress: &mut dyn FnMut(&str)) -> Result<Read, Error> {
        self.runtime.block_on(async {
            let mut read = Read::default();
            let o = &mut read.objects;
            o.namespaces = self.list("namespaces", progress).await?;
            o.network_policies = self.list("networkpolicies", progress).await?;
            o.pods = self.list("pods", progress).await?;
            o.services = self.optional("services", &mut read.notes, progress).await?;
            o.deployments = self.optional("deployments", &mut read.notes, progress).await?;
            o.stateful_sets = self.optional("statefulsets", &mut read.notes, progress).await?;
            o.daemon_sets = self.optional("daemonsets", &mut read.notes, progress).await?;
            o.replica_sets = self.optional("replicasets", &mut read.notes, progress).await?;
            o.jobs = self.optional("jobs", &mut read.notes, progress).await?;
            o.cron_jobs = self.optional("cronjobs", &mut read.notes, progress).await?;
            let mut absent = Absent::default();
            o.nodes = absent.note(Kind::Nodes, self.list("nodes", progress).await)?;
            o.service_accounts = absent.note(Kind::ServiceAccounts, self.list("serviceaccounts", progress).await)?;
            for kind in Kind::ORDERED {
                let resource = kind.api_resource();
                let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &resource);
                for mut item in absent.note(kind, self.list_from(api, kind.resource(), progress).await)? {
                    // List items may come without their type.
                    let types = TypeMeta { api_version: resource.api_version.clone(), kind: resource.kind.clone() };
                    item.types.get_or_insert(types);
                    let value = serde_json::to_value(&item).map_err(|e| Error::Other {
                        verb: "list".into(),
                        resource: kind.resource().into(),
                        message: e.to_string(),
                    })?;
                    o.ordered.push((kind.resource().to_string(), value));
                }
            }
            read.notes.extend(absent.notes());
            Ok(read)
        })
    }

    async fn optional<K>(
        &self,
        resource: &'static str,
        notes: &mut Vec<String>,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Vec<K>, Error>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        match self.list(resource, progress).await {
            Ok(items) => Ok(items),
            Err(e @ (Error::Forbidden { .. } | Error::NotServed { .. })) => {
                notes.push(format!("{e}; going on without {resource}"));
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// Lists one resource at cluster scope, page by page; a continue token
    /// that expired (410 Gone) restarts the list, as kubectl does.
    async fn list<K>(&self, resource: &'static str, progress: &mut dyn FnMut(&str)) -> Result<Vec<K>, Error>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        self.list_from(Api::all(self.client.clone()), resource, progress).await
    }

    /// [`Connection::list`] through `api` (a dynamic one, say).
    async fn list_from<K>(&self, api: Api<K>, resource: &str, progress: &mut dyn FnMut(&str)) -> Result<Vec<K>, Error>
    where
        K: kube::Resource + Clone + DeserializeOwned + Debug,
    {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        let mut restarts = 0;
        loop {
            let mut params = ListParams::default().limit(PAGE);
            if let Some(t) = &token {
                params = params.continue_token(t);
            }
            match api.list(&params).await {
                Ok(list) => {
                    items.extend(list.items);
                    progress(&format!("reading {resource} from {}: {}", self.server, items.len()));
                    match list.metadata.continue_ {
                        Some(t) if !t.is_empty() => token = Some(t),
                        _ => return Ok(items),
                    }
                }
                Err(kube::Error::Api(status)) if status.code == 410 && token.is_some() && restarts < 5 => {
                    items.clear();
                    token = None;
                    restarts += 1;
                }
                Err(e) => return Err(Error::classify(&e, &self.server, "list", resource)),
            }
        }
    }

    /// Publishes `event` (e.g. [`skipped_event`]) about the object `reference`
    /// names, as `reporter` (events.k8s.io/v1), as the agent does for an
    /// object it skipped (the agent keeps one recorder, whose repeats of an
    /// Event patch its series instead of creating another).
    pub fn publish_event(
        &self,
        event: &kube::runtime::events::Event,
        reference: &k8s_openapi::api::core::v1::ObjectReference,
        reporter: kube::runtime::events::Reporter,
    ) -> Result<(), Error> {
        let recorder = kube::runtime::events::Recorder::new(self.client.clone(), reporter);
        let namespace = reference.namespace.clone().unwrap_or_default();
        self.runtime
            .block_on(recorder.publish(event, reference))
            .map_err(|e| Error::classify(&e, &self.server, "create", "events").in_namespace(&namespace))
    }

    /// Creates a NetworkPolicy in its namespace (`dry_run`: the server
    /// validates and answers without storing, `--dry-run=server`).
    pub fn create_network_policy(&self, np: &net::NetworkPolicy, dry_run: bool) -> Result<net::NetworkPolicy, Error> {
        let namespace = np.metadata.namespace.clone().unwrap_or_else(|| self.namespace.clone());
        let api: Api<net::NetworkPolicy> = Api::namespaced(self.client.clone(), &namespace);
        let params = PostParams { dry_run, ..PostParams::default() };
        self.runtime
            .block_on(api.create(&params, np))
            .map_err(|e| Error::classify(&e, &self.server, "create", "networkpolicies").in_namespace(&namespace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_kubeconfig_is_a_config_error() {
        let source = Source { kubeconfig: Some("/nonexistent/kubeconfig".into()), context: None };
        let err = connect(&source).err().expect("no such file");
        let text = err.to_string();
        assert!(text.contains("/nonexistent/kubeconfig"), "{text}");
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }

    #[test]
    fn absent_optional_kinds_are_one_note_each_way() {
        let mut absent = Absent::default();
        let not_served = || Error::NotServed { resource: "x".into(), message: "404".into() };
        let forbidden = || Error::Forbidden {
            verb: "list".into(),
            resource: "x".into(),
            scope: String::new(),
            message: String::new(),
        };
        assert_eq!(absent.note(Kind::Nodes, Ok(vec![1])).unwrap(), [1]);
        assert!(absent.note::<u8>(Kind::AdminNetworkPolicies, Err(not_served())).unwrap().is_empty());
        assert!(absent.note::<u8>(Kind::CalicoNetworkPolicies, Err(not_served())).unwrap().is_empty());
        assert!(absent.note::<u8>(Kind::Tiers, Err(forbidden())).unwrap().is_empty());
        assert!(absent.note::<u8>(Kind::ServiceAccounts, Err(forbidden())).unwrap().is_empty());
        let unreachable = Error::Unreachable { server: "s".into(), reason: "r".into() };
        assert!(absent.note::<u8>(Kind::Nodes, Err(unreachable)).is_err(), "any other error stops the read");
        assert_eq!(
            absent.notes(),
            [
                "cannot list tiers, serviceaccounts at cluster scope (forbidden by RBAC); going on without them",
                "adminnetworkpolicies, networkpolicies.projectcalico.org not served; treating as none",
                "without serviceaccounts, pods carry no ServiceAccount labels: Calico selectors on them see none \
                 (serviceAccountSelector `team == 'a'` selects no pod, `!has(team)` every pod)",
            ]
        );
    }

    #[test]
    fn chain_joins_causes_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let outer = std::io::Error::other(io);
        assert_eq!(chain(&outer), "connection refused");
    }
}

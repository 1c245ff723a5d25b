//! What-if on top of a live cluster: files applied as `kubectl apply` would
//! (an object replaces the live one of the same kind, namespace and name, or
//! is added), then objects deleted (`--without`).
//!
//! A workload in the files replaces the live workload's pods: they are the
//! old template's pods, and after the rollout the new template's pods take
//! their place, so the file's template stands for them.

use std::fmt;
use std::str::FromStr;

use netpol_model::{Cluster, WorkloadKind};

use crate::api::{Live, Owner};

/// The kind of an object named by `--without`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    Namespace,
    /// A Pod or a workload (its pods and template).
    Pod(WorkloadKind),
    Service,
    NetworkPolicy,
}

/// `[KIND/]NAMESPACE/NAME` (KIND defaults to networkpolicy), or `namespace/NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    pub kind: RefKind,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            RefKind::Namespace => return write!(f, "namespace/{}", self.name),
            RefKind::Pod(k) => k.as_str().to_lowercase(),
            RefKind::Service => "service".to_string(),
            RefKind::NetworkPolicy => "networkpolicy".to_string(),
        };
        write!(f, "{kind}/{}/{}", self.namespace, self.name)
    }
}

/// Why an [`ObjectRef`] did not parse.
#[derive(Debug, thiserror::Error)]
pub enum RefError {
    #[error("`{0}` is not [KIND/]NAMESPACE/NAME (e.g. `default/default-deny` or `deployment/shop/web`)")]
    Shape(String),
    #[error(
        "unknown kind `{0}`: use networkpolicy (netpol), pod, service (svc), namespace (ns), deployment, \
         statefulset, daemonset, replicaset, job or cronjob"
    )]
    Kind(String),
}

fn kind(word: &str) -> Option<RefKind> {
    let w = word.to_ascii_lowercase();
    let w = w.split('.').next().unwrap_or_default(); // networkpolicies.networking.k8s.io
    Some(match w {
        "networkpolicy" | "networkpolicies" | "netpol" => RefKind::NetworkPolicy,
        "namespace" | "namespaces" | "ns" => RefKind::Namespace,
        "service" | "services" | "svc" => RefKind::Service,
        "pod" | "pods" | "po" => RefKind::Pod(WorkloadKind::Pod),
        "deployment" | "deployments" | "deploy" => RefKind::Pod(WorkloadKind::Deployment),
        "statefulset" | "statefulsets" | "sts" => RefKind::Pod(WorkloadKind::StatefulSet),
        "daemonset" | "daemonsets" | "ds" => RefKind::Pod(WorkloadKind::DaemonSet),
        "replicaset" | "replicasets" | "rs" => RefKind::Pod(WorkloadKind::ReplicaSet),
        "job" | "jobs" => RefKind::Pod(WorkloadKind::Job),
        "cronjob" | "cronjobs" | "cj" => RefKind::Pod(WorkloadKind::CronJob),
        _ => return None,
    })
}

impl FromStr for ObjectRef {
    type Err = RefError;

    fn from_str(s: &str) -> Result<Self, RefError> {
        let parts: Vec<&str> = s.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(RefError::Shape(s.to_string()));
        }
        let (kind, namespace, name) = match parts[..] {
            [ns, name] => match self::kind(ns) {
                Some(RefKind::Namespace) => (RefKind::Namespace, String::new(), name),
                _ => (RefKind::NetworkPolicy, ns.to_string(), name),
            },
            [k, ns, name] => match self::kind(k) {
                Some(RefKind::Namespace) => return Err(RefError::Shape(s.into())),
                Some(kind) => (kind, ns.to_string(), name),
                None => return Err(RefError::Kind(k.to_string())),
            },
            _ => return Err(RefError::Shape(s.to_string())),
        };
        Ok(ObjectRef { kind, namespace, name: name.to_string() })
    }
}

/// `--without` named an object that is in neither the cluster nor the files.
#[derive(Debug, thiserror::Error)]
#[error("{0} is not in the cluster (nor in the files): nothing to leave out")]
pub struct NotFound(pub ObjectRef);

/// The live state with `files` applied on top, then `without` deleted;
/// policies sorted by namespace and name.
pub fn overlay(live: Live, files: Cluster, without: &[ObjectRef]) -> Result<Cluster, NotFound> {
    let Live { mut cluster, owners, .. } = live;
    let mut owners: Vec<Option<Owner>> = owners;
    for ns in files.namespaces.into_values().filter(|n| n.declared) {
        cluster.namespaces.insert(ns.name.clone(), ns);
    }
    // Objects of the files replace the live ones of the same kind and name.
    upsert_by(&mut cluster.policies, files.policies, |p| (p.namespace.clone(), p.name.clone()));
    upsert_by(&mut cluster.services, files.services, |s| (s.namespace.clone(), s.name.clone()));
    upsert_by(&mut cluster.tiered, files.tiered, |p| (p.kind, p.namespace.clone(), p.name.clone()));
    upsert_by(&mut cluster.tiers, files.tiers, |t| t.name.clone());
    upsert_by(&mut cluster.nodes, files.nodes, |n| n.name.clone());
    upsert_by(&mut cluster.service_accounts, files.service_accounts, |sa| (sa.namespace.clone(), sa.name.clone()));
    for pod in files.pods {
        let target =
            ObjectRef { kind: RefKind::Pod(pod.kind), namespace: pod.namespace.clone(), name: pod.name.clone() };
        remove_pods(&mut cluster, &mut owners, &target);
        cluster.pods.push(pod);
        owners.push(None);
    }
    for target in without {
        let found = match target.kind {
            RefKind::NetworkPolicy => {
                retain(&mut cluster.policies, |p| !(p.namespace == target.namespace && p.name == target.name))
            }
            RefKind::Service => {
                retain(&mut cluster.services, |s| !(s.namespace == target.namespace && s.name == target.name))
            }
            RefKind::Pod(_) => remove_pods(&mut cluster, &mut owners, target),
            RefKind::Namespace => {
                let ns = &target.name;
                let found = cluster.namespaces.remove(ns).is_some_and(|n| n.declared);
                let in_ns = ObjectRef { kind: RefKind::Namespace, namespace: ns.clone(), name: String::new() };
                remove_pods(&mut cluster, &mut owners, &in_ns);
                retain(&mut cluster.policies, |p| &p.namespace != ns);
                retain(&mut cluster.services, |s| &s.namespace != ns);
                found
            }
        };
        if !found {
            return Err(NotFound(target.clone()));
        }
    }
    cluster.add_implicit_namespaces();
    cluster.link_service_accounts();
    // The order the API lists them in, whatever the source: explanations name
    // policies in this order, so files and the cluster read the same.
    cluster.policies.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(cluster)
}

/// Each of `new` replaces the item of `items` with its key, or is appended.
fn upsert_by<T, K: PartialEq>(items: &mut Vec<T>, new: Vec<T>, key: impl Fn(&T) -> K) {
    for item in new {
        let k = key(&item);
        match items.iter_mut().find(|i| key(i) == k) {
            Some(slot) => *slot = item,
            None => items.push(item),
        }
    }
}

/// Keeps what `keep` accepts; true when something was removed.
fn retain<T>(items: &mut Vec<T>, keep: impl Fn(&T) -> bool) -> bool {
    let before = items.len();
    items.retain(keep);
    items.len() != before
}

/// Removes a Pod, or a workload's template and every pod that descends from it,
/// or (kind Namespace) every pod in `target.namespace`; true when something was removed.
fn remove_pods(cluster: &mut Cluster, owners: &mut Vec<Option<Owner>>, target: &ObjectRef) -> bool {
    let doomed = |pod: &netpol_model::Pod, owner: &Option<Owner>| match target.kind {
        RefKind::Namespace => pod.namespace == target.namespace,
        RefKind::Pod(kind) => {
            let own = pod.kind == kind && pod.namespace == target.namespace && pod.name == target.name;
            let descends = owner
                .as_ref()
                .is_some_and(|(k, ns, name)| *k == kind && *ns == target.namespace && *name == target.name);
            own || (kind != WorkloadKind::Pod && descends)
        }
        _ => false,
    };
    let before = cluster.pods.len();
    let (pods, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut cluster.pods)
        .into_iter()
        .zip(std::mem::take(owners))
        .filter(|(pod, owner)| !doomed(pod, owner))
        .unzip();
    cluster.pods = pods;
    *owners = kept;
    cluster.pods.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol_model::{Labels, NetworkPolicy, Pod};

    fn pod(name: &str, kind: WorkloadKind, app: &str) -> Pod {
        Pod {
            namespace: "shop".to_string(),
            name: name.to_string(),
            kind,
            labels: Labels::from_iter([("app", app)]),
            ips: Vec::new(),
            ports: Vec::new(),
            host_network: false,
            node: None,
            origin: None,
            service_account: Default::default(),
        }
    }

    fn policy(name: &str) -> NetworkPolicy {
        let np = serde_json::json!({"metadata": {"name": name, "namespace": "shop"}, "spec": {"podSelector": {}}});
        crate::api::network_policy(&serde_json::from_value(np).unwrap())
    }

    fn live() -> Live {
        let web = Some((WorkloadKind::Deployment, "shop".to_string(), "web".to_string()));
        let cluster = Cluster {
            pods: vec![
                pod("web-1-a", WorkloadKind::Pod, "web"),
                pod("web-1-b", WorkloadKind::Pod, "web"),
                pod("db", WorkloadKind::Pod, "db"),
            ],
            policies: vec![policy("b"), policy("a")],
            ..Cluster::default()
        };
        Live { cluster, owners: vec![web.clone(), web, None], notes: Vec::new() }
    }

    fn names(cluster: &Cluster) -> (Vec<String>, Vec<String>) {
        let pods = cluster.pods.iter().map(|p| format!("{}:{}={}", p.name, p.kind.as_str(), p.labels)).collect();
        (pods, cluster.policies.iter().map(|p| p.name.clone()).collect())
    }

    #[test]
    fn files_replace_live_objects_and_without_deletes() {
        // A Deployment in the files stands for the live pods of that Deployment.
        let mut files = Cluster::default();
        files.pods.push(pod("web", WorkloadKind::Deployment, "web2"));
        files.policies.push(policy("c"));
        let got = overlay(live(), files, &[]).unwrap();
        assert_eq!(
            names(&got),
            (
                vec!["db:Pod=app=db".to_string(), "web:Deployment=app=web2".to_string()],
                vec!["a".to_string(), "b".to_string(), "c".to_string()]
            )
        );
        // --without a Deployment removes its pods; a Pod of the same name is another object.
        let without = ["deploy/shop/web".parse().unwrap(), "shop/a".parse().unwrap()];
        let got = overlay(live(), Cluster::default(), &without).unwrap();
        assert_eq!(names(&got), (vec!["db:Pod=app=db".to_string()], vec!["b".to_string()]));
        let missing = overlay(live(), Cluster::default(), &["pod/shop/web".parse().unwrap()]);
        assert_eq!(
            missing.unwrap_err().to_string(),
            "pod/shop/web is not in the cluster (nor in the files): nothing to leave out"
        );
        // A namespace takes everything in it along.
        let got = overlay(live(), Cluster::default(), &["ns/shop".parse().unwrap()]);
        assert!(got.is_err(), "shop is only implicit in this cluster: not declared, so not there");
    }

    #[test]
    fn object_refs_parse() {
        let table = [
            ("default/default-deny", "networkpolicy/default/default-deny"),
            ("netpol/default/x", "networkpolicy/default/x"),
            ("deploy/shop/web", "deployment/shop/web"),
            ("svc/shop/web", "service/shop/web"),
            ("ns/shop", "namespace/shop"),
            ("networkpolicies.networking.k8s.io/a/b", "networkpolicy/a/b"),
        ];
        for (input, shown) in table {
            assert_eq!(input.parse::<ObjectRef>().unwrap().to_string(), shown, "{input}");
        }
        for bad in ["x", "a//b", "widget/a/b", "a/b/c/d", "ns/a/b"] {
            assert!(bad.parse::<ObjectRef>().is_err(), "{bad}");
        }
    }
}

//! Objects read from the Kubernetes API become model types here, through the
//! same [`convert`](crate::convert) functions as objects from files: one
//! conversion, one set of semantics.
//!
//! The API server has already validated and defaulted what it stores, so
//! nothing here re-validates. Three things differ from files:
//! - a Pod that has finished (`status.phase` Succeeded or Failed) holds no
//!   address and takes no traffic: it is left out (its IP may already belong to
//!   another pod), with one note saying how many;
//! - a workload's pod template is an endpoint only while no live pod descends
//!   from it (a Deployment scaled to zero, a Job not started yet): otherwise its
//!   pods are the endpoints, and the template would count them twice;
//! - origins name the object (`cluster:networkpolicies/NS/NAME`), not a line.
//!
//! [`overlay`] is the what-if: files applied on top of the live state.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use netpol_model::{Cluster, Origin, WorkloadKind};

use crate::check::Workload;
use crate::convert::{self, PodParts};

mod ordered;
pub use ordered::{node, ordered, Ordered};

/// Everything netpol reads from a cluster, as the API returns it.
#[derive(Clone, Debug, Default)]
pub struct Objects {
    pub namespaces: Vec<core::Namespace>,
    pub pods: Vec<core::Pod>,
    pub services: Vec<core::Service>,
    pub network_policies: Vec<net::NetworkPolicy>,
    pub deployments: Vec<apps::Deployment>,
    pub stateful_sets: Vec<apps::StatefulSet>,
    pub daemon_sets: Vec<apps::DaemonSet>,
    pub replica_sets: Vec<apps::ReplicaSet>,
    pub jobs: Vec<batch::Job>,
    pub cron_jobs: Vec<batch::CronJob>,
    pub nodes: Vec<core::Node>,
    /// ServiceAccounts: their labels reach the pods that run as them
    /// (Calico's `serviceAccountSelector`).
    pub service_accounts: Vec<core::ServiceAccount>,
    /// Objects of the ordered kinds ([`ordered`]): each with its resource
    /// (`adminnetworkpolicies`, ...), as the server sent it.
    pub ordered: Vec<(String, serde_json::Value)>,
}

/// The workload a live pod descends from: (kind, namespace, name), followed
/// through ReplicaSet -> Deployment and Job -> CronJob.
pub type Owner = (WorkloadKind, String, String);

/// The live state as a model, with what [`overlay`] needs to replace a workload.
#[derive(Clone, Debug, Default)]
pub struct Live {
    pub cluster: Cluster,
    /// Parallel to `cluster.pods`: the workload each pod descends from.
    pub owners: Vec<Option<Owner>>,
    /// What the conversion left out, for the user (one line each).
    pub notes: Vec<String>,
}

/// The origin of an object read from the API, e.g. `cluster:pods/default/web`.
pub fn origin(resource: &str, namespace: &str, name: &str) -> Origin {
    let file = if namespace.is_empty() {
        format!("cluster:{resource}/{name}")
    } else {
        format!("cluster:{resource}/{namespace}/{name}")
    };
    Origin::new(Arc::<str>::from(file), 0, 0)
}

fn names(meta: &ObjectMeta) -> (String, String) {
    (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default())
}

/// The controller owner reference of an object, as (kind, name).
fn controller(meta: &ObjectMeta) -> Option<(&str, &str)> {
    let refs = meta.owner_references.as_deref().unwrap_or_default();
    let owner = refs.iter().find(|r| r.controller == Some(true)).or_else(|| refs.first())?;
    Some((owner.kind.as_str(), owner.name.as_str()))
}

/// Converts what the API returned. Never fails: the server stored only valid objects.
pub fn from_api(objects: &Objects) -> Live {
    let mut live = Live::default();
    for ns in &objects.namespaces {
        let model = namespace(ns);
        live.cluster.namespaces.insert(model.name.clone(), model);
    }
    // ReplicaSet -> Deployment and Job -> CronJob, to name a pod's top owner.
    let mut parents: BTreeMap<(WorkloadKind, String, String), Owner> = BTreeMap::new();
    for (kind, meta) in objects
        .replica_sets
        .iter()
        .map(|r| (WorkloadKind::ReplicaSet, &r.metadata))
        .chain(objects.jobs.iter().map(|j| (WorkloadKind::Job, &j.metadata)))
    {
        let (namespace, name) = names(meta);
        let parent = match controller(meta) {
            Some(("Deployment", owner)) if kind == WorkloadKind::ReplicaSet => (WorkloadKind::Deployment, owner),
            Some(("CronJob", owner)) if kind == WorkloadKind::Job => (WorkloadKind::CronJob, owner),
            _ => continue,
        };
        parents.insert((kind, namespace.clone(), name), (parent.0, namespace, parent.1.to_string()));
    }
    let mut finished = 0usize;
    let mut owned: BTreeSet<Owner> = BTreeSet::new();
    for pod in &objects.pods {
        let Some(model) = self::pod(pod) else {
            finished += 1;
            continue;
        };
        let (namespace, _) = names(&pod.metadata);
        // The direct owner (a ReplicaSet), then the top one (its Deployment): both have pods.
        let direct: Option<Owner> = controller(&pod.metadata).and_then(|(kind, owner)| {
            let kind = WorkloadKind::parse(kind).filter(|k| *k != WorkloadKind::Pod)?;
            Some((kind, namespace.clone(), owner.to_string()))
        });
        let owner = direct.as_ref().map(|d| parents.get(d).unwrap_or(d).clone());
        owned.extend(direct.into_iter().chain(owner.clone()));
        live.cluster.pods.push(model);
        live.owners.push(owner);
    }
    if finished > 0 {
        live.notes.push(format!(
            "{finished} pod{} that finished (phase Succeeded or Failed) left out: {} no address and take no traffic",
            if finished == 1 { "" } else { "s" },
            if finished == 1 { "it holds" } else { "they hold" }
        ));
    }
    let mut templates = 0usize;
    templates += add_templates(&mut live, &owned, &objects.deployments, "deployments");
    templates += add_templates(&mut live, &owned, &objects.stateful_sets, "statefulsets");
    templates += add_templates(&mut live, &owned, &objects.daemon_sets, "daemonsets");
    // A ReplicaSet or Job with an owner is its owner's concern (an old ReplicaSet
    // of a Deployment, scaled to zero, is no endpoint).
    let top = |meta: &ObjectMeta| controller(meta).is_none();
    let replica_sets: Vec<_> = objects.replica_sets.iter().filter(|r| top(&r.metadata)).cloned().collect();
    templates += add_templates(&mut live, &owned, &replica_sets, "replicasets");
    let jobs: Vec<_> = objects.jobs.iter().filter(|j| top(&j.metadata)).cloned().collect();
    templates += add_templates(&mut live, &owned, &jobs, "jobs");
    templates += add_templates(&mut live, &owned, &objects.cron_jobs, "cronjobs");
    if templates > 0 {
        live.notes.push(format!(
            "{templates} workload{} with no live pod taken as {} pod template (no address yet)",
            if templates == 1 { "" } else { "s" },
            if templates == 1 { "its" } else { "their" }
        ));
    }
    for np in &objects.network_policies {
        live.cluster.policies.push(network_policy(np));
    }
    for svc in &objects.services {
        let (namespace, name) = names(&svc.metadata);
        live.cluster.services.push(convert::service(svc, &namespace, &name, origin("services", &namespace, &name)));
    }
    for n in &objects.nodes {
        live.cluster.nodes.push(node(n));
    }
    for sa in &objects.service_accounts {
        live.cluster.service_accounts.push(service_account(sa));
    }
    live.cluster.link_service_accounts();
    for (resource, object) in &objects.ordered {
        match ordered(resource, object) {
            Ok(Ordered::Tier(tier)) => live.cluster.tiers.push(tier),
            Ok(Ordered::Policy(policy)) => live.cluster.tiered.push(*policy),
            Err(error) => {
                let meta = &object["metadata"];
                let name = [&meta["namespace"], &meta["name"]].iter().filter_map(|v| v.as_str()).collect::<Vec<_>>();
                live.notes.push(format!("{resource} {} left out: {error}", name.join("/")));
            }
        }
    }
    live.cluster.add_implicit_namespaces();
    live
}

fn add_templates<W: Workload>(live: &mut Live, owned: &BTreeSet<Owner>, items: &[W], resource: &str) -> usize {
    let mut added = 0;
    for w in items {
        let (namespace, name) = names(w.meta());
        let key = (W::KIND, namespace.clone(), name.clone());
        if owned.contains(&key) {
            continue;
        }
        let parts = PodParts::of_template(&namespace, &name, W::KIND, w.template().map(|(t, _)| t));
        live.cluster.pods.push(convert::pod(parts, origin(resource, &namespace, &name)));
        live.owners.push(Some(key));
        added += 1;
    }
    added
}

/// Converts one Namespace read from the API.
pub fn namespace(ns: &core::Namespace) -> netpol_model::Namespace {
    let (_, name) = names(&ns.metadata);
    convert::namespace(ns, &name, origin("namespaces", "", &name))
}

/// Converts one ServiceAccount read from the API (kept for its labels).
pub fn service_account(sa: &core::ServiceAccount) -> netpol_model::ServiceAccount {
    let (namespace, name) = names(&sa.metadata);
    netpol_model::ServiceAccount {
        labels: convert::labels(sa.metadata.labels.as_ref()),
        origin: Some(origin("serviceaccounts", &namespace, &name)),
        namespace,
        name,
    }
}

/// Converts one Pod read from the API; `None` for a pod that has finished
/// (phase Succeeded or Failed): it holds no address and takes no traffic.
pub fn pod(pod: &core::Pod) -> Option<netpol_model::Pod> {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    let (namespace, name) = names(&pod.metadata);
    let parts = PodParts::of_pod(&namespace, &name, pod);
    let mut model = convert::pod(parts, origin("pods", &namespace, &name));
    // What the server stored: a pod admitted without a ServiceAccount (a mirror
    // pod, a cluster without ServiceAccount admission) has none, for Calico too.
    model.service_account.name = convert::service_account_name(pod.spec.as_ref());
    Some(model)
}

/// Converts one NetworkPolicy read from the API (its rules carry the policy's origin).
pub fn network_policy(np: &net::NetworkPolicy) -> netpol_model::NetworkPolicy {
    let (namespace, name) = names(&np.metadata);
    let at = origin("networkpolicies", &namespace, &name);
    convert::network_policy(np, &namespace, &name, &|_| at.clone())
}

/// A model NetworkPolicy as the API object the server would return for it
/// (defaults filled in: policyTypes, protocol; CIDRs in canonical form), for
/// `netpol get -o json|yaml`. The inverse of the conversion above.
pub fn to_api(policy: &netpol_model::NetworkPolicy) -> net::NetworkPolicy {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use netpol_model::{Direction, LabelSelector, Operator, Peer, PolicyPort, PortRef};

    fn map(labels: &netpol_model::Labels) -> Option<BTreeMap<String, String>> {
        let m: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        (!m.is_empty()).then_some(m)
    }
    fn selector(s: &LabelSelector) -> meta::LabelSelector {
        let expressions: Vec<meta::LabelSelectorRequirement> = s
            .match_expressions
            .iter()
            .map(|r| meta::LabelSelectorRequirement {
                key: r.key.clone(),
                operator: match r.operator {
                    Operator::In => "In",
                    Operator::NotIn => "NotIn",
                    Operator::Exists => "Exists",
                    Operator::DoesNotExist => "DoesNotExist",
                }
                .to_string(),
                values: (!r.values.is_empty()).then(|| r.values.iter().cloned().collect()),
            })
            .collect();
        meta::LabelSelector {
            match_labels: map(&s.match_labels),
            match_expressions: (!expressions.is_empty()).then_some(expressions),
        }
    }
    fn peer(p: &Peer) -> net::NetworkPolicyPeer {
        match p {
            Peer::IpBlock(b) => net::NetworkPolicyPeer {
                ip_block: Some(net::IPBlock {
                    cidr: b.cidr.to_string(),
                    except: (!b.except.is_empty()).then(|| b.except.iter().map(ToString::to_string).collect()),
                }),
                ..Default::default()
            },
            Peer::Pods { pod_selector, namespace_selector } => net::NetworkPolicyPeer {
                pod_selector: pod_selector.as_ref().map(selector),
                namespace_selector: namespace_selector.as_ref().map(selector),
                ip_block: None,
            },
        }
    }
    fn port(p: &PolicyPort) -> net::NetworkPolicyPort {
        net::NetworkPolicyPort {
            protocol: Some(p.protocol.to_string()),
            port: p.port.as_ref().map(|r| match r {
                PortRef::Number(n) => IntOrString::Int(i32::from(*n)),
                PortRef::Name(s) => IntOrString::String(s.clone()),
            }),
            end_port: p.end_port.map(i32::from),
        }
    }
    fn some<T>(v: Vec<T>) -> Option<Vec<T>> {
        (!v.is_empty()).then_some(v)
    }
    let rule_parts =
        |r: &netpol_model::Rule| (some(r.peers.iter().map(peer).collect()), some(r.ports.iter().map(port).collect()));
    net::NetworkPolicy {
        metadata: meta::ObjectMeta {
            name: Some(policy.name.clone()),
            namespace: Some(policy.namespace.clone()),
            labels: map(&policy.meta.labels),
            annotations: map(&policy.meta.annotations),
            creation_timestamp: policy.meta.creation_timestamp.as_deref().and_then(|t| t.parse().ok()).map(meta::Time),
            ..Default::default()
        },
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(selector(&policy.pod_selector)),
            policy_types: Some(
                policy
                    .policy_types
                    .iter()
                    .map(|d| if *d == Direction::Ingress { "Ingress" } else { "Egress" }.to_string())
                    .collect(),
            ),
            ingress: some(
                policy
                    .ingress
                    .iter()
                    .map(rule_parts)
                    .map(|(from, ports)| net::NetworkPolicyIngressRule { from, ports })
                    .collect(),
            ),
            egress: some(
                policy
                    .egress
                    .iter()
                    .map(rule_parts)
                    .map(|(to, ports)| net::NetworkPolicyEgressRule { to, ports })
                    .collect(),
            ),
        }),
    }
}

fn label_map(labels: &netpol_model::Labels) -> Option<BTreeMap<String, String>> {
    let m: BTreeMap<String, String> = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    (!m.is_empty()).then_some(m)
}

fn meta_of(namespace: Option<&str>, name: &str, labels: &netpol_model::Labels) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: namespace.map(str::to_string),
        labels: label_map(labels),
        ..ObjectMeta::default()
    }
}

/// A model Namespace as the API object to create (its labels, the
/// `kubernetes.io/metadata.name` one included).
pub fn namespace_to_api(ns: &netpol_model::Namespace) -> core::Namespace {
    core::Namespace { metadata: meta_of(None, &ns.name, &ns.labels), ..core::Namespace::default() }
}

/// A model Pod as the API object to create: its labels, one container
/// (`main`, running `image`) declaring every container port, `nodeName`,
/// `hostNetwork`, and the status a kubelet would report (phase Running,
/// `podIP`/`podIPs`) when it has addresses. The API server ignores the status
/// of a create: set it through the status subresource afterwards. Reading the
/// object back ([`pod`]) gives the model Pod again.
pub fn pod_to_api(pod: &netpol_model::Pod, image: &str) -> core::Pod {
    let ports: Vec<core::ContainerPort> = pod
        .ports
        .iter()
        .map(|p| core::ContainerPort {
            name: p.name.clone(),
            container_port: i32::from(p.port),
            protocol: Some(p.protocol.to_string()),
            ..core::ContainerPort::default()
        })
        .collect();
    let ips: Vec<String> = pod.ips.iter().map(ToString::to_string).collect();
    core::Pod {
        metadata: meta_of(Some(&pod.namespace), &pod.name, &pod.labels),
        spec: Some(core::PodSpec {
            containers: vec![core::Container {
                name: "main".into(),
                image: Some(image.to_string()),
                ports: (!ports.is_empty()).then_some(ports),
                ..core::Container::default()
            }],
            node_name: pod.node.clone(),
            service_account_name: pod.service_account.name.clone(),
            host_network: pod.host_network.then_some(true),
            ..core::PodSpec::default()
        }),
        status: (!ips.is_empty()).then(|| core::PodStatus {
            phase: Some("Running".into()),
            pod_ip: ips.first().cloned(),
            pod_ips: Some(ips.iter().map(|ip| core::PodIP { ip: ip.clone() }).collect()),
            ..core::PodStatus::default()
        }),
    }
}

/// A model Service as the API object to create: selector, ports (with their
/// targetPort) and cluster IPs as the model has them (none: the server picks
/// one; `clusterIP: None` is for the caller to set, for a headless Service).
pub fn service_to_api(svc: &netpol_model::Service) -> core::Service {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    use netpol_model::PortRef;
    let ports: Vec<core::ServicePort> = svc
        .ports
        .iter()
        .map(|p| core::ServicePort {
            name: p.name.clone(),
            port: i32::from(p.port),
            protocol: Some(p.protocol.to_string()),
            target_port: Some(match &p.target_port {
                PortRef::Number(n) => IntOrString::Int(i32::from(*n)),
                PortRef::Name(name) => IntOrString::String(name.clone()),
            }),
            ..core::ServicePort::default()
        })
        .collect();
    let ips: Vec<String> = svc.cluster_ips.iter().map(ToString::to_string).collect();
    core::Service {
        metadata: meta_of(Some(&svc.namespace), &svc.name, &netpol_model::Labels::new()),
        spec: Some(core::ServiceSpec {
            selector: svc.selector.as_ref().map(|s| s.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ports: (!ports.is_empty()).then_some(ports),
            cluster_ip: ips.first().cloned(),
            cluster_ips: (!ips.is_empty()).then_some(ips),
            ..core::ServiceSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, owner: Option<(&str, &str)>, phase: &str) -> core::Pod {
        let owners: Vec<_> = owner
            .iter()
            .map(|(k, n)| json!({"apiVersion": "apps/v1", "kind": k, "name": n, "uid": "u", "controller": true}))
            .collect();
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web"}, "ownerReferences": owners},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": phase, "podIP": "10.0.0.1"},
        }))
        .unwrap()
    }

    fn workload<T: serde::de::DeserializeOwned>(name: &str, owner: Option<(&str, &str)>) -> T {
        let owners: Vec<_> = owner
            .iter()
            .map(|(k, n)| json!({"apiVersion": "apps/v1", "kind": k, "name": n, "uid": "u", "controller": true}))
            .collect();
        let template =
            json!({"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "shop", "ownerReferences": owners},
            "spec": {"selector": {}, "template": template, "jobTemplate": {"spec": {"template": template}}, "schedule": "* * * * *"},
        }))
        .unwrap()
    }

    #[test]
    fn live_pods_stand_for_their_workloads_and_finished_pods_are_left_out() {
        let objects = Objects {
            pods: vec![
                pod("web-1-a", Some(("ReplicaSet", "web-1")), "Running"),
                pod("old", None, "Succeeded"),
                pod("batch-1-x", Some(("Job", "batch-1")), "Failed"),
            ],
            deployments: vec![workload("web", None), workload("idle", None)],
            replica_sets: vec![
                workload("web-1", Some(("Deployment", "web"))),
                workload("web-0", Some(("Deployment", "web"))),
            ],
            cron_jobs: vec![workload("batch", None)],
            jobs: vec![workload("batch-1", Some(("CronJob", "batch")))],
            ..Objects::default()
        };
        let live = from_api(&objects);
        let shown: Vec<String> = live.cluster.pods.iter().map(|p| format!("{} {}", p.kind.as_str(), p.name)).collect();
        // web has a live pod: no template. idle has none: its template. The CronJob's
        // only pod failed: its template. Old ReplicaSets and owned Jobs are their owner's.
        assert_eq!(shown, ["Pod web-1-a", "Deployment idle", "CronJob batch"]);
        assert_eq!(live.owners[0], Some((WorkloadKind::Deployment, "shop".to_string(), "web".to_string())));
        assert_eq!(live.notes.len(), 2, "{:?}", live.notes);
        assert!(live.notes[0].starts_with("2 pods that finished"), "{:?}", live.notes);
        assert_eq!(live.cluster.pods[0].origin.as_ref().unwrap().to_string(), "cluster:pods/shop/web-1-a");
    }

    #[test]
    fn pods_carry_the_labels_of_the_service_account_they_run_as() {
        let mut pods = vec![pod("web", None, "Running"), pod("api", None, "Running")];
        pods[1].spec.as_mut().unwrap().service_account_name = Some("builder".into());
        let sa = |name: &str, team: &str| -> core::ServiceAccount {
            serde_json::from_value(json!({"metadata": {"name": name, "namespace": "shop", "labels": {"team": team}}}))
                .unwrap()
        };
        let objects =
            Objects { pods, service_accounts: vec![sa("builder", "a"), sa("other", "b")], ..Objects::default() };
        let live = from_api(&objects);
        let by_name = |name: &str| live.cluster.pods.iter().find(|p| p.name == name).unwrap();
        let api = &by_name("api").service_account;
        assert_eq!(api.name(), Some("builder"));
        assert_eq!(api.labels, Some(netpol_model::Labels::from_iter([("team", "a")])));
        // `default` is not among the ServiceAccounts read: no labels.
        assert_eq!(by_name("web").service_account.labels, None);
        assert_eq!(live.cluster.service_accounts.len(), 2);
        let origin = live.cluster.service_accounts[0].origin.as_ref().unwrap().to_string();
        assert_eq!(origin, "cluster:serviceaccounts/shop/builder");
    }

    #[test]
    fn namespaces_pods_and_services_survive_a_round_trip_through_the_api() {
        use netpol_model::{ContainerPort, Labels, PortRef, Protocol, ServicePort};
        let ns = netpol_model::Namespace::new("shop", Labels::from_iter([("team", "a")]));
        let web = netpol_model::Pod {
            namespace: "shop".into(),
            name: "web".into(),
            kind: WorkloadKind::Pod,
            labels: Labels::from_iter([("app", "web")]),
            ips: vec!["10.0.0.1".parse().unwrap(), "fd00::1".parse().unwrap()],
            ports: vec![
                ContainerPort { name: Some("http".into()), port: 80, protocol: Protocol::Tcp },
                ContainerPort { name: None, port: 53, protocol: Protocol::Udp },
            ],
            host_network: false,
            node: Some("node-1".into()),
            origin: None,
            service_account: Default::default(),
        };
        let svc = netpol_model::Service {
            namespace: "shop".into(),
            name: "web".into(),
            selector: Some(Labels::from_iter([("app", "web")])),
            ports: vec![ServicePort {
                name: Some("http".into()),
                port: 8080,
                target_port: PortRef::Name("http".into()),
                protocol: Protocol::Tcp,
            }],
            cluster_ips: vec![],
            origin: None,
        };
        let objects = Objects {
            namespaces: vec![namespace_to_api(&ns)],
            pods: vec![pod_to_api(&web, "netpol-lab")],
            services: vec![service_to_api(&svc)],
            ..Objects::default()
        };
        let live = from_api(&objects);
        assert_eq!(live.cluster.namespaces["shop"].labels, ns.labels);
        let got = &live.cluster.pods[0];
        assert_eq!(netpol_model::Pod { origin: None, ..got.clone() }, web);
        assert_eq!(netpol_model::Service { origin: None, ..live.cluster.services[0].clone() }, svc);
        let json = serde_json::to_value(&objects.pods[0]).unwrap();
        assert_eq!(json["apiVersion"], "v1");
        assert_eq!(json["kind"], "Pod");
        assert_eq!(json["spec"]["nodeName"], "node-1");
    }
}

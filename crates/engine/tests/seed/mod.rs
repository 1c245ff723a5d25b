//! The clusters of the seed walkthroughs (shared/seeds/000 and 002). Seed 000
//! is loaded from its YAML in examples/ (one copy of the cluster, the one users
//! run), with file names relative to the step folder (`default-deny.yaml:12:5`).
//! Seed 002 is built here: unlike its example, its test pods carry addresses.

#![allow(dead_code)]

use std::path::Path;

use netpol_manifest::LoadOptions;
use netpol_model::{Cluster, Direction, Protocol};
use netpol_testkit::*;

/// The steps of seed 000 ("Network Policies", default deny to cassandra), in
/// the order of examples/seed-000-walkthrough's step folders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// 1: no policy.
    NoPolicy,
    /// 2: default-deny (Ingress, Egress) in default.
    DefaultDeny,
    /// 3: + frontend: egress from run=frontend to run=backend.
    FrontendEgress,
    /// 4: + backend: ingress to run=backend from run=frontend.
    BackendIngress,
    /// 5: default-deny updated to allow egress on 53/TCP and 53/UDP.
    AllowDns,
    /// 6: backend updated: egress to namespaceSelector ns=cassandra (namespace not yet labelled).
    BackendToCassandra,
    /// 6b: namespace cassandra labelled ns=cassandra.
    CassandraLabelled,
    /// 7: + cassandra-deny in cassandra.
    CassandraDeny,
    /// 7b: + cassandra: ingress from namespaceSelector ns=default (default not labelled).
    CassandraIngress,
    /// 7c: namespace default labelled ns=default.
    DefaultLabelled,
}

impl Step {
    fn folder(self) -> &'static str {
        match self {
            Step::NoPolicy => "step-01-no-policies",
            Step::DefaultDeny => "step-02-default-deny",
            Step::FrontendEgress => "step-03-frontend-egress",
            Step::BackendIngress => "step-04-backend-ingress",
            Step::AllowDns => "step-05-dns-allowed",
            Step::BackendToCassandra => "step-06-backend-egress-cassandra",
            Step::CassandraLabelled => "step-07-cassandra-labelled",
            Step::CassandraDeny => "step-08-cassandra-deny",
            Step::CassandraIngress => "step-09-cassandra-ingress",
            Step::DefaultLabelled => "step-10-default-labelled",
        }
    }
}

pub fn seed000(step: Step) -> Cluster {
    load(&format!("seed-000-walkthrough/{}", step.folder()))
}

/// Seed 002's lab: db/mongo (a Deployment), test pods in backend and default.
/// `allow_backend` adds the allow-backend policy next to db-deny-all-ingress.
pub fn seed002(allow_backend: bool) -> Cluster {
    let mut c = cluster()
        .namespace(namespace("db"))
        .namespace(namespace("backend"))
        .namespace(namespace("default"))
        .pod(
            pod("db", "mongo")
                .workload(netpol_model::WorkloadKind::Deployment)
                .label("app", "mongo")
                .unnamed_port(27017, Protocol::Tcp)
                .origin("mongo.yaml", 1, 1),
        )
        .pod(pod("backend", "test-backend").label("role", "backend").ip("10.244.2.71"))
        .pod(pod("default", "test-default").label("role", "random").ip("10.244.2.72"))
        .policy(policy("db", "db-deny-all-ingress").select(sel!("app" => "mongo")).types([Direction::Ingress]).origin(
            "db-deny-all-ingress.yaml",
            2,
            1,
        ));
    if allow_backend {
        c = c.policy(
            policy("db", "allow-backend")
                .select(sel!("app" => "mongo"))
                .types([Direction::Ingress])
                .ingress(
                    rule()
                        .from(pods_in_namespaces(sel!("kubernetes.io/metadata.name" => "backend"), sel!()))
                        .port(tcp(27017))
                        .origin("allow-backend.yaml", 13, 5),
                )
                .origin("allow-backend.yaml", 2, 1),
        );
    }
    c.build()
}

/// Every `.yaml` file of `examples/<folder>`, in name order, loaded strictly.
fn load(folder: &str) -> Cluster {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        })
        .collect();
    let loaded = netpol_manifest::load(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{folder}: {:?}", loaded.diagnostics);
    loaded.cluster
}

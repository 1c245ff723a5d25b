//! The clusters of the seed walkthroughs (shared/seeds/000 and 002), built with
//! testkit builders, with origins as if loaded from the seed's YAML files.

#![allow(dead_code)]

use netpol_model::{Cluster, Direction, Protocol};
use netpol_testkit::*;

/// The steps of seed 000 ("Network Policies", default deny to cassandra).
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

fn dns_rule() -> RuleBuilder {
    rule().port(tcp(53)).port(udp(53)).origin("default-deny.yaml", 11, 3)
}

pub fn seed000(step: Step) -> Cluster {
    use Step::*;
    let mut c = cluster()
        .namespace(namespace("kube-system"))
        .pod(pod("default", "frontend").label("run", "frontend").ip("10.44.0.1").unnamed_port(80, Protocol::Tcp))
        .pod(pod("default", "backend").label("run", "backend").ip("10.44.0.2").unnamed_port(80, Protocol::Tcp))
        .pod(pod("cassandra", "cassandra").label("run", "cassandra").ip("10.44.0.3").unnamed_port(80, Protocol::Tcp))
        .pod(
            pod("kube-system", "kube-dns")
                .label("k8s-app", "kube-dns")
                .ip("10.44.0.10")
                .port("dns", 53, Protocol::Udp)
                .port("dns-tcp", 53, Protocol::Tcp),
        );
    c = c.namespace(if step >= DefaultLabelled {
        namespace("default").label("ns", "default")
    } else {
        namespace("default")
    });
    c = c.namespace(if step >= CassandraLabelled {
        namespace("cassandra").label("ns", "cassandra")
    } else {
        namespace("cassandra")
    });
    if step >= DefaultDeny {
        let mut deny = policy("default", "default-deny").types([Direction::Egress, Direction::Ingress]).origin(
            "default-deny.yaml",
            1,
            1,
        );
        if step >= AllowDns {
            deny = deny.egress(dns_rule());
        }
        c = c.policy(deny);
    }
    if step >= FrontendEgress {
        c = c.policy(
            policy("default", "frontend")
                .select(sel!("run" => "frontend"))
                .types([Direction::Egress])
                .egress(rule().to(pods(sel!("run" => "backend"))).origin("frontend.yaml", 11, 3))
                .origin("frontend.yaml", 1, 1),
        );
    }
    if step >= BackendIngress {
        let mut backend = policy("default", "backend")
            .select(sel!("run" => "backend"))
            .ingress(rule().from(pods(sel!("run" => "frontend"))).origin("backend.yaml", 12, 5))
            .origin("backend.yaml", 1, 1);
        backend = if step >= BackendToCassandra {
            backend
                .types([Direction::Ingress, Direction::Egress])
                .egress(rule().to(namespaces(sel!("ns" => "cassandra"))).origin("backend.yaml", 18, 5))
        } else {
            backend.types([Direction::Ingress])
        };
        c = c.policy(backend);
    }
    if step >= CassandraDeny {
        c = c.policy(
            policy("cassandra", "cassandra-deny")
                .types([Direction::Egress, Direction::Ingress])
                .egress(rule().port(tcp(53)).port(udp(53)).origin("cassandra-deny.yaml", 11, 3))
                .origin("cassandra-deny.yaml", 1, 1),
        );
    }
    if step >= CassandraIngress {
        c = c.policy(
            policy("cassandra", "cassandra")
                .select(sel!("run" => "cassandra"))
                .types([Direction::Ingress])
                .ingress(rule().from(namespaces(sel!("ns" => "default"))).origin("cassandra.yaml", 12, 5))
                .origin("cassandra.yaml", 1, 1),
        );
    }
    c.build()
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

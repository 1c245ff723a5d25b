//! Admin policies for the tiered benchmarks (issue 11): AdminNetworkPolicies at
//! distinct priorities, each guarding a team's namespaces (monitoring allowed in
//! on metrics, the team's own traffic passed to its NetworkPolicies, dev
//! namespaces denied; SSH to an external range denied, DNS allowed, the team
//! passed on egress), and a BaselineAdminNetworkPolicy (dev namespaces denied
//! in, SMTP out denied) under every team.

use std::fmt::Write as _;

use netpol_model::{
    Action, Cluster, Direction, LabelSelector, Operator, Order, PolicyPort, Protocol, Requirement, Subject, TieredKind,
    TieredPeer, TieredPolicy, TieredRule, KUBE_ADMIN_TIER, KUBE_BASELINE_TIER,
};

use crate::render::{scalar, selector};
use crate::rng::Rng;

fn ns(key: &str, value: &str) -> LabelSelector {
    LabelSelector::from_labels([(key, value)])
}

fn rule(name: &str, action: Action, peers: Vec<TieredPeer>, ports: Vec<PolicyPort>) -> TieredRule {
    TieredRule {
        name: Some(name.into()),
        action,
        peers,
        local: None,
        protocol: None,
        not_protocol: None,
        ports,
        not_ports: vec![],
        origin: None,
    }
}

/// Adds `anps` AdminNetworkPolicies and, with `baseline`, the BaselineAdminNetworkPolicy.
pub fn add_admin_policies(cluster: &mut Cluster, seed: u64, anps: usize, baseline: bool) {
    let mut rng = Rng::new(seed ^ 0xA11);
    let teams: Vec<String> = {
        let mut t: Vec<String> =
            cluster.namespaces.values().filter_map(|n| n.labels.get("team").map(str::to_string)).collect();
        t.sort();
        t.dedup();
        if t.is_empty() {
            t.push("t0".into());
        }
        t
    };
    let dns = TieredPeer::Pods {
        namespaces: ns("kubernetes.io/metadata.name", "kube-system"),
        pods: ns("k8s-app", "kube-dns"),
    };
    for i in 0..anps {
        let team = &teams[i % teams.len()];
        let external = format!("{}.{}.0.0/16", 100 + rng.below(100), rng.below(256)).parse().unwrap();
        let ingress = vec![
            rule(
                "monitoring-metrics",
                Action::Allow,
                vec![TieredPeer::Namespaces(ns("role", "monitoring"))],
                vec![PolicyPort::number(Protocol::Tcp, 9090)],
            ),
            rule("team-to-networkpolicy", Action::Pass, vec![TieredPeer::Namespaces(ns("team", team))], vec![]),
            rule("no-dev", Action::Deny, vec![TieredPeer::Namespaces(ns("env", "dev"))], vec![]),
        ];
        let egress = vec![
            rule(
                "dns",
                Action::Allow,
                vec![dns.clone()],
                vec![PolicyPort::number(Protocol::Udp, 53), PolicyPort::number(Protocol::Tcp, 53)],
            ),
            rule(
                "no-ssh-out",
                Action::Deny,
                vec![TieredPeer::Networks(vec![external])],
                vec![PolicyPort::number(Protocol::Tcp, 22)],
            ),
            rule("team-to-networkpolicy", Action::Pass, vec![TieredPeer::Namespaces(ns("team", team))], vec![]),
        ];
        cluster.tiered.push(TieredPolicy {
            kind: TieredKind::AdminNetworkPolicy,
            namespace: None,
            name: format!("guard-{i:04}"),
            tier: KUBE_ADMIN_TIER.into(),
            order: Some(Order((i % 1001) as f64)),
            subject: Subject::Namespaces(ns("team", team)),
            types: vec![Direction::Ingress, Direction::Egress],
            ingress,
            egress,
            meta: Default::default(),
            origin: None,
        });
    }
    if baseline {
        let any_team =
            LabelSelector::default().with_expression(Requirement::new("team", Operator::Exists, Vec::<String>::new()));
        cluster.tiered.push(TieredPolicy {
            kind: TieredKind::BaselineAdminNetworkPolicy,
            namespace: None,
            name: "default".into(),
            tier: KUBE_BASELINE_TIER.into(),
            order: None,
            subject: Subject::Namespaces(any_team),
            types: vec![Direction::Ingress, Direction::Egress],
            ingress: vec![rule("no-dev", Action::Deny, vec![TieredPeer::Namespaces(ns("env", "dev"))], vec![])],
            egress: vec![rule(
                "no-smtp",
                Action::Deny,
                vec![TieredPeer::Networks(vec!["0.0.0.0/0".parse().unwrap()])],
                vec![PolicyPort::number(Protocol::Tcp, 25)],
            )],
            meta: Default::default(),
            origin: None,
        });
    }
}

fn peer(out: &mut String, p: &TieredPeer) {
    match p {
        TieredPeer::Namespaces(s) => {
            let mut item = String::new();
            selector(&mut item, 6, "namespaces", s);
            out.push_str(&item.replacen("      ", "    - ", 1));
        }
        TieredPeer::Pods { namespaces, pods } => {
            let _ = writeln!(out, "    - pods:");
            selector(out, 8, "namespaceSelector", namespaces);
            selector(out, 8, "podSelector", pods);
        }
        TieredPeer::Networks(nets) => {
            let nets: Vec<String> = nets.iter().map(|n| scalar(&n.to_string())).collect();
            let _ = writeln!(out, "    - networks: [{}]", nets.join(", "));
        }
        _ => unreachable!("the generator writes namespaces, pods and networks peers only"),
    }
}

/// An AdminNetworkPolicy or BaselineAdminNetworkPolicy as YAML.
pub fn render_admin(p: &TieredPolicy) -> String {
    let mut out = String::new();
    let kind = p.kind.as_str();
    let _ = writeln!(
        out,
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: {kind}\nmetadata:\n  name: {}\nspec:",
        p.name
    );
    if let Some(o) = p.order {
        let _ = writeln!(out, "  priority: {}", o.0);
    }
    let _ = writeln!(out, "  subject:");
    if let Subject::Namespaces(s) = &p.subject {
        selector(&mut out, 4, "namespaces", s);
    }
    for d in Direction::ALL {
        let rules = p.rules(d);
        if rules.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {}:", d.rules_key());
        for r in rules {
            let _ = writeln!(out, "  - name: {}", r.name.as_deref().unwrap_or("r"));
            let _ = writeln!(out, "    action: {}", r.action.as_str());
            let _ = writeln!(out, "    {}:", d.peers_key());
            for pe in &r.peers {
                peer(&mut out, pe);
            }
            if !r.ports.is_empty() {
                let _ = writeln!(out, "    ports:");
                for pp in &r.ports {
                    if let Some(netpol_model::PortRef::Number(n)) = pp.port {
                        let _ = writeln!(out, "    - portNumber: {{protocol: {}, port: {n}}}", pp.protocol);
                    }
                }
            }
        }
    }
    out
}

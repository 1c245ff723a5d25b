//! Random small clusters for property tests: a deterministic [`Dice`] over
//! proptest's numbers, and [`random_cluster`] (2-3 namespaces, 4 pods with
//! labels, IPs, named ports, workloads, hostNetwork pods and nodes; up to 3
//! policies of random rules), shared by the engine's differential and
//! exposure tests.

use netpol_model::{
    Cluster, Direction, LabelSelector, Operator, Peer, PolicyPort, Protocol, Requirement, WorkloadKind,
};

use crate::*;

/// Draws from a fixed list of random numbers, deterministically.
pub struct Dice(pub Vec<u32>, pub usize);

impl Dice {
    pub fn roll(&mut self, n: u32) -> u32 {
        let v = self.0[self.1 % self.0.len()];
        self.1 += 1;
        v % n
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.roll(items.len() as u32) as usize]
    }
}

pub fn selector(d: &mut Dice) -> LabelSelector {
    match d.roll(5) {
        0 => sel!(),
        1 => sel!("pod" => d.pick(&["a", "b"])),
        2 => sel!().with_expression(Requirement::new("tier", Operator::NotIn, [d.pick(&["x", "y"])])),
        3 => sel!().with_expression(Requirement::new("tier", Operator::Exists, Vec::<String>::new())),
        _ => sel!("team" => d.pick(&["red", "blue"])),
    }
}

pub fn peer(d: &mut Dice) -> Peer {
    match d.roll(4) {
        0 => pods(selector(d)),
        1 => namespaces(selector(d)),
        2 => pods_in_namespaces(selector(d), selector(d)),
        _ => match d.roll(3) {
            0 => ip_block("10.0.0.0/29", &["10.0.0.4/30"]),
            1 => ip_block("10.0.0.0/30", &[]),
            _ => ip_block("0.0.0.0/0", &["10.0.0.0/8"]),
        },
    }
}

pub fn port(d: &mut Dice) -> PolicyPort {
    match d.roll(6) {
        0 => tcp(80),
        1 => udp(53),
        2 => port_range(Protocol::Tcp, 79, 81),
        3 => named_port("http", d.pick(&[Protocol::Tcp, Protocol::Udp])),
        4 => all_ports(Protocol::Udp),
        _ => sctp(9),
    }
}

pub fn random_cluster(d: &mut Dice) -> Cluster {
    let mut c = cluster()
        .namespace(namespace("n1").label("team", d.pick(&["red", "blue"])))
        .namespace(namespace("n2").label("team", d.pick(&["red", "blue"])));
    for i in 0..4 {
        let ns = d.pick(&["n1", "n2", "n3"]);
        let mut p = pod(ns, &format!("p{i}")).label("pod", d.pick(&["a", "b"]));
        if d.roll(2) == 0 {
            p = p.label("tier", d.pick(&["x", "y"]));
        }
        if d.roll(4) != 0 {
            p = p.ip(&format!("10.0.0.{}", i * 2 + d.roll(2)));
        } else if d.roll(2) == 0 {
            // A workload endpoint: its pods, without IPs.
            p = p.workload(WorkloadKind::Deployment);
        }
        if d.roll(2) == 0 {
            p = p.port("http", d.pick(&[80, 8080, 53]), d.pick(&[Protocol::Tcp, Protocol::Udp]));
            if d.roll(3) == 0 {
                // A second container declaring the same name (names are unique per container only).
                p = p.port("http", d.pick(&[81, 8080]), d.pick(&[Protocol::Tcp, Protocol::Udp]));
            }
        }
        if d.roll(8) == 0 {
            p = p.host_network();
        }
        if d.roll(2) == 0 {
            p = p.node(d.pick(&["n1", "n2"]));
        }
        c = c.pod(p);
    }
    for i in 0..d.roll(4) {
        let ns = d.pick(&["n1", "n2", "n3"]);
        let mut pb = policy(ns, &format!("np{i}")).select(selector(d));
        for _ in 0..d.roll(3) {
            let mut r = rule();
            for _ in 0..d.roll(3) {
                r = r.from(peer(d));
            }
            for _ in 0..d.roll(3) {
                r = r.port(port(d));
            }
            pb = if d.roll(2) == 0 { pb.ingress(r) } else { pb.egress(r) };
        }
        pb = match d.roll(4) {
            0 => pb.types([Direction::Ingress]),
            1 => pb.types([Direction::Egress]),
            2 => pb.types([Direction::Ingress, Direction::Egress]),
            _ => pb, // defaulted
        };
        c = c.policy(pb);
    }
    c.build()
}

/// Adds random ordered policies to `c`: AdminNetworkPolicies at priorities that
/// collide, a BaselineAdminNetworkPolicy, Calico policies in the default tier
/// and in a declared `security` tier (default action Deny or Pass), with
/// Allow/Deny/Pass/Log rules over namespaces, pods, networks and Calico
/// selectors (ServiceAccount names and labels, `pcns.` namespace labels among
/// them); ServiceAccounts for the pods, one of them sometimes missing; and a
/// Node with the address of a hostNetwork pod's node.
pub fn random_tiered(d: &mut Dice, c: &mut Cluster) {
    use netpol_model::{
        Action, CalicoEntity, CalicoSelector, Node, Order, RuleProtocol, Subject, Tier, TierDefault, TieredKind,
        TieredPeer, TieredPolicy, TieredRule, DEFAULT_TIER, KUBE_ADMIN_TIER, KUBE_BASELINE_TIER,
    };
    let calico = |text: &str| CalicoSelector::parse(text).expect("a valid selector");
    // Some pods dual-stack (IPv6 second, or first): peers then match by the flow's family.
    for (i, p) in c.pods.iter_mut().enumerate() {
        if !p.ips.is_empty() && d.roll(3) == 0 {
            let v6: std::net::IpAddr = format!("fd00::{}", i + 1).parse().unwrap();
            if d.roll(2) == 0 {
                p.ips.push(v6);
            } else {
                p.ips.insert(0, v6);
            }
        }
    }
    // ServiceAccounts: pods run as `default` (unset), `api` or `web`; `api` has
    // an object in every namespace, `web` only sometimes (then its pods have no
    // `pcsa.` labels), `default` never.
    for p in c.pods.iter_mut() {
        p.service_account.name = d.pick(&[None, Some("api"), Some("web"), Some("default")]).map(str::to_string);
    }
    for ns in ["n1", "n2", "n3"] {
        let team = d.pick(&["a", "b"]);
        c.service_accounts.push(netpol_model::ServiceAccount {
            namespace: ns.into(),
            name: "api".into(),
            // `owner` is read by no selector: it must not split classes.
            labels: netpol_model::Labels::from_iter([("team", team), ("owner", d.pick(&["x", "y"]))]),
            origin: None,
        });
        if d.roll(2) == 0 {
            c.service_accounts.push(netpol_model::ServiceAccount {
                namespace: ns.into(),
                name: "web".into(),
                labels: netpol_model::Labels::from_iter([("team", d.pick(&["a", "b"]))]),
                origin: None,
            });
        }
    }
    c.link_service_accounts();
    c.tiers.push(Tier {
        name: "security".into(),
        order: Some(Order(100.0)),
        default_action: d.pick(&[TierDefault::Deny, TierDefault::Pass]),
        declared: true,
        origin: None,
    });
    c.nodes.push(Node {
        name: "n1".into(),
        labels: netpol_model::Labels::from_iter([("zone", d.pick(&["a", "b"]))]),
        addresses: vec!["10.0.0.1".parse().unwrap()],
        origin: None,
    });
    for i in 0..d.roll(5) {
        let kind = d.pick(&[
            TieredKind::AdminNetworkPolicy,
            TieredKind::AdminNetworkPolicy,
            TieredKind::BaselineAdminNetworkPolicy,
            TieredKind::GlobalNetworkPolicy,
            TieredKind::CalicoNetworkPolicy,
        ]);
        let (tier, order) = match kind {
            TieredKind::AdminNetworkPolicy | TieredKind::ClusterNetworkPolicy => {
                (KUBE_ADMIN_TIER.to_string(), Some(Order(f64::from(d.roll(3)))))
            }
            TieredKind::BaselineAdminNetworkPolicy => (KUBE_BASELINE_TIER.to_string(), None),
            _ => (
                d.pick(&[DEFAULT_TIER, "security"]).to_string(),
                d.pick(&[None, Some(Order(500.0)), Some(Order(1000.0)), Some(Order(1500.0))]),
            ),
        };
        let namespace = (kind == TieredKind::CalicoNetworkPolicy).then(|| d.pick(&["n1", "n2"]).to_string());
        let subject = if kind.is_calico() {
            Subject::Calico {
                namespace: namespace.clone(),
                selector: calico(d.pick(&[
                    "all()",
                    "pod == 'a'",
                    "has(tier)",
                    "tier != 'x'",
                    // serviceAccountSelector, as the loader ANDs it in.
                    "(all()) && (pcsa.team == 'a')",
                    "projectcalico.org/serviceaccount in {'api', 'default'}",
                    "pcns.team == 'red'",
                ])),
                namespace_selector: None,
            }
        } else {
            match d.roll(2) {
                0 => Subject::Namespaces(selector(d)),
                _ => Subject::Pods { namespaces: selector(d), pods: selector(d) },
            }
        };
        let actions: &[Action] = match kind {
            TieredKind::BaselineAdminNetworkPolicy => &[Action::Allow, Action::Deny],
            k if k.is_calico() => &[Action::Allow, Action::Deny, Action::Pass, Action::Log],
            _ => &[Action::Allow, Action::Deny, Action::Pass],
        };
        let rules = |d: &mut Dice| -> Vec<TieredRule> {
            (0..d.roll(3))
                .map(|_| {
                    let mut peers = Vec::new();
                    for _ in 0..d.roll(3) {
                        peers.push(match d.roll(5) {
                            0 => TieredPeer::Namespaces(selector(d)),
                            1 => TieredPeer::Pods { namespaces: selector(d), pods: selector(d) },
                            2 => TieredPeer::Networks(vec![d
                                .pick(&["10.0.0.0/30", "10.0.0.4/31", "0.0.0.0/0", "fd00::/126", "::/0"])
                                .parse()
                                .unwrap()]),
                            3 => TieredPeer::Nodes(selector(d)),
                            _ => TieredPeer::Calico(CalicoEntity {
                                selector: d.roll(2).eq(&0).then(|| {
                                    calico(d.pick(&[
                                        "pod == 'b'",
                                        "all()",
                                        "!has(tier)",
                                        // serviceAccounts {selector, names}, as the loader converts them.
                                        "pcsa.team == 'b'",
                                        "(pcsa.team == 'a') && (projectcalico.org/serviceaccount in {'api'})",
                                        "projectcalico.org/serviceaccount == 'web'",
                                        "pcsa.projectcalico.org/name == 'web'",
                                        "!has(pcsa.team)",
                                        "pcns.team == 'blue'",
                                    ]))
                                }),
                                not_nets: if d.roll(3) == 0 { vec!["10.0.0.0/31".parse().unwrap()] } else { vec![] },
                                namespace: namespace.clone(),
                                ..CalicoEntity::default()
                            }),
                        });
                    }
                    let protocol = if kind.is_calico() && d.roll(2) == 0 {
                        Some(RuleProtocol::Is(d.pick(&[Protocol::Tcp, Protocol::Udp])))
                    } else {
                        None
                    };
                    let ports = match &protocol {
                        Some(RuleProtocol::Is(p)) if d.roll(2) == 0 => vec![PolicyPort::range(*p, 79, 81)],
                        Some(_) => vec![],
                        None => (0..d.roll(2)).map(|_| port(d)).collect(),
                    };
                    TieredRule {
                        name: None,
                        action: d.pick(actions),
                        peers,
                        local: None,
                        protocol,
                        not_protocol: None,
                        ports,
                        not_ports: vec![],
                        origin: None,
                    }
                })
                .collect()
        };
        let ingress = rules(d);
        let egress = rules(d);
        let types = if kind.is_calico() {
            let both: &[Direction] = &[Direction::Ingress, Direction::Egress];
            d.pick(&[&both[..1], &both[1..], both]).to_vec()
        } else {
            let mut t = Vec::new();
            if !ingress.is_empty() {
                t.push(Direction::Ingress);
            }
            if !egress.is_empty() {
                t.push(Direction::Egress);
            }
            t
        };
        c.tiered.push(TieredPolicy {
            kind,
            namespace,
            name: format!("t{i}"),
            tier,
            order,
            subject,
            types,
            ingress,
            egress,
            meta: Default::default(),
            origin: None,
        });
    }
}

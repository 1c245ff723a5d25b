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

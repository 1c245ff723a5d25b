//! The plan of a lab, computed from a cluster without touching the system:
//! which network namespaces, interfaces and addresses it will have.
//!
//! Every non-hostNetwork endpoint (a Pod, or a workload's pod template) becomes a
//! lab pod with its own network namespace. Pods keep `status.podIPs`; pods
//! without one get an IPv4 address from [`LAB_POD_CIDR`]. A kube-dns pod
//! (`kube-system`, `k8s-app=kube-dns`, 53/UDP and 53/TCP) is added to the lab's
//! cluster when the manifests have none, so that DNS egress rules matter. A
//! workload (Deployment, StatefulSet, ...) becomes one pod named like the workload.
//!
//! An *external* ([`LabExternal`], [`Topology::add_externals`]) is an address
//! outside the cluster (`8.8.8.8`, given by the caller) that the lab stands up
//! in a namespace of its own, wired to the node like a pod, so that a pod's
//! egress to it crosses the node's `forward` hook as pod-to-pod traffic does.
//! It is not in the cluster: the engine sees it as an IP (`Endpoint::Ip`).
//!
//! A hostNetwork pod ([`HostNetworkPod`]) gets no namespace: its address is
//! its node's, so the lab puts that address on the node namespace's loopback
//! and serves the pod's ports there. A pod's connection to it is then local
//! delivery in the node namespace, through the `input` hook, as a pod's
//! connection to a node is in a cluster. (One node namespace holds every
//! node's address: enough for the rules, which match addresses.)

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use netpol_model::{Cluster, ContainerPort, Labels, Namespace, Pod, PodKey, Protocol, WorkloadKind};
use serde::{Deserialize, Serialize};

use crate::LabError;

/// Where pods without `status.podIP` get their address: `10.250.0.0/16`.
pub const LAB_POD_CIDR: &str = "10.250.0.0/16";
const LAB_POD_BASE: u32 = u32::from_be_bytes([10, 250, 0, 0]);
const LAB_POD_SIZE: u32 = 1 << 16;

/// The address the node namespace answers on every pod veth; pods route through it.
pub const GATEWAY_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);
/// The IPv6 gateway (link-local on every node-side veth).
pub const GATEWAY_V6: &str = "fe80::1";

/// The namespace and labels that identify the cluster DNS.
pub const DNS_NAMESPACE: &str = "kube-system";
pub const DNS_LABEL: (&str, &str) = ("k8s-app", "kube-dns");

/// One pod of the lab: its network namespace, its veth end in the node
/// namespace, its addresses and the ports its servers listen on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabPod {
    pub key: PodKey,
    pub netns: String,
    /// The veth end in the node namespace (the pod's end is always `eth0`).
    pub node_if: String,
    pub ips: Vec<IpAddr>,
    pub ports: Vec<ContainerPort>,
    /// True for the pod that serves DNS.
    pub dns: bool,
}

impl LabPod {
    /// The first address of the given family (`v6 = false` for IPv4).
    pub fn ip(&self, v6: bool) -> Option<IpAddr> {
        self.ips.iter().copied().find(|ip| ip.is_ipv6() == v6)
    }
}

/// A hostNetwork pod: no namespace of its own; its addresses (its node's) are
/// the node namespace's (on `lo`), where its ports are served. A destination
/// only: probes and connections reach it through the node's `input` hook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostNetworkPod {
    pub key: PodKey,
    pub ips: Vec<IpAddr>,
    pub ports: Vec<ContainerPort>,
}

/// Ports every external serves, on TCP and UDP, besides the port numbers any
/// lab pod declares: DNS, HTTP and HTTPS, what pods usually reach outside.
pub const EXTERNAL_PORTS: [u16; 3] = [53, 80, 443];

/// An address outside the cluster, stood up inside the lab: a namespace
/// holding the address on its `eth0`, the other end of the veth (`node_if`)
/// in the node namespace, which routes the address there. It lives only in
/// the lab's namespaces (the host gets no route or address), and it is not in
/// the lab's cluster: policies see it as an IP (ipBlock, `nets`, `networks`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabExternal {
    pub ip: IpAddr,
    pub netns: String,
    /// The veth end in the node namespace (`ext<N>`; the external's end is `eth0`).
    pub node_if: String,
    /// What its servers listen on: TCP and UDP on [`EXTERNAL_PORTS`] and on
    /// every port number a lab pod declares.
    pub ports: Vec<ContainerPort>,
}

/// The whole plan: the node namespace, the pods, the externals, and the
/// cluster the lab enforces and predicts with (addresses filled in, kube-dns added).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    pub id: String,
    pub node_netns: String,
    pub pods: Vec<LabPod>,
    /// Addresses outside the cluster that the lab stands up (empty unless asked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub externals: Vec<LabExternal>,
    /// hostNetwork pods with an address, served in the node namespace.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_network: Vec<HostNetworkPod>,
    pub cluster: Cluster,
    /// What the plan changed or skipped, for the user (e.g. "added kube-system/kube-dns").
    pub notes: Vec<String>,
}

/// Checks a lab id: 1 to 12 characters among `a-z` and `0-9`.
pub fn check_id(id: &str) -> Result<(), LabError> {
    let ok = (1..=12).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(LabError::BadId(id.to_string()))
    }
}

/// `np-<id>-node`.
pub fn node_netns_name(id: &str) -> String {
    format!("np-{id}-node")
}

/// `np-<id>-<ns>.<pod>` (a namespace name has no dot, so it is unique), with
/// anything but `[a-z0-9.-]` replaced and long names cut and suffixed with a hash.
pub fn pod_netns_name(id: &str, key: &PodKey) -> String {
    const MAX: usize = 64;
    let raw = format!("{}.{}", key.namespace, key.name);
    let clean: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c.to_ascii_lowercase() } else { '_' })
        .collect();
    let mut name = format!("np-{id}-{clean}");
    if name.len() > MAX || clean != raw {
        name.truncate(MAX - 9);
        name.push_str(&format!("-{:08x}", fnv1a(raw.as_bytes()) as u32));
    }
    name
}

/// `np-<id>-ext<index>`: no dot, so no pod's namespace has this name.
pub fn external_netns_name(id: &str, index: usize) -> String {
    format!("np-{id}-ext{index}")
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

impl Topology {
    /// Plans a lab named `id` for `cluster`.
    pub fn plan(id: &str, cluster: &Cluster) -> Result<Topology, LabError> {
        check_id(id)?;
        let mut cluster = cluster.clone();
        let mut notes = Vec::new();
        if !cluster.pods.iter().any(is_dns_pod) {
            cluster.pods.push(default_dns_pod());
            cluster.link_service_accounts();
            notes.push(format!(
                "added {DNS_NAMESPACE}/kube-dns ({}={}, 53/UDP, 53/TCP): the manifests have no cluster DNS pod",
                DNS_LABEL.0, DNS_LABEL.1
            ));
        }
        if !cluster.namespaces.contains_key(DNS_NAMESPACE) {
            cluster.namespaces.insert(DNS_NAMESPACE.to_string(), Namespace::new(DNS_NAMESPACE, Labels::new()));
        }
        cluster.add_implicit_namespaces();
        cluster.pods.sort_by_key(Pod::key);

        let mut owner: BTreeMap<IpAddr, PodKey> = BTreeMap::new();
        for pod in cluster.pods.iter().filter(|p| !p.host_network) {
            for ip in &pod.ips {
                if let Some(first) = owner.insert(*ip, pod.key()) {
                    return Err(LabError::DuplicateIp { first, second: pod.key(), ip: *ip });
                }
            }
        }
        let host_network = host_network_pods(&cluster, &owner, &mut notes)?;
        for host in &host_network {
            for ip in &host.ips {
                owner.entry(*ip).or_insert_with(|| host.key.clone());
            }
        }
        let mut next = 1u32;
        let mut pods = Vec::new();
        let mut dns_seen = false;
        for pod in cluster.pods.iter_mut().filter(|p| !p.host_network) {
            if pod.ips.is_empty() {
                let ip = loop {
                    if next >= LAB_POD_SIZE - 1 {
                        return Err(LabError::AddressesExhausted(LAB_POD_CIDR.to_string()));
                    }
                    let ip = IpAddr::V4(Ipv4Addr::from(LAB_POD_BASE + next));
                    next += 1;
                    if !owner.contains_key(&ip) {
                        break ip;
                    }
                };
                owner.insert(ip, pod.key());
                pod.ips.push(ip);
                notes.push(format!("{} has no podIP: using {ip}", pod.key()));
            }
            if pod.kind != WorkloadKind::Pod {
                // The lab realizes one pod per workload: from here on it is a pod
                // (the renderer enforces pods only; a template has no address).
                notes.push(format!("{} is a {}: the lab runs one pod for it", pod.key(), pod.kind.as_str()));
                pod.kind = WorkloadKind::Pod;
            }
            let dns = !dns_seen && is_dns_pod(pod);
            dns_seen |= dns;
            let mut ports: Vec<ContainerPort> = pod.ports.clone();
            if dns {
                for protocol in [Protocol::Udp, Protocol::Tcp] {
                    if !ports.iter().any(|p| p.port == 53 && p.protocol == protocol) {
                        ports.push(ContainerPort { name: None, port: 53, protocol });
                    }
                }
            }
            let mut seen = BTreeSet::new();
            ports.retain(|p| seen.insert((p.port, p.protocol)));
            let index = pods.len();
            pods.push(LabPod {
                key: pod.key(),
                netns: pod_netns_name(id, &pod.key()),
                node_if: format!("pod{index}"),
                ips: pod.ips.clone(),
                ports,
                dns,
            });
        }
        if pods.is_empty() {
            return Err(LabError::NoPods);
        }
        Ok(Topology {
            id: id.to_string(),
            node_netns: node_netns_name(id),
            pods,
            externals: Vec::new(),
            host_network,
            cluster,
            notes,
        })
    }

    /// Adds an external for each of `ips` (a repeated one once). Refused: an
    /// address of a pod or a node of the cluster (the engine would take it for
    /// that pod or node), and loopback, unspecified, multicast, broadcast and
    /// link-local ones (the lab's gateways are link-local).
    pub fn add_externals(&mut self, ips: &[IpAddr]) -> Result<(), LabError> {
        let mut numbers: BTreeSet<u16> = EXTERNAL_PORTS.into_iter().collect();
        numbers.extend(self.pods.iter().flat_map(|p| p.ports.iter().map(|c| c.port)));
        let ports: Vec<ContainerPort> = numbers
            .into_iter()
            .flat_map(|port| {
                [Protocol::Tcp, Protocol::Udp].map(|protocol| ContainerPort { name: None, port, protocol })
            })
            .collect();
        for &ip in ips {
            if self.externals.iter().any(|e| e.ip == ip) {
                continue;
            }
            if let Some(reason) = self.unfit_external(ip) {
                return Err(LabError::BadExternal { ip, reason });
            }
            let index = self.externals.len();
            self.externals.push(LabExternal {
                ip,
                netns: external_netns_name(&self.id, index),
                node_if: format!("ext{index}"),
                ports: ports.clone(),
            });
        }
        Ok(())
    }

    /// Why `ip` cannot be an external, if it cannot.
    fn unfit_external(&self, ip: IpAddr) -> Option<String> {
        let special = match ip {
            IpAddr::V4(v4) => {
                v4.is_loopback() || v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast() || v4.is_link_local()
            }
            IpAddr::V6(v6) => {
                v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || v6.is_unicast_link_local()
            }
        };
        if special {
            return Some("loopback, unspecified, multicast, broadcast and link-local addresses cannot stand for a host outside the cluster".into());
        }
        if let Some(pod) = self.cluster.pods.iter().find(|p| p.ips.contains(&ip)) {
            return Some(format!("it is the address of pod {}", pod.key()));
        }
        if let Some(node) = self.cluster.nodes.iter().find(|n| n.addresses.contains(&ip)) {
            return Some(format!("it is an address of node {}", node.name));
        }
        None
    }

    pub fn pod(&self, key: &PodKey) -> Option<&LabPod> {
        self.pods.iter().find(|p| &p.key == key)
    }

    /// The external standing for `ip`, if the lab has one.
    pub fn external(&self, ip: IpAddr) -> Option<&LabExternal> {
        self.externals.iter().find(|e| e.ip == ip)
    }

    /// The hostNetwork pod at `ip` (the first, when several share their node's address).
    pub fn host_network_pod(&self, ip: IpAddr) -> Option<&HostNetworkPod> {
        self.host_network.iter().find(|h| h.ips.contains(&ip))
    }

    /// Every address of a hostNetwork pod, once, with the ports served on it
    /// (those of every hostNetwork pod at that address, TCP and UDP, once each).
    pub fn host_network_addresses(&self) -> Vec<(IpAddr, Vec<ContainerPort>)> {
        let mut by_ip: BTreeMap<IpAddr, BTreeSet<(u16, Protocol)>> = BTreeMap::new();
        for host in &self.host_network {
            for ip in &host.ips {
                by_ip.entry(*ip).or_default().extend(host.ports.iter().map(|p| (p.port, p.protocol)));
            }
        }
        by_ip
            .into_iter()
            .map(|(ip, ports)| {
                let ports = ports.into_iter().map(|(port, protocol)| ContainerPort { name: None, port, protocol });
                (ip, ports.collect())
            })
            .collect()
    }

    /// The pod serving DNS (there is always one).
    pub fn dns_pod(&self) -> Option<&LabPod> {
        self.pods.iter().find(|p| p.dns)
    }

    /// Whether `other` has the same pods, addresses and ports (then only rules
    /// and DNS records need to change).
    pub fn same_pods(&self, other: &Topology) -> Result<(), LabError> {
        let shape = |t: &Topology| {
            let hosts = t.host_network.iter().map(|h| (h.key.clone(), h.ips.clone(), h.ports.clone()));
            t.pods.iter().map(|p| (p.key.clone(), p.ips.clone(), p.ports.clone())).chain(hosts).collect::<Vec<_>>()
        };
        let (a, b) = (shape(self), shape(other));
        if a == b {
            return Ok(());
        }
        let keys =
            |s: &[(PodKey, Vec<IpAddr>, Vec<ContainerPort>)]| s.iter().map(|x| x.0.clone()).collect::<BTreeSet<_>>();
        let (ka, kb) = (keys(&a), keys(&b));
        let mut what: Vec<String> = Vec::new();
        what.extend(kb.difference(&ka).map(|k| format!("new pod {k}")));
        what.extend(ka.difference(&kb).map(|k| format!("pod {k} is gone")));
        if what.is_empty() {
            what.push("pod addresses or ports differ".to_string());
        }
        Err(LabError::PodsChanged(what.join(", ")))
    }
}

/// The hostNetwork pods of `cluster` (sorted) that the lab serves: those with
/// an address that no other pod has and that can stand for a node (not
/// loopback, unspecified, multicast or link-local: the lab's gateways are
/// link-local). The others get a note.
fn host_network_pods(
    cluster: &Cluster,
    owner: &BTreeMap<IpAddr, PodKey>,
    notes: &mut Vec<String>,
) -> Result<Vec<HostNetworkPod>, LabError> {
    let mut hosts = Vec::new();
    for pod in cluster.pods.iter().filter(|p| p.host_network) {
        if let Some((ip, other)) = pod.ips.iter().find_map(|ip| owner.get(ip).map(|o| (*ip, o))) {
            return Err(LabError::DuplicateIp { first: other.clone(), second: pod.key(), ip });
        }
        let special = |ip: &IpAddr| match ip {
            IpAddr::V4(v4) => v4.is_loopback() || v4.is_unspecified() || v4.is_multicast() || v4.is_link_local(),
            IpAddr::V6(v6) => {
                v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || v6.is_unicast_link_local()
            }
        };
        let ips: Vec<IpAddr> = pod.ips.iter().copied().filter(|ip| !special(ip)).collect();
        if ips.is_empty() {
            notes.push(format!("{} is hostNetwork without a node address: not reachable in the lab", pod.key()));
            continue;
        }
        let shown: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
        notes.push(format!(
            "{} is hostNetwork (node traffic): {} served in the node namespace",
            pod.key(),
            shown.join(", ")
        ));
        let mut seen = BTreeSet::new();
        let ports = pod.ports.iter().filter(|p| seen.insert((p.port, p.protocol))).cloned().collect();
        hosts.push(HostNetworkPod { key: pod.key(), ips, ports });
    }
    Ok(hosts)
}

fn is_dns_pod(pod: &Pod) -> bool {
    !pod.host_network && pod.namespace == DNS_NAMESPACE && pod.labels.get(DNS_LABEL.0) == Some(DNS_LABEL.1)
}

fn default_dns_pod() -> Pod {
    Pod {
        namespace: DNS_NAMESPACE.to_string(),
        name: "kube-dns".to_string(),
        kind: WorkloadKind::Pod,
        labels: Labels::from_iter([DNS_LABEL]),
        ips: Vec::new(),
        ports: vec![
            ContainerPort { name: Some("dns".into()), port: 53, protocol: Protocol::Udp },
            ContainerPort { name: Some("dns-tcp".into()), port: 53, protocol: Protocol::Tcp },
        ],
        host_network: false,
        node: None,
        origin: None,
        service_account: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ns: &str, name: &str, ips: &[&str]) -> Pod {
        Pod {
            namespace: ns.into(),
            name: name.into(),
            kind: WorkloadKind::Pod,
            labels: Labels::new(),
            ips: ips.iter().map(|s| s.parse().unwrap()).collect(),
            ports: vec![ContainerPort { name: None, port: 80, protocol: Protocol::Tcp }],
            host_network: false,
            node: None,
            origin: None,
            service_account: Default::default(),
        }
    }

    #[test]
    fn names_fit_and_stay_unique() {
        struct Case {
            name: &'static str,
            given: PodKey,
            want: &'static str,
        }
        let cases = [
            Case { name: "plain", given: PodKey::new("default", "web"), want: "np-t1-default.web" },
            Case { name: "dotted pod", given: PodKey::new("a", "b.c"), want: "np-t1-a.b.c" },
            Case { name: "odd characters", given: PodKey::new("a", "B_x"), want: "np-t1-a.b_x-" },
        ];
        for case in cases {
            let got = pod_netns_name("t1", &case.given);
            assert!(got.starts_with(case.want), "{}: {got}", case.name);
            assert!(got.len() <= 64, "{}: {got}", case.name);
        }
        let long = PodKey::new("ns", "x".repeat(200));
        let long2 = PodKey::new("ns", format!("{}y", "x".repeat(199)));
        assert_ne!(pod_netns_name("t1", &long), pod_netns_name("t1", &long2));
        assert!(pod_netns_name("t1", &long).len() <= 64);
    }

    #[test]
    fn ids_are_checked() {
        for good in ["a", "lab", "t0123456789a"] {
            assert!(check_id(good).is_ok(), "{good}");
        }
        for bad in ["", "Lab", "a-b", "t0123456789ab", "a/b"] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plan_assigns_addresses_and_adds_dns() {
        let cluster = Cluster {
            pods: vec![
                pod("default", "b", &[]),
                pod("default", "a", &["10.250.0.1"]),
                pod("x", "c", &["fd00::5", "10.0.0.9"]),
            ],
            ..Cluster::default()
        };
        let topo = Topology::plan("t1", &cluster).unwrap();
        let got: Vec<String> =
            topo.pods.iter().map(|p| format!("{} {} {:?} dns={}", p.key, p.node_if, p.ips, p.dns)).collect();
        assert_eq!(
            got,
            [
                "default/a pod0 [10.250.0.1] dns=false",
                "default/b pod1 [10.250.0.2] dns=false",
                "kube-system/kube-dns pod2 [10.250.0.3] dns=true",
                "x/c pod3 [fd00::5, 10.0.0.9] dns=false",
            ]
        );
        assert!(topo.cluster.namespaces.contains_key("kube-system"));
        assert!(topo.cluster.pods.iter().all(|p| !p.ips.is_empty()));
        let dns = topo.dns_pod().unwrap();
        assert!(dns.ports.iter().any(|p| p.port == 53 && p.protocol == Protocol::Udp));
    }

    #[test]
    fn externals_are_checked_named_and_serve_every_port() {
        struct Case {
            name: &'static str,
            given: &'static [&'static str],
            want: Result<&'static [(&'static str, &'static str, &'static str)], &'static str>,
        }
        let cases = [
            Case { name: "none", given: &[], want: Ok(&[]) },
            Case {
                name: "two, one repeated",
                given: &["8.8.8.8", "2001:db8::8", "8.8.8.8"],
                want: Ok(&[("8.8.8.8", "np-t1-ext0", "ext0"), ("2001:db8::8", "np-t1-ext1", "ext1")]),
            },
            Case { name: "a pod's address", given: &["10.0.0.1"], want: Err("it is the address of pod a/x") },
            Case { name: "a hostNetwork pod's", given: &["192.168.1.5"], want: Err("it is the address of pod a/h") },
            Case { name: "the gateway", given: &["169.254.1.1"], want: Err("link-local") },
            Case { name: "IPv6 link-local", given: &["fe80::1"], want: Err("link-local") },
            Case { name: "loopback", given: &["127.0.0.1"], want: Err("loopback") },
            Case { name: "unspecified", given: &["::"], want: Err("unspecified") },
            Case { name: "multicast", given: &["224.0.0.1"], want: Err("multicast") },
        ];
        let mut host = pod("a", "h", &["192.168.1.5"]);
        host.host_network = true;
        let cluster = Cluster { pods: vec![pod("a", "x", &["10.0.0.1"]), host], ..Cluster::default() };
        for case in cases {
            let mut topo = Topology::plan("t1", &cluster).unwrap();
            let ips: Vec<IpAddr> = case.given.iter().map(|s| s.parse().unwrap()).collect();
            match (topo.add_externals(&ips), case.want) {
                (Ok(()), Ok(want)) => {
                    let got: Vec<(String, String, String)> =
                        topo.externals.iter().map(|e| (e.ip.to_string(), e.netns.clone(), e.node_if.clone())).collect();
                    let want: Vec<(String, String, String)> =
                        want.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
                    assert_eq!(got, want, "{}", case.name);
                }
                (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{}: {e}", case.name),
                (got, want) => panic!("{}: got {got:?}, want {want:?}", case.name),
            }
        }
        // Ports: 53, 80 and 443, and every pod's port numbers (80 here; 53 from kube-dns), on TCP and UDP.
        let mut topo = Topology::plan("t1", &cluster).unwrap();
        topo.add_externals(&["8.8.8.8".parse().unwrap()]).unwrap();
        let ports: Vec<String> = topo.externals[0].ports.iter().map(|p| format!("{}/{}", p.port, p.protocol)).collect();
        assert_eq!(ports, ["53/TCP", "53/UDP", "80/TCP", "80/UDP", "443/TCP", "443/UDP"]);
        assert_eq!(topo.external("8.8.8.8".parse().unwrap()).map(|e| e.netns.as_str()), Some("np-t1-ext0"));
        // Saved and loaded with the rest of the plan; an old state file without externals still loads.
        let json = serde_json::to_string(&topo).unwrap();
        assert_eq!(serde_json::from_str::<Topology>(&json).unwrap(), topo);
        let plain = Topology::plan("t1", &cluster).unwrap();
        assert!(!serde_json::to_string(&plain).unwrap().contains("externals"));
    }

    #[test]
    fn host_network_pods_are_served_at_their_node_address() {
        let host = |name: &str, ips: &[&str], port: u16| {
            let mut p = pod("h", name, ips);
            p.host_network = true;
            p.ports = vec![ContainerPort { name: Some("web".into()), port, protocol: Protocol::Tcp }];
            p
        };
        let cluster = Cluster {
            pods: vec![
                pod("a", "x", &[]),
                host("one", &["10.250.0.1"], 80),
                host("two", &["10.250.0.1"], 81),
                host("three", &["172.18.0.3"], 80),
                host("none", &[], 80),
            ],
            ..Cluster::default()
        };
        let topo = Topology::plan("t1", &cluster).unwrap();
        let hosts: Vec<String> = topo.host_network.iter().map(|h| format!("{} {:?}", h.key, h.ips)).collect();
        assert_eq!(hosts, ["h/one [10.250.0.1]", "h/three [172.18.0.3]", "h/two [10.250.0.1]"]);
        // No namespace of their own; a pod without an address does not get theirs.
        assert!(topo.pods.iter().all(|p| p.key.namespace != "h"));
        assert_eq!(topo.pod(&PodKey::new("a", "x")).unwrap().ips, [ip("10.250.0.2")]);
        let served: Vec<String> = topo
            .host_network_addresses()
            .iter()
            .map(|(ip, ports)| {
                let ports: Vec<String> = ports.iter().map(|p| format!("{}/{}", p.port, p.protocol)).collect();
                format!("{ip} {}", ports.join(","))
            })
            .collect();
        assert_eq!(served, ["10.250.0.1 80/TCP,81/TCP", "172.18.0.3 80/TCP"]);
        assert_eq!(topo.host_network_pod(ip("10.250.0.1")).map(|h| h.key.to_string()), Some("h/one".into()));
        assert!(topo
            .notes
            .iter()
            .any(|n| n == "h/none is hostNetwork without a node address: not reachable in the lab"));
        // A hostNetwork pod at a pod's address is refused; a new one changes the pods.
        let clash =
            Cluster { pods: vec![pod("a", "x", &["10.0.0.1"]), host("h", &["10.0.0.1"], 80)], ..Cluster::default() };
        assert!(Topology::plan("t1", &clash).unwrap_err().to_string().contains("both have the address 10.0.0.1"));
        let mut more = cluster.clone();
        more.pods.push(host("four", &["172.18.0.4"], 80));
        let err = topo.same_pods(&Topology::plan("t1", &more).unwrap()).unwrap_err();
        assert!(err.to_string().contains("new pod h/four"), "{err}");
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn plan_rejects_duplicate_addresses() {
        let cluster =
            Cluster { pods: vec![pod("a", "x", &["10.0.0.1"]), pod("b", "y", &["10.0.0.1"])], ..Cluster::default() };
        let err = Topology::plan("t1", &cluster).unwrap_err();
        assert_eq!(err.to_string(), "pods a/x and b/y both have the address 10.0.0.1");
    }

    #[test]
    fn same_pods_names_the_change() {
        let one =
            Topology::plan("t1", &Cluster { pods: vec![pod("a", "x", &["10.0.0.1"])], ..Cluster::default() }).unwrap();
        let two = Topology::plan(
            "t1",
            &Cluster { pods: vec![pod("a", "x", &["10.0.0.1"]), pod("a", "y", &["10.0.0.2"])], ..Cluster::default() },
        )
        .unwrap();
        assert!(one.same_pods(&one.clone()).is_ok());
        assert!(one.same_pods(&two).unwrap_err().to_string().contains("new pod a/y"));
    }
}

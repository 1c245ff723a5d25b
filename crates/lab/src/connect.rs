//! `lab connect`: one real connection from inside a pod, by name or address
//! (a pod's, or one of the lab's externals), like `kubectl exec POD -- curl TARGET`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use netpol_model::{PodKey, PortRef, Protocol};
use serde::Serialize;

use crate::dns;
use crate::netns;
use crate::probe::{self, Outcome, Resolution};
use crate::topology::Topology;
use crate::LabError;

/// `TARGET[:PORT][/PROTO]`: a name or an address, port 80 and TCP by default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub protocol: Protocol,
}

impl FromStr for Target {
    type Err = LabError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || LabError::BadTarget(s.to_string());
        let (rest, protocol) = match s.rsplit_once('/') {
            Some((rest, proto)) => (rest, proto.to_ascii_uppercase().parse::<Protocol>().map_err(|_| bad())?),
            None => (s, Protocol::Tcp),
        };
        let parse_port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad);
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (addr, tail) = inner.split_once(']').ok_or_else(bad)?;
            addr.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
            match tail {
                "" => (addr.to_string(), 80),
                t => (addr.to_string(), parse_port(t.strip_prefix(':').ok_or_else(bad)?)?),
            }
        } else if rest.parse::<IpAddr>().is_ok() {
            (rest.to_string(), 80)
        } else {
            match rest.split_once(':') {
                Some((host, port)) => (host.to_string(), parse_port(port)?),
                None => (rest.to_string(), 80),
            }
        };
        let valid_name =
            |h: &str| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        if host.parse::<IpAddr>().is_err() && !valid_name(&host) {
            return Err(bad());
        }
        Ok(Target { host, port, protocol })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => write!(f, "[{v6}]:{}/{}", self.port, self.protocol),
            _ => write!(f, "{}:{}/{}", self.host, self.port, self.protocol),
        }
    }
}

/// What one `connect` did, step by step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Connection {
    pub src: PodKey,
    pub target: Target,
    /// Present when the target was a name.
    pub resolution: Option<Resolution>,
    /// The address connected to (after DNS and the Service's targetPort), when there was one.
    pub address: Option<SocketAddr>,
    /// The lab pod at that address (a hostNetwork pod's: its node's).
    pub dst: Option<PodKey>,
    /// Whether that address is one of the lab's externals (outside the cluster).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub external: bool,
    /// How the Service port mapped, when it did (`service port 80 -> targetPort http = 8080`).
    pub note: Option<String>,
    /// `None` when no connection was attempted (the name did not resolve).
    pub outcome: Option<Outcome>,
}

impl Connection {
    pub fn connected(&self) -> bool {
        self.outcome == Some(Outcome::Connected)
    }
}

/// `default/frontend -> backend:80/TCP`, then one line per step.
impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} -> {}", self.src, self.target)?;
        if let Some(r) = &self.resolution {
            match (&r.answer, &r.failure) {
                (Some((fqdn, ips)), _) => {
                    let ips: Vec<String> = ips.iter().map(IpAddr::to_string).collect();
                    writeln!(f, "  resolved {} as {fqdn} to {} (asked {}/UDP)", r.name, ips.join(", "), r.server)?;
                }
                (None, Some(why)) => writeln!(f, "  could not resolve {}: {why}", r.name)?,
                (None, None) => writeln!(f, "  could not resolve {}", r.name)?,
            }
        }
        if let Some(note) = &self.note {
            writeln!(f, "  {note}")?;
        }
        if let (Some(addr), Some(outcome)) = (self.address, &self.outcome) {
            let dst = match (&self.dst, self.external) {
                (Some(key), _) => format!(" ({key})"),
                (None, true) => " (external)".to_string(),
                (None, false) => String::new(),
            };
            writeln!(f, "  {} {addr}{dst}: {outcome}", self.target.protocol)?;
        }
        Ok(())
    }
}

/// Connects from `src` to `target`, resolving names through the lab DNS from inside `src`.
pub fn connect(topology: &Topology, src: &PodKey, target: &Target, timeout: Duration) -> Result<Connection, LabError> {
    let pod = topology.pod(src).ok_or_else(|| LabError::UnknownPod(src.clone()))?;
    let mut connection = Connection {
        src: src.clone(),
        target: target.clone(),
        resolution: None,
        address: None,
        dst: None,
        external: false,
        note: None,
        outcome: None,
    };
    let v6 = pod.ip(false).is_none();
    let mut port_override = None;
    let ip = match target.host.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => {
            let dns_pod = topology.dns_pod().ok_or_else(|| LabError::Servers("the lab has no DNS pod".into()))?;
            let server_ip = dns_pod.ip(v6).or_else(|| dns_pod.ips.first().copied());
            let Some(server_ip) = server_ip else {
                return Err(LabError::Servers("the DNS pod has no address".into()));
            };
            let server = SocketAddr::new(server_ip, 53);
            let namespace = src.namespace.clone();
            let host = target.host.clone();
            let resolution = netns::run_in(&pod.netns, move || probe::resolve(&host, &namespace, server, timeout, v6))?;
            let first = resolution.answer.as_ref().and_then(|(_, ips)| ips.first().copied());
            let fqdn = resolution.answer.as_ref().map(|(fqdn, _)| fqdn.clone());
            connection.resolution = Some(resolution);
            let Some(ip) = first else { return Ok(connection) };
            if let Some((note, port)) = fqdn.and_then(|fqdn| service_port(topology, &fqdn, ip, target)) {
                connection.note = Some(note);
                port_override = Some(port);
            }
            ip
        }
    };
    let port = port_override.unwrap_or(target.port);
    let address = SocketAddr::new(ip, port);
    connection.address = Some(address);
    let pod_at = topology.pods.iter().find(|p| p.ips.contains(&ip)).map(|p| &p.key);
    connection.dst = pod_at.or(topology.host_network_pod(ip).map(|h| &h.key)).cloned();
    connection.external = topology.external(ip).is_some();
    let protocol = target.protocol;
    connection.outcome = Some(netns::run_in(&pod.netns, move || probe::attempt(address, protocol, timeout))?);
    Ok(connection)
}

/// The Service behind a resolved name and the port it maps `target.port` to.
fn service_target(
    topology: &Topology,
    fqdn: &str,
    ip: IpAddr,
    target: &Target,
) -> Option<(String, u16, PortRef, Option<u16>)> {
    let (ns, name) = dns::parse_service_fqdn(fqdn)?;
    let service = topology.cluster.services.iter().find(|s| s.namespace == ns && s.name.eq_ignore_ascii_case(&name))?;
    let port = service.ports.iter().find(|p| p.port == target.port && p.protocol == target.protocol)?;
    let resolved = match &port.target_port {
        PortRef::Number(n) => Some(*n),
        PortRef::Name(n) => topology.cluster.pod_by_ip(ip).and_then(|pod| pod.resolve_port(n, target.protocol)),
    };
    Some((format!("{ns}/{}", service.name), port.port, port.target_port.clone(), resolved))
}

/// A note on how the Service maps the port, and the port to connect to.
fn service_port(topology: &Topology, fqdn: &str, ip: IpAddr, target: &Target) -> Option<(String, u16)> {
    let (service, port, target_port, resolved) = service_target(topology, fqdn, ip, target)?;
    Some(match resolved {
        Some(n) if target_port == PortRef::Number(n) => (format!("service {service} port {port} -> targetPort {n}"), n),
        Some(n) => (format!("service {service} port {port} -> targetPort {target_port} = {n}"), n),
        None => (
            format!(
                "service {service} port {port} -> targetPort {target_port} is not declared by the pod: using {port}"
            ),
            port,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        struct Case {
            given: &'static str,
            want: Option<(&'static str, u16, Protocol)>,
        }
        let cases = [
            Case { given: "backend", want: Some(("backend", 80, Protocol::Tcp)) },
            Case { given: "mongo.db:27017", want: Some(("mongo.db", 27017, Protocol::Tcp)) },
            Case { given: "kube-dns.kube-system:53/udp", want: Some(("kube-dns.kube-system", 53, Protocol::Udp)) },
            Case { given: "10.44.0.2", want: Some(("10.44.0.2", 80, Protocol::Tcp)) },
            Case { given: "10.44.0.2:81/UDP", want: Some(("10.44.0.2", 81, Protocol::Udp)) },
            Case { given: "fd00::2", want: Some(("fd00::2", 80, Protocol::Tcp)) },
            Case { given: "[fd00::2]:443", want: Some(("fd00::2", 443, Protocol::Tcp)) },
            Case { given: "x:0", want: None },
            Case { given: "x:99999", want: None },
            Case { given: "x/ICMP", want: None },
            Case { given: "", want: None },
            Case { given: "[fd00::2", want: None },
            Case { given: "a b", want: None },
        ];
        for case in cases {
            let got = case.given.parse::<Target>().ok().map(|t| (t.host, t.port, t.protocol));
            assert_eq!(got, case.want.map(|(h, p, pr)| (h.to_string(), p, pr)), "{}", case.given);
        }
    }
}

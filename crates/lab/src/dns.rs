//! The lab's cluster DNS: the records (from Services), the wire format (RFC 1035,
//! A and AAAA only), and the client's search path.
//!
//! Records: `<svc>.<ns>.svc.cluster.local` answers with the addresses of the
//! pods the Service selects (like a headless Service: the lab has no
//! kube-proxy, so the answer is the backing pods, not a cluster IP). Names are
//! case-insensitive. Anything else is NXDOMAIN. The client expands short names
//! with the search path of the querying pod's namespace, as `resolv.conf` in a
//! pod does (`search <ns>.svc.cluster.local svc.cluster.local cluster.local`, ndots 5).

use std::collections::BTreeMap;
use std::net::IpAddr;

use netpol_model::{Cluster, Service};
use serde::{Deserialize, Serialize};

pub const CLUSTER_DOMAIN: &str = "cluster.local";
const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
const RCODE_FORMERR: u8 = 1;
const RCODE_NXDOMAIN: u8 = 3;
const RCODE_NOTIMP: u8 = 4;
const TTL: u32 = 5;

/// What a service name stands for: the Service and the addresses of its pods.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsTable {
    /// Lower-case FQDN without the trailing dot -> (namespace, service, addresses).
    pub records: BTreeMap<String, Vec<IpAddr>>,
}

impl DnsTable {
    /// The records of every Service of `cluster` (a Service without a selector,
    /// or with an empty one, has no endpoints: its name exists with no address).
    pub fn from_cluster(cluster: &Cluster) -> DnsTable {
        let mut records = BTreeMap::new();
        for service in &cluster.services {
            let mut ips: Vec<IpAddr> = backing_pods(cluster, service).flat_map(|p| p.ips.iter().copied()).collect();
            ips.sort();
            ips.dedup();
            records.insert(service_fqdn(&service.namespace, &service.name), ips);
        }
        DnsTable { records }
    }

    pub fn lookup(&self, name: &str) -> Option<&[IpAddr]> {
        self.records.get(&normalize(name)).map(Vec::as_slice)
    }

    /// Answers one query in wire format; `None` when the message is not worth
    /// an answer (too short to carry an id, or itself a response).
    pub fn answer(&self, query: &[u8]) -> Option<Vec<u8>> {
        if query.len() < 12 || query[2] & 0x80 != 0 {
            return None;
        }
        let opcode = (query[2] >> 3) & 0x0f;
        let rd = query[2] & 0x01;
        let qdcount = u16::from_be_bytes([query[4], query[5]]);
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&query[..2]);
        let flags_hi = 0x80 | (opcode << 3) | 0x04 | rd;
        let parsed = if opcode == 0 && qdcount == 1 { read_question(query, 12) } else { None };
        let Some((name, qtype, qclass, end)) = parsed else {
            let rcode = if opcode == 0 { RCODE_FORMERR } else { RCODE_NOTIMP };
            out.extend_from_slice(&[flags_hi, 0x80 | rcode, 0, 0, 0, 0, 0, 0, 0, 0]);
            return Some(out);
        };
        let found = self.lookup(&name);
        let answers: Vec<IpAddr> = match found {
            Some(ips) if qclass == CLASS_IN => ips
                .iter()
                .copied()
                .filter(|ip| (qtype == TYPE_A && ip.is_ipv4()) || (qtype == TYPE_AAAA && ip.is_ipv6()))
                .collect(),
            _ => Vec::new(),
        };
        let rcode = if found.is_some() { 0 } else { RCODE_NXDOMAIN };
        out.extend_from_slice(&[flags_hi, 0x80 | rcode, 0, 1]);
        out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&query[12..end]);
        for ip in answers {
            out.extend_from_slice(&[0xc0, 0x0c]);
            let (rtype, data) = match ip {
                IpAddr::V4(v4) => (TYPE_A, v4.octets().to_vec()),
                IpAddr::V6(v6) => (TYPE_AAAA, v6.octets().to_vec()),
            };
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&TTL.to_be_bytes());
            out.extend_from_slice(&(data.len() as u16).to_be_bytes());
            out.extend_from_slice(&data);
        }
        Some(out)
    }
}

fn backing_pods<'a>(cluster: &'a Cluster, service: &'a Service) -> impl Iterator<Item = &'a netpol_model::Pod> + 'a {
    cluster.pods.iter().filter(move |pod| {
        !pod.host_network
            && pod.namespace == service.namespace
            && service
                .selector
                .as_ref()
                .is_some_and(|sel| !sel.is_empty() && sel.iter().all(|(k, v)| pod.labels.get(k) == Some(v)))
    })
}

/// `<name>.<ns>.svc.cluster.local`.
pub fn service_fqdn(namespace: &str, name: &str) -> String {
    format!("{}.{}.svc.{CLUSTER_DOMAIN}", name.to_ascii_lowercase(), namespace.to_ascii_lowercase())
}

/// Splits a service FQDN back into (namespace, name).
pub fn parse_service_fqdn(fqdn: &str) -> Option<(String, String)> {
    let fqdn = normalize(fqdn);
    let rest = fqdn.strip_suffix(&format!(".svc.{CLUSTER_DOMAIN}"))?;
    let (name, ns) = rest.split_once('.')?;
    (!ns.contains('.')).then(|| (ns.to_string(), name.to_string()))
}

fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The names a pod in `namespace` queries for `name`, in order (resolv.conf
/// `search <ns>.svc.cluster.local svc.cluster.local cluster.local`, `ndots:5`).
pub fn search_names(name: &str, namespace: &str) -> Vec<String> {
    if let Some(absolute) = name.strip_suffix('.') {
        return vec![absolute.to_string()];
    }
    let searched =
        [format!("{namespace}.svc.{CLUSTER_DOMAIN}"), format!("svc.{CLUSTER_DOMAIN}"), CLUSTER_DOMAIN.to_string()]
            .into_iter()
            .map(|suffix| format!("{name}.{suffix}"));
    if name.matches('.').count() >= 5 {
        std::iter::once(name.to_string()).chain(searched).collect()
    } else {
        searched.chain(std::iter::once(name.to_string())).collect()
    }
}

/// Builds a query for `name` (A when `v6` is false, else AAAA) with id `id`.
pub fn query(id: u16, name: &str, v6: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&(if v6 { TYPE_AAAA } else { TYPE_A }).to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    (out.len() <= 512).then_some(out)
}

/// What a response said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// NOERROR with these addresses (possibly none).
    Addresses(Vec<IpAddr>),
    NxDomain,
    /// Any other response code.
    Failed(u8),
}

/// Parses a response to the query with id `id`; `None` when malformed or not ours.
pub fn parse_reply(id: u16, msg: &[u8]) -> Option<Reply> {
    if msg.len() < 12 || u16::from_be_bytes([msg[0], msg[1]]) != id || msg[2] & 0x80 == 0 {
        return None;
    }
    let rcode = msg[3] & 0x0f;
    match rcode {
        0 => {}
        RCODE_NXDOMAIN => return Some(Reply::NxDomain),
        other => return Some(Reply::Failed(other)),
    }
    let qdcount = u16::from_be_bytes([msg[4], msg[5]]);
    let ancount = u16::from_be_bytes([msg[6], msg[7]]);
    let mut at = 12;
    for _ in 0..qdcount {
        at = skip_name(msg, at)? + 4;
    }
    let mut ips = Vec::new();
    for _ in 0..ancount {
        at = skip_name(msg, at)?;
        let header = msg.get(at..at + 10)?;
        let rtype = u16::from_be_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_be_bytes([header[8], header[9]]));
        let data = msg.get(at + 10..at + 10 + len)?;
        match (rtype, len) {
            (TYPE_A, 4) => ips.push(IpAddr::from(<[u8; 4]>::try_from(data).ok()?)),
            (TYPE_AAAA, 16) => ips.push(IpAddr::from(<[u8; 16]>::try_from(data).ok()?)),
            _ => {}
        }
        at += 10 + len;
    }
    Some(Reply::Addresses(ips))
}

/// Reads the question at `at`: (name, qtype, qclass, end offset). No compression in questions.
fn read_question(msg: &[u8], mut at: usize) -> Option<(String, u16, u16, usize)> {
    let mut labels: Vec<String> = Vec::new();
    loop {
        let len = usize::from(*msg.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 || labels.len() > 127 {
            return None;
        }
        labels.push(String::from_utf8_lossy(msg.get(at..at + len)?).into_owned());
        at += len;
    }
    let tail = msg.get(at..at + 4)?;
    Some((labels.join("."), u16::from_be_bytes([tail[0], tail[1]]), u16::from_be_bytes([tail[2], tail[3]]), at + 4))
}

/// Skips a (possibly compressed) name, returning the offset after it.
fn skip_name(msg: &[u8], mut at: usize) -> Option<usize> {
    for _ in 0..128 {
        let len = *msg.get(at)?;
        match len {
            0 => return Some(at + 1),
            l if l & 0xc0 == 0xc0 => return msg.get(at + 1).map(|_| at + 2),
            l if l <= 63 => at += 1 + usize::from(l),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use netpol_model::{Labels, Pod, Protocol, WorkloadKind};

    fn table() -> DnsTable {
        let pod = |ns: &str, name: &str, app: &str, ip: &str| Pod {
            namespace: ns.into(),
            name: name.into(),
            kind: WorkloadKind::Pod,
            labels: Labels::from_iter([("app", app)]),
            ips: vec![ip.parse().unwrap()],
            ports: vec![],
            host_network: false,
            node: None,
            origin: None,
            service_account: Default::default(),
        };
        let service = |ns: &str, name: &str, selector: Option<&str>| Service {
            namespace: ns.into(),
            name: name.into(),
            selector: selector.map(|app| Labels::from_iter([("app", app)])),
            ports: vec![netpol_model::ServicePort {
                name: None,
                port: 80,
                target_port: netpol_model::PortRef::Number(80),
                protocol: Protocol::Tcp,
            }],
            cluster_ips: vec![],
            origin: None,
        };
        let cluster = Cluster {
            pods: vec![
                pod("default", "web-1", "web", "10.0.0.2"),
                pod("default", "web-2", "web", "fd00::2"),
                pod("other", "web", "web", "10.0.0.9"),
            ],
            services: vec![service("default", "web", Some("web")), service("default", "ext", None)],
            ..Cluster::default()
        };
        DnsTable::from_cluster(&cluster)
    }

    #[test]
    fn records_are_the_backing_pods_of_the_same_namespace() {
        let t = table();
        assert_eq!(
            t.lookup("web.default.svc.cluster.local").unwrap(),
            ["10.0.0.2".parse::<IpAddr>().unwrap(), "fd00::2".parse().unwrap()]
        );
        assert_eq!(t.lookup("WEB.default.svc.cluster.local.").map(<[IpAddr]>::len), Some(2));
        assert_eq!(t.lookup("ext.default.svc.cluster.local"), Some(&[][..]));
        assert_eq!(t.lookup("web.other.svc.cluster.local"), None);
    }

    #[test]
    fn wire_round_trip() {
        struct Case {
            name: &'static str,
            given: (&'static str, bool),
            want: Reply,
        }
        let cases = [
            Case {
                name: "A",
                given: ("web.default.svc.cluster.local", false),
                want: Reply::Addresses(vec!["10.0.0.2".parse().unwrap()]),
            },
            Case {
                name: "AAAA",
                given: ("web.default.svc.cluster.local", true),
                want: Reply::Addresses(vec!["fd00::2".parse().unwrap()]),
            },
            Case {
                name: "no endpoints",
                given: ("ext.default.svc.cluster.local", false),
                want: Reply::Addresses(vec![]),
            },
            Case { name: "unknown", given: ("web.other.svc.cluster.local", false), want: Reply::NxDomain },
        ];
        for case in cases {
            let q = query(7, case.given.0, case.given.1).unwrap();
            let r = table().answer(&q).unwrap();
            assert_eq!(parse_reply(7, &r), Some(case.want), "{}", case.name);
            assert_eq!(parse_reply(8, &r), None, "{}: wrong id", case.name);
        }
    }

    #[test]
    fn bad_messages_never_panic() {
        let t = table();
        assert_eq!(t.answer(&[0; 3]), None);
        let formerr = t.answer(&[0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 200]).unwrap();
        assert_eq!(parse_reply(1, &formerr), Some(Reply::Failed(RCODE_FORMERR)));
        for len in 0..40 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let _ = t.answer(&junk);
            let _ = parse_reply(0, &junk);
        }
        assert!(query(1, "a..b", false).is_none());
    }

    #[test]
    fn search_path_is_the_pods() {
        assert_eq!(
            search_names("backend", "default"),
            ["backend.default.svc.cluster.local", "backend.svc.cluster.local", "backend.cluster.local", "backend"]
        );
        assert_eq!(search_names("mongo.db", "backend")[1], "mongo.db.svc.cluster.local");
        assert_eq!(search_names("x.y.", "default"), ["x.y"]);
        assert_eq!(parse_service_fqdn("mongo.db.svc.cluster.local"), Some(("db".into(), "mongo".into())));
        assert_eq!(parse_service_fqdn("a.b.c.svc.cluster.local"), None);
    }
}

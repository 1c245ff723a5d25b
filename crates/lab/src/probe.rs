//! Real connections from inside lab pods: one attempt, a name resolved through
//! the lab DNS from the pod's namespace, all-pairs probes (pods to pods, and
//! pods to the lab's externals), and [`watch`]: one
//! pair probed without pause while something changes.
//!
//! An attempt runs on a thread that has entered the source pod's namespace, so
//! the packets leave from the pod's `eth0` with the pod's address and cross the
//! node namespace (the enforcement point). Outcomes: `connected` (TCP handshake
//! done, or a UDP reply), `refused` (a RST or ICMP port unreachable: the
//! packet reached the pod and nothing listened), `timed out` (silence: dropped).

use std::fmt;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use netpol_model::{PodKey, Protocol};
use serde::Serialize;

use crate::dns::{self, Reply};
use crate::netns;
use crate::topology::Topology;
use crate::LabError;

/// How one attempt ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Connected,
    Refused,
    TimedOut,
    /// No route, or another socket error.
    Failed(String),
}

impl Outcome {
    /// Whether the network delivered the packet (a refusal comes from the pod itself).
    pub fn reached(&self) -> bool {
        matches!(self, Outcome::Connected | Outcome::Refused)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Connected => f.write_str("connected"),
            Outcome::Refused => f.write_str("refused"),
            Outcome::TimedOut => f.write_str("timed out"),
            Outcome::Failed(e) => write!(f, "failed: {e}"),
        }
    }
}

const PROBE_PAYLOAD: &[u8] = b"netpol-lab probe\n";

/// One connection attempt to `dst`, from the namespace the calling thread is in.
pub fn attempt(dst: SocketAddr, protocol: Protocol, timeout: Duration) -> Outcome {
    match protocol {
        Protocol::Tcp => match TcpStream::connect_timeout(&dst, timeout) {
            Ok(_) => Outcome::Connected,
            Err(e) => classify(&e),
        },
        Protocol::Udp => {
            let local: SocketAddr =
                if dst.is_ipv4() { (Ipv4Addr::UNSPECIFIED, 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
            let result = UdpSocket::bind(local).and_then(|udp| {
                udp.connect(dst)?;
                udp.set_read_timeout(Some(timeout))?;
                udp.send(PROBE_PAYLOAD)?;
                let mut buf = [0u8; 512];
                udp.recv(&mut buf)
            });
            match result {
                Ok(_) => Outcome::Connected,
                Err(e) => classify(&e),
            }
        }
        Protocol::Sctp => Outcome::Failed(SCTP_UNSUPPORTED.to_string()),
    }
}

/// Why SCTP is never probed.
pub const SCTP_UNSUPPORTED: &str =
    "SCTP cannot be probed on this kernel (no SCTP sockets); its rules are still rendered";

fn classify(e: &std::io::Error) -> Outcome {
    match e.kind() {
        ErrorKind::ConnectionRefused => Outcome::Refused,
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Outcome::TimedOut,
        _ => Outcome::Failed(e.to_string()),
    }
}

/// How a name was resolved, query by query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resolution {
    pub name: String,
    /// The DNS server asked (the kube-dns pod).
    pub server: SocketAddr,
    /// The name that answered (after the search path), and its addresses.
    pub answer: Option<(String, Vec<IpAddr>)>,
    /// Why there is no answer, when there is none.
    pub failure: Option<String>,
}

/// Resolves `name` from the calling thread's namespace (a pod in `namespace`)
/// by real UDP queries to `server`, following the pod's search path.
pub fn resolve(name: &str, namespace: &str, server: SocketAddr, timeout: Duration, v6: bool) -> Resolution {
    let mut resolution = Resolution { name: name.to_string(), server, answer: None, failure: None };
    let local: SocketAddr =
        if server.is_ipv4() { (Ipv4Addr::UNSPECIFIED, 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
    let udp = match UdpSocket::bind(local).and_then(|u| u.connect(server).map(|()| u)) {
        Ok(u) => u,
        Err(e) => {
            resolution.failure = Some(format!("no socket for DNS: {e}"));
            return resolution;
        }
    };
    let mut id =
        (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0)
            as u16)
            ^ (std::process::id() as u16);
    for candidate in dns::search_names(name, namespace) {
        id = id.wrapping_add(1);
        let Some(query) = dns::query(id, &candidate, v6) else {
            resolution.failure = Some(format!("`{candidate}` is not a valid DNS name"));
            return resolution;
        };
        match exchange(&udp, id, &query, timeout) {
            Ok(Reply::Addresses(ips)) if !ips.is_empty() => {
                resolution.answer = Some((candidate, ips));
                resolution.failure = None;
                return resolution;
            }
            Ok(Reply::Addresses(_)) => resolution.failure = Some(format!("`{candidate}` has no address")),
            Ok(Reply::NxDomain) => {
                if resolution.failure.is_none() {
                    resolution.failure = Some("no such name (NXDOMAIN for every search domain)".to_string());
                }
            }
            Ok(Reply::Failed(code)) => resolution.failure = Some(format!("DNS server error (rcode {code})")),
            Err(outcome) => {
                resolution.failure =
                    Some(format!("DNS query to {server}/UDP {outcome}: could not resolve host `{name}`"));
                return resolution;
            }
        }
    }
    resolution
}

fn exchange(udp: &UdpSocket, id: u16, query: &[u8], timeout: Duration) -> Result<Reply, Outcome> {
    udp.set_read_timeout(Some(timeout)).map_err(|e| classify(&e))?;
    udp.send(query).map_err(|e| classify(&e))?;
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        let len = udp.recv(&mut buf).map_err(|e| classify(&e))?;
        if let Some(reply) = dns::parse_reply(id, &buf[..len]) {
            return Ok(reply);
        }
    }
    Err(Outcome::TimedOut)
}

/// Every (port, protocol) some lab pod declares, SCTP included (probing reports it as skipped).
pub fn declared_targets(topology: &Topology) -> Vec<(u16, Protocol)> {
    let mut all: Vec<(u16, Protocol)> =
        topology.pods.iter().flat_map(|p| p.ports.iter().map(|c| (c.port, c.protocol))).collect();
    all.sort();
    all.dedup();
    all
}

/// The observed truth table of one (port, protocol): `cells[i][j]` from
/// `pods[i]` to `pods[j]`, and `to_externals[i][k]` from `pods[i]` to `externals[k]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Table {
    pub port: u16,
    pub protocol: Protocol,
    pub cells: Vec<Vec<Outcome>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to_externals: Vec<Vec<Outcome>>,
}

/// Every table probed, plus what was skipped and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Observed {
    pub pods: Vec<PodKey>,
    /// The lab's externals, each a destination only (the columns of `to_externals`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub externals: Vec<IpAddr>,
    pub tables: Vec<Table>,
    pub skipped: Vec<String>,
}

/// Probes every ordered pair of lab pods (a pod to itself included), and every
/// pod to every external, on every `(port, protocol)` of `targets`, `parallel`
/// attempts at a time. A pair is probed on each address family both ends
/// have; its outcome is the first family that was not reached, else the first.
pub fn probe_all(
    topology: &Topology,
    targets: &[(u16, Protocol)],
    timeout: Duration,
    parallel: usize,
) -> Result<Observed, LabError> {
    let pods: Vec<PodKey> = topology.pods.iter().map(|p| p.key.clone()).collect();
    let n = pods.len();
    let mut skipped = Vec::new();
    let targets: Vec<(u16, Protocol)> = targets
        .iter()
        .copied()
        .filter(|(port, protocol)| {
            let keep = *protocol != Protocol::Sctp;
            if !keep {
                skipped.push(format!("{port}/SCTP: {SCTP_UNSUPPORTED}"));
            }
            keep
        })
        .collect();
    let externals: Vec<IpAddr> = topology.externals.iter().map(|e| e.ip).collect();
    // Destination `j`: pod `j` for j < n, else external `j - n`.
    struct Job {
        table: usize,
        src: usize,
        dst: usize,
        addr: SocketAddr,
    }
    let mut jobs = Vec::new();
    for (t, (port, _)) in targets.iter().enumerate() {
        for (i, src) in topology.pods.iter().enumerate() {
            for (j, dst) in topology.pods.iter().enumerate() {
                for v6 in [false, true] {
                    if let (Some(_), Some(ip)) = (src.ip(v6), dst.ip(v6)) {
                        jobs.push(Job { table: t, src: i, dst: j, addr: SocketAddr::new(ip, *port) });
                    }
                }
            }
            for (k, ip) in externals.iter().enumerate() {
                if src.ip(ip.is_ipv6()).is_some() {
                    jobs.push(Job { table: t, src: i, dst: n + k, addr: SocketAddr::new(*ip, *port) });
                }
            }
        }
    }
    let m = n + externals.len();
    let results: Mutex<Vec<Vec<Vec<Vec<Outcome>>>>> = Mutex::new(vec![vec![vec![Vec::new(); m]; n]; targets.len()]);
    let next = AtomicUsize::new(0);
    let workers = parallel.clamp(1, 256).min(jobs.len().max(1));
    let failure: Mutex<Option<LabError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut current: Option<usize> = None;
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(k) else { break };
                    if current != Some(job.src) {
                        if let Err(e) = netns::enter(&topology.pods[job.src].netns) {
                            *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                            break;
                        }
                        current = Some(job.src);
                    }
                    let outcome = attempt(job.addr, targets[job.table].1, timeout);
                    results.lock().unwrap_or_else(|p| p.into_inner())[job.table][job.src][job.dst].push(outcome);
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
    let verdict = |outcomes: Vec<Outcome>, none: &str| {
        outcomes
            .iter()
            .find(|o| !o.reached())
            .or(outcomes.first())
            .cloned()
            .unwrap_or_else(|| Outcome::Failed(none.to_string()))
    };
    let tables = targets
        .iter()
        .zip(results)
        .map(|((port, protocol), rows)| {
            let mut cells = Vec::with_capacity(n);
            let mut to_externals = Vec::new();
            for mut row in rows {
                let outside = row.split_off(n);
                cells.push(row.into_iter().map(|o| verdict(o, "the two pods share no address family")).collect());
                if !externals.is_empty() {
                    let none = "the pod has no address of the external's family";
                    to_externals.push(outside.into_iter().map(|o| verdict(o, none)).collect());
                }
            }
            Table { port: *port, protocol: *protocol, cells, to_externals }
        })
        .collect();
    Ok(Observed { pods, externals, tables, skipped })
}

/// What the threads of [`watch`] saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watched {
    /// Connection attempts made.
    pub attempts: usize,
    /// Every attempt that was not silence (`80/TCP: connected`, `80/UDP: refused`, ...).
    pub reached: Vec<String>,
}

/// Runs `body` while `workers` threads inside `netns` keep opening new
/// connections to `dst` (TCP from even workers, UDP from odd ones), each
/// attempt waiting `timeout` for an answer: for a pair that must stay denied
/// while something changes (policies applied in a loop). The threads stop
/// when `body` returns or panics (the panic goes on once they have stopped),
/// and after ten minutes at most.
pub fn watch<R>(
    netns: &str,
    dst: SocketAddr,
    workers: usize,
    timeout: Duration,
    body: impl FnOnce() -> R,
) -> Result<(Watched, R), LabError> {
    use std::sync::atomic::AtomicBool;
    let stop = AtomicBool::new(false);
    let attempts = AtomicUsize::new(0);
    let reached: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<LabError>> = Mutex::new(None);
    let result = std::thread::scope(|scope| {
        for worker in 0..workers.max(1) {
            let (stop, attempts, reached, failure) = (&stop, &attempts, &reached, &failure);
            scope.spawn(move || {
                if let Err(e) = netns::enter(netns) {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    return;
                }
                let protocol = if worker % 2 == 0 { Protocol::Tcp } else { Protocol::Udp };
                let deadline = Instant::now() + Duration::from_secs(600);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    let outcome = attempt(dst, protocol, timeout);
                    attempts.fetch_add(1, Ordering::Relaxed);
                    if outcome != Outcome::TimedOut {
                        let line = format!("{}/{protocol}: {outcome}", dst.port());
                        reached.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                    }
                }
            });
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        stop.store(true, Ordering::Relaxed);
        result
    });
    let value = result.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    if let Some(e) = failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let watched =
        Watched { attempts: attempts.into_inner(), reached: reached.into_inner().unwrap_or_else(|p| p.into_inner()) };
    Ok((watched, value))
}

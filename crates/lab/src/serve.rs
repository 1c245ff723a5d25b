//! The servers inside lab pods: one thread per pod, inside the pod's network
//! namespace, listening on every declared containerPort (TCP and UDP; SCTP
//! cannot be opened on this kernel and is skipped); and one per external,
//! inside its namespace, on its ports; and one per address of hostNetwork
//! pods, inside the node namespace, on their ports, bound to that address (a
//! UDP reply must leave from the address the probe was sent to).
//!
//! Design: each thread enters its namespace, binds its sockets (dual-stack
//! `[::]`, or `0.0.0.0` when IPv6 is off), reports success or failure once on
//! a channel, then polls all its sockets with a 100 ms tick so that a stop
//! request is seen quickly. TCP: accept, write one greeting line, close. UDP:
//! always reply (echo), so silence means the network dropped the packet. The
//! DNS pod answers port 53 (UDP, and TCP with its 2-byte length prefix) from a
//! shared [`DnsTable`] that `apply` can replace while the servers run.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use netpol_model::{ContainerPort, Protocol};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::dns::DnsTable;
use crate::netns;
use crate::topology::Topology;
use crate::LabError;

const TICK_MS: u16 = 100;
const DNS_PORT: u16 = 53;

/// The running servers of a lab; dropping it stops them.
pub struct Servers {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    dns: Arc<RwLock<DnsTable>>,
}

/// What one server thread serves: a pod, or an external.
#[derive(Clone)]
struct Host {
    /// For errors and greetings: `ns/pod`, or `external 8.8.8.8`.
    name: String,
    netns: String,
    ports: Vec<ContainerPort>,
    /// Answers DNS on port 53 (the DNS pod).
    dns: bool,
    /// Binds this address only (hostNetwork pods); `None`: every address.
    bind: Option<IpAddr>,
}

impl Host {
    fn all(topology: &Topology) -> Vec<Host> {
        let pods = topology.pods.iter().map(|p| Host {
            name: p.key.to_string(),
            netns: p.netns.clone(),
            ports: p.ports.clone(),
            dns: p.dns,
            bind: None,
        });
        let externals = topology.externals.iter().map(|e| Host {
            name: format!("external {}", e.ip),
            netns: e.netns.clone(),
            ports: e.ports.clone(),
            dns: false,
            bind: None,
        });
        let host_network = topology.host_network_addresses().into_iter().map(|(ip, ports)| Host {
            name: format!("hostNetwork {ip}"),
            netns: topology.node_netns.clone(),
            ports,
            dns: false,
            bind: Some(ip),
        });
        pods.chain(externals).chain(host_network).collect()
    }
}

enum Socket {
    Tcp(TcpListener, u16),
    Udp(UdpSocket, u16),
}

impl Servers {
    /// Starts one server thread per pod and per external, and waits until every
    /// one has bound its sockets.
    pub fn start(topology: &Topology, dns: DnsTable) -> Result<Servers, LabError> {
        let stop = Arc::new(AtomicBool::new(false));
        let dns = Arc::new(RwLock::new(dns));
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let mut servers = Servers { stop: stop.clone(), threads: Vec::new(), dns: dns.clone() };
        let hosts = Host::all(topology);
        for host in &hosts {
            let (host, stop, dns, ready) = (host.clone(), stop.clone(), dns.clone(), ready_tx.clone());
            let handle = std::thread::Builder::new()
                .name(format!("serve {}", host.name))
                .spawn(move || serve(&host, &stop, &dns, &ready))
                .map_err(|e| LabError::Servers(e.to_string()))?;
            servers.threads.push(handle);
        }
        drop(ready_tx);
        for _ in 0..hosts.len() {
            match ready_rx.recv_timeout(Duration::from_secs(10)) {
                Ok(Ok(())) => {}
                Ok(Err(message)) => return Err(LabError::Servers(message)),
                Err(_) => return Err(LabError::Servers("a server did not report within 10 s".into())),
            }
        }
        Ok(servers)
    }

    /// Replaces the DNS records the DNS pod answers with.
    pub fn set_dns(&self, table: DnsTable) {
        if let Ok(mut guard) = self.dns.write() {
            *guard = table;
        }
    }

    /// Stops every server and waits for the threads (at most one tick each).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        self.halt();
    }
}

fn serve(pod: &Host, stop: &AtomicBool, dns: &RwLock<DnsTable>, ready: &mpsc::Sender<Result<(), String>>) {
    let sockets = match netns::enter(&pod.netns).and_then(|()| bind_all(pod)) {
        Ok(sockets) => {
            let _ = ready.send(Ok(()));
            sockets
        }
        Err(e) => {
            let _ = ready.send(Err(format!("{}: {e}", pod.name)));
            return;
        }
    };
    let greeting = |port: u16, protocol: Protocol| format!("netpol-lab {} {port}/{protocol}\n", pod.name);
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let mut fds: Vec<PollFd> = sockets
            .iter()
            .map(|s| match s {
                Socket::Tcp(l, _) => PollFd::new(l.as_fd(), PollFlags::POLLIN),
                Socket::Udp(u, _) => PollFd::new(u.as_fd(), PollFlags::POLLIN),
            })
            .collect();
        match poll(&mut fds, PollTimeout::from(TICK_MS)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
        let ready: Vec<bool> = fds.iter().map(|fd| fd.revents().is_some_and(|r| !r.is_empty())).collect();
        drop(fds);
        for (socket, _) in sockets.iter().zip(ready).filter(|(_, r)| *r) {
            match socket {
                Socket::Tcp(listener, port) => {
                    while let Ok((stream, _)) = listener.accept() {
                        if pod.dns && *port == DNS_PORT {
                            answer_dns_tcp(stream, dns);
                        } else {
                            let mut stream = stream;
                            let _ = stream.write_all(greeting(*port, Protocol::Tcp).as_bytes());
                        }
                    }
                }
                Socket::Udp(udp, port) => {
                    while let Ok((len, peer)) = udp.recv_from(&mut buf) {
                        let reply = if pod.dns && *port == DNS_PORT {
                            dns.read().ok().and_then(|table| table.answer(&buf[..len]))
                        } else if len == 0 {
                            Some(greeting(*port, Protocol::Udp).into_bytes())
                        } else {
                            Some(buf[..len].to_vec())
                        };
                        if let Some(reply) = reply {
                            let _ = udp.send_to(&reply, peer);
                        }
                    }
                }
            }
        }
    }
}

fn answer_dns_tcp(mut stream: TcpStream, dns: &RwLock<DnsTable>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut len = [0u8; 2];
    if stream.read_exact(&mut len).is_err() {
        return;
    }
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
    if stream.read_exact(&mut msg).is_err() {
        return;
    }
    if let Some(reply) = dns.read().ok().and_then(|table| table.answer(&msg)) {
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        let _ = stream.write_all(&framed);
    }
}

fn bind_all(pod: &Host) -> Result<Vec<Socket>, LabError> {
    let mut sockets = Vec::new();
    for port in &pod.ports {
        let what = format!("bind {}/{}", port.port, port.protocol);
        let err = |source| LabError::Socket { netns: pod.netns.clone(), what: what.clone(), source };
        let addrs = |port: u16| match pod.bind {
            Some(ip) => vec![SocketAddr::new(ip, port)],
            None => {
                vec![SocketAddr::from((Ipv6Addr::UNSPECIFIED, port)), SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))]
            }
        };
        match port.protocol {
            Protocol::Tcp => {
                let listener = TcpListener::bind(&addrs(port.port)[..]).map_err(err)?;
                listener.set_nonblocking(true).map_err(err)?;
                sockets.push(Socket::Tcp(listener, port.port));
            }
            Protocol::Udp => {
                let udp = UdpSocket::bind(&addrs(port.port)[..]).map_err(err)?;
                udp.set_nonblocking(true).map_err(err)?;
                sockets.push(Socket::Udp(udp, port.port));
            }
            Protocol::Sctp => {}
        }
    }
    Ok(sockets)
}

//! Long-lived connections between lab pods, to see what a policy change does
//! to connections that already exist (kept by default, cut by
//! `netpol agent --reset-denied`).
//!
//! An [`Echo`] server (TCP and UDP on one port) runs inside a pod's namespace
//! until dropped; a [`Held`] connection is opened inside another pod's
//! namespace and then used from any thread (a socket stays in the namespace it
//! was made in). The lab's own servers answer once and close, which says
//! whether a *new* connection is admitted, not whether an *old* one still
//! carries data.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use netpol_model::Protocol;

use crate::{netns, LabError};

/// How long an echo thread waits on a socket before checking whether to stop.
const TICK: Duration = Duration::from_millis(100);

/// TCP and UDP echo servers on `port` inside a namespace; they stop when dropped.
#[derive(Debug)]
pub struct Echo {
    stop: Arc<AtomicBool>,
}

impl Echo {
    pub fn start(netns_name: &str, port: u16) -> Result<Echo, LabError> {
        let any: SocketAddr = (Ipv4Addr::UNSPECIFIED, port).into();
        let socket_err = |what: &str| {
            let (netns, what) = (netns_name.to_string(), what.to_string());
            move |source| LabError::Socket { netns, what, source }
        };
        let (tcp, udp) = netns::run_in(netns_name, || {
            Ok::<_, LabError>((
                TcpListener::bind(any).map_err(socket_err("echo TCP bind"))?,
                UdpSocket::bind(any).map_err(socket_err("echo UDP bind"))?,
            ))
        })??;
        tcp.set_nonblocking(true).map_err(socket_err("echo TCP"))?;
        udp.set_read_timeout(Some(TICK)).map_err(socket_err("echo UDP"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_tcp = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop_tcp.load(Ordering::Relaxed) {
                match tcp.accept() {
                    Ok((conn, _)) => {
                        let stop = Arc::clone(&stop_tcp);
                        std::thread::spawn(move || echo_tcp(conn, &stop));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(10)),
                    Err(_) => return,
                }
            }
        });
        let stop_udp = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while !stop_udp.load(Ordering::Relaxed) {
                if let Ok((n, from)) = udp.recv_from(&mut buf) {
                    let _ = udp.send_to(&buf[..n], from);
                }
            }
        });
        Ok(Echo { stop })
    }
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn echo_tcp(mut conn: TcpStream, stop: &AtomicBool) {
    if conn.set_nonblocking(false).and_then(|_| conn.set_read_timeout(Some(TICK))).is_err() {
        return;
    }
    let mut buf = [0u8; 1024];
    while !stop.load(Ordering::Relaxed) {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if conn.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// One long-lived connection to an [`Echo`] server.
#[derive(Debug)]
pub enum Held {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

impl Held {
    /// Opens a connection from inside `from_netns` to `dst`; `timeout` bounds the
    /// TCP handshake and every later read and write.
    pub fn open(from_netns: &str, dst: SocketAddr, protocol: Protocol, timeout: Duration) -> Result<Held, LabError> {
        let socket_err = |what: &str| {
            let (netns, what) = (from_netns.to_string(), format!("{what} to {dst}"));
            move |source| LabError::Socket { netns, what, source }
        };
        let held = netns::run_in(from_netns, || match protocol {
            Protocol::Tcp => TcpStream::connect_timeout(&dst, timeout).map(Held::Tcp).map_err(socket_err("connect")),
            _ => {
                let any: SocketAddr = match dst {
                    SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
                    SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
                };
                let udp = UdpSocket::bind(any).map_err(socket_err("UDP bind"))?;
                udp.connect(dst).map_err(socket_err("UDP connect"))?;
                Ok(Held::Udp(udp))
            }
        })??;
        let configured = match &held {
            Held::Tcp(s) => s
                .set_read_timeout(Some(timeout))
                .and_then(|_| s.set_write_timeout(Some(timeout)))
                .and_then(|_| s.set_nodelay(true)),
            Held::Udp(s) => s.set_read_timeout(Some(timeout)),
        };
        configured.map_err(socket_err("timeouts"))?;
        Ok(held)
    }

    /// The local (source) address: with the destination, the conntrack original tuple.
    pub fn local(&self) -> Option<SocketAddr> {
        match self {
            Held::Tcp(s) => s.local_addr().ok(),
            Held::Udp(s) => s.local_addr().ok(),
        }
    }

    /// The source port (0 when unknown).
    pub fn sport(&self) -> u16 {
        self.local().map_or(0, |a| a.port())
    }

    /// Writes `message` and reads it back: `Ok` when the connection carried it both ways.
    pub fn round_trip(&mut self, message: &str) -> Result<(), String> {
        let mut buf = vec![0u8; message.len()];
        match self {
            Held::Tcp(s) => {
                s.write_all(message.as_bytes()).map_err(|e| format!("write: {e}"))?;
                s.read_exact(&mut buf).map_err(|e| format!("read: {e}"))?;
            }
            Held::Udp(s) => {
                // A reply from an earlier, lost round trip must not count: drain first.
                s.set_nonblocking(true).map_err(|e| format!("drain: {e}"))?;
                let mut junk = [0u8; 1024];
                while s.recv(&mut junk).is_ok() {}
                s.set_nonblocking(false).map_err(|e| format!("drain: {e}"))?;
                s.send(message.as_bytes()).map_err(|e| format!("send: {e}"))?;
                let n = s.recv(&mut buf).map_err(|e| format!("recv: {e}"))?;
                buf.truncate(n);
            }
        }
        if buf == message.as_bytes() {
            Ok(())
        } else {
            Err(format!("read back {:?}", String::from_utf8_lossy(&buf)))
        }
    }
}

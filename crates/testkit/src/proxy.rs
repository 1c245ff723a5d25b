//! A TCP proxy on 127.0.0.1 that a test can cut and restore: a network
//! partition between a client (the agent) and a server (the API server)
//! without touching either process.
//!
//! Model: one listener thread; each accepted connection is joined to a new
//! connection to the target by two copying threads. [`Proxy::cut`] shuts
//! every open connection down (both sides see it end) and, until
//! [`Proxy::restore`], closes new ones as soon as they are accepted. Drop
//! stops the listener and shuts everything down. Only 127.0.0.1.
//!
//! ```no_run
//! let proxy = netpol_testkit::proxy::Proxy::start("127.0.0.1:6443".parse().unwrap()).unwrap();
//! let server = format!("https://{}", proxy.addr()); // give this to the client
//! proxy.cut(); // the client's connections end and new ones fail
//! proxy.restore();
//! ```

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

#[derive(Debug, Default)]
struct State {
    cut: AtomicBool,
    stop: AtomicBool,
    /// Every stream the proxy holds (both sides of each connection).
    open: Mutex<Vec<TcpStream>>,
}

impl State {
    fn shut_all(&self) {
        for s in self.open.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    state: Arc<State>,
    listener: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `target`.
    pub fn start(target: SocketAddr) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        let thread = std::thread::Builder::new().name("netpol-proxy".into()).spawn(move || {
            for client in listener.incoming() {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                if shared.cut.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let _ = join(client, target, &shared);
            }
        })?;
        Ok(Proxy { addr, state, listener: Some(thread) })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Ends every open connection and refuses new ones until [`Proxy::restore`].
    pub fn cut(&self) {
        self.state.cut.store(true, Ordering::SeqCst);
        self.state.shut_all();
    }

    /// Lets new connections through again.
    pub fn restore(&self) {
        self.state.cut.store(false, Ordering::SeqCst);
    }
}

/// Joins `client` to a new connection to `target`, copying both ways.
fn join(client: TcpStream, target: SocketAddr, state: &Arc<State>) -> io::Result<()> {
    let server = TcpStream::connect(target)?;
    {
        let mut open = state.open.lock().unwrap_or_else(|e| e.into_inner());
        open.push(client.try_clone()?);
        open.push(server.try_clone()?);
    }
    for (mut from, mut to) in [(client.try_clone()?, server.try_clone()?), (server, client)] {
        std::thread::spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    }
    Ok(())
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.shut_all();
        // Wake the listener so it sees `stop`.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.listener.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut s = s;
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf) {
                        if n == 0 || s.write_all(&buf[..n]).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    fn echo(addr: SocketAddr) -> io::Result<String> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
        s.write_all(b"ping")?;
        let mut buf = [0u8; 4];
        s.read_exact(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    #[test]
    fn forwards_cuts_and_restores() {
        let proxy = Proxy::start(echo_server()).unwrap();
        assert_eq!(echo(proxy.addr()).unwrap(), "ping");
        // An open connection ends when cut.
        let mut held = TcpStream::connect(proxy.addr()).unwrap();
        held.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        held.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        held.read_exact(&mut buf).unwrap();
        proxy.cut();
        assert_eq!(held.read(&mut buf).unwrap_or(0), 0, "the held connection ended");
        assert!(echo(proxy.addr()).is_err(), "new connections fail while cut");
        proxy.restore();
        assert_eq!(echo(proxy.addr()).unwrap(), "ping");
    }
}

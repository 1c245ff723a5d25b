//! How soon a change is enforced, for the benchmarks (the enforcement
//! benchmark's folder agent, the Kubernetes API benchmark's agent process):
//! [`Commits`] hears the kernel announce every committed nftables transaction
//! in a network namespace, and [`Summary`] gives the percentiles of samples.
//!
//! The kernel announces each committed transaction with `NFT_MSG_NEWGEN` to
//! the `NFNLGRP_NFTABLES` netlink group: that is the moment the new rules are
//! enforced. `nft -f` itself exits later: a process whose transaction deleted
//! anything waits, when it closes its netlink socket, for the kernel to free
//! the old objects (an RCU grace period). (`nft monitor` would do, but nft
//! 1.0.6 crashes printing concatenated interval elements.)
//!
//! Listening is not free for the committer: while anyone is joined to the
//! group, the kernel also announces every set element a transaction adds or
//! deletes, in the committing process's time. Start listening after a large
//! first apply (the whole table), not before it.
//!
//! Threads: [`Commits::listen`] starts one thread that enters the namespace,
//! joins the group and sends the arrival time of each `NEWGEN` over a
//! channel; it checks every 100 ms whether the [`Commits`] was dropped, and
//! then ends (so it holds the namespace no longer than the listener lives).

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::sys::socket::{
    bind, recv, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr, SockFlag, SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

const NFNLGRP_NFTABLES: u32 = 7;
/// `NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN`.
const NEWGEN: u16 = (10 << 8) | 15;

/// Listens for nftables commits in one network namespace.
#[derive(Debug)]
pub struct Commits {
    commits: mpsc::Receiver<Instant>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Commits {
    /// Starts listening in the named namespace (`/run/netns/NAME`, as `ip
    /// netns add` makes it; needs root); returns once the listener has joined
    /// the group, so no commit after this call is missed.
    pub fn listen(netns: &str) -> std::io::Result<Commits> {
        let (tx, commits) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let path = format!("/run/netns/{netns}");
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new().name("nft-commits".into()).spawn(move || {
            let sock = match join_group(&path) {
                Ok(sock) => {
                    let _ = ready_tx.send(Ok(()));
                    sock
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let mut buf = vec![0u8; 1 << 20];
            while !stopped.load(Ordering::Relaxed) {
                // A timeout (EAGAIN) or a lost burst (ENOBUFS): look at `stopped` again.
                let Ok(n) = recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()) else { continue };
                let at = Instant::now();
                for kind in message_kinds(&buf[..n]) {
                    if kind == NEWGEN && tx.send(at).is_err() {
                        return;
                    }
                }
            }
        })?;
        let joined = ready.recv_timeout(Duration::from_secs(10)).unwrap_or_else(|_| {
            Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the commit listener did not start within 10 s"))
        });
        let listener = Commits { commits, stop, thread: Some(thread) };
        joined.map(|()| listener)
    }

    /// When the next commit arrived (perhaps before this call), waiting at most `timeout`.
    pub fn next(&self, timeout: Duration) -> Option<Instant> {
        self.commits.recv_timeout(timeout).ok()
    }

    /// Forgets the commits heard so far; how many there were.
    pub fn drain(&self) -> usize {
        self.commits.try_iter().count()
    }
}

impl Drop for Commits {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Enters the namespace (this thread only) and joins `NFNLGRP_NFTABLES`.
fn join_group(netns: &str) -> std::io::Result<std::os::fd::OwnedFd> {
    let ns = std::fs::File::open(netns)?;
    nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)?;
    let sock = socket(AddressFamily::Netlink, SockType::Raw, SockFlag::empty(), SockProtocol::NetlinkNetFilter)?;
    setsockopt(&sock, sockopt::ReceiveTimeout, &TimeVal::new(0, 100_000))?;
    bind(sock.as_raw_fd(), &NetlinkAddr::new(0, 1 << (NFNLGRP_NFTABLES - 1)))?;
    Ok(sock)
}

/// The type of each netlink message in one datagram.
fn message_kinds(mut datagram: &[u8]) -> Vec<u16> {
    let mut kinds = Vec::new();
    while datagram.len() >= 16 {
        let len = u32::from_ne_bytes(datagram[0..4].try_into().expect("4 bytes")) as usize;
        kinds.push(u16::from_ne_bytes(datagram[4..6].try_into().expect("2 bytes")));
        datagram = &datagram[len.clamp(16, datagram.len()).next_multiple_of(4).min(datagram.len())..];
    }
    kinds
}

/// Percentiles of latency samples, in milliseconds (nearest rank). Samples
/// may be negative: a commit heard before the call that caused it returned.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Summary {
    /// Of samples in milliseconds; `None` when there are none.
    pub fn of_ms(mut samples: Vec<f64>) -> Option<Summary> {
        samples.sort_by(f64::total_cmp);
        let max = *samples.last()?;
        let rank = |p: f64| samples[((samples.len() as f64 * p).ceil() as usize).saturating_sub(1)];
        Some(Summary { count: samples.len(), p50: rank(0.5), p90: rank(0.9), p99: rank(0.99), max })
    }

    /// Of durations; `None` when there are none.
    pub fn of(samples: &[Duration]) -> Option<Summary> {
        Summary::of_ms(samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect())
    }
}

/// `p50 | p90 | p99 | max`, in milliseconds with one decimal: cells of a Markdown table.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} | {:.1} | {:.1} | {:.1}", self.p50, self.p90, self.p99, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let s = Summary::of_ms((1..=100).map(f64::from).collect()).unwrap();
        assert_eq!((s.count, s.p50, s.p90, s.p99, s.max), (100, 50.0, 90.0, 99.0, 100.0));
        let one = Summary::of(&[Duration::from_micros(2500)]).unwrap();
        assert_eq!(one.to_string(), "2.5 | 2.5 | 2.5 | 2.5");
        assert_eq!(Summary::of_ms(vec![-3.0, 1.0]).unwrap().p50, -3.0);
        assert!(Summary::of(&[]).is_none());
    }

    #[test]
    fn netlink_messages_are_walked_by_their_length() {
        let message = |kind: u16, len: u32| {
            let mut m = len.to_ne_bytes().to_vec();
            m.extend(kind.to_ne_bytes());
            m.resize(len.next_multiple_of(4) as usize, 0);
            m
        };
        let datagram = [message(NEWGEN, 20), message(3, 17), message(NEWGEN, 16)].concat();
        assert_eq!(message_kinds(&datagram), [NEWGEN, 3, NEWGEN]);
        assert_eq!(message_kinds(&[0; 8]), Vec::<u16>::new());
    }
}

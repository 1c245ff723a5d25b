//! Network namespaces and veths, through the `ip` command, and entering a
//! namespace from a thread (`setns`, which moves only the calling thread).
//!
//! Every command here names a lab namespace (`ip -n NS ...` or `ip netns ...`):
//! the host's own interfaces and sysctls are never touched. Veths are created
//! inside the node namespace with their peer placed directly in the pod's.

use std::fs::File;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use nix::sched::{setns, CloneFlags};

use crate::topology::{GATEWAY_V4, GATEWAY_V6};
use crate::LabError;

/// Where `ip netns` keeps its namespaces.
pub const NETNS_DIR: &str = "/run/netns";

pub fn path(netns: &str) -> PathBuf {
    PathBuf::from(NETNS_DIR).join(netns)
}

pub fn exists(netns: &str) -> bool {
    path(netns).exists()
}

/// Runs `ip ARGS`, returning its stdout; failure carries stderr.
pub fn ip(args: &[&str]) -> Result<String, LabError> {
    run("ip", args)
}

/// Runs a program, returning its stdout; a non-zero exit carries stderr.
pub fn run(program: &str, args: &[&str]) -> Result<String, LabError> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| LabError::Spawn { program: program.to_string(), source })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(LabError::Command {
            command: format!("{program} {}", args.join(" ")),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

/// Whether `program` can be run at all (e.g. `ip`, `nft`).
pub fn have(program: &str) -> bool {
    Command::new(program).arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

pub fn add(netns: &str) -> Result<(), LabError> {
    ip(&["netns", "add", netns])?;
    ip(&["-n", netns, "link", "set", "lo", "up"])?;
    Ok(())
}

/// Deletes a namespace (and with it its veth ends); a missing one is not an error.
pub fn delete(netns: &str) -> Result<(), LabError> {
    if !exists(netns) {
        return Ok(());
    }
    ip(&["netns", "delete", netns]).map(|_| ())
}

/// Writes a sysctl inside a namespace (`ip netns exec NS sysctl -w KEY=VALUE`).
pub fn sysctl(netns: &str, key: &str, value: &str) -> Result<(), LabError> {
    ip(&["netns", "exec", netns, "sysctl", "-q", "-w", &format!("{key}={value}")]).map(|_| ())
}

/// Makes `node` a router: forwarding on, inside the node namespace only.
pub fn make_router(node: &str) -> Result<(), LabError> {
    sysctl(node, "net.ipv4.ip_forward", "1")?;
    sysctl(node, "net.ipv6.conf.all.forwarding", "1")?;
    Ok(())
}

/// Wires one namespace (a pod's, or an external's) to the node: a veth
/// (`eth0` in `netns`, `node_if` in the node), the addresses `ips` on `eth0`, a
/// default route via the node's gateway address, and a host route to each
/// address in the node. Nothing else routes to `netns`.
pub fn wire(node: &str, netns: &str, node_if: &str, ips: &[IpAddr]) -> Result<(), LabError> {
    let gw4 = GATEWAY_V4.to_string();
    ip(&["-n", node, "link", "add", node_if, "type", "veth", "peer", "name", "eth0", "netns", netns])?;
    ip(&["-n", node, "link", "set", node_if, "up"])?;
    ip(&["-n", netns, "link", "set", "eth0", "up"])?;
    let v4 = ips.iter().any(IpAddr::is_ipv4);
    let v6 = ips.iter().any(IpAddr::is_ipv6);
    if v4 {
        ip(&["-n", node, "addr", "add", &format!("{gw4}/32"), "dev", node_if])?;
        ip(&["-n", netns, "route", "add", &gw4, "dev", "eth0", "scope", "link"])?;
        ip(&["-n", netns, "route", "add", "default", "via", &gw4, "dev", "eth0"])?;
    }
    if v6 {
        ip(&["-n", node, "-6", "addr", "add", &format!("{GATEWAY_V6}/64"), "dev", node_if, "nodad"])?;
        ip(&["-n", netns, "-6", "route", "add", "default", "via", GATEWAY_V6, "dev", "eth0"])?;
    }
    for addr in ips {
        let (prefix, family) = if addr.is_ipv4() { (32, "-4") } else { (128, "-6") };
        let cidr = format!("{addr}/{prefix}");
        let mut args = vec!["-n", netns, family, "addr", "add", cidr.as_str(), "dev", "eth0"];
        if addr.is_ipv6() {
            args.push("nodad");
        }
        ip(&args)?;
        ip(&["-n", node, family, "route", "add", &cidr, "dev", node_if])?;
    }
    Ok(())
}

/// Gives `node` the local address `ip` (on `lo`): a hostNetwork pod's, its node's.
pub fn add_local(node: &str, addr: IpAddr) -> Result<(), LabError> {
    let (cidr, family) = if addr.is_ipv4() { (format!("{addr}/32"), "-4") } else { (format!("{addr}/128"), "-6") };
    ip(&["-n", node, family, "addr", "add", &cidr, "dev", "lo"]).map(|_| ())
}

/// Moves the calling thread into `netns`. Only use on threads made for it:
/// the thread stays there, and sockets it opens belong to that namespace.
pub fn enter(netns: &str) -> Result<(), LabError> {
    let file = File::open(path(netns)).map_err(|source| LabError::Enter { netns: netns.to_string(), source })?;
    setns(&file, CloneFlags::CLONE_NEWNET)
        .map_err(|errno| LabError::Enter { netns: netns.to_string(), source: std::io::Error::from(errno) })
}

/// Runs `f` on a fresh thread inside `netns` and returns its result.
pub fn run_in<T: Send>(netns: &str, f: impl FnOnce() -> T + Send) -> Result<T, LabError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                enter(netns)?;
                Ok(f())
            })
            .join()
            .unwrap_or_else(|_| Err(LabError::Servers(format!("a thread in {netns} panicked"))))
    })
}

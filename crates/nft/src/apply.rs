//! Applying a script: the only module of this crate that does I/O.
//!
//! Everything runs `nft` (and `conntrack`), optionally inside a named network
//! namespace through `ip netns exec NAME`. A script from
//! [`crate::Ruleset::script`] replaces `table inet netpol` in one `nft -f`
//! transaction: either all of it is in place or none of it changed.

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::conntrack::{self, Entry};
use crate::ir::{Ruleset, TABLE};

/// What one apply did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Wall time of the `nft -f` run (process start to exit).
    pub duration: Duration,
    /// Size of the script given to nft.
    pub bytes: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("could not run `{command}`: {source}")]
    Spawn { command: String, source: std::io::Error },
    #[error("`{command}` failed ({status}): {stderr}")]
    Failed { command: String, status: String, stderr: String },
}

fn command(program: &str, args: &[&str], netns: Option<&str>) -> (Command, String) {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, program]);
            c
        }
        None => Command::new(program),
    };
    cmd.args(args);
    let shown = match netns {
        Some(ns) => format!("ip netns exec {ns} {program} {}", args.join(" ")),
        None => format!("{program} {}", args.join(" ")),
    };
    (cmd, shown)
}

/// Runs `program args` (in `netns`), feeding `stdin`; returns stdout.
fn run(program: &str, args: &[&str], netns: Option<&str>, stdin: Option<&str>) -> Result<String, ApplyError> {
    let (mut cmd, shown) = command(program, args, netns);
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let spawn_err = |source| ApplyError::Spawn { command: shown.clone(), source };
    let mut child = cmd.spawn().map_err(spawn_err)?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes()).map_err(spawn_err)?;
    }
    let output = child.wait_with_output().map_err(spawn_err)?;
    if !output.status.success() {
        return Err(ApplyError::Failed {
            command: shown,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Applies `script` with `nft -f -` in one transaction, in `netns` when given.
pub fn apply(script: &str, netns: Option<&str>) -> Result<Applied, ApplyError> {
    let start = Instant::now();
    run("nft", &["-f", "-"], netns, Some(script))?;
    Ok(Applied { duration: start.elapsed(), bytes: script.len() })
}

/// Checks `script` with `nft -c -f -` (parsed and validated by the kernel, not committed).
pub fn check(script: &str, netns: Option<&str>) -> Result<(), ApplyError> {
    run("nft", &["-c", "-f", "-"], netns, Some(script)).map(|_| ())
}

/// Deletes `table inet netpol` (no error when it does not exist).
pub fn delete_table(netns: Option<&str>) -> Result<(), ApplyError> {
    let script = format!("add table inet {TABLE}\ndelete table inet {TABLE}\n");
    run("nft", &["-f", "-"], netns, Some(&script)).map(|_| ())
}

/// `nft list table inet netpol`, or `None` when the table does not exist.
pub fn list_table(netns: Option<&str>) -> Result<Option<String>, ApplyError> {
    let tables = run("nft", &["list", "tables"], netns, None)?;
    if !tables.lines().any(|l| l.trim() == format!("table inet {TABLE}")) {
        return Ok(None);
    }
    run("nft", &["list", "table", "inet", TABLE], netns, None).map(Some)
}

/// Why `nft` cannot be used here (not installed, or no privilege), or `None` when it can.
pub fn unavailable() -> Option<String> {
    match run("nft", &["list", "tables"], None, None) {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    }
}

/// Every TCP, UDP and SCTP connection tracked (IPv4 and IPv6), in `netns` when given.
pub fn conntrack_list(netns: Option<&str>) -> Result<Vec<Entry>, ApplyError> {
    let mut entries = Vec::new();
    for family in ["ipv4", "ipv6"] {
        entries.extend(conntrack::parse(&run("conntrack", &["-L", "-f", family], netns, None)?));
    }
    Ok(entries)
}

/// Deletes the conntrack entries of exactly these connections (original tuple).
/// Returns how many were deleted; an entry already gone is not an error.
pub fn conntrack_delete(entries: &[&Entry], netns: Option<&str>) -> Result<usize, ApplyError> {
    let mut deleted = 0;
    for e in entries {
        let family = if e.src.is_ipv4() { "ipv4" } else { "ipv6" };
        let (src, dst, sport, dport) = (e.src.to_string(), e.dst.to_string(), e.sport.to_string(), e.dport.to_string());
        let protocol = e.protocol.as_str().to_ascii_lowercase();
        let args = ["-D", "-f", family, "-p", &protocol, "-s", &src, "-d", &dst, "--sport", &sport, "--dport", &dport];
        match run("conntrack", &args, netns, None) {
            Ok(_) => deleted += 1,
            // conntrack exits 1 when nothing matched (the connection ended meanwhile).
            Err(ApplyError::Failed { stderr, .. }) if stderr.contains("0 flow entries") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

/// What `--reset-denied` does after an apply: lists conntrack (IPv4 and IPv6)
/// in `netns`, keeps the connections `ruleset` would refuse as new ones (but not
/// those the node itself opened: node traffic is never filtered), and deletes
/// their entries. Returns how many were deleted. The agent calls this; so can
/// anything else that applied `ruleset` in `netns` (the lab tests do).
pub fn reset_denied(ruleset: &Ruleset, netns: Option<&str>) -> Result<usize, ApplyError> {
    let entries = conntrack_list(netns)?;
    let node = local_addresses(netns)?;
    let denied = conntrack::denied(ruleset, &entries, &node);
    conntrack_delete(&denied, netns)
}

/// The addresses of the node (or of `netns`): connections they open are node traffic.
pub fn local_addresses(netns: Option<&str>) -> Result<Vec<IpAddr>, ApplyError> {
    let text = run("ip", &["-o", "addr", "show"], netns, None)?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace().skip_while(|w| *w != "inet" && *w != "inet6");
            words.next()?;
            words.next()?.split('/').next()?.parse().ok()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression guard for `--reset-denied`: conntrack tables are per network
    /// namespace, so listing and deleting must run inside the node's namespace.
    #[test]
    fn conntrack_commands_run_inside_the_netns() {
        let (cmd, shown) = command("conntrack", &["-L", "-f", "ipv4"], Some("np-lab-node"));
        assert_eq!(cmd.get_program(), "ip");
        let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args, ["netns", "exec", "np-lab-node", "conntrack", "-L", "-f", "ipv4"]);
        assert_eq!(shown, "ip netns exec np-lab-node conntrack -L -f ipv4");

        let (cmd, _) = command("conntrack", &["-L"], None);
        assert_eq!(cmd.get_program(), "conntrack");
    }
}

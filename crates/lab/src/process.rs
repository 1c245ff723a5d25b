//! Processes a lab leaves running (its `lab serve` servers, and with an API
//! its control plane and agent), stopped by PID in `down`.
//!
//! A PID from the state file may have been reused by an unrelated process
//! since it was written (after a reboot, say), so a process is signalled only
//! while its command line still names what the lab started it with (`serve`
//! and the lab's id; the control plane's dir): never by name, never a group.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// How long a process gets to exit after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// The arguments of process `pid`, or `None` when it is gone or a zombie
/// (exited, waiting for its parent to reap it).
pub fn arguments(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let zombie = stat.rsplit_once(')').is_none_or(|(_, rest)| rest.trim_start().starts_with('Z'));
    if zombie {
        return None;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        cmdline.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect(),
    )
}

/// Whether `pid` runs and its arguments satisfy `ours`.
pub fn running(pid: u32, ours: &dyn Fn(&[String]) -> bool) -> bool {
    arguments(pid).is_some_and(|args| ours(&args))
}

/// Stops `pid` if it is still ours: SIGTERM, then SIGKILL after a grace
/// period. Returns whether there was a process to stop.
pub fn stop(pid: u32, ours: &dyn Fn(&[String]) -> bool) -> Result<bool, String> {
    if !running(pid, ours) {
        return Ok(false);
    }
    let target = Pid::from_raw(i32::try_from(pid).map_err(|_| format!("bad pid {pid}"))?);
    let _ = kill(target, Signal::SIGTERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if !running(pid, ours) {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(target, Signal::SIGKILL).map_err(|e| format!("cannot kill process {pid}: {e}"))?;
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        if !running(pid, ours) {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!("process {pid} is still running after SIGKILL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_stopped_only_while_its_arguments_are_ours() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        // Until the child has exec'd, its command line is not yet `sleep 30`.
        let deadline = Instant::now() + Duration::from_secs(5);
        while arguments(pid).is_some_and(|a| a != ["sleep", "30"]) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(arguments(pid).unwrap(), ["sleep", "30"]);
        assert!(!stop(pid, &|args| args.iter().any(|a| a == "31")).unwrap(), "not ours: left alone");
        assert!(running(pid, &|_| true));
        // Reaped by this thread while `stop` waits: it sees a zombie, then nothing.
        let reaper = std::thread::spawn(move || child.wait());
        assert!(stop(pid, &|args| args.iter().any(|a| a == "30")).unwrap());
        assert!(!reaper.join().unwrap().unwrap().success());
        assert_eq!(arguments(pid), None);
    }
}

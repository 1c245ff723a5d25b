//! The real `netpol agent` as a process, for the tests that run it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The running agent; its stderr lines arrive on a channel. Dropping it stops
/// it ([`Agent::stop`]: SIGTERM, then SIGKILL after 10 s).
pub struct Agent {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    pub log: Vec<String>,
}

impl Agent {
    pub fn spawn(args: &[&str]) -> Agent {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netpol"))
            .arg("agent")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn netpol agent");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Agent { child, lines, log: Vec::new() }
    }

    /// The next stderr line, within 10 s.
    pub fn next_line(&mut self, what: &str) -> String {
        match self.lines.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => {
                self.log.push(line.clone());
                line
            }
            Err(e) => panic!("no line ({what}) within 10 s: {e}; stderr so far:\n{}", self.log.join("\n")),
        }
    }

    /// Every line printed so far.
    pub fn drain(&mut self) -> &[String] {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        &self.log
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Agent {
    /// Waits (at most `within`) for a stderr line for which `want` holds; returns it.
    pub fn wait_for(&mut self, within: Duration, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(e) => panic!("no line ({what}) within {within:?}: {e}; stderr so far:\n{}", self.log.join("\n")),
            }
        }
    }

    /// SIGTERM, then up to 10 s for the agent to end its loop (its rules stay);
    /// its exit status, or `None` when it had to be killed.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }

    /// SIGKILL, then reaped: the process gets no chance to clean up.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! The agent as a process: `netpol agent --kubernetes` with JSON logs, its
//! stderr read line by line, its CPU and memory read from `/proc`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use serde_json::Value;

/// CPU and memory of one process, from `/proc/PID/{stat,status}`.
#[derive(Clone, Copy, Debug)]
pub struct Usage {
    /// utime + stime, seconds (every thread).
    pub cpu: f64,
    /// cutime + cstime, seconds: its children that ended (the agent's `nft -f`).
    pub children_cpu: f64,
    pub rss_mib: f64,
    /// Peak RSS (VmHWM).
    pub hwm_mib: f64,
}

impl Usage {
    pub fn of(pid: u32) -> anyhow::Result<Usage> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the command's closing parenthesis start at field 3 (state).
        let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("").split_whitespace().collect();
        let field = |n: usize| -> anyhow::Result<f64> {
            let v = fields.get(n - 3).ok_or_else(|| anyhow!("no field {n} in /proc/{pid}/stat"))?;
            Ok(v.parse::<f64>()? / ticks())
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib = |key: &str| -> anyhow::Result<f64> {
            let line = status.lines().find_map(|l| l.strip_prefix(key)).ok_or_else(|| anyhow!("no {key}"))?;
            Ok(line.trim().trim_end_matches("kB").trim().parse::<f64>()?)
        };
        Ok(Usage {
            cpu: field(14)? + field(15)?,
            children_cpu: field(16)? + field(17)?,
            rss_mib: kib("VmRSS:")? / 1024.0,
            hwm_mib: kib("VmHWM:")? / 1024.0,
        })
    }
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
fn ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The agent's first sync: how long after its start, and its log line.
pub struct FirstSync {
    pub after: Duration,
    pub line: Value,
}

/// A running `netpol agent`; killed (and reaped) on Drop.
pub struct AgentProcess {
    child: Child,
    started: Instant,
    lines: mpsc::Receiver<Value>,
    /// The last lines, for error messages.
    log: Vec<String>,
    metrics: SocketAddr,
}

impl AgentProcess {
    /// Starts the agent for `node`, enforcing into `netns`; returns once it said where it serves metrics.
    pub fn spawn(netpol: &Path, kubeconfig: &Path, node: &str, netns: &str) -> anyhow::Result<AgentProcess> {
        let mut child = Command::new(netpol)
            .args(["agent", "--kubernetes", "--kubeconfig"])
            .arg(kubeconfig)
            .args(["--node", node, "--netns", netns, "--metrics-addr", "127.0.0.1:0", "--log-format", "json"])
            .args(["--resync-seconds", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {}", netpol.display()))?;
        let started = Instant::now();
        let stderr = child.stderr.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        let mut agent = AgentProcess { child, started, lines, log: Vec::new(), metrics: "127.0.0.1:0".parse()? };
        let serving = agent.next_event("serving", Duration::from_secs(30), &AtomicBool::new(false))?;
        agent.metrics = serving["addr"].as_str().unwrap_or_default().parse().context("the metrics address")?;
        Ok(agent)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn metrics(&self) -> SocketAddr {
        self.metrics
    }

    pub fn usage(&self) -> anyhow::Result<Usage> {
        Usage::of(self.pid())
    }

    fn keep(&mut self, line: &Value) {
        if self.log.len() == 50 {
            self.log.remove(0);
        }
        self.log.push(line.to_string());
    }

    /// The next line whose `event` is `event` (others are kept for messages), within `within`.
    fn next_event(&mut self, event: &str, within: Duration, stop: &AtomicBool) -> anyhow::Result<Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || stop.load(Ordering::Relaxed) {
                bail!("no {event} line from the agent within {within:?}; its last lines:\n{}", self.log.join("\n"));
            }
            match self.lines.recv_timeout(left.min(Duration::from_millis(500))) {
                Ok(line) => {
                    self.keep(&line);
                    if line["event"] == event {
                        return Ok(line);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait()?;
                    bail!("the agent exited ({status}); its last lines:\n{}", self.log.join("\n"));
                }
            }
        }
    }

    /// The first sync that applied the rules, printing progress (RSS) while it waits.
    pub fn first_sync(&mut self, within: Duration, stop: &AtomicBool) -> anyhow::Result<FirstSync> {
        let deadline = Instant::now() + within;
        loop {
            match self.next_event("sync", Duration::from_secs(10), stop) {
                Ok(line) if line["changed"] == true => return Ok(FirstSync { after: self.started.elapsed(), line }),
                Ok(_) => {}
                Err(e) if Instant::now() >= deadline || stop.load(Ordering::Relaxed) => return Err(e),
                Err(_) => {
                    let u = self.usage()?;
                    let waited = self.started.elapsed().as_secs();
                    eprintln!("  {waited} s: agent RSS {:.0} MiB, CPU {:.1} s", u.rss_mib, u.cpu);
                }
            }
        }
    }

    /// The next sync line (with `changed` as given, when given), within `within`.
    pub fn next_sync(&mut self, changed: Option<bool>, within: Duration) -> anyhow::Result<Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.next_event("sync", left, &AtomicBool::new(false))?;
            if changed.is_none_or(|c| line["changed"] == c) {
                return Ok(line);
            }
        }
    }

    /// Forgets the lines printed so far.
    pub fn drain(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.keep(&line);
        }
    }

    /// SIGTERM, and up to 10 s to exit (SIGKILL after that, on Drop).
    pub fn stop(&mut self) -> anyhow::Result<()> {
        Command::new("kill").args(["-TERM", &self.pid().to_string()]).status()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                anyhow::ensure!(status.success(), "the agent exited with {status} on SIGTERM");
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("the agent did not exit within 10 s of SIGTERM")
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! Dataplane cost of the rendered ruleset, between two lab pods: iperf3
//! throughput and the new-connection rate with 0, 1,000 and 10,000 policies.
//!
//! The policies all select the server pod (so its ingress chain is large and on
//! the path of every new connection); each admits a peer label no pod has, on
//! its own port; the one that admits the client sorts last. All labs are up at
//! once and measured in interleaved rounds (medians). Needs root, `ip`,
//! `nft` and `iperf3`. Usage (see benches/lab.sh):
//! `lab_bench [--policies 0,1000,10000] [--seconds 5] [--repeat 3] [--tiered]`
//!
//! `--tiered` (issue 11): a tenth of the N policies are AdminNetworkPolicies
//! selecting the server (priorities 0-1000, each denying a peer label no pod has
//! on its own port and passing another), the rest NetworkPolicies as above, plus
//! a BaselineAdminNetworkPolicy denying every namespace: the client's connection
//! passes the admin tier, is allowed by the last NetworkPolicy, and never reaches
//! the baseline.
//!
//! `--elements` (issue 12): every one of the N policies selects the server with
//! peers and ports of its own (10 addresses outside the cluster as /32
//! ipBlocks, 3 ports), so each adds 30 (address, port) elements to the server's
//! ingress set (300,000 at 10,000 policies); the client is admitted by the last
//! policy. The table then also gives the elements of the applied ruleset.
//!
//! `--render-only` (with any of the above): no lab and no traffic; for each N,
//! the time to render the ruleset and its script, then `nft -f` of that script
//! in a namespace of its own (created and deleted here), timed with
//! `/usr/bin/time` for its wall time and peak memory.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netpol_lab::{netns, Lab, LabOptions, ServerMode};
use netpol_model::{
    Action, Cluster, Direction, Order, Protocol, Subject, TieredKind, TieredPeer, TieredPolicy, TieredRule,
    KUBE_ADMIN_TIER, KUBE_BASELINE_TIER,
};
use netpol_testkit::*;

fn admin(i: usize, kind: TieredKind, rules: Vec<TieredRule>) -> TieredPolicy {
    let baseline = kind == TieredKind::BaselineAdminNetworkPolicy;
    TieredPolicy {
        kind,
        namespace: None,
        name: if baseline { "default".into() } else { format!("a-{i:05}") },
        tier: if baseline { KUBE_BASELINE_TIER } else { KUBE_ADMIN_TIER }.into(),
        order: (!baseline).then_some(Order((i % 1001) as f64)),
        subject: Subject::Pods { namespaces: sel!(), pods: sel!("app" => "server") },
        types: vec![Direction::Ingress],
        ingress: rules,
        egress: vec![],
        meta: Default::default(),
        origin: None,
    }
}

fn admin_rule(action: Action, peer: TieredPeer, port: Option<u16>) -> TieredRule {
    TieredRule {
        name: None,
        action,
        peers: vec![peer],
        local: None,
        protocol: None,
        not_protocol: None,
        ports: port.map(|p| vec![tcp(p)]).unwrap_or_default(),
        not_ports: vec![],
        origin: None,
    }
}

/// The `--tiered` cluster: `policies` in all, a tenth of them admin ones.
fn tiered_cluster(policies: usize) -> Cluster {
    let admins = policies / 10;
    let mut c = bench_cluster(policies.saturating_sub(admins + 1).max(usize::from(policies > 0)));
    for i in 0..admins {
        let peer = |p: String| TieredPeer::Pods { namespaces: sel!(), pods: sel!("app" => p.as_str()) };
        c.tiered.push(admin(
            i,
            TieredKind::AdminNetworkPolicy,
            vec![
                admin_rule(Action::Deny, peer(format!("denied-{i}")), Some(1024 + (i % 60000) as u16)),
                admin_rule(Action::Pass, peer(format!("passed-{i}")), None),
            ],
        ));
    }
    if policies > 0 {
        let everyone = TieredPeer::Namespaces(sel!());
        c.tiered.push(admin(0, TieredKind::BaselineAdminNetworkPolicy, vec![admin_rule(Action::Deny, everyone, None)]));
    }
    c
}

/// bench/client and bench/server, `policies` policies selecting the server
/// with the ingress rule `rule_of(i)` each, and (when there is any) one that
/// lets the client in.
fn server_cluster(policies: usize, rule_of: impl Fn(usize) -> RuleBuilder) -> Cluster {
    let mut c = cluster()
        .namespace(namespace("bench"))
        .pod(pod("bench", "client").label("app", "client").ip("10.77.0.1"))
        .pod(pod("bench", "server").label("app", "server").ip("10.77.0.2").port("http", 80, Protocol::Tcp));
    for i in 0..policies {
        c = c.policy(policy("bench", &format!("p-{i:05}")).select(sel!("app" => "server")).ingress(rule_of(i)));
    }
    if policies > 0 {
        c = c.policy(
            policy("bench", "zz-allow-client")
                .select(sel!("app" => "server"))
                .ingress(rule().from(pods(sel!("app" => "client")))),
        );
    }
    c.build()
}

/// Every policy admits a peer no pod has, on its own port: no set elements.
fn bench_cluster(policies: usize) -> Cluster {
    server_cluster(policies, |i| {
        let peer = format!("peer-{i}");
        rule().from(pods(sel!("app" => peer.as_str()))).port(tcp(1024 + (i % 60000) as u16))
    })
}

/// The `--elements` cluster: every policy adds elements to the server's set.
fn elements_cluster(policies: usize) -> Cluster {
    server_cluster(policies, |i| {
        let mut r = rule();
        for j in 0..10 {
            // 100.64.0.0/10, never the lab's pods: address i * 10 + j of it.
            let n = i * 10 + j;
            r = r.from(ip_block(&format!("100.{}.{}.{}/32", 64 + n / 65536, (n / 256) % 256, n % 256), &[]));
        }
        for k in 0..3 {
            r = r.port(tcp(1024 + ((i * 3 + k) % 60000) as u16));
        }
        r
    })
}

/// Render and `nft -f` costs of each size's ruleset, without a lab.
fn render_only(sizes: &[usize], make: &dyn Fn(usize) -> Cluster) {
    println!("| policies | rules | set elements | script bytes | render + script ms | nft -f s | nft peak RSS MiB |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in sizes {
        let cluster = make(n);
        let start = Instant::now();
        let ruleset = netpol_nft::render(&cluster, &netpol_nft::RenderOptions::default());
        let script = ruleset.script();
        let render_ms = start.elapsed().as_secs_f64() * 1000.0;
        let stats = ruleset.stats();
        let scratch = Scratch::new(n);
        std::fs::write(&scratch.file, &script).expect("write the script");
        let out = Command::new("/usr/bin/time")
            .args(["-f", "%e %M", "ip", "netns", "exec", &scratch.netns, "nft", "-f"])
            .arg(&scratch.file)
            .output()
            .expect("/usr/bin/time ip netns exec nft -f");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "nft -f failed: {stderr}");
        let last = stderr.lines().last().unwrap_or_default().to_string();
        let (secs, kib) = last.split_once(' ').expect("/usr/bin/time output");
        let mib = kib.trim().parse::<f64>().expect("peak KiB") / 1024.0;
        println!(
            "| {n} | {} | {} | {} | {render_ms:.0} | {secs} | {mib:.0} |",
            stats.rules,
            stats.elements,
            script.len()
        );
    }
}

/// A network namespace and a script file of this process, removed on drop (even on a panic).
struct Scratch {
    netns: String,
    file: std::path::PathBuf,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        let netns = format!("netpol-rb{}x{n}", std::process::id() % 100_000);
        netns::add(&netns).expect("ip netns add");
        let file = std::env::temp_dir().join(format!("{netns}.nft"));
        Scratch { netns, file }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = netns::delete(&self.netns);
        let _ = std::fs::remove_file(&self.file);
    }
}

fn iperf3(client_ns: &str, server_ns: &str, server: &str, seconds: u64) -> f64 {
    let mut srv = Command::new("ip")
        .args(["netns", "exec", server_ns, "iperf3", "-s", "-1", "-B", server, "-p", "5201"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("iperf3 -s");
    std::thread::sleep(Duration::from_millis(300));
    let out = Command::new("ip")
        .args(["netns", "exec", client_ns, "iperf3", "-c", server, "-p", "5201", "-t", &seconds.to_string(), "-J"])
        .output()
        .expect("iperf3 -c");
    let _ = srv.wait();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("iperf3 JSON");
    json["end"]["sum_received"]["bits_per_second"].as_f64().expect("bits_per_second") / 1e9
}

/// New connections per second from the client's namespace: connect, read the greeting, close.
fn connection_rate(client_ns: &str, server: SocketAddr, seconds: u64) -> f64 {
    netns::run_in(client_ns, || {
        let start = Instant::now();
        let mut count = 0u64;
        let mut buf = [0u8; 256];
        while start.elapsed() < Duration::from_secs(seconds) && count < 2_000_000 {
            let mut s = TcpStream::connect_timeout(&server, Duration::from_secs(1)).expect("connect");
            while s.read(&mut buf).map(|n| n > 0).unwrap_or(false) {}
            count += 1;
        }
        count as f64 / start.elapsed().as_secs_f64()
    })
    .expect("enter client namespace")
}

fn arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned()).unwrap_or_else(|| default.to_string())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let sizes: Vec<usize> =
        arg("--policies", "0,1000,10000").split(',').map(|s| s.parse().expect("--policies")).collect();
    let seconds: u64 = arg("--seconds", "5").parse().expect("--seconds");
    let repeat: usize = arg("--repeat", "3").parse().expect("--repeat");
    let tiered = std::env::args().any(|a| a == "--tiered");
    let elements = std::env::args().any(|a| a == "--elements");
    let make = |n: usize| match (tiered, elements) {
        (true, _) => tiered_cluster(n),
        (false, true) => elements_cluster(n),
        (false, false) => bench_cluster(n),
    };
    if std::env::args().any(|a| a == "--render-only") {
        render_only(&sizes, &make);
        return;
    }
    let mut baseline: Option<(f64, f64)> = None;
    // Every lab up at once (own namespaces, own node), then measured in
    // interleaved rounds, so a drift of the machine's load biases no size.
    let labs: Vec<_> = sizes
        .iter()
        .map(|&n| {
            let options = LabOptions {
                id: format!("b{}x{n}", std::process::id() % 10000),
                state_dir: std::env::temp_dir().join("netpol-lab-bench"),
                servers: ServerMode::InProcess,
                enforce: true,
                api: None,
            };
            let lab = Lab::up(&make(n), &options, &|| false).expect("lab up");
            let topo = lab.topology().expect("topology");
            // Applied once more to time it (up already applied the same ruleset).
            let apply = netpol_lab::enforce(&topo.cluster, &topo.node_netns).expect("enforce");
            let ns = |name: &str| topo.pods.iter().find(|p| p.key.name == name).expect(name).netns.clone();
            let (client_ns, server_ns) = (ns("client"), ns("server"));
            (n, lab, apply, client_ns, server_ns)
        })
        .collect();
    let mut samples: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); labs.len()];
    for _ in 0..repeat {
        for (i, (_, _, _, client_ns, server_ns)) in labs.iter().enumerate() {
            samples[i].0.push(iperf3(client_ns, server_ns, "10.77.0.2", seconds));
            samples[i].1.push(connection_rate(client_ns, "10.77.0.2:80".parse().expect("addr"), seconds));
        }
    }
    println!(
        "| policies | rules | set elements | script bytes | apply ms | throughput Gbit/s | ratio | connections/s | ratio |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for ((n, lab, apply, _, _), (gbits, rates)) in labs.into_iter().zip(samples) {
        let (g, r) = (median(gbits), median(rates));
        let (g0, r0) = *baseline.get_or_insert((g, r));
        println!(
            "| {n} | {} | {} | {} | {:.1} | {g:.2} | {:.3} | {r:.0} | {:.3} |",
            apply.stats.rules,
            apply.stats.elements,
            apply.bytes,
            apply.duration.as_secs_f64() * 1000.0,
            g / g0,
            r / r0
        );
        lab.down().expect("lab down");
    }
}

//! Ordered policies (issue 11) with real packets: the lab enforces the rendered
//! tiers (`netpol_nft::render`) in its node namespace, and every TCP and UDP
//! probe, to pods and to *externals* (addresses outside the cluster that the lab
//! stands up behind its node), must equal the engine's prediction. Each case
//! also checks the verdicts it is about (pairs that must connect, pairs that must
//! be blocked) and the layer the engine says decided them, so a lab that lets
//! everything through, or blocks everything, fails.

mod labkit;

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use netpol_engine::{Endpoint, Engine, Flow, Options};
use netpol_lab::{Lab, LabOptions, Outcome, ProbeReport, Target};
use netpol_manifest::LoadOptions;
use netpol_model::{Cluster, PodKey, Protocol};
use netpol_testkit::require_privileged;

use Protocol::{Tcp, Udp};

const GOOGLE_DNS: &str = "8.8.8.8";
const CLOUDFLARE: &str = "1.1.1.1";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn key(s: &str) -> PodKey {
    s.parse().unwrap()
}

fn load(sources: &[(String, String)]) -> Cluster {
    let loaded = netpol_manifest::load(sources.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    loaded.cluster
}

fn seed_001() -> Cluster {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-001-calico");
    let sources =
        netpol_input::read_paths(std::slice::from_ref(&dir)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    load(&sources.into_iter().map(|s| (s.name, s.text)).collect::<Vec<_>>())
}

/// The engine's one-line reasons for `src -> dst`: `egress: ...; ingress: ...`.
fn why(cluster: &Cluster, src: &str, dst: Endpoint, protocol: Protocol, port: u16) -> String {
    let engine = Engine::new(cluster, Options::default());
    let d = engine.evaluate(&Flow::new(key(src), dst, protocol, port)).unwrap();
    format!("egress: {}; ingress: {}", d.egress.summary, d.ingress.summary)
}

/// Checks the observed cells the case is about; `want` is true for connected,
/// false for blocked (silence). Returns one line per cell that is not so.
fn expect(report: &ProbeReport, cells: &[(&str, Endpoint, u16, Protocol, bool)]) -> Vec<String> {
    let mut wrong = Vec::new();
    for (src, dst, port, protocol, want) in cells {
        let got = report.outcome(&key(src), dst, *port, *protocol);
        let ok = match got {
            Some(Outcome::Connected) => *want,
            Some(Outcome::TimedOut) => !*want,
            _ => false,
        };
        if !ok {
            let want = if *want { "connected" } else { "timed out" };
            wrong.push(format!("{src} -> {dst} {port}/{protocol}: want {want}, observed {got:?}"));
        }
    }
    wrong
}

/// One `lab connect` by address, checked against the engine; returns the outcome.
fn connect(lab: &Lab, from: &str, target: &str) -> Outcome {
    let target: Target = target.parse().unwrap();
    let c = lab.connect(&key(from), &target, Duration::from_millis(1500)).unwrap();
    let predicted = lab.predict(&c).unwrap().connection.expect("a connection was attempted");
    let outcome = c.outcome.clone().expect("an outcome");
    assert_eq!(outcome.reached(), predicted, "{c}: the engine says allowed={predicted}");
    assert!(c.dst.is_none() && c.external, "{c}: an external, not a pod");
    outcome
}

/// Seed 001 end to end: namespaces `trusted` and `other`, a `client` pod in each,
/// the seed's two Calico v1 policies, and 8.8.8.8 (the seed's backend outside the
/// cluster) and 1.1.1.1 as externals. trusted/client reaches 8.8.8.8,
/// other/client does not; neither reaches 1.1.1.1 nor the other pod: the
/// policies select every pod for egress, so the default tier denies the rest.
#[test]
fn seed_001_only_trusted_reaches_the_external_backend() {
    require_privileged!();
    let cluster = seed_001();
    let externals = [ip(GOOGLE_DNS), ip(CLOUDFLARE)];
    let lab = labkit::up_with_externals("o1", &cluster, &externals);
    let topology = lab.topology().unwrap().clone();
    assert_eq!(topology.externals.len(), 2);
    let node = topology.node_netns.clone();

    // The externals live in the lab's namespaces only: routed by the node, unknown to the host.
    let node_routes = netpol_lab::netns::ip(&["-n", &node, "-4", "route", "show"]).unwrap();
    assert!(node_routes.contains("8.8.8.8 dev ext0"), "{node_routes}");
    assert!(node_routes.contains("1.1.1.1 dev ext1"), "{node_routes}");
    let host = netpol_lab::netns::ip(&["-o", "addr", "show"]).unwrap()
        + &netpol_lab::netns::ip(&["route", "show", "table", "all"]).unwrap();
    for external in &externals {
        let needle = format!("{external}/");
        let route = format!("{external} ");
        assert!(!host.contains(&needle) && !host.lines().any(|l| l.starts_with(&route)), "host mentions {external}");
    }

    let targets = [(53, Udp), (80, Tcp), (80, Udp), (443, Tcp)];
    let report = lab.probe(&targets, labkit::TIMEOUT, labkit::PARALLEL).unwrap();
    assert!(report.disagreements.is_empty(), "lab and engine disagree:\n{}", report.text());
    assert_eq!(report.observed.externals, externals);

    let (google, cloudflare) = (Endpoint::Ip(ip(GOOGLE_DNS)), Endpoint::Ip(ip(CLOUDFLARE)));
    let mut cells = Vec::new();
    for (port, protocol) in targets {
        cells.push(("trusted/client", google.clone(), port, protocol, true));
        cells.push(("other/client", google.clone(), port, protocol, false));
        cells.push(("trusted/client", cloudflare.clone(), port, protocol, false));
        cells.push(("other/client", cloudflare.clone(), port, protocol, false));
        cells.push(("kube-system/kube-dns", google.clone(), port, protocol, false));
    }
    cells.push(("trusted/client", Endpoint::Pod(key("other/client")), 80, Tcp, false));
    cells.push(("other/client", Endpoint::Pod(key("trusted/client")), 80, Tcp, false));
    cells.push(("trusted/client", Endpoint::Pod(key("kube-system/kube-dns")), 53, Udp, false));
    let wrong = expect(&report, &cells);
    assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), report.text());

    // `lab connect` to the externals, as `kubectl exec client -- nc ...` in the seed.
    assert_eq!(connect(&lab, "trusted/client", "8.8.8.8:53/UDP"), Outcome::Connected);
    assert_eq!(connect(&lab, "trusted/client", "8.8.8.8:443"), Outcome::Connected);
    assert_eq!(connect(&lab, "other/client", "8.8.8.8:53/UDP"), Outcome::TimedOut);
    assert_eq!(connect(&lab, "trusted/client", "1.1.1.1:80"), Outcome::TimedOut);

    // Which layer decided, as the engine explains it.
    let c = &topology.cluster;
    let allowed = why(c, "trusted/client", google.clone(), Udp, 53);
    assert!(allowed.contains("Allow by") && allowed.contains("trusted-namespace"), "{allowed}");
    let denied = why(c, "other/client", google.clone(), Udp, 53);
    assert!(denied.contains("Deny by") && denied.contains("default-deny-egress"), "{denied}");
    let rest = why(c, "trusted/client", cloudflare.clone(), Tcp, 80);
    assert!(rest.contains("the tier's default action is Deny"), "{rest}");
    eprintln!(
        "seed 001: trusted -> 8.8.8.8: {allowed}\n  other -> 8.8.8.8: {denied}\n  trusted -> 1.1.1.1: {rest}\n{}",
        report.text()
    );

    let id = lab.id().to_string();
    let removed = lab.down().unwrap();
    assert!(
        removed.iter().any(|n| n.ends_with("-ext0")) && removed.iter().any(|n| n.ends_with("-ext1")),
        "{removed:?}"
    );
    assert!(labkit::namespaces(&id).is_empty(), "{:?}", labkit::namespaces(&id));
}

/// The probes can tell: without enforcement (a network plugin that ignores the
/// policies) every external is reached, and the probe reports as disagreements
/// exactly the pod-to-external pairs the seed's policies deny.
#[test]
fn seed_001_without_enforcement_the_externals_disagree() {
    require_privileged!();
    let options = LabOptions { enforce: false, ..labkit::options("o3") };
    let _ = Lab::down_by_id(&options.id, &options.state_dir);
    let lab = Lab::up_with_externals(&seed_001(), &[ip(GOOGLE_DNS), ip(CLOUDFLARE)], &options, &|| false).unwrap();
    let report = lab.probe(&[(53, Udp)], labkit::TIMEOUT, labkit::PARALLEL).unwrap();
    let mut to_externals: Vec<String> = report
        .disagreements
        .iter()
        .filter(|d| matches!(d.dst, Endpoint::Ip(_)))
        .map(|d| format!("{} -> {}: {}", d.src, d.dst, d.observed))
        .collect();
    to_externals.sort();
    assert_eq!(
        to_externals,
        [
            "kube-system/kube-dns -> 1.1.1.1: connected",
            "kube-system/kube-dns -> 8.8.8.8: connected",
            "other/client -> 1.1.1.1: connected",
            "other/client -> 8.8.8.8: connected",
            "trusted/client -> 1.1.1.1: connected",
        ],
        "{}",
        report.text()
    );
    lab.down().unwrap();
}

const TIERS: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: alpha, labels: {team: alpha}}
---
apiVersion: v1
kind: Namespace
metadata: {name: beta, labels: {team: beta}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: alpha, labels: {app: web}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}, {containerPort: 80, protocol: UDP}, {containerPort: 81}, {containerPort: 8080}, {containerPort: 8080, protocol: UDP}]}]}
status: {podIP: 10.2.0.11}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: alpha, labels: {app: db}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}, {containerPort: 80, protocol: UDP}, {containerPort: 81}, {containerPort: 8080}, {containerPort: 8080, protocol: UDP}]}]}
status: {podIP: 10.2.0.12}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: beta, labels: {app: client}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}, {containerPort: 80, protocol: UDP}, {containerPort: 81}, {containerPort: 8080}, {containerPort: 8080, protocol: UDP}]}]}
status: {podIP: 10.2.1.21}
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: beta, labels: {app: api}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}, {containerPort: 80, protocol: UDP}, {containerPort: 81}, {containerPort: 8080}, {containerPort: 8080, protocol: UDP}]}]}
status: {podIP: 10.2.1.22}
---
# Admin tier, first: beta may never open 8080 in alpha; alpha may never reach 1.1.1.1.
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: admin-deny}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {team: alpha}}}
  ingress:
  - name: no-8080-from-beta
    action: Deny
    from: [{namespaces: {matchLabels: {team: beta}}}]
    ports: [{portNumber: {protocol: TCP, port: 8080}}, {portNumber: {protocol: UDP, port: 8080}}]
  egress:
  - name: no-cloudflare
    action: Deny
    to: [{networks: [1.1.1.1/32]}]
---
# Admin tier, second: everything else from beta goes on to the namespace's NetworkPolicies.
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: admin-pass}
spec:
  priority: 20
  subject: {namespaces: {matchLabels: {team: alpha}}}
  ingress:
  - name: beta-to-the-owners
    action: Pass
    from: [{namespaces: {matchLabels: {team: beta}}}]
---
# The owners of alpha: web takes beta on port 80 only (and nothing from alpha).
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-beta, namespace: alpha}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: beta}}}]
    ports: [{port: 80, protocol: TCP}, {port: 80, protocol: UDP}]
---
# Baseline, last: what passed and no NetworkPolicy decided is denied from beta.
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {team: alpha}}}
  ingress:
  - name: no-beta
    action: Deny
    from: [{namespaces: {matchLabels: {team: beta}}}]
";

/// AdminNetworkPolicy Deny and Pass, a NetworkPolicy, and a
/// BaselineAdminNetworkPolicy over two namespaces, TCP and UDP on 80, 81 and
/// 8080, with 8.8.8.8 and 1.1.1.1 as externals: each layer decides some pairs.
#[test]
fn admin_network_policy_tiers_with_real_packets() {
    require_privileged!();
    let cluster = load(&[("tiers.yaml".to_string(), TIERS.to_string())]);
    assert_eq!(cluster.tiered.len(), 3, "two ANPs and a BANP");
    let lab = labkit::up_with_externals("o2", &cluster, &[ip(GOOGLE_DNS), ip(CLOUDFLARE)]);
    let targets = [(80, Tcp), (80, Udp), (81, Tcp), (8080, Tcp), (8080, Udp)];
    let report = lab.probe(&targets, labkit::TIMEOUT, labkit::PARALLEL).unwrap();
    assert!(report.disagreements.is_empty(), "lab and engine disagree:\n{}", report.text());

    let pod = |s: &str| Endpoint::Pod(key(s));
    let (google, cloudflare) = (Endpoint::Ip(ip(GOOGLE_DNS)), Endpoint::Ip(ip(CLOUDFLARE)));
    // (source, destination, port, protocol, connects, what the engine says decided it)
    let deny_8080 = "ingress: [admin] Deny by AdminNetworkPolicy/admin-deny rule 'no-8080-from-beta'";
    let passed_allowed = "ingress: [admin] Pass by AdminNetworkPolicy/admin-pass rule 'beta-to-the-owners' -> \
                          [v1] allowed: isolated by alpha/web-from-beta, a rule allows it";
    let passed_isolated = "ingress: [admin] Pass by AdminNetworkPolicy/admin-pass rule 'beta-to-the-owners' -> \
                           [v1] no rule allows it (isolated by alpha/web-from-beta) -> [default] denied";
    let baseline = "ingress: [admin] Pass by AdminNetworkPolicy/admin-pass rule 'beta-to-the-owners' -> \
                    [baseline] Deny by BaselineAdminNetworkPolicy/default rule 'no-beta'";
    let isolated = "[v1] no rule allows it (isolated by alpha/web-from-beta) -> [default] denied";
    let baseline_passes = "[baseline] no rule of BaselineAdminNetworkPolicy/default decided: the tier passes it on \
                           -> no tier decided: allowed";
    let no_cloudflare = "egress: [admin] Deny by AdminNetworkPolicy/admin-deny rule 'no-cloudflare'";
    let admin_passes = "egress: [admin] no rule of AdminNetworkPolicy/admin-deny decided: the tier passes it on \
                        -> no tier decided: allowed";
    let beta_open = "egress: not isolated for egress: no policy in beta selects";
    let cases: [(&str, Endpoint, u16, Protocol, bool, &str); 14] = [
        ("beta/client", pod("alpha/web"), 8080, Tcp, false, deny_8080),
        ("beta/api", pod("alpha/web"), 8080, Udp, false, deny_8080),
        ("beta/client", pod("alpha/web"), 80, Tcp, true, passed_allowed),
        ("beta/api", pod("alpha/web"), 80, Udp, true, passed_allowed),
        ("beta/client", pod("alpha/web"), 81, Tcp, false, passed_isolated),
        ("beta/client", pod("alpha/db"), 80, Tcp, false, baseline),
        ("beta/api", pod("alpha/db"), 80, Udp, false, baseline),
        ("alpha/db", pod("alpha/web"), 80, Tcp, false, isolated),
        ("alpha/web", pod("alpha/db"), 8080, Udp, true, baseline_passes),
        ("alpha/web", pod("beta/api"), 8080, Tcp, true, admin_passes),
        ("alpha/web", cloudflare.clone(), 80, Udp, false, no_cloudflare),
        ("alpha/db", cloudflare.clone(), 80, Tcp, false, no_cloudflare),
        ("alpha/web", google.clone(), 80, Tcp, true, admin_passes),
        ("beta/client", cloudflare.clone(), 80, Udp, true, beta_open),
    ];
    let cells: Vec<_> =
        cases.iter().map(|(s, d, port, proto, want, _)| (*s, d.clone(), *port, *proto, *want)).collect();
    let mut wrong = expect(&report, &cells);
    let topology = lab.topology().unwrap();
    for (src, dst, port, protocol, _, layer) in &cases {
        let reason = why(&topology.cluster, src, dst.clone(), *protocol, *port);
        if !reason.contains(layer) {
            wrong.push(format!("{src} -> {dst} {port}/{protocol}: the engine says `{reason}`, not `{layer}`"));
        }
    }
    assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), report.text());
    let blocked: usize = report
        .observed
        .tables
        .iter()
        .map(|t| t.cells.iter().chain(&t.to_externals).flatten().filter(|o| !o.reached()).count())
        .sum();
    eprintln!("tiers: {blocked} blocked probes, all predicted\n{}", report.text());
    lab.down().unwrap();
}

fn service_accounts_example() -> Cluster {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/calico-service-accounts");
    let sources =
        netpol_input::read_paths(std::slice::from_ref(&dir)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    load(&sources.into_iter().map(|s| (s.name, s.text)).collect::<Vec<_>>())
}

/// Calico policies that select by ServiceAccount (examples/calico-service-accounts):
/// every TCP and UDP probe equals the engine's prediction, and the pairs the
/// ServiceAccounts decide connect or are blocked as the example says.
#[test]
fn service_account_selectors_with_real_packets() {
    require_privileged!();
    let cluster = service_accounts_example();
    assert_eq!(cluster.service_accounts.len(), 4);
    let lab = labkit::up("o3", &cluster);
    let targets = [(80, Tcp), (8080, Tcp), (8080, Udp), (9090, Tcp), (9090, Udp)];
    let report = lab.probe(&targets, labkit::TIMEOUT, labkit::PARALLEL).unwrap();
    assert!(report.disagreements.is_empty(), "lab and engine disagree:\n{}", report.text());
    let pod = |s: &str| Endpoint::Pod(key(s));
    let api = pod("shop/api-0");
    let cells = [
        ("shop/web-0", api.clone(), 8080, Tcp, true),
        ("shop/web-0", api.clone(), 8080, Udp, false),
        ("shop/web-0", api.clone(), 9090, Tcp, false),
        ("shop/job-0", api.clone(), 8080, Tcp, false),
        ("shop/legacy-0", api.clone(), 8080, Tcp, false),
        ("ops/impostor-0", api.clone(), 8080, Tcp, false),
        ("ops/prom-0", api.clone(), 9090, Tcp, true),
        ("ops/prom-0", api.clone(), 8080, Tcp, false),
        ("shop/web-0", pod("ops/prom-0"), 9090, Tcp, false),
        ("ops/impostor-0", pod("ops/prom-0"), 9090, Tcp, true),
    ];
    let wrong = expect(&report, &cells);
    assert!(wrong.is_empty(), "{}\n{}", wrong.join("\n"), report.text());
    lab.down().unwrap();
}

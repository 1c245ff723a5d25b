//! Issue 11: the ordered-policy kinds from the API, against a real API server.
//! With no CRD installed the agent still becomes ready and enforces v1 (the
//! ordered kinds are not served: known and empty); CRDs installed later are
//! picked up by the watchers' retries; an AdminNetworkPolicy that denies what
//! v1 allows changes the applied rules, and its deletion takes it back out.
//! The list path (`Connection::read`, what `netpol check` reads) sees the same.
//! A Calico GlobalNetworkPolicy that selects its sources by ServiceAccount
//! labels follows the ServiceAccounts the agent watches: relabelled, the
//! verdicts flip.
//!
//! The kernel is the recording fake (no root needed); the control plane goes
//! through the privileged-test gate.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netpol_agent::testing::FakeDataplane;
use netpol_agent::{Agent, Source, Step, Syncer, Wait};
use netpol_engine::{Engine, Flow, Options};
use netpol_kube::{ApiSource, Kind, WatchOptions};
use netpol_model::{Cluster, PodKey, Protocol};
use netpol_nft::{Packet, RenderOptions, Ruleset};
use netpol_testkit::scenarios::seed_000_step as step;
use netpol_testkit::{require_control_plane, ControlPlane};

type TestAgent = Agent<ApiSource, FakeDataplane>;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn start_agent(kubeconfig: &Path) -> TestAgent {
    let cluster = netpol_kube::Source { kubeconfig: Some(kubeconfig.to_path_buf()), context: None };
    let connection = netpol_kube::connect(&cluster).expect("connect");
    let options = WatchOptions {
        backoff_min: Duration::from_millis(100),
        backoff_max: Duration::from_secs(1),
        ..WatchOptions::default()
    };
    let source = ApiSource::start(connection, options).expect("start watching");
    Agent::new(source, Syncer::with_dataplane(FakeDataplane::new(), RenderOptions::default(), false))
}

/// The list path: one read, `from_api`, rendered; and the notes of the read.
fn listed(cp: &ControlPlane) -> (Ruleset, netpol_model::Cluster, Vec<String>) {
    let cluster = netpol_kube::Source { kubeconfig: Some(cp.kubeconfig().to_path_buf()), context: None };
    let read = netpol_kube::connect(&cluster).expect("connect").read(&mut |_| {}).expect("read");
    let live = netpol_manifest::api::from_api(&read.objects);
    let rules = netpol_nft::render(&live.cluster, &RenderOptions::default());
    (rules, live.cluster, read.notes.into_iter().chain(live.notes).collect())
}

fn applied(agent: &TestAgent) -> Option<&Ruleset> {
    agent.syncer().dataplane().table()
}

/// Steps the agent as `Agent::run` does until what it applied equals the
/// list path's ruleset (read again on every try, as the cluster may settle).
fn converge(agent: &mut TestAgent, cp: &ControlPlane, within: Duration) -> Ruleset {
    let deadline = Instant::now() + within;
    let mut record = |_| {};
    agent.step(Step::Everything, Instant::now(), &mut record);
    loop {
        let (want, _, _) = listed(cp);
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            if let Wait::Changed(at) = agent.source_mut().wait(Duration::from_millis(50)) {
                agent.step(Step::Changes, at, &mut record);
            }
        }
        if let Some(now) = applied(agent).filter(|r| r.same_rules(&want)) {
            return now.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not converge within {within:?}; applied:\n{}\nwant:\n{}",
            applied(agent).map(|r| r.script()).unwrap_or_default(),
            want.script()
        );
    }
}

/// frontend (10.44.0.1) to backend (10.44.0.2) on 80/TCP, as the rules say.
fn frontend_reaches_backend(rules: &Ruleset) -> bool {
    let packet = Packet {
        src: "10.44.0.1".parse().unwrap(),
        dst: "10.44.0.2".parse().unwrap(),
        protocol: Protocol::Tcp,
        port: 80,
    };
    rules.evaluate_forward(&packet).allowed
}

fn kubectl(cp: &ControlPlane, args: &[&str]) {
    cp.kubectl_output(args, None).unwrap_or_else(|e| panic!("kubectl {args:?}: {e}"));
}

#[test]
fn ordered_kinds_not_served_then_installed_then_enforced_and_removed() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    cp.apply_with_status(&step("step-04-backend-ingress")).expect("apply step 4");

    // No CRD: the ordered kinds are not served, and the agent enforces v1.
    let mut agent = start_agent(cp.kubeconfig());
    let v1 = converge(&mut agent, &cp, Duration::from_secs(30));
    assert!(agent.source().ready());
    assert!(frontend_reaches_backend(&v1), "step 4 lets frontend reach backend");
    for kind in Kind::ORDERED {
        assert_eq!(agent.source().count(kind), 0, "{kind:?}");
        assert!(agent.source().counters().restarts(kind) >= 1, "{kind:?}: the 404 was seen (and is retried)");
    }
    let (_, _, notes) = listed(&cp);
    assert!(
        notes.iter().any(|n| n.starts_with("adminnetworkpolicies, ") && n.ends_with(" not served; treating as none")),
        "{notes:#?}"
    );

    // The CRDs are installed; the watchers' retries list them (empty) and
    // then see the AdminNetworkPolicy, which denies what step 4 allows.
    kubectl(&cp, &["apply", "-f", data("ordered-crds.yaml").to_str().unwrap()]);
    kubectl(&cp, &["wait", "--for=condition=Established", "--timeout=30s", "crd", "--all"]);
    kubectl(&cp, &["apply", "-f", data("anp-deny-frontend.yaml").to_str().unwrap()]);
    let denied = converge(&mut agent, &cp, Duration::from_secs(30));
    assert_eq!(agent.source().count(Kind::AdminNetworkPolicies), 1);
    assert!(!frontend_reaches_backend(&denied), "the AdminNetworkPolicy denies frontend to backend");
    let (_, read, _) = listed(&cp);
    let names: Vec<String> = read.tiered.iter().map(|p| p.key()).collect();
    assert_eq!(names, ["AdminNetworkPolicy/deny-frontend-to-backend"], "Connection::read picks it up");
    let origin = read.tiered[0].origin.as_ref().map(ToString::to_string).unwrap_or_default();
    assert!(origin.starts_with("cluster:adminnetworkpolicies/deny-frontend-to-backend"), "{origin}");

    // A ClusterNetworkPolicy (v1alpha2) too.
    kubectl(&cp, &["apply", "-f", data("cnp-deny-cassandra.yaml").to_str().unwrap()]);
    let both = converge(&mut agent, &cp, Duration::from_secs(30));
    assert_eq!(agent.source().count(Kind::ClusterNetworkPolicies), 1);
    assert!(!both.same_rules(&denied), "the ClusterNetworkPolicy changed the rules");

    // An object the CRD's loose schema lets in but netpol's strict conversion
    // refuses is skipped; the rest stays enforced.
    let typo = std::fs::read_to_string(data("anp-deny-frontend.yaml"))
        .unwrap()
        .replace("deny-frontend-to-backend", "typo")
        .replace("priority: 10", "priority: 11\n  ingres: []");
    cp.apply(&typo).expect("the CRD takes it");
    let (_, read, notes) = listed(&cp);
    assert!(
        notes.iter().any(|n| n.contains("adminnetworkpolicies typo left out") && n.contains("NP0010")),
        "{notes:#?}"
    );
    assert_eq!(read.tiered.len(), 2, "the refused one is left out of the read too");
    assert!(converge(&mut agent, &cp, Duration::from_secs(30)).same_rules(&both));
    assert_eq!(agent.source().count(Kind::AdminNetworkPolicies), 1);

    // Deleted, the policies go, and v1 is enforced as before.
    kubectl(&cp, &["delete", "adminnetworkpolicy", "deny-frontend-to-backend", "typo"]);
    kubectl(&cp, &["delete", "clusternetworkpolicy", "deny-to-cassandra"]);
    let again = converge(&mut agent, &cp, Duration::from_secs(30));
    assert_eq!(agent.source().count(Kind::AdminNetworkPolicies), 0);
    assert!(frontend_reaches_backend(&again));
    assert!(again.same_rules(&v1), "back to the v1 rules");
}

/// `from` to the server in `shop` on 80/TCP: the engine's verdict on `cluster`.
fn reaches_server(cluster: &Cluster, from: &str) -> bool {
    let flow = Flow::new(PodKey::new("shop", from), PodKey::new("shop", "server"), Protocol::Tcp, 80);
    let decision = Engine::new(cluster, Options::default()).evaluate(&flow).expect("both pods exist");
    decision.allowed()
}

/// Whether client-a and client-b reach the server, by the engine on the
/// cluster the watchers built and by the rules the agent applied.
fn verdicts(agent: &mut TestAgent) -> ([bool; 2], [bool; 2]) {
    let packet = |src: &str| Packet {
        src: src.parse().unwrap(),
        dst: "10.45.0.3".parse().unwrap(),
        protocol: Protocol::Tcp,
        port: 80,
    };
    let rules = applied(agent)
        .map(|r| [r.evaluate_forward(&packet("10.45.0.1")).allowed, r.evaluate_forward(&packet("10.45.0.2")).allowed]);
    let snapshot = agent.source_mut().read(false).expect("the projection");
    let engine = [reaches_server(snapshot.cluster, "client-a"), reaches_server(snapshot.cluster, "client-b")];
    (engine, rules.unwrap_or_default())
}

/// Steps the agent until the engine and the applied rules both give `want`
/// (client-a, client-b reach the server) and the rules equal the list path's.
fn until_verdicts(agent: &mut TestAgent, cp: &ControlPlane, want: [bool; 2], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        converge(agent, cp, within);
        let (engine, rules) = verdicts(agent);
        if engine == want && rules == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not caught up within {within:?}: engine {engine:?}, rules {rules:?}, want {want:?}; applied:\n{}",
            applied(agent).map(|r| r.script()).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_calico_policy_selecting_by_service_account_follows_the_service_accounts() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    kubectl(&cp, &["apply", "-f", data("calico-crds.yaml").to_str().unwrap()]);
    kubectl(&cp, &["wait", "--for=condition=Established", "--timeout=30s", "crd", "--all"]);
    cp.apply_with_status(&data("sa-team-a.yaml")).expect("apply the ServiceAccount, pods and policy");

    // client-a runs as `builder` (team=a): allowed; client-b as `default`
    // (absent): the rule does not match, the Deny does.
    let mut agent = start_agent(cp.kubeconfig());
    until_verdicts(&mut agent, &cp, [true, false], Duration::from_secs(30));
    assert_eq!(agent.source().count(Kind::ServiceAccounts), 1);
    assert_eq!(agent.source().count(Kind::GlobalNetworkPolicies), 1);
    assert_eq!(agent.source().counters().restarts(Kind::ServiceAccounts), 0, "served and allowed");
    // The list path (what `netpol check` reads) links them too.
    let (_, read, notes) = listed(&cp);
    assert!(!notes.iter().any(|n| n.contains("serviceaccounts")), "{notes:#?}");
    assert_eq!(read.service_accounts.len(), 1);
    assert!(reaches_server(&read, "client-a") && !reaches_server(&read, "client-b"));

    // Relabelled: client-a's ServiceAccount is no longer team a.
    kubectl(&cp, &["label", "serviceaccount", "builder", "-n", "shop", "team=b", "--overwrite"]);
    until_verdicts(&mut agent, &cp, [false, false], Duration::from_secs(30));

    // client-b's ServiceAccount appears, labelled team a; the other one goes.
    cp.apply("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: shop, labels: {team: a}}\n")
        .expect("create the default ServiceAccount");
    kubectl(&cp, &["label", "serviceaccount", "builder", "-n", "shop", "team=a", "--overwrite"]);
    until_verdicts(&mut agent, &cp, [true, true], Duration::from_secs(30));
    kubectl(&cp, &["delete", "serviceaccount", "builder", "-n", "shop"]);
    until_verdicts(&mut agent, &cp, [false, true], Duration::from_secs(30));
    assert_eq!(agent.source().count(Kind::ServiceAccounts), 1);
}

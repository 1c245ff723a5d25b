//! The agent on the Kubernetes API (issue 10), against a real API server: the
//! watch path ([`ApiSource`]) must give the ruleset the list path gives
//! (`Connection::read` + `from_api` + render), nothing may be applied before
//! every first list arrived, and through outages (a network partition, an
//! API server restart, a watch expired by an etcd compaction) the rules stay
//! as they are until the agent is back and converges.
//!
//! The kernel is the recording fake (no root needed); the control plane goes
//! through the privileged-test gate.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netpol_agent::testing::FakeDataplane;
use netpol_agent::{Agent, Event, Source, Step, Syncer, Wait};
use netpol_kube::{ApiSource, Kind, WatchOptions};
use netpol_nft::{RenderOptions, Ruleset};
use netpol_testkit::control_plane::{Options, Rule};
use netpol_testkit::proxy::Proxy;
use netpol_testkit::scenarios::seed_000_step as step;
use netpol_testkit::{require_control_plane, ControlPlane};

type TestAgent = Agent<ApiSource, FakeDataplane>;

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

/// What the list path gives for the cluster now: one paginated read, the
/// same conversion `netpol check` uses, rendered.
fn listed(cp: &ControlPlane) -> Ruleset {
    let cluster = netpol_kube::Source { kubeconfig: Some(cp.kubeconfig().to_path_buf()), context: None };
    let read = netpol_kube::connect(&cluster).expect("connect").read(&mut |_| {}).expect("read");
    netpol_nft::render(&netpol_manifest::api::from_api(&read.objects).cluster, &RenderOptions::default())
}

/// Steps the agent as `Agent::run` does (one read of everything, then a
/// sync per change) for `within`, or until `done`; returns the events.
fn run(agent: &mut TestAgent, within: Duration, done: impl Fn(&TestAgent) -> bool) -> Vec<String> {
    let mut events = Vec::new();
    let mut record = |e: Event| events.push(e.to_string());
    agent.step(Step::Everything, Instant::now(), &mut record);
    let deadline = Instant::now() + within;
    while Instant::now() < deadline && !done(agent) {
        match agent.source_mut().wait(Duration::from_millis(50)) {
            Wait::Changed(at) => {
                agent.step(Step::Changes, at, &mut record);
            }
            Wait::Timeout => {}
            Wait::Closed => panic!("the watch thread ended"),
        }
    }
    events
}

fn applied(agent: &TestAgent) -> Option<&Ruleset> {
    agent.syncer().dataplane().table()
}

/// Runs the agent until what it applied equals the list path's ruleset (read
/// again on every try, as the cluster may still be settling).
fn converge(agent: &mut TestAgent, cp: &ControlPlane, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let want = listed(cp);
        run(agent, Duration::from_millis(500), |a| applied(a).is_some_and(|r| r.same_rules(&want)));
        if applied(agent).is_some_and(|r| r.same_rules(&want)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not converge within {within:?}; applied:\n{}\nwant:\n{}",
            applied(agent).map(|r| r.script()).unwrap_or_default(),
            want.script()
        );
    }
}

fn applies(agent: &TestAgent) -> usize {
    agent.syncer().dataplane().calls().len()
}

/// A proxy in front of the API server, and an admin kubeconfig that goes through it.
fn through_proxy(cp: &ControlPlane) -> (Proxy, PathBuf) {
    let target = cp.server().trim_start_matches("https://").parse().expect("server address");
    let proxy = Proxy::start(target).expect("proxy");
    let via = cp.kubeconfig_via(&format!("https://{}", proxy.addr()), "via-proxy").expect("kubeconfig");
    (proxy, via)
}

fn agent_rules() -> Vec<Rule> {
    vec![
        Rule::new(&["list", "watch"], "", &["namespaces", "pods"]).cluster_wide(),
        Rule::new(&["list", "watch"], "networking.k8s.io", &["networkpolicies"]).cluster_wide(),
    ]
}

#[test]
fn nothing_is_applied_before_every_first_list_and_the_watch_equals_the_list() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    cp.apply_with_status(&step("step-04-backend-ingress")).expect("apply step 4");
    // The agent may list and watch pods and namespaces, not yet networkpolicies.
    let partial = &agent_rules()[..1];
    let token = cp.mint_token("netpol-system", "agent", partial).expect("token");
    let mut agent = start_agent(&token.kubeconfig);
    let mut events = run(&mut agent, Duration::from_secs(4), |_| false);
    // A read now (as a retry or resync would) still applies nothing, and says why.
    agent.step(Step::Everything, Instant::now(), &mut |e| events.push(e.to_string()));
    assert_eq!(applies(&agent), 0, "applied before every first list arrived: {events:#?}");
    assert_eq!(
        events.last().map(String::as_str),
        Some("not applying: waiting for the first whole list of networkpolicies; the rules in place stay"),
        "{events:#?}"
    );
    assert!(agent.source().counters().restarts(Kind::NetworkPolicies) >= 1, "the forbidden list is retried");
    assert!(!agent.source().ready());

    // Granted, the watcher's next retry lists them, and the agent applies once, whole.
    cp.mint_token("netpol-system", "agent", &agent_rules()).expect("grant networkpolicies");
    converge(&mut agent, &cp, Duration::from_secs(30));
    assert_eq!(agent.source().count(Kind::Pods), 4, "the walkthrough's four pods");
    assert_eq!(agent.source().count(Kind::NetworkPolicies), 3);
    let first = applied(&agent).cloned().expect("applied");

    // A change through kubectl is applied: step 5 allows DNS.
    cp.apply_with_status(&step("step-05-dns-allowed")).expect("apply step 5");
    converge(&mut agent, &cp, Duration::from_secs(30));
    assert!(!applied(&agent).expect("applied").same_rules(&first), "step 5 changed the rules");
}

#[test]
fn a_partition_keeps_the_rules_and_what_changed_meanwhile_is_applied_once_back() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    cp.apply_with_status(&step("step-02-default-deny")).expect("apply step 2");
    let (proxy, via) = through_proxy(&cp);
    let mut agent = start_agent(&via);
    converge(&mut agent, &cp, Duration::from_secs(30));
    let before = applied(&agent).cloned().expect("applied");
    let calls = applies(&agent);

    proxy.cut();
    // While the agent cannot see the API: step 4's policies, a namespace label, a deleted policy.
    cp.apply_with_status(&step("step-04-backend-ingress")).expect("apply step 4");
    cp.kubectl_output(&["label", "namespace", "default", "team=web"], None).expect("label");
    cp.kubectl_output(&["delete", "networkpolicy", "default-deny", "-n", "default"], None).expect("delete");
    let events = run(&mut agent, Duration::from_secs(3), |_| false);
    assert_eq!(applies(&agent), calls, "nothing applied while the API was out of reach: {events:#?}");
    assert!(applied(&agent).expect("still applied").same_rules(&before), "the rules in place stayed");
    let restarts: u64 = Kind::ALL.iter().map(|k| agent.source().counters().restarts(*k)).sum();
    assert!(restarts >= 1, "the watchers noticed the outage");

    proxy.restore();
    converge(&mut agent, &cp, Duration::from_secs(30));
    assert!(!applied(&agent).expect("applied").same_rules(&before));
}

#[test]
fn an_api_server_restart_and_an_expired_watch_relist_and_converge() {
    let binaries = require_control_plane!();
    // Without the watch cache, a watch resumed from before an etcd compaction
    // gets 410 Gone from etcd itself.
    let options = Options { extra_apiserver_args: vec!["--watch-cache=false".into()], ..Options::default() };
    let mut cp = ControlPlane::start_with(&binaries, &options).unwrap_or_else(|e| panic!("{e}"));
    cp.apply_with_status(&step("step-02-default-deny")).expect("apply step 2");
    let (proxy, via) = through_proxy(&cp);
    let mut agent = start_agent(&via);
    converge(&mut agent, &cp, Duration::from_secs(30));

    // The API server stops; nothing changes; it starts again; then a policy changes.
    let stopped = cp.stop_apiserver().expect("stop the API server");
    let calls = applies(&agent);
    let events = run(&mut agent, Duration::from_secs(2), |_| false);
    assert_eq!(applies(&agent), calls, "nothing applied while the API server was down: {events:#?}");
    cp.start_apiserver(stopped).expect("start the API server again");
    cp.apply_with_status(&step("step-03-frontend-egress")).expect("apply step 3");
    converge(&mut agent, &cp, Duration::from_secs(60));

    // Partitioned, the cluster changes and etcd is compacted past the agent's
    // resourceVersion: its watches resume into 410 Gone, relist, and converge.
    let lists: u64 = Kind::ALL.iter().map(|k| agent.source().counters().lists(*k)).sum();
    proxy.cut();
    cp.apply_with_status(&step("step-04-backend-ingress")).expect("apply step 4");
    cp.kubectl_output(&["delete", "pod", "frontend", "-n", "default"], None).expect("delete a pod");
    cp.compact_etcd().expect("compact etcd");
    run(&mut agent, Duration::from_secs(2), |_| false);
    proxy.restore();
    converge(&mut agent, &cp, Duration::from_secs(60));
    let relists: u64 = Kind::ALL.iter().map(|k| agent.source().counters().lists(*k)).sum::<u64>() - lists;
    assert!(relists >= 1, "an expired watch relists");
    assert_eq!(agent.source().count(Kind::Pods), 3, "the pod deleted while away is gone");
}

#[test]
fn a_skipped_object_gets_a_warning_event_with_the_agents_rights() {
    let cp = require_control_plane!().start().unwrap_or_else(|e| panic!("{e}"));
    cp.apply_with_status(&step("step-02-default-deny")).expect("apply step 2");
    let uid = cp
        .kubectl_output(
            &["get", "networkpolicy", "default-deny", "-n", "default", "-o", "jsonpath={.metadata.uid}"],
            None,
        )
        .expect("uid");
    // The agent's rights: its lists and watches, and events (as deploy/'s ClusterRole).
    let mut rules = agent_rules();
    rules.push(Rule::new(&["create", "patch"], "events.k8s.io", &["events"]).cluster_wide());
    let token = cp.mint_token("netpol-system", "agent", &rules).expect("token");
    let cluster = netpol_kube::Source { kubeconfig: Some(token.kubeconfig.clone()), context: None };
    let connection = netpol_kube::connect(&cluster).expect("connect");
    let reference = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some("networking.k8s.io/v1".into()),
        kind: Some("NetworkPolicy".into()),
        namespace: Some("default".into()),
        name: Some("default-deny".into()),
        uid: Some(uid),
        ..Default::default()
    };
    let reporter =
        kube::runtime::events::Reporter { controller: "netpol-agent".into(), instance: Some("node-1".into()) };
    let event = netpol_kube::skipped_event("invalid type: string \"x\", expected a sequence");
    connection.publish_event(&event, &reference, reporter).expect("publish");
    let events =
        cp.kubectl_output(&["get", "events.events.k8s.io", "-n", "default", "-o", "json"], None).expect("list events");
    let events: serde_json::Value = serde_json::from_str(&events).expect("json");
    let ours: Vec<&serde_json::Value> =
        events["items"].as_array().expect("items").iter().filter(|e| e["reason"] == "NetpolSkipped").collect();
    assert_eq!(ours.len(), 1, "{events:#}");
    let e = ours[0];
    assert_eq!(e["type"], "Warning");
    assert_eq!(e["regarding"]["name"], "default-deny");
    assert_eq!(e["reportingController"], "netpol-agent");
    assert!(e["note"].as_str().unwrap_or_default().starts_with("netpol cannot decode this object"), "{e:#}");
}

//! Ordered policies (issue 11): AdminNetworkPolicy, BaselineAdminNetworkPolicy,
//! ClusterNetworkPolicy and Calico tiers around NetworkPolicy v1.
//!
//! `anp_np_banp_integration` translates the upstream conformance test
//! `conformance/tests/admin-network-policy-standard-integration.go` with its
//! manifests `conformance/base/api_integration/standard-anp-np-banp.yaml`, of
//! kubernetes-sigs/network-policy-api v0.1.8 (commit
//! 5a62954284765fb16f2e601f11907ca0b839b89f), the last v1alpha1 release.
//! Every case also checks that the explained verdict of each port agrees with
//! the port set `allowed_connections` computes.

use netpol_engine::{Engine, Flow, Options};
use netpol_manifest::{load, LoadOptions};
use netpol_model::{Cluster, PodKey, Protocol};

const HOUSES: &str = "
apiVersion: v1
kind: Namespace
metadata: {name: network-policy-conformance-gryffindor, labels: {conformance-house: gryffindor}}
---
apiVersion: v1
kind: Namespace
metadata: {name: network-policy-conformance-slytherin, labels: {conformance-house: slytherin}}
---
apiVersion: v1
kind: Pod
metadata: {name: harry-potter-0, namespace: network-policy-conformance-gryffindor, labels: {conformance-house: gryffindor}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}, {containerPort: 8080}]}]}
status: {podIP: 10.0.1.10}
---
apiVersion: v1
kind: Pod
metadata: {name: draco-malfoy-0, namespace: network-policy-conformance-slytherin, labels: {conformance-house: slytherin}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80}, {containerPort: 8080}]}]}
status: {podIP: 10.0.2.10}
";

fn anp(action: &str) -> String {
    format!(
        "
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {{name: pass-example}}
spec:
  priority: 10
  subject: {{namespaces: {{matchLabels: {{conformance-house: gryffindor}}}}}}
  ingress:
  - name: deny-all-ingress-from-slytherin
    action: {action}
    from: [{{namespaces: {{matchLabels: {{conformance-house: slytherin}}}}}}]
  egress:
  - name: deny-all-egress-to-slytherin
    action: {action}
    to: [{{namespaces: {{matchLabels: {{conformance-house: slytherin}}}}}}]
"
    )
}

const NP: &str = "
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-gress-from-to-slytherin-to-gryffindor, namespace: network-policy-conformance-gryffindor}
spec:
  podSelector:
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]
  egress:
  - to: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]
";

const BANP: &str = "
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {matchLabels: {conformance-house: gryffindor}}}
  ingress:
  - name: deny-all-ingress-from-slytherin
    action: Deny
    from: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]
  egress:
  - name: deny-all-egress-to-slytherin
    action: Deny
    to: [{namespaces: {matchLabels: {conformance-house: slytherin}}}]
";

fn cluster(docs: &[&str]) -> Cluster {
    let text = docs.join("\n---\n");
    let loaded = load([("t.yaml", text.as_str())], &LoadOptions::default());
    let errors: Vec<String> = loaded.errors().map(|d| d.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    loaded.cluster
}

/// The verdict on TCP `port`, checked against the port set of the same pair.
fn allowed(cluster: &Cluster, from: &str, to: &str, protocol: Protocol, port: u16) -> bool {
    let engine = Engine::new(cluster, Options::default());
    let (src, dst): (PodKey, PodKey) = (from.parse().unwrap(), to.parse().unwrap());
    let flow = Flow::new(src.clone(), dst.clone(), protocol, port);
    let decision = engine.evaluate(&flow).unwrap();
    let ports = engine.allowed_connections(&flow.src, &flow.dst).unwrap();
    assert_eq!(decision.allowed(), ports.contains(protocol, port), "{from} -> {to} {port}/{protocol}: {ports}");
    decision.allowed()
}

const HARRY: &str = "network-policy-conformance-gryffindor/harry-potter-0";
const DRACO: &str = "network-policy-conformance-slytherin/draco-malfoy-0";

#[test]
fn anp_np_banp_integration() {
    let deny = anp("Deny");
    let pass = anp("Pass");
    // (upstream subtest, manifests, source, destination, expected on ports 80 and 8080)
    let cases: Vec<(&str, Vec<&str>, &str, &str, bool)> = vec![
        (
            "Should Deny traffic from slytherin to gryffindor respecting ANP",
            vec![HOUSES, &deny, NP, BANP],
            DRACO,
            HARRY,
            false,
        ),
        (
            "Should Deny traffic to slytherin from gryffindor respecting ANP",
            vec![HOUSES, &deny, NP, BANP],
            HARRY,
            DRACO,
            false,
        ),
        ("pass-ingress: respect the match for network policy", vec![HOUSES, &pass, NP, BANP], DRACO, HARRY, true),
        ("pass-egress: respect the match for network policy", vec![HOUSES, &pass, NP, BANP], HARRY, DRACO, true),
        (
            "pass-ingress: respect the match for baseline admin network policy",
            vec![HOUSES, &pass, BANP],
            DRACO,
            HARRY,
            false,
        ),
        (
            "pass-egress: respect the match for baseline admin network policy",
            vec![HOUSES, &pass, BANP],
            HARRY,
            DRACO,
            false,
        ),
        // Not in the suite: with nothing but the passing ANP, the default (allow) applies.
        ("pass with no NetworkPolicy and no baseline: allowed", vec![HOUSES, &pass], DRACO, HARRY, true),
    ];
    for (name, docs, from, to, want) in cases {
        let c = cluster(&docs);
        for port in [80, 8080] {
            assert_eq!(allowed(&c, from, to, Protocol::Tcp, port), want, "{name} (port {port})");
        }
    }
}

#[test]
fn explanation_names_the_deciding_tier_and_rule() {
    let c = cluster(&[HOUSES, &anp("Pass"), BANP]);
    let engine = Engine::new(&c, Options::default());
    let flow = Flow::new(DRACO.parse::<PodKey>().unwrap(), HARRY.parse::<PodKey>().unwrap(), Protocol::Tcp, 80);
    let d = engine.evaluate(&flow).unwrap();
    assert!(!d.allowed());
    assert_eq!(
        d.ingress.summary,
        "[admin] Pass by AdminNetworkPolicy/pass-example rule 'deny-all-ingress-from-slytherin' -> \
         [baseline] Deny by BaselineAdminNetworkPolicy/default rule 'deny-all-ingress-from-slytherin'"
    );
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["ingress"]["status"], "ordered");
    assert_eq!(json["ingress"]["tiers"][1]["action"], "deny");
    assert_eq!(json["ingress"]["tiers"][1]["label"], "baseline");
}

const CALICO: &str = "
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.ports}
spec:
  tier: security
  order: 10
  selector: conformance-house == 'gryffindor'
  types: [Ingress]
  ingress:
  - action: Log
  - action: Deny
    protocol: TCP
    destination: {ports: ['8000:8100']}
  - action: Allow
    protocol: TCP
    source: {namespaceSelector: projectcalico.org/name == 'network-policy-conformance-slytherin'}
    destination: {ports: [80]}
  - action: Pass
    protocol: UDP
";

#[test]
fn calico_tiers_first_match_with_ranges_log_and_pass() {
    let c = cluster(&[HOUSES, CALICO, BANP]);
    // (protocol, port, expected): 8080 denied by the range; 80 allowed by the
    // security tier; UDP passes on to the baseline, which denies slytherin; other
    // TCP ports: the security tier applies and decided nothing, so its default Deny.
    for (protocol, port, want) in [
        (Protocol::Tcp, 80, true),
        (Protocol::Tcp, 8080, false),
        (Protocol::Tcp, 443, false),
        (Protocol::Udp, 53, false),
    ] {
        assert_eq!(allowed(&c, DRACO, HARRY, protocol, port), want, "{port}/{protocol}");
    }
    // SCTP meets only the Log rule, which decides nothing: the tier's default Deny.
    assert!(!allowed(&c, DRACO, HARRY, Protocol::Sctp, 9));
    // The other way, the security tier does not select harry's egress (types
    // [Ingress]): the baseline denies it.
    assert!(!allowed(&c, HARRY, DRACO, Protocol::Sctp, 9));
    let engine = Engine::new(&c, Options::default());
    let flow = Flow::new(HARRY.parse::<PodKey>().unwrap(), DRACO.parse::<PodKey>().unwrap(), Protocol::Sctp, 9);
    let steps = engine.evaluate(&flow).unwrap().egress.tiers;
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].label, "baseline");
}

#[test]
fn seed_001_calico_v1_policies() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-001-calico");
    let mut files = Vec::new();
    for name in ["cluster.yaml", "default-deny-egress.yaml", "trusted-namespace.yaml"] {
        files.push((name.to_string(), std::fs::read_to_string(dir.join(name)).unwrap()));
    }
    let loaded = load(files.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default());
    assert!(!loaded.has_errors());
    let c = loaded.cluster;
    let engine = Engine::new(&c, Options::default());
    let check = |from: &str, to: &str| {
        let flow = Flow::new(
            from.parse::<PodKey>().unwrap(),
            to.parse::<netpol_engine::Endpoint>().unwrap(),
            Protocol::Tcp,
            443,
        );
        engine.evaluate(&flow).unwrap().allowed()
    };
    let ext = |from: &str, ip: &str| {
        let flow = Flow::new(
            from.parse::<netpol_engine::Endpoint>().unwrap(),
            ip.parse::<netpol_engine::Endpoint>().unwrap(),
            Protocol::Tcp,
            443,
        );
        engine.evaluate(&flow).unwrap().allowed()
    };
    assert!(ext("trusted/client", "8.8.8.8"), "trusted reaches the backend");
    assert!(!ext("other/client", "8.8.8.8"), "others are denied the backend");
    // "All other connections from the Pods will be disallowed": true for egress
    // (the default tier applies to every pod's egress and ends in Deny)...
    assert!(!ext("trusted/client", "1.1.1.1"));
    assert!(!check("trusted/client", "other/client"));
    // ...and ingress is untouched: the policies' types are [Egress].
    let d = engine
        .evaluate(&Flow::new(
            "10.9.9.9".parse::<netpol_engine::Endpoint>().unwrap(),
            "other/client".parse::<netpol_engine::Endpoint>().unwrap(),
            Protocol::Tcp,
            80,
        ))
        .unwrap();
    assert!(d.allowed());
}

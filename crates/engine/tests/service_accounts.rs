//! Calico policies that select by ServiceAccount (issue 11):
//! `serviceAccountSelector`, entity `serviceAccounts` (names and selector), the
//! `projectcalico.org/serviceaccount` and `pcsa.` labels, a pod whose
//! ServiceAccount object is missing, and one that sets no
//! `serviceAccountName`. The verdicts of examples/calico-service-accounts,
//! each with the rule that decided it, in the engine; the compiled matrix and
//! the rendered nft ruleset give the same verdict on every pair and port; a
//! relabelled ServiceAccount moves its pods across the rules.

use netpol_engine::{Endpoint, Engine, Flow, Options};
use netpol_manifest::{load, LoadOptions};
use netpol_model::{Cluster, Labels, PodKey, Protocol};

fn example() -> Cluster {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/calico-service-accounts");
    let files: Vec<(String, String)> = ["cluster.yaml", "policies.yaml"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read_to_string(dir.join(n)).unwrap()))
        .collect();
    let loaded = load(files.iter().map(|(n, t)| (n.as_str(), t.as_str())), &LoadOptions::default());
    // shop/job-0 (`batch`) and shop/legacy-0 (`default`) run as ServiceAccounts
    // the example leaves out on purpose: one NP0070 warning each.
    let codes: Vec<(&str, String)> =
        loaded.diagnostics.iter().map(|d| (d.code, d.message.split(' ').next().unwrap_or("").to_string())).collect();
    assert_eq!(
        codes,
        [("NP0070", "shop/job-0".to_string()), ("NP0070", "shop/legacy-0".to_string())],
        "{:?}",
        loaded.diagnostics
    );
    loaded.cluster
}

/// `(allowed, egress summary, ingress summary)` of a TCP flow.
fn verdict(cluster: &Cluster, from: &str, to: &str, port: u16) -> (bool, String, String) {
    let engine = Engine::new(cluster, Options::default());
    let (src, dst): (PodKey, PodKey) = (from.parse().unwrap(), to.parse().unwrap());
    let d = engine.evaluate(&Flow::new(src, dst, Protocol::Tcp, port)).unwrap();
    (d.allowed(), d.egress.summary.clone(), d.ingress.summary.clone())
}

#[test]
fn the_example_decides_by_service_account() {
    let c = example();
    let api = "shop/api-0";
    let ingress_end = "[default] denied";
    // (from, to, port, allowed, what the deciding direction's explanation says)
    let cases: &[(&str, &str, u16, bool, &str)] = &[
        // `serviceAccounts.selector: tier == 'web'`: shop/frontend is tier=web.
        ("shop/web-0", api, 8080, true, "Allow by projectcalico.org/NetworkPolicy/shop/backend-ingress rule [0]"),
        // Rule 0 is for 8080 only, rule 1 for ops/monitor.
        ("shop/web-0", api, 9090, false, ingress_end),
        // `batch` has no ServiceAccount object: no `pcsa.` labels at all.
        ("shop/job-0", api, 8080, false, ingress_end),
        // No serviceAccountName: `default`, which has no object either.
        ("shop/legacy-0", api, 8080, false, ingress_end),
        // `namespaceSelector` + `serviceAccounts.names: [monitor]`.
        ("ops/prom-0", api, 9090, true, "Allow by projectcalico.org/NetworkPolicy/shop/backend-ingress rule [1]"),
        ("ops/prom-0", api, 8080, false, ingress_end),
        // ops/frontend is tier=web too, but a namespaced policy's entity stays in its namespace.
        ("ops/impostor-0", api, 8080, false, ingress_end),
        // A GlobalNetworkPolicy's `serviceAccounts.names` reaches every namespace.
        ("shop/web-0", "ops/prom-0", 9090, false, "Deny by GlobalNetworkPolicy/shop-not-to-monitor rule [0]"),
        ("shop/job-0", "shop/web-0", 80, true, "Allow by GlobalNetworkPolicy/shop-not-to-monitor rule [1]"),
    ];
    let mut wrong = Vec::new();
    for (from, to, port, want, why) in cases {
        let (got, egress, ingress) = verdict(&c, from, to, *port);
        if got != *want || !(egress.contains(why) || ingress.contains(why)) {
            wrong.push(format!("{from} -> {to}:{port}: allowed={got} (want {want}); egress `{egress}`; ingress `{ingress}`; want `{why}`"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn pods_see_their_service_account_labels() {
    let c = example();
    let sa = |key: &str| c.pod(&key.parse().unwrap()).unwrap().service_account.clone();
    assert_eq!(sa("shop/web-0").name.as_deref(), Some("frontend"));
    assert_eq!(sa("shop/web-0").labels, Some(Labels::from_iter([("tier", "web")])));
    assert_eq!(sa("shop/job-0").labels, None, "no ServiceAccount object for batch");
    assert_eq!(sa("shop/legacy-0").name(), Some("default"), "unset in the file: admission's default");
    assert_eq!(sa("ops/impostor-0").labels, Some(Labels::from_iter([("tier", "web")])));
}

#[test]
fn relabelling_a_service_account_moves_its_pods() {
    let mut c = example();
    assert!(verdict(&c, "shop/web-0", "shop/api-0", 8080).0);
    let frontend = c.service_accounts.iter_mut().find(|s| s.namespace == "shop" && s.name == "frontend").unwrap();
    frontend.labels = Labels::from_iter([("tier", "legacy")]);
    assert!(c.link_service_accounts(), "web-0 runs as shop/frontend");
    assert!(!verdict(&c, "shop/web-0", "shop/api-0", 8080).0, "no longer tier=web");
    // The ServiceAccount object appears for batch: job-0 gets its labels.
    c.service_accounts.push(netpol_model::ServiceAccount {
        namespace: "shop".into(),
        name: "batch".into(),
        labels: Labels::from_iter([("tier", "web")]),
        origin: None,
    });
    assert!(c.link_service_accounts());
    assert!(verdict(&c, "shop/job-0", "shop/api-0", 8080).0);
    assert!(!c.link_service_accounts(), "nothing changed since");
}

/// The compiled matrix and the rendered ruleset agree with the engine on every
/// pair of the example, for every port its rules and pods name.
#[test]
fn matrix_and_nft_agree_with_the_engine() {
    let mut c = example();
    for p in &mut c.pods {
        p.node = Some("n1".into());
    }
    let engine = Engine::new(&c, Options::default());
    let compiled = netpol_matrix::Compiled::build(&c, netpol_matrix::Options::default());
    let ruleset = netpol_nft::render(&c, &netpol_nft::RenderOptions::default());
    let mut checked = 0;
    for s in &c.pods {
        for t in &c.pods {
            let (a, b) = (compiled.pod_id(&s.key()).unwrap(), compiled.pod_id(&t.key()).unwrap());
            let (src, dst) = (s.ips[0], t.ips[0]);
            for port in [80, 8080, 9090] {
                let flow = Flow::new(Endpoint::Pod(s.key()), Endpoint::Pod(t.key()), Protocol::Tcp, port);
                let want = engine.evaluate(&flow).unwrap().allowed();
                assert_eq!(
                    compiled.allowed(a, b, Protocol::Tcp, port),
                    want,
                    "{} -> {} {port}: matrix",
                    s.key(),
                    t.key()
                );
                if src == dst {
                    continue;
                }
                // Pod to pod on one node: the forward hook holds the source's
                // egress and the destination's ingress.
                let packet = netpol_nft::Packet { src, dst, protocol: Protocol::Tcp, port };
                let got = ruleset.evaluate(netpol_nft::Hook::Forward, &packet).allowed;
                assert_eq!(got, want, "{} -> {} {port}: nft", s.key(), t.key());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 6 * 5 * 3);
}

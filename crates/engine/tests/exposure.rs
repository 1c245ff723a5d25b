//! Exposure is exact: on random clusters, a pod created afterwards gets from
//! the engine exactly what the exposure computed before it existed says a pod
//! with its namespace, labels, address, ports and node gets
//! ([`Exposure::allowed_for`]): pods that satisfy a reported selector are
//! allowed (on its ports), pods that violate every one are not.

use netpol_engine::{Candidate, Endpoint, Engine, Exposure, Options, Reach};
use netpol_model::{Direction, Namespace, Protocol};
use netpol_testkit::random::{random_cluster, Dice};
use netpol_testkit::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn a_new_pod_gets_what_the_exposure_says(
        seeds in prop::collection::vec(any::<u32>(), 64),
        extra in prop::collection::vec(any::<u32>(), 16),
        ipblock in any::<bool>(),
    ) {
        let c = random_cluster(&mut Dice(seeds, 0));
        let engine = Engine::new(&c, Options { ipblock_matches_pods: ipblock });
        let exposures: Vec<(Exposure, Exposure)> = c
            .pods
            .iter()
            .map(|p| (engine.exposure(p, Direction::Ingress), engine.exposure(p, Direction::Egress)))
            .collect();

        // The new pod: in a namespace of the cluster, an undeclared one, or a new one.
        let d = &mut Dice(extra, 0);
        let ns = d.pick(&["n1", "n2", "n3", "n4"]);
        let mut b = pod(ns, "new").label("pod", d.pick(&["a", "b"]));
        if d.roll(2) == 0 {
            b = b.label("tier", d.pick(&["x", "y"]));
        }
        if d.roll(3) == 0 {
            b = b.label("team", d.pick(&["red", "blue"]));
        }
        if d.roll(5) != 0 {
            b = b.ip(d.pick(&["10.0.0.2", "10.0.0.5", "10.0.0.9", "192.0.2.7"]));
        }
        if d.roll(2) == 0 {
            b = b.port("http", d.pick(&[80, 8080, 53]), d.pick(&[Protocol::Tcp, Protocol::Udp]));
        }
        if d.roll(2) == 0 {
            b = b.node(d.pick(&["n1", "n2"]));
        }
        let new = b.build();
        let mut grown = c.clone();
        if ns == "n4" {
            grown.namespaces.insert("n4".into(), namespace("n4").label("team", d.pick(&["red", "blue"])).build());
        }
        grown.pods.push(new.clone());
        let ns_labels = grown.namespaces.get(ns).cloned().unwrap_or_else(|| Namespace::implicit(ns)).labels;
        let candidate = Candidate {
            namespace: ns,
            namespace_labels: &ns_labels,
            labels: &new.labels,
            addr: new.ips.first().copied(),
            ports: &new.ports,
            node: new.node.as_deref(),
        };

        let after = Engine::new(&grown, Options { ipblock_matches_pods: ipblock });
        let new_end = Endpoint::Pod(new.key());
        for (subject, (ingress, egress)) in c.pods.iter().zip(&exposures) {
            let s = Endpoint::Pod(subject.key());
            let to_subject = after.allowed_connections(&new_end, &s).unwrap();
            prop_assert_eq!(
                &ingress.allowed_for(&candidate), &to_subject,
                "new pod {:?} -> {}: exposure {:#?}", new, subject.key(), ingress
            );
            let from_subject = after.allowed_connections(&s, &new_end).unwrap();
            prop_assert_eq!(
                &egress.allowed_for(&candidate), &from_subject,
                "{} -> new pod {:?}: exposure {:#?}", subject.key(), new, egress
            );
        }
    }
}

#[test]
fn not_isolated_is_everything_and_isolated_lists_its_rules() {
    let c = cluster()
        .namespace(namespace("shop").label("env", "prod"))
        .pod(pod("shop", "api").label("app", "api").ip("10.0.0.1").port("http", 8080, Protocol::Tcp))
        .policy(
            policy("shop", "api-in")
                .select(sel!("app" => "api"))
                .ingress(rule().from(namespaces(sel!("env" => "dev"))).port(named_port("http", Protocol::Tcp))),
        )
        .build();
    let engine = Engine::new(&c, Options::default());
    let api = &c.pods[0];
    let ingress = engine.exposure(api, Direction::Ingress);
    assert_eq!(ingress.isolated_by.len(), 1);
    assert_eq!(ingress.grants.len(), 1);
    assert_eq!(ingress.grants[0].ports.numbers.to_string(), "TCP 8080");
    assert!(matches!(ingress.grants[0].reach, Reach::Pods { .. }));
    let egress = engine.exposure(api, Direction::Egress);
    assert!(egress.isolated_by.is_empty());
    assert_eq!(egress.grants[0].reach, Reach::Everything);
}

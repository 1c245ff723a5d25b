//! The projection's tests (beside it: projection.rs is long enough).
use super::*;
use netpol_model::{Action, Subject, TieredKind, TieredPolicy, TieredRule};
use netpol_testkit::{namespace, pod, policy};

fn at() -> Instant {
    Instant::now()
}

fn pod_obj(ns: &str, name: &str, ip: &str) -> (Key, Option<Object>) {
    ((ns.into(), name.into()), Some(Object::Pod(pod(ns, name).ip(ip).build())))
}

fn list(p: &mut Projection, kind: Kind, objects: Vec<(Key, Option<Object>)>) {
    p.apply(kind, Change::Init, at());
    for (key, object) in objects {
        p.apply(kind, Change::InitApply(key, object), at());
    }
    p.apply(kind, Change::InitDone, at());
}

fn names(p: &mut Projection) -> Vec<String> {
    let mut v: Vec<String> = p.cluster().pods.iter().map(|p| format!("{}/{}", p.namespace, p.name)).collect();
    v.sort();
    v
}

#[test]
fn not_ready_until_every_kind_listed_once() {
    let mut p = Projection::new();
    assert_eq!(p.waiting_for(), Kind::ALL);
    list(&mut p, Kind::Pods, vec![pod_obj("a", "x", "10.0.0.1")]);
    list(&mut p, Kind::Namespaces, vec![]);
    for kind in Kind::ALL.into_iter().filter(|k| !k.required()) {
        list(&mut p, kind, vec![]);
    }
    assert!(!p.ready());
    assert_eq!(p.waiting_for(), [Kind::NetworkPolicies]);
    list(&mut p, Kind::NetworkPolicies, vec![]);
    assert!(p.ready());
    // An empty first list is still a change: the first apply must happen.
    assert!(p.take_change().is_some());
    // The pod's namespace was never shown: implicit, as in a load of files.
    assert!(p.cluster().namespaces.get("a").is_some_and(|n| !n.declared));
}

#[test]
fn a_relist_is_buffered_and_replaces_the_kind_at_init_done() {
    let mut p = Projection::new();
    for kind in Kind::ALL {
        list(&mut p, kind, vec![]);
    }
    list(&mut p, Kind::Pods, vec![pod_obj("a", "x", "10.0.0.1"), pod_obj("a", "y", "10.0.0.2")]);
    p.take_change();
    let version = p.pods_version();
    // A relist that lost `x` and changed `y`: nothing moves until InitDone.
    p.apply(Kind::Pods, Change::Init, at());
    let (key, object) = pod_obj("a", "y", "10.0.0.9");
    p.apply(Kind::Pods, Change::InitApply(key, object), at());
    assert_eq!(names(&mut p), ["a/x", "a/y"]);
    assert!(p.take_change().is_none());
    p.apply(Kind::Pods, Change::InitDone, at());
    assert_eq!(names(&mut p), ["a/y"]);
    assert_eq!(p.cluster().pods[0].ips, ["10.0.0.9".parse::<std::net::IpAddr>().unwrap()]);
    assert!(p.take_change().is_some());
    assert!(p.pods_version() > version);
}

#[test]
fn events_upsert_and_delete_in_any_order_like_a_rebuild() {
    // The same final state through events in two orders equals one list of it.
    let events = vec![
        (Kind::Pods, Change::Apply(("a".into(), "x".into()), pod_obj("a", "x", "10.0.0.1").1)),
        (Kind::Pods, Change::Apply(("a".into(), "y".into()), pod_obj("a", "y", "10.0.0.2").1)),
        (Kind::Pods, Change::Apply(("a".into(), "z".into()), pod_obj("a", "z", "10.0.0.3").1)),
        (Kind::Pods, Change::Delete(("a".into(), "x".into()))),
        (Kind::Pods, Change::Apply(("a".into(), "z".into()), None)),
        (
            Kind::NetworkPolicies,
            Change::Apply(("a".into(), "deny".into()), Some(Object::Policy(policy("a", "deny").build()))),
        ),
        (
            Kind::Namespaces,
            Change::Apply(("".into(), "a".into()), Some(Object::Namespace(namespace("a").label("t", "1").build()))),
        ),
    ];
    let mut forward = Projection::new();
    let mut backward = Projection::new();
    for kind in Kind::ALL {
        list(&mut forward, kind, vec![]);
        list(&mut backward, kind, vec![]);
    }
    for (kind, change) in events.iter().cloned() {
        forward.apply(kind, change, at());
    }
    // Per key the order matters; across keys it does not: apply key groups reversed.
    let mut groups: Vec<Vec<(Kind, Change)>> = Vec::new();
    for (kind, change) in events {
        let key = match &change {
            Change::Apply(k, _) | Change::Delete(k) => k.clone(),
            _ => unreachable!(),
        };
        match groups.iter_mut().find(|g| match &g[0].1 {
            Change::Apply(k, _) | Change::Delete(k) => *k == key && g[0].0 == kind,
            _ => false,
        }) {
            Some(g) => g.push((kind, change)),
            None => groups.push(vec![(kind, change)]),
        }
    }
    for group in groups.into_iter().rev() {
        for (kind, change) in group {
            backward.apply(kind, change, at());
        }
    }
    let mut rebuilt = Projection::new();
    list(&mut rebuilt, Kind::Pods, vec![pod_obj("a", "y", "10.0.0.2")]);
    list(
        &mut rebuilt,
        Kind::NetworkPolicies,
        vec![(("a".into(), "deny".into()), Some(Object::Policy(policy("a", "deny").build())))],
    );
    list(
        &mut rebuilt,
        Kind::Namespaces,
        vec![(("".into(), "a".into()), Some(Object::Namespace(namespace("a").label("t", "1").build())))],
    );
    for p in [&mut forward, &mut backward] {
        assert_eq!(names(p), ["a/y"]);
        assert_eq!(p.cluster().namespaces, rebuilt.cluster().namespaces);
        assert_eq!(p.cluster().policies, rebuilt.cluster().policies);
    }
}

#[test]
fn an_undecodable_object_in_a_relist_keeps_its_last_good_version() {
    let mut p = Projection::new();
    for kind in Kind::ALL {
        list(&mut p, kind, vec![]);
    }
    list(&mut p, Kind::Pods, vec![pod_obj("a", "x", "10.0.0.1"), pod_obj("a", "y", "10.0.0.2")]);
    p.apply(Kind::Pods, Change::Init, at());
    p.apply(Kind::Pods, Change::InitKeep(("a".into(), "x".into())), at());
    p.apply(Kind::Pods, Change::InitKeep(("a".into(), "never-seen".into())), at());
    p.apply(Kind::Pods, Change::InitDone, at());
    // x stays (undecodable now, good before); y was not listed: deleted.
    assert_eq!(names(&mut p), ["a/x"]);
}

#[test]
fn an_unchanged_object_is_no_change() {
    let mut p = Projection::new();
    for kind in Kind::ALL {
        list(&mut p, kind, vec![]);
    }
    let (key, object) = pod_obj("a", "x", "10.0.0.1");
    p.apply(Kind::Pods, Change::Apply(key.clone(), object.clone()), at());
    assert!(p.take_change().is_some());
    let version = p.pods_version();
    p.apply(Kind::Pods, Change::Apply(key, object), at());
    assert!(p.take_change().is_none());
    assert_eq!(p.pods_version(), version);
}

/// The projection's namespaces against a fresh projection listing the same objects.
fn same_namespaces_as_a_rebuild(p: &mut Projection, step: &str) {
    let objects = |kind: Kind, p: &mut Projection| -> Vec<(Key, Option<Object>)> {
        let c = p.cluster();
        match kind {
            Kind::Namespaces => c
                .namespaces
                .values()
                .filter(|n| n.declared)
                .map(|n| ((String::new(), n.name.clone()), Some(Object::Namespace(n.clone()))))
                .collect(),
            Kind::Pods => c.pods.iter().map(|x| (pod_key(x), Some(Object::Pod(x.clone())))).collect(),
            Kind::NetworkPolicies => {
                c.policies.iter().map(|x| (policy_key(x), Some(Object::Policy(x.clone())))).collect()
            }
            Kind::Nodes => c.nodes.iter().map(|x| (node_key(x), Some(Object::Node(x.clone())))).collect(),
            Kind::ServiceAccounts => c
                .service_accounts
                .iter()
                .map(|x| (service_account_key(x), Some(Object::ServiceAccount(x.clone()))))
                .collect(),
            Kind::Tiers => c.tiers.iter().map(|x| (tier_key(x), Some(Object::Tier(x.clone())))).collect(),
            ordered => c
                .tiered
                .iter()
                .filter(|x| Kind::of_tiered(x.kind) == ordered)
                .map(|x| (tiered_key(x).1, Some(Object::Tiered(x.clone()))))
                .collect(),
        }
    };
    let mut rebuilt = Projection::new();
    for kind in Kind::ALL {
        list(&mut rebuilt, kind, objects(kind, p));
    }
    assert_eq!(p.cluster().namespaces, rebuilt.cluster().namespaces, "after {step}");
}

#[test]
fn implicit_namespaces_follow_pods_and_policies_like_a_rebuild() {
    // Issue 10: implicit namespaces are looked at again only when an object
    // enters or leaves one; a pod changed in place (at 100,000 pods, most
    // changes) no longer rescans every pod and policy. Same result as a rebuild.
    let mut p = Projection::new();
    for kind in Kind::ALL {
        list(&mut p, kind, vec![]);
    }
    let ns = |name: &str| ((String::new(), name.to_string()), namespace(name).label("team", "x").build());
    let deny = |ns: &str| ((ns.to_string(), "deny".to_string()), Object::Policy(policy(ns, "deny").build()));
    let relabelled = Object::Pod(pod("a", "x").ip("10.0.0.1").label("v", "2").build());
    let put = |(key, object): (Key, Option<Object>)| Change::Apply(key, object);
    let steps: Vec<(&str, Kind, Change)> = vec![
        ("a pod in a new namespace", Kind::Pods, put(pod_obj("a", "x", "10.0.0.1"))),
        ("a policy in another", Kind::NetworkPolicies, Change::Apply(deny("b").0, Some(deny("b").1))),
        ("the pod relabelled in place", Kind::Pods, Change::Apply(("a".into(), "x".into()), Some(relabelled))),
        ("a second pod in a third namespace", Kind::Pods, put(pod_obj("c", "y", "10.0.0.2"))),
        ("that pod finished", Kind::Pods, Change::Apply(("c".into(), "y".into()), None)),
        (
            "the first namespace declared",
            Kind::Namespaces,
            Change::Apply(ns("a").0, Some(Object::Namespace(ns("a").1))),
        ),
        ("its pod deleted", Kind::Pods, Change::Delete(("a".into(), "x".into()))),
        ("the declared namespace deleted", Kind::Namespaces, Change::Delete(ns("a").0)),
        (
            "a policy in a declared-then-deleted namespace",
            Kind::NetworkPolicies,
            Change::Apply(deny("a").0, Some(deny("a").1)),
        ),
        ("the other policy deleted", Kind::NetworkPolicies, Change::Delete(deny("b").0)),
    ];
    for (step, kind, change) in steps {
        p.apply(kind, change, at());
        same_namespaces_as_a_rebuild(&mut p, step);
    }
    let names: Vec<&String> = p.cluster().namespaces.keys().collect();
    assert_eq!(names, ["a"], "only the last policy's namespace is left, implicit");
    assert!(!p.cluster().namespaces["a"].declared);
}

#[test]
fn a_declared_namespace_replaces_the_implicit_one_and_its_deletion_restores_it() {
    let mut p = Projection::new();
    for kind in Kind::ALL {
        list(&mut p, kind, vec![]);
    }
    let (key, object) = pod_obj("a", "x", "10.0.0.1");
    p.apply(Kind::Pods, Change::Apply(key, object), at());
    assert!(!p.cluster().namespaces["a"].declared);
    let ns = Object::Namespace(namespace("a").label("team", "x").build());
    p.apply(Kind::Namespaces, Change::Apply(("".into(), "a".into()), Some(ns)), at());
    assert!(p.cluster().namespaces["a"].declared);
    assert_eq!(p.count(Kind::Namespaces), 1);
    p.apply(Kind::Namespaces, Change::Delete(("".into(), "a".into())), at());
    assert!(!p.cluster().namespaces["a"].declared);
    assert_eq!(p.count(Kind::Namespaces), 0);
}

/// An ordered policy of `kind` (its rules do not matter here).
fn ordered(kind: TieredKind, namespace: Option<&str>, name: &str) -> TieredPolicy {
    TieredPolicy {
        kind,
        namespace: namespace.map(str::to_string),
        name: name.into(),
        tier: "kube-admin".into(),
        order: None,
        subject: Subject::Namespaces(netpol_model::LabelSelector::default()),
        types: Vec::new(),
        ingress: vec![TieredRule {
            name: None,
            action: Action::Deny,
            peers: Vec::new(),
            local: None,
            protocol: None,
            not_protocol: None,
            ports: Vec::new(),
            not_ports: Vec::new(),
            origin: None,
        }],
        egress: Vec::new(),
        meta: Default::default(),
        origin: None,
    }
}

fn tiered_obj(kind: TieredKind, namespace: Option<&str>, name: &str) -> (Key, Option<Object>) {
    let key = (namespace.unwrap_or_default().to_string(), name.to_string());
    (key, Some(Object::Tiered(ordered(kind, namespace, name))))
}

fn put((key, object): (Key, Option<Object>)) -> Change {
    Change::Apply(key, object)
}

fn node_obj(name: &str, ip: &str) -> (Key, Option<Object>) {
    let node = netpol_model::Node {
        name: name.into(),
        labels: Default::default(),
        addresses: vec![ip.parse().unwrap()],
        origin: None,
    };
    (("".into(), name.into()), Some(Object::Node(node)))
}

fn tier_obj(name: &str) -> (Key, Option<Object>) {
    let tier = netpol_model::Tier {
        name: name.into(),
        order: Some(netpol_model::Order(100.0)),
        default_action: netpol_model::TierDefault::Deny,
        declared: true,
        origin: None,
    };
    (("".into(), name.into()), Some(Object::Tier(tier)))
}

/// A kind's objects, as a list delivers them.
type Listed = Vec<(Key, Option<Object>)>;

fn tiered_names(p: &mut Projection) -> Vec<String> {
    let mut v: Vec<String> = p.cluster().tiered.iter().map(|t| t.key()).collect();
    v.sort();
    v
}

#[test]
fn optional_kinds_not_served_or_refused_are_known_and_empty() {
    // Issue 11: a cluster without the CRDs (404) or without the grants (403)
    // still becomes ready on the required kinds.
    let mut p = Projection::new();
    for kind in Kind::ALL.into_iter().filter(|k| k.required()) {
        list(&mut p, kind, vec![]);
    }
    assert!(!p.ready(), "the optional kinds have said nothing yet");
    let mut absent: Vec<(Kind, bool)> = Kind::ORDERED.into_iter().map(|k| (k, true)).collect();
    absent.push((Kind::Nodes, false)); // refused by RBAC
    absent.push((Kind::ServiceAccounts, false));
    for (kind, empty) in absent {
        p.apply(kind, Change::Absent { empty }, at());
    }
    assert!(p.ready(), "waiting for {:?}", p.waiting_for());
    assert!(p.take_change().is_some(), "the first apply must happen");
    // Retries say the same again: no change.
    p.apply(Kind::AdminNetworkPolicies, Change::Absent { empty: true }, at());
    assert!(p.take_change().is_none());
}

#[test]
fn a_crd_installed_later_replaces_the_empty_set_and_deleted_empties_it() {
    let mut p = Projection::new();
    for kind in Kind::ALL {
        if kind.required() {
            list(&mut p, kind, vec![]);
        } else {
            p.apply(kind, Change::Absent { empty: true }, at());
        }
    }
    p.take_change();
    // The CRD is installed: the watcher's next retry lists it whole.
    let anp = |name| tiered_obj(TieredKind::AdminNetworkPolicy, None, name);
    list(&mut p, Kind::AdminNetworkPolicies, vec![anp("deny"), anp("b")]);
    list(&mut p, Kind::CalicoNetworkPolicies, vec![tiered_obj(TieredKind::CalicoNetworkPolicy, Some("shop"), "deny")]);
    assert!(p.take_change().is_some());
    assert_eq!(p.count(Kind::AdminNetworkPolicies), 2);
    assert_eq!(p.count(Kind::CalicoNetworkPolicies), 1);
    // A Calico NetworkPolicy's namespace is used: implicit, as in a load of files.
    assert!(p.cluster().namespaces.get("shop").is_some_and(|n| !n.declared));
    // Same name, other kinds: apart.
    p.apply(Kind::AdminNetworkPolicies, Change::Delete(("".into(), "b".into())), at());
    assert_eq!(tiered_names(&mut p), ["AdminNetworkPolicy/deny", "projectcalico.org/NetworkPolicy/shop/deny"]);
    // Refused later: what was listed stays (fail static).
    p.apply(Kind::AdminNetworkPolicies, Change::Absent { empty: false }, at());
    assert_eq!(p.count(Kind::AdminNetworkPolicies), 1);
    // The CRD deleted (404 on the relist): its objects went with it.
    p.apply(Kind::AdminNetworkPolicies, Change::Init, at());
    p.apply(Kind::AdminNetworkPolicies, Change::Absent { empty: true }, at());
    assert_eq!(tiered_names(&mut p), ["projectcalico.org/NetworkPolicy/shop/deny"]);
    p.apply(Kind::CalicoNetworkPolicies, Change::Absent { empty: true }, at());
    assert!(p.cluster().tiered.is_empty());
    assert!(!p.cluster().namespaces.contains_key("shop"), "the implicit namespace went with its last user");
}

#[test]
fn nodes_tiers_and_ordered_policies_follow_events_like_a_rebuild() {
    /// `events` from empty lists give what one list of `listed` gives.
    struct Case {
        name: &'static str,
        events: Vec<(Kind, Change)>,
        listed: Vec<(Kind, Listed)>,
    }
    let banp = || tiered_obj(TieredKind::BaselineAdminNetworkPolicy, None, "default");
    let cases = [
        Case {
            name: "a node's address changed in place",
            events: vec![
                (Kind::Nodes, put(node_obj("n1", "10.1.0.1"))),
                (Kind::Nodes, put(node_obj("n1", "10.1.0.2"))),
            ],
            listed: vec![(Kind::Nodes, vec![node_obj("n1", "10.1.0.2")])],
        },
        Case {
            name: "a tier and two policies, one deleted",
            events: vec![
                (Kind::Tiers, put(tier_obj("security"))),
                (Kind::GlobalNetworkPolicies, put(tiered_obj(TieredKind::GlobalNetworkPolicy, None, "g"))),
                (Kind::BaselineAdminNetworkPolicies, put(banp())),
                (Kind::GlobalNetworkPolicies, Change::Delete(("".into(), "g".into()))),
            ],
            listed: vec![(Kind::Tiers, vec![tier_obj("security")]), (Kind::BaselineAdminNetworkPolicies, vec![banp()])],
        },
    ];
    for Case { name, events, listed } in cases {
        let mut p = Projection::new();
        for kind in Kind::ALL {
            list(&mut p, kind, vec![]);
        }
        let version = p.pods_version();
        for (kind, change) in events {
            p.apply(kind, change, at());
        }
        let mut rebuilt = Projection::new();
        for kind in Kind::ALL {
            let objects = listed.iter().find(|(k, _)| *k == kind).map(|(_, o)| o.clone()).unwrap_or_default();
            list(&mut rebuilt, kind, objects);
        }
        assert_eq!(p.pods_version(), version, "{name}: nodes and ordered kinds leave the pods version");
        assert_eq!(p.cluster().nodes, rebuilt.cluster().nodes, "{name}");
        assert_eq!(p.cluster().tiers, rebuilt.cluster().tiers, "{name}");
        assert_eq!(tiered_names(&mut p), tiered_names(&mut rebuilt), "{name}");
    }
}

fn sa_obj(ns: &str, name: &str, labels: &[(&str, &str)]) -> (Key, Option<Object>) {
    let sa = ServiceAccount {
        namespace: ns.into(),
        name: name.into(),
        labels: labels.iter().copied().collect(),
        origin: None,
    };
    ((ns.into(), name.into()), Some(Object::ServiceAccount(sa)))
}

/// The ServiceAccount labels of the pod `ns/name`.
fn sa_labels(p: &mut Projection, ns: &str, name: &str) -> Option<Labels> {
    let pod = p.cluster().pods.iter().find(|x| x.namespace == ns && x.name == name).expect("the pod");
    pod.service_account.labels.clone()
}

/// Every pod carries what [`Cluster::link_service_accounts`] would give it.
fn linked_as_a_rebuild(p: &mut Projection) {
    let mut relinked = p.cluster().clone();
    assert!(!relinked.link_service_accounts(), "the projection left a pod unlinked: {:?}", p.cluster().pods);
}

#[test]
fn a_service_account_lends_its_labels_to_its_pods_and_its_changes_bump_the_pods_version() {
    let mut p = Projection::new();
    for kind in Kind::ALL {
        list(&mut p, kind, vec![]);
    }
    let builder = Object::Pod(pod("a", "x").ip("10.0.0.1").service_account("builder").build());
    p.apply(Kind::Pods, Change::Apply(("a".into(), "x".into()), Some(builder.clone())), at());
    p.apply(Kind::Pods, put(pod_obj("a", "y", "10.0.0.2")), at());
    assert_eq!(sa_labels(&mut p, "a", "x"), None, "no such ServiceAccount yet");
    p.take_change();

    // The ServiceAccount appears: its pod takes its labels.
    let version = p.pods_version();
    p.apply(Kind::ServiceAccounts, put(sa_obj("a", "builder", &[("team", "a")])), at());
    assert_eq!(sa_labels(&mut p, "a", "x"), Some(Labels::from_iter([("team", "a")])));
    assert_eq!(sa_labels(&mut p, "a", "y"), None, "y runs as default");
    assert!(p.pods_version() > version);
    assert!(p.take_change().is_some());
    linked_as_a_rebuild(&mut p);

    // Relabelled: the pod follows, another pods version.
    let version = p.pods_version();
    p.apply(Kind::ServiceAccounts, put(sa_obj("a", "builder", &[("team", "b")])), at());
    assert_eq!(sa_labels(&mut p, "a", "x"), Some(Labels::from_iter([("team", "b")])));
    assert!(p.pods_version() > version);
    assert!(p.take_change().is_some());

    // The pod event again (as the API sends it, without labels): no change.
    let version = p.pods_version();
    p.apply(Kind::Pods, Change::Apply(("a".into(), "x".into()), Some(builder)), at());
    assert_eq!(sa_labels(&mut p, "a", "x"), Some(Labels::from_iter([("team", "b")])));
    assert_eq!(p.pods_version(), version);
    assert!(p.take_change().is_none());

    // A ServiceAccount no pod runs as, added and relabelled: the pods stay.
    p.apply(Kind::ServiceAccounts, put(sa_obj("a", "idle", &[("team", "c")])), at());
    p.apply(Kind::ServiceAccounts, put(sa_obj("a", "idle", &[("team", "d")])), at());
    p.apply(Kind::ServiceAccounts, put(sa_obj("b", "builder", &[("team", "e")])), at());
    assert_eq!(p.pods_version(), version, "no pod runs as these");
    assert!(p.take_change().is_none());
    assert_eq!(p.count(Kind::ServiceAccounts), 3);

    // A pod that arrives after its ServiceAccount takes its labels at once.
    let late = Object::Pod(pod("b", "z").ip("10.0.0.3").service_account("builder").build());
    p.apply(Kind::Pods, Change::Apply(("b".into(), "z".into()), Some(late)), at());
    assert_eq!(sa_labels(&mut p, "b", "z"), Some(Labels::from_iter([("team", "e")])));
    linked_as_a_rebuild(&mut p);

    // Deleted: its pods lose the labels.
    let version = p.pods_version();
    p.apply(Kind::ServiceAccounts, Change::Delete(("a".into(), "builder".into())), at());
    assert_eq!(sa_labels(&mut p, "a", "x"), None);
    assert!(p.pods_version() > version);
    assert!(p.take_change().is_some());
    linked_as_a_rebuild(&mut p);
}

#[test]
fn a_service_account_relist_relinks_once_and_refused_ones_keep_their_labels() {
    let mut p = Projection::new();
    for kind in Kind::ALL.into_iter().filter(|k| *k != Kind::ServiceAccounts) {
        list(&mut p, kind, vec![]);
    }
    let x = Object::Pod(pod("a", "x").ip("10.0.0.1").service_account("builder").build());
    p.apply(Kind::Pods, Change::Apply(("a".into(), "x".into()), Some(x)), at());
    // RBAC refuses ServiceAccounts: known and empty, the agent goes on.
    p.apply(Kind::ServiceAccounts, Change::Absent { empty: false }, at());
    assert!(p.ready());
    assert_eq!(sa_labels(&mut p, "a", "x"), None);
    // Granted later: the first whole list links the pods.
    p.take_change();
    let version = p.pods_version();
    list(&mut p, Kind::ServiceAccounts, vec![sa_obj("a", "builder", &[("team", "a")]), sa_obj("a", "default", &[])]);
    assert_eq!(sa_labels(&mut p, "a", "x"), Some(Labels::from_iter([("team", "a")])));
    assert_eq!(p.pods_version(), version + 1, "one relink for the whole list");
    assert!(p.take_change().is_some());
    // Refused again: what was listed stays (fail static).
    p.apply(Kind::ServiceAccounts, Change::Absent { empty: false }, at());
    assert_eq!(sa_labels(&mut p, "a", "x"), Some(Labels::from_iter([("team", "a")])));
    assert!(p.take_change().is_none());
    // A relist without it: gone at InitDone, not before.
    p.apply(Kind::ServiceAccounts, Change::Init, at());
    let (key, object) = sa_obj("a", "default", &[]);
    p.apply(Kind::ServiceAccounts, Change::InitApply(key, object), at());
    assert_eq!(sa_labels(&mut p, "a", "x"), Some(Labels::from_iter([("team", "a")])));
    p.apply(Kind::ServiceAccounts, Change::InitDone, at());
    assert_eq!(sa_labels(&mut p, "a", "x"), None);
    assert_eq!(p.count(Kind::ServiceAccounts), 1);
    linked_as_a_rebuild(&mut p);
}

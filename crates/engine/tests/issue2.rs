//! Regression tests from the review of issue 2 against upstream NetworkPolicy
//! semantics (docs/semantics.md names each in its section).

mod table;

use netpol_model::{Direction, Operator, Protocol, Requirement};
use netpol_testkit::*;
use table::*;

use Protocol::{Sctp, Tcp, Udp};

/// Review of issue 2 against upstream: a named port that several containers of
/// the destination declare. API validation only makes port names unique within
/// one container, so two containers may both declare `http`; kube-network-policies
/// (the SIG Network reference implementation) and Calico accept every declared
/// (name, protocol, number), not only the first.
#[test]
fn named_port_declared_by_several_containers() {
    let two = || {
        base()
            .pod(pod("x", "multi").label("pod", "m").ip("10.0.0.9").port("http", 80, Tcp).port("http", 8080, Tcp))
            .pod(pod("x", "mixed").label("pod", "m").ip("10.0.0.10").port("http", 80, Udp).port("http", 8080, Tcp))
    };
    let ingress = || two().policy(deny_ingress("x").ingress(rule().port(named_port("http", Tcp))));
    let egress = || two().policy(deny_egress("y").egress(rule().port(named_port("http", Tcp))));
    run(vec![
        case(
            "ingress: the first container's number",
            ingress(),
            ("y/a", "x/multi", Tcp, 80),
            true,
            "named port `http`/TCP is 80, 8080 on x/multi matches 80/TCP",
        ),
        case(
            "ingress: the second container's number",
            ingress(),
            ("y/a", "x/multi", Tcp, 8080),
            true,
            "named port `http`/TCP is 80, 8080 on x/multi matches 8080/TCP",
        ),
        case(
            "ingress: a number no container declares",
            ingress(),
            ("y/a", "x/multi", Tcp, 81),
            false,
            "rule allows named port `http`/TCP (80, 8080 on x/multi); flow is 81/TCP",
        ),
        case(
            "egress: every declared number of the destination (the peer)",
            egress(),
            ("y/a", "x/multi", Tcp, 8080),
            true,
            "named port `http`/TCP is 80, 8080 on x/multi",
        ),
        case(
            "the protocol still selects which declarations count",
            ingress(),
            ("y/a", "x/mixed", Tcp, 80),
            false,
            "rule allows named port `http`/TCP (8080 on x/mixed); flow is 80/TCP",
        ),
        case(
            "the declaration of the matching protocol counts",
            ingress(),
            ("y/a", "x/mixed", Tcp, 8080),
            true,
            "named port `http`/TCP is 8080 on x/mixed matches 8080/TCP",
        ),
    ]);
}

/// Review of issue 2 against upstream: a named port towards a hostNetwork pod.
/// Under the documented choice a hostNetwork pod is node traffic: the plugin
/// cannot tell it apart from its node (kube-network-policies leaves hostNetwork
/// pods out of its pod-by-IP index; Calico has no workload endpoint for them),
/// so its container port names are unknown to the dataplane and a named port
/// never matches it. Numbered ports still do.
#[test]
fn named_port_never_matches_a_host_network_destination() {
    let host = || {
        base()
            .pod(pod("x", "node-agent").label("pod", "a").ip("192.168.0.10").port("metrics", 9100, Tcp).host_network())
            .policy(deny_egress("y").egress(rule().port(named_port("metrics", Tcp))).egress(rule().port(tcp(9101))))
    };
    run(vec![
        case(
            "egress by name to a hostNetwork pod",
            host(),
            ("y/a", "x/node-agent", Tcp, 9100),
            false,
            "named port `metrics` never matches x/node-agent: a hostNetwork pod is node traffic, whose ports have no names",
        ),
        case(
            "egress to the same hostNetwork pod by IP",
            host(),
            ("y/a", "192.168.0.10", Tcp, 9100),
            false,
            "a hostNetwork pod is node traffic, whose ports have no names",
        ),
        case(
            "a numbered port still matches a hostNetwork pod",
            host(),
            ("y/a", "x/node-agent", Tcp, 9101),
            true,
            "9101/TCP matches 9101/TCP",
        ),
    ]);
}

/// Review of issue 2 against upstream: a workload endpoint (Deployment, ...) stands
/// for its pods, so `ns/web -> ns/web` is one replica reaching another, which
/// policies govern; only a pod reaching *itself* cannot be blocked.
#[test]
fn workload_to_itself_is_replica_to_replica() {
    let web = || base().pod(pod("x", "web").label("app", "web").workload(netpol_model::WorkloadKind::StatefulSet));
    run(vec![
        case(
            "default deny blocks replicas of one workload",
            web().policy(deny_ingress("x")),
            ("x/web", "x/web", Tcp, 80),
            false,
            "x/web is a StatefulSet: this flow is one of its pods reaching another",
        ),
        case(
            "a rule selecting the workload's own pods allows it",
            web().policy(deny_ingress("x").ingress(rule().from(pods(sel!("app" => "web"))))),
            ("x/web", "x/web", Tcp, 80),
            true,
            "podSelector app=web matches x/web",
        ),
        case(
            "a Pod is still always allowed to reach itself",
            web().policy(deny_ingress("x")),
            ("x/a", "x/a", Tcp, 80),
            true,
            "a pod can always reach itself",
        ),
    ]);
}

/// Review of issue 2 against upstream: the concepts page lists, among what
/// NetworkPolicy cannot do, blocking "access from their resident node". A
/// hostNetwork pod is node traffic, so one on the destination's node always
/// reaches it, whatever the destination's ingress policies say.
#[test]
fn host_network_pod_on_the_destination_node() {
    let nodes = || {
        cluster()
            .pod(pod("x", "a").label("pod", "a").ip("10.0.0.1").node("n1"))
            .pod(pod("x", "b").label("pod", "b").ip("10.0.0.2").node("n2"))
            .pod(pod("x", "agent-n1").ip("192.168.0.1").node("n1").host_network())
            .pod(pod("x", "agent-n2").ip("192.168.0.2").node("n2").host_network())
            .pod(pod("x", "agent-unknown").ip("192.168.0.3").host_network())
            .policy(deny_ingress("x"))
            .policy(deny_egress("x"))
    };
    run(vec![
        case(
            "from a hostNetwork pod on the destination's node",
            nodes(),
            ("x/agent-n1", "x/a", Tcp, 80),
            true,
            "x/agent-n1 is node traffic from n1, the node of x/a",
        ),
        case(
            "by the node's IP",
            nodes(),
            ("192.168.0.1", "x/a", Udp, 53),
            true,
            "pods cannot block access from their resident node",
        ),
        case(
            "from a hostNetwork pod on another node",
            nodes(),
            ("x/agent-n2", "x/a", Tcp, 80),
            false,
            "isolated for ingress by x/deny-ingress",
        ),
        case(
            "from a hostNetwork pod whose node is unknown",
            nodes(),
            ("x/agent-unknown", "x/a", Tcp, 80),
            false,
            "isolated for ingress by x/deny-ingress",
        ),
        case(
            "the other way (egress from the pod to its node) is still policed",
            nodes(),
            ("x/a", "x/agent-n1", Tcp, 80),
            false,
            "isolated for egress by x/deny-egress",
        ),
    ]);
}

/// Edge cases of issue 2 that already held; pinned down so they keep holding.
#[test]
fn upstream_edges_that_hold() {
    let req = |k: &str, op, v: &[&str]| Requirement::new(k, op, v.iter().copied());
    let dual = || {
        cluster()
            .pod(pod("x", "a").label("pod", "a").ip("10.0.0.1").ip("fd00::1"))
            .pod(pod("x", "b").label("pod", "b").ip("10.0.0.2").ip("fd00::2"))
    };
    run(vec![
        case(
            "policyTypes [Egress] with ingress rules: the ingress rules are ignored, egress is isolated",
            base().policy(policy("x", "p").types([Direction::Egress]).ingress(rule())),
            ("x/a", "y/a", Tcp, 80),
            false,
            "x/p: has no egress rules, so it allows no egress",
        ),
        case(
            "namespaceSelector NotIn on a key the namespace lacks matches it",
            base().policy(deny_ingress("x").ingress(rule().from(namespaces(sel!().with_expression(req(
                "team",
                Operator::NotIn,
                &["red"],
            )))))),
            ("y/a", "x/a", Tcp, 80),
            true,
            "namespaceSelector team notin (red) matches namespace y",
        ),
        case(
            "ipBlock except: first address of the except block is excluded",
            base().policy(deny_ingress("x").ingress(rule().from(ip_block("10.0.0.0/16", &["10.0.1.0/31"])))),
            ("10.0.1.0", "x/a", Tcp, 80),
            false,
            "excludes 10.0.1.0",
        ),
        case(
            "ipBlock except: the address right after the except block is allowed",
            base().policy(deny_ingress("x").ingress(rule().from(ip_block("10.0.0.0/16", &["10.0.1.0/31"])))),
            ("10.0.1.2", "x/a", Tcp, 80),
            true,
            "ipBlock 10.0.0.0/16 except 10.0.1.0/31 contains 10.0.1.2",
        ),
        case(
            "dual-stack pod named by its second IP is that pod, and the flow is IPv6",
            dual().policy(deny_ingress("x").ingress(rule().from(ip_block("fd00::/64", &[])))),
            ("fd00::2", "x/a", Tcp, 80),
            true,
            "fd00::2 is the IP of x/b",
        ),
        case(
            "dual-stack: an IPv4 block does not match the IPv6 address of the flow",
            dual().policy(deny_ingress("x").ingress(rule().from(ip_block("10.0.0.0/8", &[])))),
            ("fd00::2", "x/a", Tcp, 80),
            false,
            "does not contain fd00::2",
        ),
        case(
            "SCTP named port",
            base()
                .pod(pod("x", "s").ip("10.0.0.7").port("diameter", 3868, Sctp))
                .policy(deny_ingress("x").ingress(rule().port(named_port("diameter", Sctp)))),
            ("y/a", "x/s", Sctp, 3868),
            true,
            "named port `diameter`/SCTP is 3868 on x/s matches 3868/SCTP",
        ),
        case(
            "endPort equal to port is one port",
            base().policy(deny_ingress("x").ingress(rule().port(port_range(Tcp, 80, 80)))),
            ("y/a", "x/a", Tcp, 81),
            false,
            "rule allows 80-80/TCP; flow is 81/TCP",
        ),
        case(
            "a policy in another namespace never selects the pod, even with podSelector {}",
            base().policy(policy("y", "deny-all").types([Direction::Ingress, Direction::Egress])),
            ("x/a", "x/b", Tcp, 80),
            true,
            "not isolated for ingress: no policy in x selects x/b for Ingress",
        ),
    ]);
}

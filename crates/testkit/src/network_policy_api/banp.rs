//! The BaselineAdminNetworkPolicy tests (`conformance/tests/baseline-admin-network-policy-*.go`)
//! of network-policy-api v0.1.8, and their ClusterNetworkPolicy `tier: Baseline` ports
//! of v0.2.0 (`CNPBaselineTier*`): one table each, in the order of their files.

use netpol_model::Protocol::{Sctp, Tcp, Udp};

use super::*;

pub const ALL: &[&Test] = &[
    &EGRESS_NAMED_PORT,
    &EGRESS_NODE_PEERS,
    &INGRESS_NAMED_PORT,
    &EGRESS_INLINE_CIDR_PEERS,
    &EGRESS_SCTP,
    &EGRESS_TCP,
    &EGRESS_UDP,
    &GRESS,
    &INGRESS_SCTP,
    &INGRESS_TCP,
    &INGRESS_UDP,
];

/// The `#[test]` of each table at each tag (see [`network_policy_api_tests!`](crate::network_policy_api_tests)).
#[doc(hidden)]
#[macro_export]
macro_rules! __network_policy_api_banp_tests {
    ($check:path) => {
        $crate::__network_policy_api_tables! {
            $check, banp;
            EGRESS_NAMED_PORT => baseline_admin_network_policy_egress_named_port, cnp_baseline_tier_egress_named_port;
            EGRESS_NODE_PEERS => baseline_admin_network_policy_egress_node_peers, cnp_baseline_tier_egress_node_peers;
            INGRESS_NAMED_PORT => baseline_admin_network_policy_ingress_named_port, cnp_baseline_tier_ingress_named_port;
            EGRESS_INLINE_CIDR_PEERS => baseline_admin_network_policy_egress_inline_cidr_peers, cnp_baseline_tier_egress_inline_cidr_peers;
            EGRESS_SCTP => baseline_admin_network_policy_egress_sctp, cnp_baseline_tier_egress_sctp;
            EGRESS_TCP => baseline_admin_network_policy_egress_tcp, cnp_baseline_tier_egress_tcp;
            EGRESS_UDP => baseline_admin_network_policy_egress_udp, cnp_baseline_tier_egress_udp;
            GRESS => baseline_admin_network_policy_gress, cnp_baseline_tier_gress;
            INGRESS_SCTP => baseline_admin_network_policy_ingress_sctp, cnp_baseline_tier_ingress_sctp;
            INGRESS_TCP => baseline_admin_network_policy_ingress_tcp, cnp_baseline_tier_ingress_tcp;
            INGRESS_UDP => baseline_admin_network_policy_ingress_udp, cnp_baseline_tier_ingress_udp;
        }
    };
}

pub const EGRESS_NAMED_PORT: Test = Test {
    file: "baseline-admin-network-policy-experimental-egress-rules.go",
    short_names: ["BaselineAdminNetworkPolicyEgressNamedPort", "CNPBaselineTierEgressNamedPort"],
    upstream_pokes: 2,
    subtests: &[sub(
        "Should support an 'allow-egress' policy for named port",
        "baseline_admin_network_policy/standard-egress-udp-rules.named-port.yaml",
        &[Poke(CEDRIC_0, HARRY_1, Udp, 53, true), Poke(CEDRIC_1, HARRY_1, Udp, 5353, false)],
    )],
};

pub const EGRESS_NODE_PEERS: Test = Test {
    file: "baseline-admin-network-policy-experimental-egress-rules.go",
    short_names: ["BaselineAdminNetworkPolicyEgressNodePeers", "CNPBaselineTierEgressNodePeers"],
    upstream_pokes: 4,
    subtests: &[
        sub(
            "Should support an 'allow-egress' rule policy for egress-node-peer",
            "baseline_admin_network_policy/experimental-egress-selector-rules.yaml",
            &[
                Poke(HARRY_0, CENTAUR_1, Tcp, HOST_NETWORK_PORTS[0], true),
                Poke(HARRY_1, CENTAUR_1, Tcp, HOST_NETWORK_PORTS[1], true),
            ],
        ),
        sub(
            "Should support a 'deny-egress' rule policy for egress-node-peer",
            "baseline_admin_network_policy/experimental-egress-selector-rules.yaml",
            &[
                Poke(HARRY_1, CENTAUR_1, Udp, HOST_NETWORK_PORTS[4], false),
                Poke(HARRY_1, CENTAUR_1, Sctp, HOST_NETWORK_PORTS[6], false),
            ],
        ),
    ],
};

pub const INGRESS_NAMED_PORT: Test = Test {
    file: "baseline-admin-network-policy-experimental-ingress-rules.go",
    short_names: ["BaselineAdminNetworkPolicyIngressNamedPort", "CNPBaselineTierIngressNamedPort"],
    upstream_pokes: 2,
    subtests: &[sub(
        "Should support an 'allow-ingress' policy for named port",
        "baseline_admin_network_policy/standard-ingress-tcp-rules.named-port.yaml",
        &[Poke(CEDRIC_0, HARRY_1, Tcp, 80, true), Poke(CEDRIC_1, HARRY_1, Tcp, 8080, false)],
    )],
};

pub const EGRESS_INLINE_CIDR_PEERS: Test = Test {
    file: "baseline-admin-network-policy-standard-egress-inline-cidr-rules.go",
    short_names: ["BaselineAdminNetworkPolicyEgressInlineCIDRPeers", "CNPBaselineTierEgressInlineCIDRPeers"],
    upstream_pokes: 21,
    subtests: &[
        sub(
            "Should support a 'deny-egress' rule policy for egress-cidr-peer",
            "baseline_admin_network_policy/standard-egress-inline-cidr-rules.yaml",
            &[
                Poke(HARRY_1, LUNA_0, Tcp, 80, false),
                Poke(HARRY_1, LUNA_0, Udp, 53, false),
                Poke(HARRY_1, LUNA_0, Sctp, 9003, false),
                Poke(HARRY_1, CEDRIC_0, Tcp, 80, false),
                Poke(HARRY_1, CEDRIC_0, Udp, 53, false),
                Poke(HARRY_1, CEDRIC_0, Sctp, 9003, false),
                Poke(HARRY_1, DRACO_0, Tcp, 80, true),
                Poke(HARRY_1, DRACO_0, Udp, 53, true),
                Poke(HARRY_1, DRACO_0, Sctp, 9003, true),
            ],
        ),
        sub(
            "Should support an 'allow-egress' rule policy for egress-cidr-peer",
            "baseline_admin_network_policy/standard-egress-inline-cidr-rules.patch-1.yaml",
            &[
                Poke(HARRY_1, LUNA_0, Tcp, 80, true),
                Poke(HARRY_1, LUNA_0, Udp, 53, true),
                Poke(HARRY_1, LUNA_0, Sctp, 9003, true),
                Poke(HARRY_1, CEDRIC_0, Tcp, 80, true),
                Poke(HARRY_1, CEDRIC_0, Udp, 53, true),
                Poke(HARRY_1, CEDRIC_0, Sctp, 9003, true),
                Poke(HARRY_1, LUNA_1, Tcp, 80, false),
                Poke(HARRY_1, LUNA_1, Udp, 53, false),
                Poke(HARRY_1, LUNA_1, Sctp, 9003, false),
                Poke(HARRY_1, CEDRIC_1, Tcp, 80, false),
                Poke(HARRY_1, CEDRIC_1, Udp, 53, false),
                Poke(HARRY_1, CEDRIC_1, Sctp, 9003, false),
            ],
        ),
    ],
};

pub const EGRESS_SCTP: Test = Test {
    file: "baseline-admin-network-policy-standard-egress-sctp-rules.go",
    short_names: ["BaselineAdminNetworkPolicyEgressSCTP", "CNPBaselineTierEgressSCTP"],
    upstream_pokes: 8,
    subtests: &[
        sub(
            "Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-egress-sctp-rules.yaml",
            &[Poke(LUNA_0, HARRY_0, Sctp, 9003, true), Poke(LUNA_1, HARRY_0, Sctp, 9005, true)],
        ),
        sub(
            "Should support an 'allow-egress' policy for SCTP protocol at the specified port",
            "baseline_admin_network_policy/standard-egress-sctp-rules.yaml",
            &[Poke(LUNA_0, CEDRIC_1, Sctp, 9003, true), Poke(LUNA_1, CEDRIC_1, Sctp, 9005, false)],
        ),
        sub(
            "Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-egress-sctp-rules.patch-1.yaml",
            &[Poke(LUNA_0, HARRY_1, Sctp, 9003, false), Poke(LUNA_1, HARRY_1, Sctp, 9005, false)],
        ),
        sub(
            "Should support a 'deny-egress' policy for SCTP protocol at the specified port",
            "baseline_admin_network_policy/standard-egress-sctp-rules.patch-1.yaml",
            &[Poke(LUNA_0, DRACO_0, Sctp, 9003, false), Poke(LUNA_1, DRACO_0, Sctp, 9005, true)],
        ),
    ],
};

pub const EGRESS_TCP: Test = Test {
    file: "baseline-admin-network-policy-standard-egress-tcp-rules.go",
    short_names: ["BaselineAdminNetworkPolicyEgressTCP", "CNPBaselineTierEgressTCP"],
    upstream_pokes: 8,
    subtests: &[
        sub(
            "Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-egress-tcp-rules.yaml",
            &[Poke(HARRY_0, LUNA_0, Tcp, 80, true), Poke(HARRY_1, LUNA_0, Tcp, 8080, true)],
        ),
        sub(
            "Should support an 'allow-egress' policy for TCP protocol at the specified port",
            "baseline_admin_network_policy/standard-egress-tcp-rules.yaml",
            &[Poke(HARRY_0, CEDRIC_1, Tcp, 8080, true), Poke(HARRY_1, CEDRIC_1, Tcp, 80, false)],
        ),
        sub(
            "Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-egress-tcp-rules.patch-1.yaml",
            &[Poke(HARRY_0, LUNA_1, Tcp, 80, false), Poke(HARRY_1, LUNA_1, Tcp, 8080, false)],
        ),
        sub(
            "Should support a 'deny-egress' policy for TCP protocol at the specified port",
            "baseline_admin_network_policy/standard-egress-tcp-rules.patch-1.yaml",
            &[Poke(HARRY_0, DRACO_0, Tcp, 80, false), Poke(HARRY_1, DRACO_0, Tcp, 8080, true)],
        ),
    ],
};

pub const EGRESS_UDP: Test = Test {
    file: "baseline-admin-network-policy-standard-egress-udp-rules.go",
    short_names: ["BaselineAdminNetworkPolicyEgressUDP", "CNPBaselineTierEgressUDP"],
    upstream_pokes: 8,
    subtests: &[
        sub(
            "Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-egress-udp-rules.yaml",
            &[Poke(CEDRIC_0, LUNA_0, Udp, 53, true), Poke(CEDRIC_1, LUNA_0, Udp, 5353, true)],
        ),
        sub(
            "Should support an 'allow-egress' policy for UDP protocol at the specified port",
            "baseline_admin_network_policy/standard-egress-udp-rules.yaml",
            &[Poke(CEDRIC_0, HARRY_1, Udp, 53, true), Poke(CEDRIC_1, HARRY_1, Udp, 5353, false)],
        ),
        sub(
            "Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-egress-udp-rules.patch-1.yaml",
            &[Poke(CEDRIC_0, LUNA_1, Udp, 53, false), Poke(CEDRIC_1, LUNA_1, Udp, 5353, false)],
        ),
        sub(
            "Should support a 'deny-egress' policy for UDP protocol at the specified port",
            "baseline_admin_network_policy/standard-egress-udp-rules.patch-1.yaml",
            &[Poke(CEDRIC_0, DRACO_0, Udp, 5353, false), Poke(CEDRIC_1, DRACO_0, Udp, 53, true)],
        ),
    ],
};

pub const GRESS: Test = Test {
    file: "baseline-admin-network-policy-standard-gress-rules.go",
    short_names: ["BaselineAdminNetworkPolicyGress", "CNPBaselineTierGress"],
    upstream_pokes: 36,
    subtests: &[
        sub(
            "Should support an 'allow-gress' policy across different protocols",
            "baseline_admin_network_policy/standard-gress-rules-combined.yaml",
            &[
                Poke(HARRY_0, LUNA_0, Tcp, 80, true),
                Poke(HARRY_1, LUNA_0, Udp, 53, true),
                Poke(HARRY_0, LUNA_0, Sctp, 9003, true),
                Poke(LUNA_0, HARRY_0, Tcp, 80, true),
                Poke(LUNA_1, HARRY_0, Udp, 53, true),
                Poke(LUNA_1, HARRY_0, Sctp, 9003, true),
            ],
        ),
        sub(
            "Should support an 'allow-gress' policy across different protocols at the specified ports",
            "baseline_admin_network_policy/standard-gress-rules-combined.yaml",
            &[
                Poke(HARRY_0, CEDRIC_1, Tcp, 8080, true),
                Poke(HARRY_1, CEDRIC_1, Tcp, 80, false),
                Poke(HARRY_0, CEDRIC_1, Udp, 5353, true),
                Poke(HARRY_1, CEDRIC_1, Udp, 53, false),
                Poke(HARRY_0, CEDRIC_1, Sctp, 9003, true),
                Poke(HARRY_1, CEDRIC_1, Sctp, 9005, false),
                Poke(CEDRIC_0, HARRY_1, Tcp, 80, true),
                Poke(CEDRIC_1, HARRY_1, Tcp, 8080, false),
                Poke(CEDRIC_0, HARRY_1, Udp, 5353, true),
                Poke(CEDRIC_1, HARRY_1, Udp, 53, false),
                Poke(CEDRIC_0, HARRY_1, Sctp, 9003, true),
                Poke(CEDRIC_1, HARRY_1, Sctp, 9005, false),
            ],
        ),
        sub(
            "Should support an 'deny-gress' policy across different protocols",
            "baseline_admin_network_policy/standard-gress-rules-combined.patch-1.yaml",
            &[
                Poke(HARRY_0, LUNA_1, Tcp, 80, false),
                Poke(HARRY_1, LUNA_1, Udp, 53, false),
                Poke(HARRY_0, LUNA_1, Sctp, 9003, false),
                Poke(LUNA_0, HARRY_1, Tcp, 80, false),
                Poke(LUNA_1, HARRY_1, Udp, 53, false),
                Poke(LUNA_1, HARRY_1, Sctp, 9003, false),
            ],
        ),
        sub(
            "Should support a 'deny-gress' policy across different protocols at the specified ports",
            "baseline_admin_network_policy/standard-gress-rules-combined.patch-1.yaml",
            &[
                Poke(HARRY_0, DRACO_0, Tcp, 80, false),
                Poke(HARRY_1, DRACO_0, Tcp, 8080, true),
                Poke(HARRY_0, DRACO_0, Udp, 53, false),
                Poke(HARRY_1, DRACO_0, Udp, 5353, true),
                Poke(HARRY_0, DRACO_0, Sctp, 9003, false),
                Poke(HARRY_1, DRACO_0, Sctp, 9005, true),
                Poke(DRACO_0, HARRY_0, Tcp, 80, false),
                Poke(DRACO_1, HARRY_0, Tcp, 8080, true),
                Poke(DRACO_0, HARRY_0, Udp, 53, false),
                Poke(DRACO_1, HARRY_0, Udp, 5353, true),
                Poke(DRACO_0, HARRY_0, Sctp, 9003, false),
                Poke(DRACO_1, HARRY_0, Sctp, 9005, true),
            ],
        ),
    ],
};

pub const INGRESS_SCTP: Test = Test {
    file: "baseline-admin-network-policy-standard-ingress-sctp-rules.go",
    short_names: ["BaselineAdminNetworkPolicyIngressSCTP", "CNPBaselineTierIngressSCTP"],
    upstream_pokes: 8,
    subtests: &[
        sub(
            "Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-ingress-sctp-rules.yaml",
            &[Poke(HARRY_0, LUNA_0, Sctp, 9003, true), Poke(HARRY_1, LUNA_0, Sctp, 9005, true)],
        ),
        sub(
            "Should support an 'allow-ingress' policy for SCTP protocol at the specified port",
            "baseline_admin_network_policy/standard-ingress-sctp-rules.yaml",
            &[Poke(CEDRIC_0, LUNA_1, Sctp, 9003, true), Poke(CEDRIC_1, LUNA_1, Sctp, 9005, false)],
        ),
        sub(
            "Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-ingress-sctp-rules.patch-1.yaml",
            &[Poke(HARRY_0, LUNA_1, Sctp, 9003, false), Poke(HARRY_1, LUNA_1, Sctp, 9005, false)],
        ),
        sub(
            "Should support a 'deny-ingress' policy for SCTP protocol at the specified port",
            "baseline_admin_network_policy/standard-ingress-sctp-rules.patch-1.yaml",
            &[Poke(DRACO_0, LUNA_0, Sctp, 9003, false), Poke(DRACO_1, LUNA_0, Sctp, 9005, true)],
        ),
    ],
};

pub const INGRESS_TCP: Test = Test {
    file: "baseline-admin-network-policy-standard-ingress-tcp-rules.go",
    short_names: ["BaselineAdminNetworkPolicyIngressTCP", "CNPBaselineTierIngressTCP"],
    upstream_pokes: 8,
    subtests: &[
        sub(
            "Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-ingress-tcp-rules.yaml",
            &[Poke(LUNA_0, HARRY_0, Tcp, 80, true), Poke(LUNA_1, HARRY_0, Tcp, 8080, true)],
        ),
        sub(
            "Should support an 'allow-ingress' policy for TCP protocol at the specified port",
            "baseline_admin_network_policy/standard-ingress-tcp-rules.yaml",
            &[Poke(CEDRIC_0, HARRY_1, Tcp, 80, true), Poke(CEDRIC_1, HARRY_1, Tcp, 8080, false)],
        ),
        sub(
            "Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-ingress-tcp-rules.patch-1.yaml",
            &[Poke(LUNA_0, HARRY_1, Tcp, 80, false), Poke(LUNA_1, HARRY_1, Tcp, 8080, false)],
        ),
        sub(
            "Should support a 'deny-ingress' policy for TCP protocol at the specified port",
            "baseline_admin_network_policy/standard-ingress-tcp-rules.patch-1.yaml",
            &[Poke(DRACO_0, HARRY_0, Tcp, 80, false), Poke(DRACO_1, HARRY_0, Tcp, 8080, true)],
        ),
    ],
};

pub const INGRESS_UDP: Test = Test {
    file: "baseline-admin-network-policy-standard-ingress-udp-rules.go",
    short_names: ["BaselineAdminNetworkPolicyIngressUDP", "CNPBaselineTierIngressUDP"],
    upstream_pokes: 8,
    subtests: &[
        sub(
            "Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-ingress-udp-rules.yaml",
            &[Poke(LUNA_0, CEDRIC_0, Udp, 53, true), Poke(LUNA_1, CEDRIC_0, Udp, 5353, true)],
        ),
        sub(
            "Should support an 'allow-ingress' policy for UDP protocol at the specified port",
            "baseline_admin_network_policy/standard-ingress-udp-rules.yaml",
            &[Poke(HARRY_0, CEDRIC_1, Udp, 53, true), Poke(HARRY_1, CEDRIC_1, Udp, 5353, false)],
        ),
        sub(
            "Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected",
            "baseline_admin_network_policy/standard-ingress-udp-rules.patch-1.yaml",
            &[Poke(LUNA_0, CEDRIC_1, Udp, 53, false), Poke(LUNA_1, CEDRIC_1, Udp, 5353, false)],
        ),
        sub(
            "Should support a 'deny-ingress' policy for UDP protocol at the specified port",
            "baseline_admin_network_policy/standard-ingress-udp-rules.patch-1.yaml",
            &[Poke(DRACO_0, CEDRIC_0, Udp, 5353, false), Poke(DRACO_1, CEDRIC_0, Udp, 53, true)],
        ),
    ],
};

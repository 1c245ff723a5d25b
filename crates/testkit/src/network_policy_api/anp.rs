//! The AdminNetworkPolicy tests (`conformance/tests/admin-network-policy-*.go`) of
//! network-policy-api v0.1.8, and their ClusterNetworkPolicy `tier: Admin` ports of
//! v0.2.0 (`CNPAdminTier*`): one table each, in the order of their files.

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
    &INTEGRATION,
    &PRIORITY_FIELD,
];

/// The `#[test]` of each table at each tag (see [`network_policy_api_tests!`](crate::network_policy_api_tests)).
#[doc(hidden)]
#[macro_export]
macro_rules! __network_policy_api_anp_tests {
    ($check:path) => {
        $crate::__network_policy_api_tables! {
            $check, anp;
            EGRESS_NAMED_PORT => admin_network_policy_egress_named_port, cnp_admin_tier_egress_named_port;
            EGRESS_NODE_PEERS => admin_network_policy_egress_node_peers, cnp_admin_tier_egress_node_peers;
            INGRESS_NAMED_PORT => admin_network_policy_ingress_named_port, cnp_admin_tier_ingress_named_port;
            EGRESS_INLINE_CIDR_PEERS => admin_network_policy_egress_inline_cidr_peers, cnp_admin_tier_egress_inline_cidr_peers;
            EGRESS_SCTP => admin_network_policy_egress_sctp, cnp_admin_tier_egress_sctp;
            EGRESS_TCP => admin_network_policy_egress_tcp, cnp_admin_tier_egress_tcp;
            EGRESS_UDP => admin_network_policy_egress_udp, cnp_admin_tier_egress_udp;
            GRESS => admin_network_policy_gress, cnp_admin_tier_gress;
            INGRESS_SCTP => admin_network_policy_ingress_sctp, cnp_admin_tier_ingress_sctp;
            INGRESS_TCP => admin_network_policy_ingress_tcp, cnp_admin_tier_ingress_tcp;
            INGRESS_UDP => admin_network_policy_ingress_udp, cnp_admin_tier_ingress_udp;
            INTEGRATION => admin_network_policy_integration, cnp_admin_tier_integration;
            PRIORITY_FIELD => admin_network_policy_priority_field, cnp_admin_tier_priority_field;
        }
    };
}

pub const EGRESS_NAMED_PORT: Test = Test {
    file: "admin-network-policy-experimental-egress-rules.go",
    short_names: ["AdminNetworkPolicyEgressNamedPort", "CNPAdminTierEgressNamedPort"],
    upstream_pokes: 2,
    subtests: &[sub(
        "Should support an 'allow-egress' policy for named port",
        "admin_network_policy/standard-egress-tcp-rules.named-port.yaml",
        &[Poke(HARRY_0, CEDRIC_1, Tcp, 80, true), Poke(HARRY_1, CEDRIC_1, Tcp, 8080, false)],
    )],
};

pub const EGRESS_NODE_PEERS: Test = Test {
    file: "admin-network-policy-experimental-egress-rules.go",
    short_names: ["AdminNetworkPolicyEgressNodePeers", "CNPAdminTierEgressNodePeers"],
    upstream_pokes: 5,
    subtests: &[
        sub(
            "Should support an 'allow-egress' rule policy for egress-node-peer",
            "admin_network_policy/experimental-egress-selector-rules.yaml",
            &[Poke(HARRY_1, CENTAUR_1, Tcp, HOST_NETWORK_PORTS[0], true)],
        ),
        sub(
            "Should support a 'pass-egress' rule policy for egress-node-peer",
            "admin_network_policy/experimental-egress-selector-rules.yaml",
            &[Poke(HARRY_1, CENTAUR_1, Udp, HOST_NETWORK_PORTS[2], true)],
        ),
        sub(
            "Should support a 'deny-egress' rule policy for egress-node-peer",
            "admin_network_policy/experimental-egress-selector-rules.yaml",
            &[
                Poke(HARRY_1, CENTAUR_1, Tcp, HOST_NETWORK_PORTS[1], false),
                Poke(HARRY_1, CENTAUR_1, Udp, HOST_NETWORK_PORTS[4], false),
                Poke(HARRY_1, CENTAUR_1, Sctp, HOST_NETWORK_PORTS[6], false),
            ],
        ),
    ],
};

pub const INGRESS_NAMED_PORT: Test = Test {
    file: "admin-network-policy-experimental-ingress-rules.go",
    short_names: ["AdminNetworkPolicyIngressNamedPort", "CNPAdminTierIngressNamedPort"],
    upstream_pokes: 2,
    subtests: &[sub(
        "Should support an 'allow-ingress' policy for named port",
        "admin_network_policy/standard-ingress-udp-rules.named-port.yaml",
        &[Poke(HARRY_0, CEDRIC_1, Udp, 53, true), Poke(HARRY_1, CEDRIC_1, Udp, 5353, false)],
    )],
};

pub const EGRESS_INLINE_CIDR_PEERS: Test = Test {
    file: "admin-network-policy-standard-egress-inline-cidr-rules.go",
    short_names: ["AdminNetworkPolicyEgressInlineCIDRPeers", "CNPAdminTierEgressInlineCIDRPeers"],
    upstream_pokes: 21,
    subtests: &[
        sub(
            "Should support a 'deny-egress' rule policy for egress-cidr-peer",
            "admin_network_policy/standard-egress-inline-cidr-rules.yaml",
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
            "admin_network_policy/standard-egress-inline-cidr-rules.patch-1.yaml",
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
    file: "admin-network-policy-standard-egress-sctp-rules.go",
    short_names: ["AdminNetworkPolicyEgressSCTP", "CNPAdminTierEgressSCTP"],
    upstream_pokes: 12,
    subtests: &[
        sub(
            "Should support an 'allow-egress' policy for SCTP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-sctp-rules.yaml",
            &[Poke(LUNA_0, HARRY_0, Sctp, 9003, true), Poke(LUNA_1, HARRY_0, Sctp, 9005, true)],
        ),
        sub(
            "Should support an 'allow-egress' policy for SCTP protocol at the specified port",
            "admin_network_policy/standard-egress-sctp-rules.yaml",
            &[Poke(LUNA_0, CEDRIC_1, Sctp, 9003, true), Poke(LUNA_1, CEDRIC_1, Sctp, 9005, false)],
        ),
        sub(
            "Should support an 'deny-egress' policy for SCTP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-sctp-rules.patch-1.yaml",
            &[Poke(LUNA_0, HARRY_1, Sctp, 9003, false), Poke(LUNA_1, HARRY_1, Sctp, 9005, false)],
        ),
        sub(
            "Should support a 'deny-egress' policy for SCTP protocol at the specified port",
            "admin_network_policy/standard-egress-sctp-rules.patch-1.yaml",
            &[Poke(LUNA_0, DRACO_0, Sctp, 9003, false), Poke(LUNA_1, DRACO_0, Sctp, 9005, true)],
        ),
        sub(
            "Should support an 'pass-egress' policy for SCTP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-sctp-rules.patch-2.yaml",
            &[Poke(LUNA_0, HARRY_1, Sctp, 9003, true), Poke(LUNA_1, HARRY_1, Sctp, 9005, true)],
        ),
        sub(
            "Should support a 'pass-egress' policy for SCTP protocol at the specified port",
            "admin_network_policy/standard-egress-sctp-rules.patch-3.yaml",
            &[Poke(LUNA_0, DRACO_0, Sctp, 9003, true), Poke(LUNA_1, DRACO_0, Sctp, 9005, true)],
        ),
    ],
};

pub const EGRESS_TCP: Test = Test {
    file: "admin-network-policy-standard-egress-tcp-rules.go",
    short_names: ["AdminNetworkPolicyEgressTCP", "CNPAdminTierEgressTCP"],
    upstream_pokes: 12,
    subtests: &[
        sub(
            "Should support an 'allow-egress' policy for TCP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-tcp-rules.yaml",
            &[Poke(HARRY_0, LUNA_0, Tcp, 80, true), Poke(HARRY_1, LUNA_0, Tcp, 8080, true)],
        ),
        sub(
            "Should support an 'allow-egress' policy for TCP protocol at the specified port",
            "admin_network_policy/standard-egress-tcp-rules.yaml",
            &[Poke(HARRY_0, CEDRIC_1, Tcp, 8080, true), Poke(HARRY_1, CEDRIC_1, Tcp, 80, false)],
        ),
        sub(
            "Should support an 'deny-egress' policy for TCP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-tcp-rules.patch-1.yaml",
            &[Poke(HARRY_0, LUNA_1, Tcp, 80, false), Poke(HARRY_1, LUNA_1, Tcp, 8080, false)],
        ),
        sub(
            "Should support a 'deny-egress' policy for TCP protocol at the specified port",
            "admin_network_policy/standard-egress-tcp-rules.patch-1.yaml",
            &[Poke(HARRY_0, DRACO_0, Tcp, 80, false), Poke(HARRY_1, DRACO_0, Tcp, 8080, true)],
        ),
        sub(
            "Should support an 'pass-egress' policy for TCP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-tcp-rules.patch-2.yaml",
            &[Poke(HARRY_0, LUNA_0, Tcp, 80, true), Poke(HARRY_1, LUNA_0, Tcp, 8080, true)],
        ),
        sub(
            "Should support a 'pass-egress' policy for TCP protocol at the specified port",
            "admin_network_policy/standard-egress-tcp-rules.patch-3.yaml",
            &[Poke(HARRY_0, DRACO_0, Tcp, 80, true), Poke(HARRY_1, DRACO_0, Tcp, 8080, true)],
        ),
    ],
};

pub const EGRESS_UDP: Test = Test {
    file: "admin-network-policy-standard-egress-udp-rules.go",
    short_names: ["AdminNetworkPolicyEgressUDP", "CNPAdminTierEgressUDP"],
    upstream_pokes: 12,
    subtests: &[
        sub(
            "Should support an 'allow-egress' policy for UDP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-udp-rules.yaml",
            &[Poke(CEDRIC_0, LUNA_0, Udp, 53, true), Poke(CEDRIC_1, LUNA_0, Udp, 5353, true)],
        ),
        sub(
            "Should support an 'allow-egress' policy for UDP protocol at the specified port",
            "admin_network_policy/standard-egress-udp-rules.yaml",
            &[Poke(CEDRIC_0, HARRY_1, Udp, 53, true), Poke(CEDRIC_1, HARRY_1, Udp, 5353, false)],
        ),
        sub(
            "Should support an 'deny-egress' policy for UDP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-udp-rules.patch-1.yaml",
            &[Poke(CEDRIC_0, LUNA_1, Udp, 53, false), Poke(CEDRIC_1, LUNA_1, Udp, 5353, false)],
        ),
        sub(
            "Should support a 'deny-egress' policy for UDP protocol at the specified port",
            "admin_network_policy/standard-egress-udp-rules.patch-1.yaml",
            &[Poke(CEDRIC_0, DRACO_0, Udp, 5353, false), Poke(CEDRIC_1, DRACO_0, Udp, 53, true)],
        ),
        sub(
            "Should support an 'pass-egress' policy for UDP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-egress-udp-rules.patch-2.yaml",
            &[Poke(CEDRIC_0, LUNA_1, Udp, 5353, true), Poke(CEDRIC_1, LUNA_1, Udp, 53, true)],
        ),
        sub(
            "Should support a 'pass-egress' policy for UDP protocol at the specified port",
            "admin_network_policy/standard-egress-udp-rules.patch-3.yaml",
            &[Poke(CEDRIC_0, DRACO_0, Udp, 5353, true), Poke(CEDRIC_1, DRACO_0, Udp, 53, true)],
        ),
    ],
};

pub const GRESS: Test = Test {
    file: "admin-network-policy-standard-gress-rules.go",
    short_names: ["AdminNetworkPolicyGress", "CNPAdminTierGress"],
    upstream_pokes: 54,
    subtests: &[
        sub(
            "Should support an 'allow-gress' policy across different protocols",
            "admin_network_policy/standard-gress-rules-combined.yaml",
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
            "admin_network_policy/standard-gress-rules-combined.yaml",
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
            "admin_network_policy/standard-gress-rules-combined.patch-1.yaml",
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
            "admin_network_policy/standard-gress-rules-combined.patch-1.yaml",
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
        sub(
            "Should support an 'pass-gress' policy across different protocols",
            "admin_network_policy/standard-gress-rules-combined.patch-2.yaml",
            &[
                Poke(HARRY_0, LUNA_0, Tcp, 80, true),
                Poke(HARRY_0, LUNA_0, Udp, 5353, true),
                Poke(HARRY_0, LUNA_0, Sctp, 9003, true),
                Poke(LUNA_0, HARRY_0, Tcp, 80, true),
                Poke(LUNA_1, HARRY_0, Udp, 53, true),
                Poke(LUNA_1, HARRY_0, Sctp, 9003, true),
            ],
        ),
        sub(
            "Should support a 'pass-gress' policy across different protocols at the specified ports",
            "admin_network_policy/standard-gress-rules-combined.patch-3.yaml",
            &[
                Poke(HARRY_0, DRACO_0, Tcp, 80, true),
                Poke(HARRY_1, DRACO_0, Tcp, 8080, true),
                Poke(HARRY_0, DRACO_0, Udp, 53, true),
                Poke(HARRY_1, DRACO_0, Udp, 5353, true),
                Poke(HARRY_0, DRACO_0, Sctp, 9003, true),
                Poke(HARRY_1, DRACO_0, Sctp, 9005, true),
                Poke(DRACO_0, HARRY_0, Tcp, 80, true),
                Poke(DRACO_1, HARRY_0, Tcp, 8080, true),
                Poke(DRACO_0, HARRY_0, Udp, 53, true),
                Poke(DRACO_1, HARRY_0, Udp, 5353, true),
                Poke(DRACO_0, HARRY_0, Sctp, 9003, true),
                Poke(DRACO_1, HARRY_0, Sctp, 9005, true),
            ],
        ),
    ],
};

pub const INGRESS_SCTP: Test = Test {
    file: "admin-network-policy-standard-ingress-sctp-rules.go",
    short_names: ["AdminNetworkPolicyIngressSCTP", "CNPAdminTierIngressSCTP"],
    upstream_pokes: 12,
    subtests: &[
        sub(
            "Should support an 'allow-ingress' policy for SCTP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-sctp-rules.yaml",
            &[Poke(HARRY_0, LUNA_0, Sctp, 9003, true), Poke(HARRY_1, LUNA_0, Sctp, 9005, true)],
        ),
        sub(
            "Should support an 'allow-ingress' policy for SCTP protocol at the specified port",
            "admin_network_policy/standard-ingress-sctp-rules.yaml",
            &[Poke(CEDRIC_0, LUNA_1, Sctp, 9003, true), Poke(CEDRIC_1, LUNA_1, Sctp, 9005, false)],
        ),
        sub(
            "Should support an 'deny-ingress' policy for SCTP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-sctp-rules.patch-1.yaml",
            &[Poke(HARRY_0, LUNA_1, Sctp, 9003, false), Poke(HARRY_1, LUNA_1, Sctp, 9005, false)],
        ),
        sub(
            "Should support a 'deny-ingress' policy for SCTP protocol at the specified port",
            "admin_network_policy/standard-ingress-sctp-rules.patch-1.yaml",
            &[Poke(DRACO_0, LUNA_0, Sctp, 9003, false), Poke(DRACO_1, LUNA_0, Sctp, 9005, true)],
        ),
        sub(
            "Should support an 'pass-ingress' policy for SCTP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-sctp-rules.patch-2.yaml",
            &[Poke(HARRY_0, LUNA_1, Sctp, 9003, true), Poke(HARRY_1, LUNA_1, Sctp, 9005, true)],
        ),
        sub(
            "Should support a 'pass-ingress' policy for SCTP protocol at the specified port",
            "admin_network_policy/standard-ingress-sctp-rules.patch-3.yaml",
            &[Poke(DRACO_0, LUNA_0, Sctp, 9003, true), Poke(DRACO_1, LUNA_0, Sctp, 9005, true)],
        ),
    ],
};

pub const INGRESS_TCP: Test = Test {
    file: "admin-network-policy-standard-ingress-tcp-rules.go",
    short_names: ["AdminNetworkPolicyIngressTCP", "CNPAdminTierIngressTCP"],
    upstream_pokes: 12,
    subtests: &[
        sub(
            "Should support an 'allow-ingress' policy for TCP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-tcp-rules.yaml",
            &[Poke(LUNA_0, HARRY_0, Tcp, 80, true), Poke(LUNA_1, HARRY_0, Tcp, 8080, true)],
        ),
        sub(
            "Should support an 'allow-ingress' policy for TCP protocol at the specified port",
            "admin_network_policy/standard-ingress-tcp-rules.yaml",
            &[Poke(CEDRIC_0, HARRY_1, Tcp, 80, true), Poke(CEDRIC_1, HARRY_1, Tcp, 8080, false)],
        ),
        sub(
            "Should support an 'deny-ingress' policy for TCP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-tcp-rules.patch-1.yaml",
            &[Poke(LUNA_0, HARRY_1, Tcp, 80, false), Poke(LUNA_1, HARRY_1, Tcp, 8080, false)],
        ),
        sub(
            "Should support a 'deny-ingress' policy for TCP protocol at the specified port",
            "admin_network_policy/standard-ingress-tcp-rules.patch-1.yaml",
            &[Poke(DRACO_0, HARRY_0, Tcp, 80, false), Poke(DRACO_1, HARRY_0, Tcp, 8080, true)],
        ),
        sub(
            "Should support an 'pass-ingress' policy for TCP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-tcp-rules.patch-2.yaml",
            &[Poke(LUNA_0, HARRY_0, Tcp, 80, true), Poke(LUNA_1, HARRY_0, Tcp, 8080, true)],
        ),
        sub(
            "Should support a 'pass-ingress' policy for TCP protocol at the specified port",
            "admin_network_policy/standard-ingress-tcp-rules.patch-3.yaml",
            &[Poke(DRACO_0, HARRY_0, Tcp, 80, true), Poke(DRACO_1, HARRY_0, Tcp, 8080, true)],
        ),
    ],
};

pub const INGRESS_UDP: Test = Test {
    file: "admin-network-policy-standard-ingress-udp-rules.go",
    short_names: ["AdminNetworkPolicyIngressUDP", "CNPAdminTierIngressUDP"],
    upstream_pokes: 12,
    subtests: &[
        sub(
            "Should support an 'allow-ingress' policy for UDP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-udp-rules.yaml",
            &[Poke(LUNA_0, CEDRIC_0, Udp, 53, true), Poke(LUNA_1, CEDRIC_0, Udp, 5353, true)],
        ),
        sub(
            "Should support an 'allow-ingress' policy for UDP protocol at the specified port",
            "admin_network_policy/standard-ingress-udp-rules.yaml",
            &[Poke(HARRY_0, CEDRIC_1, Udp, 53, true), Poke(HARRY_1, CEDRIC_1, Udp, 5353, false)],
        ),
        sub(
            "Should support an 'deny-ingress' policy for UDP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-udp-rules.patch-1.yaml",
            &[Poke(LUNA_0, CEDRIC_1, Udp, 53, false), Poke(LUNA_1, CEDRIC_1, Udp, 5353, false)],
        ),
        sub(
            "Should support a 'deny-ingress' policy for UDP protocol at the specified port",
            "admin_network_policy/standard-ingress-udp-rules.patch-1.yaml",
            &[Poke(DRACO_0, CEDRIC_0, Udp, 5353, false), Poke(DRACO_1, CEDRIC_0, Udp, 53, true)],
        ),
        sub(
            "Should support an 'pass-ingress' policy for UDP protocol; ensure rule ordering is respected",
            "admin_network_policy/standard-ingress-udp-rules.patch-2.yaml",
            &[Poke(LUNA_0, CEDRIC_1, Udp, 5353, true), Poke(LUNA_1, CEDRIC_1, Udp, 53, true)],
        ),
        sub(
            "Should support a 'pass-ingress' policy for UDP protocol at the specified port",
            "admin_network_policy/standard-ingress-udp-rules.patch-3.yaml",
            &[Poke(DRACO_0, CEDRIC_0, Udp, 5353, true), Poke(DRACO_1, CEDRIC_0, Udp, 53, true)],
        ),
    ],
};

pub const INTEGRATION: Test = Test {
    file: "admin-network-policy-standard-integration.go",
    short_names: ["AdminNetworkPolicyIntegration", "CNPAdminTierIntegration"],
    upstream_pokes: 12,
    subtests: &[
        sub(
            "Should Deny traffic from slytherin to gryffindor respecting ANP",
            "api_integration/standard-anp-np-banp.yaml",
            &[
                Poke(DRACO_0, HARRY_0, Tcp, 80, false),
                Poke(DRACO_1, HARRY_0, Tcp, 8080, false),
            ],
        )
        .renamed("Should Deny traffic from slytherin to gryffindor respecting admin CNP"),
        sub(
            "Should Deny traffic to slytherin from gryffindor respecting ANP",
            "api_integration/standard-anp-np-banp.yaml",
            &[
                Poke(HARRY_0, DRACO_0, Tcp, 80, false),
                Poke(HARRY_1, DRACO_0, Tcp, 8080, false),
            ],
        )
        .renamed("Should Deny traffic to slytherin from gryffindor respecting admin CNP"),
        sub(
            "Should support a 'pass-ingress' policy for ANP and respect the match for network policy",
            "api_integration/standard-anp-np-banp.patch-1.yaml",
            &[
                Poke(DRACO_0, HARRY_0, Tcp, 80, true),
                Poke(DRACO_1, HARRY_0, Tcp, 8080, true),
            ],
        )
        .renamed("Should support a 'pass-ingress' policy for admin CNP and respect the match for network policy"),
        sub(
            "Should support a 'pass-egress' policy for ANP and respect the match for network policy",
            "api_integration/standard-anp-np-banp.patch-2.yaml",
            &[
                Poke(HARRY_0, DRACO_0, Tcp, 80, true),
                Poke(HARRY_1, DRACO_0, Tcp, 8080, true),
            ],
        )
        .renamed("Should support a 'pass-egress' policy for admin CNP and respect the match for network policy"),
        sub(
            "Should support a 'pass-ingress' policy for ANP and respect the match for baseline admin network policy",
            "api_integration/standard-anp-np-banp.patch-2.np-deleted.yaml",
            &[
                Poke(DRACO_0, HARRY_0, Tcp, 80, false),
                Poke(DRACO_1, HARRY_0, Tcp, 8080, false),
            ],
        )
        .renamed("Should support a 'pass-ingress' policy for admin CNP and respect the match for baseline cluster network policy"),
        sub(
            "Should support a 'pass-egress' policy for ANP and respect the match for baseline admin network policy",
            "api_integration/standard-anp-np-banp.patch-2.np-deleted.yaml",
            &[
                Poke(HARRY_0, DRACO_0, Tcp, 80, false),
                Poke(HARRY_1, DRACO_0, Tcp, 8080, false),
            ],
        )
        .renamed("Should support a 'pass-egress' policy for admin CNP and respect the match for baseline cluster network policy"),
    ],
};

pub const PRIORITY_FIELD: Test = Test {
    file: "admin-network-policy-standard-priority.go",
    short_names: ["AdminNetworkPolicyPriorityField", "CNPAdminTierPriorityField"],
    upstream_pokes: 8,
    subtests: &[
        sub(
            "Should Deny traffic from slytherin to gryffindor respecting ANP",
            "admin_network_policy/standard-priority-field.yaml",
            &[
                Poke(DRACO_0, HARRY_0, Tcp, 80, false),
                Poke(DRACO_1, HARRY_0, Tcp, 8080, false),
            ],
        )
        .renamed("Should Deny traffic from slytherin to gryffindor respecting admin CNP"),
        sub(
            "Should Deny traffic to slytherin from gryffindor respecting ANP",
            "admin_network_policy/standard-priority-field.yaml",
            &[
                Poke(HARRY_0, DRACO_0, Tcp, 80, false),
                Poke(HARRY_1, DRACO_0, Tcp, 8080, false),
            ],
        )
        .renamed("Should Deny traffic to slytherin from gryffindor respecting admin CNP"),
        sub(
            "Should respect ANP priority field; thus passing both ingress and egress traffic over to BANP",
            "admin_network_policy/standard-priority-field.patch-1.yaml",
            &[
                Poke(DRACO_0, HARRY_0, Tcp, 80, true),
                Poke(DRACO_1, HARRY_0, Tcp, 8080, true),
                Poke(HARRY_0, DRACO_0, Tcp, 80, true),
                Poke(HARRY_1, DRACO_0, Tcp, 8080, true),
            ],
        )
        .renamed("Should respect admin CNP priority field; thus passing both ingress and egress traffic over to baseline CNP"),
    ],
};

//! Scenarios that more than one test replays, each through its own path:
//!
//! - the seed 000 walkthrough ([`SEED_000`]): its ten steps, the change a
//!   person makes with kubectl to get from one to the next, and what the seed
//!   reports for five connections ([`SEED_000_CONNECTIONS`]). The file-driven
//!   lab (`crates/lab/tests/walkthrough.rs`) applies each step's folder; the
//!   lab with an API (`crates/cli/tests/lab_api.rs`) makes each change with
//!   the real kubectl;
//! - policy churn ([`churn_pods`], [`churn_policy_sets`]): policy sets that
//!   all deny one pair while another pair flips, applied in a loop by the lab
//!   itself (`crates/lab/tests/policy_churn.rs`) and through the API by kubectl.
//!
//! ```
//! use netpol_testkit::scenarios::{Change, SEED_000};
//!
//! assert_eq!(SEED_000[3].dir, "step-04-backend-ingress");
//! assert_eq!(SEED_000[3].change, Change::Apply("backend.yaml"));
//! // "By IP works, by name does not" before the DNS rule.
//! assert_eq!(SEED_000[3].want[..2], [false, true]);
//! ```

use std::path::PathBuf;

use netpol_model::{Cluster, Direction, PodKey, Protocol};

use crate::{cluster, ip_block, namespace, pod, pods, policy, rule, tcp, ClusterBuilder};

/// How one walkthrough step is reached from the one before, with kubectl.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The first step: the cluster as it starts (`lab up -f` of the folder).
    Start,
    /// `kubectl apply -f <step folder>/<file>`: a new or changed policy.
    Apply(&'static str),
    /// `kubectl label ns NAMESPACE KEY=VALUE`.
    Label { namespace: &'static str, key: &'static str, value: &'static str },
    /// `kubectl edit ns NAMESPACE`, adding the label `KEY: VALUE`.
    Edit { namespace: &'static str, key: &'static str, value: &'static str },
}

/// One step of the seed 000 walkthrough.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// The folder under `examples/seed-000-walkthrough` holding the step's whole state.
    pub dir: &'static str,
    pub change: Change,
    /// What each of [`SEED_000_CONNECTIONS`] does at this step (true: connected).
    pub want: [bool; 5],
}

/// The connections the seed asks about, `(from, target)` as `netpol lab
/// connect` takes them: frontend -> backend by name, by IP; backend ->
/// frontend by name; frontend -> kube-dns on 53/UDP; backend -> cassandra by IP.
pub const SEED_000_CONNECTIONS: [(&str, &str); 5] = [
    ("default/frontend", "backend"),
    ("default/frontend", "10.44.0.2"),
    ("default/backend", "frontend"),
    ("default/frontend", "10.44.0.10:53/UDP"),
    ("default/backend", "10.44.0.3"),
];

/// What the walkthrough probes at every step: 80/TCP and DNS (53/UDP, 53/TCP).
pub const SEED_000_TARGETS: [(u16, Protocol); 3] = [(80, Protocol::Tcp), (53, Protocol::Udp), (53, Protocol::Tcp)];

/// The seed 000 walkthrough, step by step (see the examples folder's README).
pub const SEED_000: [Step; 10] = [
    Step { dir: "step-01-no-policies", change: Change::Start, want: [true, true, true, true, true] },
    Step {
        dir: "step-02-default-deny",
        change: Change::Apply("default-deny.yaml"),
        want: [false, false, false, false, false],
    },
    Step {
        dir: "step-03-frontend-egress",
        change: Change::Apply("frontend.yaml"),
        want: [false, false, false, false, false],
    },
    // "by IP works, by name does not": DNS egress is still denied.
    Step {
        dir: "step-04-backend-ingress",
        change: Change::Apply("backend.yaml"),
        want: [false, true, false, false, false],
    },
    Step {
        dir: "step-05-dns-allowed",
        change: Change::Apply("default-deny.yaml"),
        want: [true, true, false, true, false],
    },
    Step {
        dir: "step-06-backend-egress-cassandra",
        change: Change::Apply("backend.yaml"),
        want: [true, true, false, true, false],
    },
    Step {
        dir: "step-07-cassandra-labelled",
        change: Change::Label { namespace: "cassandra", key: "ns", value: "cassandra" },
        want: [true, true, false, true, true],
    },
    Step {
        dir: "step-08-cassandra-deny",
        change: Change::Apply("cassandra-deny.yaml"),
        want: [true, true, false, true, false],
    },
    Step {
        dir: "step-09-cassandra-ingress",
        change: Change::Apply("cassandra.yaml"),
        want: [true, true, false, true, false],
    },
    Step {
        dir: "step-10-default-labelled",
        change: Change::Edit { namespace: "default", key: "ns", value: "default" },
        want: [true, true, false, true, true],
    },
];

impl Step {
    /// The step's folder: `examples/seed-000-walkthrough/<dir>`.
    pub fn path(&self) -> PathBuf {
        seed_000_step(self.dir)
    }
}

/// The folder of one step of the seed 000 walkthrough,
/// `examples/seed-000-walkthrough/<dir>` (e.g. `step-04-backend-ingress`).
pub fn seed_000_step(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/seed-000-walkthrough").join(dir)
}

/// The churn scenario's pods: x/a, x/b, x/c (10.244.1.11-13), each serving 80/TCP and 80/UDP.
pub fn churn_pods() -> ClusterBuilder {
    let mut c = cluster().namespace(namespace("x").label("ns", "x"));
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        c = c.pod(
            pod("x", name).label("pod", name).ip(&format!("10.244.1.{}", 11 + i)).port("http", 80, Protocol::Tcp).port(
                "dns-ish",
                80,
                Protocol::Udp,
            ),
        );
    }
    c
}

/// The pair every churn policy set denies (80/TCP and 80/UDP): x/a -> x/b.
pub fn churn_denied() -> (PodKey, PodKey) {
    (PodKey::new("x", "a"), PodKey::new("x", "b"))
}

/// The pair that flips: x/c -> x/b on 80/TCP.
pub fn churn_flipping() -> (PodKey, PodKey) {
    (PodKey::new("x", "c"), PodKey::new("x", "b"))
}

/// `(name, cluster, whether x/c reaches x/b on 80/TCP)`: every set denies
/// x/a -> x/b on 80 (TCP and UDP); x/c -> x/b alternates. Applied in order
/// (each apply removing the policies the next set does not have), every
/// state in between denies x/a -> x/b too: each set protects x/b by itself.
pub fn churn_policy_sets() -> Vec<(&'static str, Cluster, bool)> {
    vec![
        (
            "b admits c only",
            churn_pods()
                .policy(policy("x", "b").select(sel!("pod" => "b")).ingress(rule().from(pods(sel!("pod" => "c")))))
                .build(),
            true,
        ),
        (
            "default deny all",
            churn_pods().policy(policy("x", "deny").types([Direction::Ingress, Direction::Egress])).build(),
            false,
        ),
        (
            "b admits the /24 except a",
            churn_pods()
                .policy(
                    policy("x", "b")
                        .select(sel!("pod" => "b"))
                        .ingress(rule().from(ip_block("10.244.1.0/24", &["10.244.1.11/32"]))),
                )
                .build(),
            true,
        ),
        (
            "a may only send to c",
            churn_pods()
                .policy(
                    policy("x", "a")
                        .select(sel!("pod" => "a"))
                        .types([Direction::Egress])
                        .egress(rule().to(pods(sel!("pod" => "c")))),
                )
                .policy(
                    policy("x", "b")
                        .select(sel!("pod" => "b"))
                        .ingress(rule().from(pods(sel!("pod" => "a"))).port(tcp(81))),
                )
                .build(),
            false,
        ),
    ]
}

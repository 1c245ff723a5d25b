//! The seeds' walkthroughs with real packets and DNS: at every step, what a
//! pod observes (`connect` by name and by IP, and a full probe) equals the
//! engine's prediction, and equals what the seed reports.

mod labkit;

use std::path::{Path, PathBuf};
use std::time::Duration;

use netpol_lab::{Lab, LabOptions, Target};
use netpol_manifest::LoadOptions;
use netpol_model::{Cluster, PodKey, Protocol};
use netpol_testkit::require_privileged;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn load(dir: &Path) -> Cluster {
    let sources = netpol_input::read_paths(&[dir.to_path_buf()]).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let loaded =
        netpol_manifest::load(sources.iter().map(|s| (s.name.as_str(), s.text.as_str())), &LoadOptions::default());
    assert!(!loaded.has_errors(), "{}: {:?}", dir.display(), loaded.diagnostics);
    loaded.cluster
}

/// Connects, checks the result against the engine, and returns whether it connected.
fn connect(lab: &Lab, from: &str, target: &str) -> bool {
    let src: PodKey = from.parse().unwrap();
    let target: Target = target.parse().unwrap();
    let c =
        lab.connect(&src, &target, Duration::from_millis(1500)).unwrap_or_else(|e| panic!("{from} -> {target}: {e}"));
    let p = lab.predict(&c).unwrap();
    if let (Some(resolution), Some(dns_allowed)) = (&c.resolution, p.dns) {
        assert_eq!(resolution.answer.is_some(), dns_allowed, "DNS for {c}: engine says {dns_allowed}");
    }
    if let (Some(outcome), Some(allowed)) = (&c.outcome, p.connection) {
        assert_eq!(outcome.reached(), allowed, "{c}: engine says allowed={allowed}");
    }
    c.connected()
}

struct Step {
    dir: &'static str,
    /// frontend->backend by name, by IP; backend->frontend by name;
    /// frontend->kube-dns 53/UDP; backend->cassandra by IP.
    want: [bool; 5],
}

#[test]
fn seed_000_walkthrough_step_by_step() {
    require_privileged!();
    let steps = [
        Step { dir: "step-01-no-policies", want: [true, true, true, true, true] },
        Step { dir: "step-02-default-deny", want: [false, false, false, false, false] },
        Step { dir: "step-03-frontend-egress", want: [false, false, false, false, false] },
        // "by IP works, by name does not": DNS egress is still denied.
        Step { dir: "step-04-backend-ingress", want: [false, true, false, false, false] },
        Step { dir: "step-05-dns-allowed", want: [true, true, false, true, false] },
        Step { dir: "step-06-backend-egress-cassandra", want: [true, true, false, true, false] },
        Step { dir: "step-07-cassandra-labelled", want: [true, true, false, true, true] },
        Step { dir: "step-08-cassandra-deny", want: [true, true, false, true, false] },
        Step { dir: "step-09-cassandra-ingress", want: [true, true, false, true, false] },
        Step { dir: "step-10-default-labelled", want: [true, true, false, true, true] },
    ];
    let root = examples().join("seed-000-walkthrough");
    let mut lab: Option<Lab> = None;
    for step in &steps {
        let cluster = load(&root.join(step.dir));
        let lab = match &mut lab {
            Some(lab) => {
                lab.apply(&cluster).unwrap_or_else(|e| panic!("{}: apply: {e}", step.dir));
                lab
            }
            None => lab.insert(labkit::up("w", &cluster)),
        };
        let got = [
            connect(lab, "default/frontend", "backend"),
            connect(lab, "default/frontend", "10.44.0.2"),
            connect(lab, "default/backend", "frontend"),
            connect(lab, "default/frontend", "10.44.0.10:53/UDP"),
            connect(lab, "default/backend", "10.44.0.3"),
        ];
        assert_eq!(got, step.want, "{}", step.dir);
        let targets = [(80, Protocol::Tcp), (53, Protocol::Udp), (53, Protocol::Tcp)];
        let report = lab.probe(&targets, labkit::TIMEOUT, labkit::PARALLEL).unwrap();
        assert!(report.disagreements.is_empty(), "{}:\n{}", step.dir, report.text());
    }
    if let Some(lab) = lab {
        lab.down().unwrap();
    }
}

#[test]
fn seed_002_mongo_reachable_from_backend_only() {
    require_privileged!();
    let root = examples().join("seed-002-mongo");
    // (step, test-backend -> mongo.db:27017, test-default -> mongo.db:27017)
    let steps = [("step-1-open", true, true), ("step-2-deny-all", false, false), ("step-3-allow-backend", true, false)];
    let mut lab: Option<Lab> = None;
    for (dir, from_backend, from_default) in steps {
        let cluster = load(&root.join(dir));
        let lab = match &mut lab {
            Some(lab) => {
                lab.apply(&cluster).unwrap();
                lab
            }
            None => lab.insert(labkit::up("m", &cluster)),
        };
        assert_eq!(connect(lab, "backend/test-backend", "mongo.db:27017"), from_backend, "{dir}");
        assert_eq!(connect(lab, "default/test-default", "mongo.db:27017"), from_default, "{dir}");
        for protocol in [Protocol::Tcp, Protocol::Udp] {
            let report = lab.probe(&[(27017, protocol), (80, protocol)], labkit::TIMEOUT, labkit::PARALLEL).unwrap();
            assert!(report.disagreements.is_empty(), "{dir}:\n{}", report.text());
        }
    }
}

/// What the seed saw: without an enforcing network plugin, default reaches
/// mongo although the policies deny it; the probe reports that disagreement.
#[test]
fn seed_002_without_enforcement_the_probe_disagrees() {
    require_privileged!();
    let cluster = load(&examples().join("seed-002-mongo/step-3-allow-backend"));
    let options = LabOptions { enforce: false, ..labkit::options("n") };
    let lab = Lab::up(&cluster, &options, &|| false).unwrap();
    assert!(connect_unchecked(&lab, "default/test-default", "mongo.db:27017"));
    let report = lab.probe(&[(27017, Protocol::Tcp)], labkit::TIMEOUT, labkit::PARALLEL).unwrap();
    let pairs: Vec<String> =
        report.disagreements.iter().map(|d| format!("{} -> {} {}", d.src, d.dst, d.predicted)).collect();
    assert_eq!(pairs, ["default/test-default -> db/mongo false", "kube-system/kube-dns -> db/mongo false"]);
    lab.down().unwrap();
}

fn connect_unchecked(lab: &Lab, from: &str, target: &str) -> bool {
    let c = lab.connect(&from.parse().unwrap(), &target.parse().unwrap(), Duration::from_millis(1500)).unwrap();
    c.connected()
}

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
use netpol_testkit::scenarios::{SEED_000, SEED_000_CONNECTIONS, SEED_000_TARGETS};

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

#[test]
fn seed_000_walkthrough_step_by_step() {
    require_privileged!();
    let mut lab: Option<Lab> = None;
    for step in &SEED_000 {
        let cluster = load(&step.path());
        let lab = match &mut lab {
            Some(lab) => {
                lab.apply(&cluster).unwrap_or_else(|e| panic!("{}: apply: {e}", step.dir));
                lab
            }
            None => lab.insert(labkit::up("w", &cluster)),
        };
        let got = SEED_000_CONNECTIONS.map(|(from, target)| connect(lab, from, target));
        assert_eq!(got, step.want, "{}", step.dir);
        let report = lab.probe(&SEED_000_TARGETS, labkit::TIMEOUT, labkit::PARALLEL).unwrap();
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

//! What every lab test needs besides testkit's privileged gate
//! (`require_privileged!`): a unique lab id per test (tests run in parallel),
//! and a lab that is removed when the test ends, even when it fails (the
//! [`netpol_lab::Lab`] handle's Drop).

#![allow(dead_code)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use netpol_lab::{Lab, LabOptions, ServerMode};
use netpol_model::Cluster;

/// Per attempt: generous for a loaded 2-core machine, short enough for denied probes.
pub const TIMEOUT: Duration = Duration::from_millis(1000);
pub const PARALLEL: usize = 128;

/// A lab id unique to this process and test: `<prefix><pid in base 36>`.
pub fn id(prefix: &str) -> String {
    let mut pid = std::process::id();
    let mut digits = String::new();
    while pid > 0 {
        digits.insert(0, char::from_digit(pid % 36, 36).unwrap_or('0'));
        pid /= 36;
    }
    let id = format!("{prefix}{digits}");
    assert!(id.len() <= 12, "lab id {id} too long");
    id
}

pub fn state_dir() -> PathBuf {
    std::env::temp_dir().join(format!("netpol-lab-tests-{}", std::process::id()))
}

pub fn options(prefix: &str) -> LabOptions {
    LabOptions { id: id(prefix), state_dir: state_dir(), servers: ServerMode::InProcess, enforce: true, api: None }
}

/// Builds an enforced lab for `cluster`; removed when the returned handle drops.
pub fn up(prefix: &str, cluster: &Cluster) -> Lab {
    let options = options(prefix);
    // A lab left by a killed earlier run of this same process id cannot exist, but
    // one with the same id from an aborted run of an older process might.
    let _ = Lab::down_by_id(&options.id, &options.state_dir);
    Lab::up(cluster, &options, &|| false).unwrap_or_else(|e| panic!("lab up {}: {e}", options.id))
}

/// [`up`] with an external endpoint for each of `externals` (addresses outside the cluster).
pub fn up_with_externals(prefix: &str, cluster: &Cluster, externals: &[IpAddr]) -> Lab {
    let options = options(prefix);
    let _ = Lab::down_by_id(&options.id, &options.state_dir);
    Lab::up_with_externals(cluster, externals, &options, &|| false)
        .unwrap_or_else(|e| panic!("lab up {}: {e}", options.id))
}

/// The network namespaces of lab `id` that exist (`np-<id>-*`).
pub fn namespaces(id: &str) -> Vec<String> {
    let prefix = format!("np-{id}-");
    let mut names: Vec<String> = std::fs::read_dir(netpol_lab::netns::NETNS_DIR)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| n.starts_with(&prefix));
    names.sort();
    names
}

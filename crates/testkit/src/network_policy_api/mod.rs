//! The upstream network-policy-api conformance suite as data: every
//! `PokeServer(client, server, protocol, port, shouldConnect)` of its tests, with
//! the manifests the test had applied then. One copy, replayed by the engine
//! (`crates/engine/tests/network_policy_api.rs`: engine, port sets, compiled
//! matrix, nft evaluator) and by the lab (`crates/lab/tests/network_policy_api.rs`:
//! real connections through the enforced ruleset).
//!
//! Upstream: kubernetes-sigs/network-policy-api,
//! - v0.1.8 (commit 5a62954284765fb16f2e601f11907ca0b839b89f), the last v1alpha1
//!   release: AdminNetworkPolicy and BaselineAdminNetworkPolicy;
//! - v0.2.0 (commit a17adecd0316b8ff1c3f83939ec0441d68cd6cce): ClusterNetworkPolicy,
//!   `tier: Admin` and `tier: Baseline`.
//!
//! v0.2.0 ported each v0.1.8 test to ClusterNetworkPolicy under the same file name
//! (`conformance/tests/admin-network-policy-*.go` and `baseline-admin-network-policy-*.go`)
//! with the same subtests and the same pokes; only the manifests (kind, `Allow` ->
//! `Accept`, `ports` -> `protocols`), the base folders (`admin_network_policy` ->
//! `admin_tier`, `baseline_admin_network_policy` -> `baseline_tier`), the test names
//! and nine subtest names changed. So each upstream test is one table (in [`anp`]
//! and [`banp`]), run once per tag, each run on that tag's manifests.
//!
//! The manifests are in `crates/testkit/data/network-policy-api/` ([`dir`]):
//! `base.yaml` (the suite's `conformance/base/manifests.yaml` as the cluster runs
//! it: namespaces, the pods of its StatefulSets with IPs, the Nodes of its
//! hostNetwork pods) and, under the tag, each base manifest a test applies
//! (`<name>.yaml`) and each state a test's patches leave it in
//! (`<name>.patch-<n>.yaml`, `<name>.named-port.yaml`): upstream subtests patch
//! the live object, so a later subtest sees every earlier patch.
//!
//! A test file runs every table at both tags with one `#[test]` each:
//!
//! ```ignore
//! fn check(version: Version, test: &Test) { /* every poke of every subtest */ }
//! netpol_testkit::network_policy_api_tests!(crate::check); // mod anp { fn admin_network_policy_gress() .. }
//! ```

use std::path::{Path, PathBuf};

use netpol_model::Protocol;

pub mod anp;
pub mod banp;

pub const HARRY_0: &str = "network-policy-conformance-gryffindor/harry-potter-0";
pub const HARRY_1: &str = "network-policy-conformance-gryffindor/harry-potter-1";
pub const DRACO_0: &str = "network-policy-conformance-slytherin/draco-malfoy-0";
pub const DRACO_1: &str = "network-policy-conformance-slytherin/draco-malfoy-1";
pub const CEDRIC_0: &str = "network-policy-conformance-hufflepuff/cedric-diggory-0";
pub const CEDRIC_1: &str = "network-policy-conformance-hufflepuff/cedric-diggory-1";
pub const LUNA_0: &str = "network-policy-conformance-ravenclaw/luna-lovegood-0";
pub const LUNA_1: &str = "network-policy-conformance-ravenclaw/luna-lovegood-1";
/// A hostNetwork pod: its IP is its Node's.
pub const CENTAUR_1: &str = "network-policy-conformance-forbidden-forrest/centaur-1";

/// The suite's `HostNetworkPorts` with its default range (34345 and the next seven).
pub const HOST_NETWORK_PORTS: [u16; 8] = [34345, 34346, 34347, 34348, 34349, 34350, 34351, 34352];

/// The `PokeServer(` calls in `conformance/tests/*.go`, at either tag.
pub const UPSTREAM_POKES: usize = 289;

/// One upstream `ConformanceTest`.
pub struct Test {
    /// Under `conformance/tests/`, the same at both tags.
    pub file: &'static str,
    /// Its `ShortName` at v0.1.8 and at v0.2.0.
    pub short_names: [&'static str; 2],
    /// The `PokeServer` calls in its code (the same at both tags).
    pub upstream_pokes: usize,
    pub subtests: &'static [Subtest],
}

/// One `t.Run`: the manifests as the subtest finds them (after its own patch), and its pokes.
pub struct Subtest {
    pub name: &'static str,
    /// Its name at v0.2.0, when v0.2.0 reworded it.
    pub renamed: Option<&'static str>,
    /// Applied over `base.yaml`: a file under the tag's folder, named with v0.1.8's
    /// folders (see [`Version::path`]).
    pub manifests: &'static str,
    pub pokes: &'static [Poke],
}

/// `PokeServer(client, server, protocol, port, shouldConnect)`: the client pod
/// connects to the server pod's IP.
pub struct Poke(pub &'static str, pub &'static str, pub Protocol, pub u16, pub bool);

pub const fn sub(name: &'static str, manifests: &'static str, pokes: &'static [Poke]) -> Subtest {
    Subtest { name, renamed: None, manifests, pokes }
}

impl Subtest {
    pub const fn renamed(self, name: &'static str) -> Subtest {
        Subtest { renamed: Some(name), ..self }
    }

    /// Its name at `version`.
    pub fn name_at(&self, version: Version) -> &'static str {
        match version {
            Version::V0_2_0 => self.renamed.unwrap_or(self.name),
            Version::V0_1_8 => self.name,
        }
    }
}

impl Test {
    /// Its `ShortName` at `version`.
    pub fn short_name(&self, version: Version) -> &'static str {
        self.short_names[version as usize]
    }

    /// Its pokes, counted from the tables.
    pub fn pokes(&self) -> usize {
        self.subtests.iter().map(|s| s.pokes.len()).sum()
    }
}

/// Every table: the AdminNetworkPolicy tests, then the BaselineAdminNetworkPolicy ones.
pub fn all() -> impl Iterator<Item = &'static Test> {
    anp::ALL.iter().chain(banp::ALL).copied()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// AdminNetworkPolicy, BaselineAdminNetworkPolicy.
    V0_1_8,
    /// ClusterNetworkPolicy.
    V0_2_0,
}

impl Version {
    pub const ALL: [Version; 2] = [Version::V0_1_8, Version::V0_2_0];

    pub fn tag(self) -> &'static str {
        match self {
            Version::V0_1_8 => "v0.1.8",
            Version::V0_2_0 => "v0.2.0",
        }
    }

    /// The manifests of a subtest at this tag: v0.2.0 renamed the base folders.
    pub fn path(self, manifests: &str) -> String {
        let manifests = match self {
            Version::V0_1_8 => manifests.to_string(),
            Version::V0_2_0 => manifests.replacen("baseline_admin_network_policy/", "baseline_tier/", 1).replacen(
                "admin_network_policy/",
                "admin_tier/",
                1,
            ),
        };
        format!("{}/{manifests}", self.tag())
    }
}

/// `crates/testkit/data/network-policy-api`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/network-policy-api")
}

/// `(name, text)` of `base.yaml` alone: the cluster before any subtest.
pub fn base() -> Vec<(String, String)> {
    read(&["base.yaml"])
}

/// `(name, text)` of `base.yaml` and of `manifests` (a path under [`dir`], as
/// [`Version::path`] gives it), for `netpol_manifest::load`. Panics on a missing file.
pub fn sources(manifests: &str) -> Vec<(String, String)> {
    read(&["base.yaml", manifests])
}

fn read(files: &[&str]) -> Vec<(String, String)> {
    let dir = dir();
    files
        .iter()
        .map(|f| (f.to_string(), std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"))))
        .collect()
}

/// One `#[test]` per table and tag, named after the upstream test (`mod anp {
/// fn admin_network_policy_gress(); fn cnp_admin_tier_gress(); .. }`, `mod banp
/// { .. }`), each calling `$check(version, &table)`; `$check` is a path valid
/// inside those modules (`crate::check`).
#[macro_export]
macro_rules! network_policy_api_tests {
    ($check:path) => {
        mod anp {
            $crate::__network_policy_api_anp_tests!($check);
        }
        mod banp {
            $crate::__network_policy_api_banp_tests!($check);
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __network_policy_api_tables {
    ($check:path, $module:ident; $($table:ident => $v0_1_8:ident, $v0_2_0:ident;)*) => {
        $(
            #[test]
            fn $v0_1_8() {
                $check(
                    $crate::network_policy_api::Version::V0_1_8,
                    &$crate::network_policy_api::$module::$table,
                );
            }

            #[test]
            fn $v0_2_0() {
                $check(
                    $crate::network_policy_api::Version::V0_2_0,
                    &$crate::network_policy_api::$module::$table,
                );
            }
        )*
    };
}

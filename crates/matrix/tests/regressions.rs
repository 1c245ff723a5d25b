//! Replays every saved regression case (`tests/regressions/*.yaml`, shrunk
//! failures of the differential tests) through the strict loader, and checks
//! the compiled form against the engine on it, with both ipBlock options.

mod support;

use netpol_manifest::{load, LoadOptions};
use netpol_matrix::{Compiled, Options};

#[test]
fn saved_regressions_match_the_engine() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("regressions folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("last-failure.yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression cases in {}", dir.display());
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let name = file.display().to_string();
        let loaded = load([(name.as_str(), text.as_str())], &LoadOptions::default());
        assert!(
            !loaded.has_errors(),
            "{name}: {:?}",
            loaded.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
        for options in [Options::default(), Options { ipblock_matches_pods: false }] {
            let compiled = Compiled::build(&loaded.cluster, options);
            if let Err(why) = support::compare_with_engine(&loaded.cluster, &compiled, options) {
                panic!("{name} ({options:?}): {why}");
            }
        }
    }
}

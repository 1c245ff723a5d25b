//! Running the binary under test: from the repository root, with no kubeconfig
//! of the machine's own (a cluster is only what a test names).

use std::path::PathBuf;
use std::process::{Command, Output};

/// The repository root (where `examples/` and `docs/` are).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `netpol ARGS` in [`root`], without `$KUBECONFIG` or `~/.kube/config`.
pub fn netpol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netpol"))
        .current_dir(root())
        .env_remove("KUBECONFIG")
        .env("HOME", "/nonexistent")
        .args(args)
        .output()
        .expect("run netpol")
}

//! Where the control-plane binaries come from: explicit paths, the envtest
//! convention, or the cache `tools/k8s/build.sh` fills, for the versions
//! pinned in `tools/k8s/versions.env` (read here at compile time, so the pin
//! stays in that one file). helm is found the same way ([`locate_helm`]),
//! but for the envtest directory, which does not hold it.

use std::path::{Path, PathBuf};

/// `tools/k8s/versions.env`, the one place the versions are pinned.
const VERSIONS_ENV: &str = include_str!("../../../tools/k8s/versions.env");

/// Explicit path of the kube-apiserver binary.
pub const KUBE_APISERVER_VAR: &str = "NETPOL_KUBE_APISERVER";
/// Explicit path of the etcd binary.
pub const ETCD_VAR: &str = "NETPOL_ETCD";
/// The envtest convention: a directory holding `kube-apiserver` and `etcd`.
pub const KUBEBUILDER_ASSETS_VAR: &str = "KUBEBUILDER_ASSETS";
/// The root of build.sh's cache (`$HOME/.cache/netpol` when unset).
pub const CACHE_VAR: &str = "NETPOL_CACHE";
/// The kubectl the harness runs (`kubectl` on PATH when unset).
pub const KUBECTL_VAR: &str = "NETPOL_KUBECTL";
/// Explicit path of the helm binary.
pub const HELM_VAR: &str = "NETPOL_HELM";

/// A version pinned in `tools/k8s/versions.env`: `pinned("KUBERNETES_VERSION")` is `Some("v1.34.4")`.
pub fn pinned(name: &str) -> Option<&'static str> {
    VERSIONS_ENV
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| key.trim() == name)
        .map(|(_, value)| value.trim())
}

/// The Kubernetes version the harness expects (`KUBERNETES_VERSION`).
pub fn kubernetes_version() -> &'static str {
    pinned("KUBERNETES_VERSION").expect("tools/k8s/versions.env pins KUBERNETES_VERSION")
}

/// The paths of the two server binaries a [`ControlPlane`](super::ControlPlane) runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binaries {
    pub kube_apiserver: PathBuf,
    pub etcd: PathBuf,
}

/// Where one binary was looked for, for the message when it is missing.
#[derive(Clone, Copy)]
struct Wanted {
    /// The file name in KUBEBUILDER_ASSETS and the cache's prefix.
    name: &'static str,
    var: &'static str,
    /// The versions.env key of its version.
    version_key: &'static str,
    /// Whether `KUBEBUILDER_ASSETS` holds it (the server binaries; not helm).
    envtest: bool,
}

const KUBE_APISERVER: Wanted =
    Wanted { name: "kube-apiserver", var: KUBE_APISERVER_VAR, version_key: "KUBERNETES_VERSION", envtest: true };
const ETCD: Wanted = Wanted { name: "etcd", var: ETCD_VAR, version_key: "ETCD_VERSION", envtest: true };
const HELM: Wanted = Wanted { name: "helm", var: HELM_VAR, version_key: "HELM_VERSION", envtest: false };

impl Binaries {
    /// Finds both binaries from the process environment, in this order:
    /// `NETPOL_KUBE_APISERVER` / `NETPOL_ETCD` (each on its own), then
    /// `$KUBEBUILDER_ASSETS/{kube-apiserver,etcd}`, then build.sh's cache
    /// `${NETPOL_CACHE:-$HOME/.cache/netpol}/bin/<name>-<pinned version>`.
    /// `Err` says where it looked and how to get them.
    pub fn locate() -> Result<Binaries, String> {
        Binaries::locate_in(&|var| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from))
    }

    /// [`Binaries::locate`] with the environment given as a lookup (for tests).
    pub fn locate_in(env: &dyn Fn(&str) -> Option<PathBuf>) -> Result<Binaries, String> {
        let cache = cache_dir(env);
        let kube_apiserver = find(KUBE_APISERVER, env, cache.as_deref());
        let etcd = find(ETCD, env, cache.as_deref());
        match (kube_apiserver, etcd) {
            (Ok(kube_apiserver), Ok(etcd)) => Ok(Binaries { kube_apiserver, etcd }),
            (a, b) => {
                let reasons: Vec<String> = [a.err(), b.err()].into_iter().flatten().collect();
                Err(format!("{} (build them with `tools/k8s/build.sh`, see the README)", reasons.join("; ")))
            }
        }
    }
}

/// Finds helm from the process environment: `NETPOL_HELM`, then build.sh's
/// cache `${NETPOL_CACHE:-$HOME/.cache/netpol}/bin/helm-<HELM_VERSION>`.
/// `Err` says where it looked and how to get it.
pub fn locate_helm() -> Result<PathBuf, String> {
    locate_helm_in(&|var| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from))
}

/// [`locate_helm`] with the environment given as a lookup (for tests).
pub fn locate_helm_in(env: &dyn Fn(&str) -> Option<PathBuf>) -> Result<PathBuf, String> {
    find(HELM, env, cache_dir(env).as_deref())
        .map_err(|reason| format!("{reason} (build it with `tools/k8s/build.sh helm`, see the README)"))
}

/// build.sh's cache root: `$NETPOL_CACHE`, else `$HOME/.cache/netpol`.
pub fn cache_dir(env: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    env(CACHE_VAR).or_else(|| env("HOME").map(|home| home.join(".cache/netpol")))
}

fn find(wanted: Wanted, env: &dyn Fn(&str) -> Option<PathBuf>, cache: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(path) = env(wanted.var) {
        return executable(&path).map_err(|e| format!("{}={}: {e}", wanted.var, path.display()));
    }
    if let Some(dir) = env(KUBEBUILDER_ASSETS_VAR).filter(|_| wanted.envtest) {
        let path = dir.join(wanted.name);
        return executable(&path).map_err(|e| format!("{KUBEBUILDER_ASSETS_VAR}: {}: {e}", path.display()));
    }
    let version = pinned(wanted.version_key).unwrap_or("unpinned");
    let Some(cache) = cache else {
        return Err(format!("no {} ({} unset, and neither {CACHE_VAR} nor HOME is set)", wanted.name, wanted.var));
    };
    let path = cache.join("bin").join(format!("{}-{version}", wanted.name));
    executable(&path)
        .map_err(|e| format!("no {} {version}: {} {e} and {} is unset", wanted.name, path.display(), wanted.var))
}

fn executable(path: &Path) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => Ok(path.to_path_buf()),
        Ok(_) => Err("is not an executable file".into()),
        Err(e) => Err(format!("cannot be read ({e})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn fake_binaries(dir: &Path, names: &[&str]) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).unwrap();
        for name in names {
            let path = dir.join(name);
            std::fs::write(&path, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    fn env_of(vars: &[(&str, &Path)]) -> impl Fn(&str) -> Option<PathBuf> {
        let map: HashMap<String, PathBuf> = vars.iter().map(|(k, v)| (k.to_string(), v.to_path_buf())).collect();
        move |var| map.get(var).cloned()
    }

    #[test]
    fn versions_come_from_versions_env() {
        assert!(kubernetes_version().starts_with("v1."), "{}", kubernetes_version());
        assert!(pinned("ETCD_VERSION").is_some_and(|v| v.starts_with("v3.")));
        assert!(pinned("HELM_VERSION").is_some());
        assert_eq!(pinned("NO_SUCH_PIN"), None);
    }

    #[test]
    fn explicit_paths_win_over_assets_and_the_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let (explicit, assets, cache) = (tmp.path().join("x"), tmp.path().join("assets"), tmp.path().join("cache"));
        fake_binaries(&explicit, &["my-apiserver"]);
        fake_binaries(&assets, &["kube-apiserver", "etcd"]);
        let k8s = format!("kube-apiserver-{}", kubernetes_version());
        let etcd = format!("etcd-{}", pinned("ETCD_VERSION").unwrap());
        fake_binaries(&cache.join("bin"), &[&k8s, &etcd]);

        let api = explicit.join("my-apiserver");
        let got = Binaries::locate_in(&env_of(&[
            (KUBE_APISERVER_VAR, &api),
            (KUBEBUILDER_ASSETS_VAR, &assets),
            (CACHE_VAR, &cache),
        ]))
        .unwrap();
        assert_eq!(got, Binaries { kube_apiserver: api, etcd: assets.join("etcd") });

        let got = Binaries::locate_in(&env_of(&[(CACHE_VAR, &cache)])).unwrap();
        assert_eq!(got, Binaries { kube_apiserver: cache.join("bin").join(&k8s), etcd: cache.join("bin").join(&etcd) });

        let home = tmp.path().join("home");
        fake_binaries(&home.join(".cache/netpol/bin"), &[&k8s, &etcd]);
        let got = Binaries::locate_in(&env_of(&[("HOME", &home)])).unwrap();
        assert_eq!(got.etcd, home.join(".cache/netpol/bin").join(&etcd));
    }

    #[test]
    fn a_missing_binary_says_where_it_looked() {
        let tmp = tempfile::tempdir().unwrap();
        let assets = tmp.path().join("assets");
        fake_binaries(&assets, &["etcd"]);
        let err = Binaries::locate_in(&env_of(&[(KUBEBUILDER_ASSETS_VAR, &assets)])).unwrap_err();
        assert!(err.contains("KUBEBUILDER_ASSETS: ") && err.contains("kube-apiserver: cannot be read"), "{err}");
        assert!(err.contains("tools/k8s/build.sh"), "{err}");

        let err = Binaries::locate_in(&env_of(&[(CACHE_VAR, tmp.path())])).unwrap_err();
        assert!(err.contains(&format!("no kube-apiserver {}", kubernetes_version())), "{err}");
        assert!(err.contains("no etcd v3.") && err.contains("NETPOL_ETCD is unset"), "{err}");

        let not_exec = tmp.path().join("plain");
        std::fs::write(&not_exec, "").unwrap();
        let err = Binaries::locate_in(&env_of(&[(ETCD_VAR, &not_exec), (CACHE_VAR, tmp.path())])).unwrap_err();
        assert!(err.contains(&format!("NETPOL_ETCD={}: is not an executable file", not_exec.display())), "{err}");
    }

    #[test]
    fn helm_comes_from_netpol_helm_then_the_cache_never_from_envtest_assets() {
        let tmp = tempfile::tempdir().unwrap();
        let (explicit, assets, cache) = (tmp.path().join("x"), tmp.path().join("assets"), tmp.path().join("cache"));
        let cached = format!("helm-{}", pinned("HELM_VERSION").unwrap());
        fake_binaries(&explicit, &["my-helm"]);
        fake_binaries(&assets, &["helm"]);
        fake_binaries(&cache.join("bin"), &[&cached]);

        let mine = explicit.join("my-helm");
        let all = [(HELM_VAR, mine.as_path()), (KUBEBUILDER_ASSETS_VAR, &assets), (CACHE_VAR, &cache)];
        assert_eq!(locate_helm_in(&env_of(&all)), Ok(mine));
        let got = locate_helm_in(&env_of(&[(KUBEBUILDER_ASSETS_VAR, &assets), (CACHE_VAR, &cache)]));
        assert_eq!(got, Ok(cache.join("bin").join(&cached)));

        let err = locate_helm_in(&env_of(&[(KUBEBUILDER_ASSETS_VAR, &assets), (CACHE_VAR, &assets)])).unwrap_err();
        assert!(err.contains(&format!("no helm {}", pinned("HELM_VERSION").unwrap())), "{err}");
        assert!(err.contains("NETPOL_HELM is unset") && err.contains("tools/k8s/build.sh helm"), "{err}");
        let err = locate_helm_in(&env_of(&[(HELM_VAR, &tmp.path().join("none"))])).unwrap_err();
        assert!(err.starts_with("NETPOL_HELM=") && err.contains("cannot be read"), "{err}");
    }
}

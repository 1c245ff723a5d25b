//! Reading the manifest folder into a cluster, keeping each file's last good
//! version.
//!
//! Design: a file whose objects do not load cleanly (any error diagnostic)
//! keeps contributing the last version of it that did ("fail static": its
//! objects stay enforced exactly as before, neither opened nor closed); a
//! file that never loaded cleanly contributes nothing. A deleted file removes
//! its objects, as `kubectl delete -f` would.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netpol_manifest::{Diagnostic, LoadOptions};
use netpol_model::Cluster;

/// One read of the folder.
#[derive(Clone, Debug)]
pub struct Read {
    pub cluster: Cluster,
    /// Every diagnostic of the current files (errors included).
    pub diagnostics: Vec<Diagnostic>,
    /// Files with errors that contributed their last good version instead.
    pub stale: Vec<String>,
    /// Files with errors that were left out (no good version known).
    pub skipped: Vec<String>,
}

/// The manifest folder and the last good text of each of its files.
#[derive(Debug)]
pub struct Folder {
    dir: PathBuf,
    options: LoadOptions,
    /// The last clean load of each file.
    last_good: BTreeMap<String, Cluster>,
    /// Each file's text and what loading it gave.
    cache: BTreeMap<String, (String, netpol_manifest::Loaded)>,
}

#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error(transparent)]
    Input(#[from] netpol_input::InputError),
}

impl Folder {
    pub fn new(dir: impl Into<PathBuf>, options: LoadOptions) -> Self {
        Folder { dir: dir.into(), options, last_good: BTreeMap::new(), cache: BTreeMap::new() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads every manifest file now in the folder.
    pub fn read(&mut self) -> Result<Read, FolderError> {
        let files = if self.dir.is_dir() { netpol_input::manifest_files(&self.dir)? } else { Vec::new() };
        let mut sources: Vec<(String, String)> = Vec::with_capacity(files.len());
        for file in &files {
            match std::fs::read_to_string(file) {
                Ok(text) => sources.push((file.display().to_string(), text)),
                // Removed or replaced between listing and reading: the next event re-reads it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(netpol_input::InputError::Io { path: file.display().to_string(), source: e }.into())
                }
            }
        }
        Ok(self.load(sources))
    }

    /// Loads `(name, text)` sources, substituting last good versions for bad files.
    ///
    /// Each file is loaded on its own and cached by its text, so a change costs
    /// the changed files only; the parts are merged in file order (a later
    /// duplicate wins, as in one load). Cluster-wide findings that a single file
    /// cannot judge (undeclared namespaces, DNS egress) are left to `netpol validate`.
    pub fn load(&mut self, sources: Vec<(String, String)>) -> Read {
        let (mut diagnostics, mut stale, mut skipped, mut parts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut cache = BTreeMap::new();
        for (name, text) in sources {
            let loaded = match self.cache.remove(&name) {
                Some((before, loaded)) if before == text => loaded,
                _ => netpol_manifest::load([(name.as_str(), text.as_str())], &self.options),
            };
            diagnostics.extend(loaded.diagnostics.iter().filter(|d| !CLUSTER_WIDE.contains(&d.code)).cloned());
            if loaded.has_errors() {
                match self.last_good.get(&name) {
                    Some(good) => {
                        stale.push(name.clone());
                        parts.push(good.clone());
                    }
                    None => skipped.push(name.clone()),
                }
            } else {
                self.last_good.insert(name.clone(), loaded.cluster.clone());
                parts.push(loaded.cluster.clone());
            }
            cache.insert(name, (text, loaded));
        }
        self.last_good.retain(|name, _| cache.contains_key(name));
        self.cache = cache;
        Read { cluster: merge(parts), diagnostics, stale, skipped }
    }
}

/// Diagnostics about the whole cluster, meaningless for one file alone.
const CLUSTER_WIDE: [&str; 2] = ["NP0052", "NP0054"];

/// Merges per-file clusters as one load would: declared namespaces over
/// implicit ones, and a later object with the same key replacing an earlier one.
fn merge(parts: Vec<Cluster>) -> Cluster {
    fn upsert<T, K: Ord>(out: &mut Vec<T>, index: &mut BTreeMap<K, usize>, key: K, item: T) {
        match index.get(&key) {
            Some(&i) => out[i] = item,
            None => {
                index.insert(key, out.len());
                out.push(item);
            }
        }
    }
    let mut cluster = Cluster::default();
    let (mut pods, mut services, mut policies) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for part in parts {
        for (name, ns) in part.namespaces {
            if ns.declared || !cluster.namespaces.contains_key(&name) {
                cluster.namespaces.insert(name, ns);
            }
        }
        for pod in part.pods {
            upsert(&mut cluster.pods, &mut pods, (pod.namespace.clone(), pod.name.clone(), pod.kind), pod);
        }
        for svc in part.services {
            upsert(&mut cluster.services, &mut services, (svc.namespace.clone(), svc.name.clone()), svc);
        }
        for policy in part.policies {
            upsert(&mut cluster.policies, &mut policies, (policy.namespace.clone(), policy.name.clone()), policy);
        }
    }
    cluster
}

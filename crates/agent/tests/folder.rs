//! The folder's incremental merge against the obvious answer: after any
//! sequence of edits, deletions and broken files, the cluster equals one load
//! of every file's last clean version (in path order, later duplicates
//! winning), whether the folder learnt of the changes as whole listings
//! (`Folder::load`) or as changed paths from a watcher (`Folder::read_changed`).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use netpol_agent::Folder;
use netpol_manifest::LoadOptions;
use netpol_model::Cluster;
use proptest::prelude::*;
use support::sorted;

/// File names: nested, so path order and string order differ ("a.yaml" < "a/…").
const FILES: [&str; 5] = ["a.yaml", "a/x.yaml", "b.yml", "c.json", "z/y/z.yaml"];

/// Documents with keys that collide across files (same pod, policy, service,
/// ServiceAccount or namespace in several files) and one that does not load.
/// The pods run as `default`, whose ServiceAccount (`i` from 24) lends them
/// its labels from whichever file holds it.
fn document(i: usize) -> String {
    let ns = ["default", "team"][i % 2];
    if i >= 24 {
        return format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default, namespace: {ns}, labels: {{sa: \"{i}\"}}}}\n");
    }
    match i % 6 {
        0 => format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{}, namespace: {ns}, labels: {{v: \"{i}\"}}}}\n\
             spec: {{containers: [{{name: c, image: i}}]}}\nstatus: {{podIP: 10.0.0.{i}}}\n",
            i % 3
        ),
        1 => format!(
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: n{}, namespace: {ns}}}\n\
             spec: {{podSelector: {{matchLabels: {{v: \"{i}\"}}}}, policyTypes: [Ingress]}}\n",
            i % 2
        ),
        2 => format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {{gen: \"{i}\"}}}}\n"),
        3 => format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: {ns}}}\n\
             spec: {{selector: {{v: \"{i}\"}}, ports: [{{port: {}}}]}}\n",
            80 + i
        ),
        4 => format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: p0, namespace: {ns}}}\n\
             spec: {{selector: {{matchLabels: {{v: \"{i}\"}}}}, template: {{metadata: {{labels: {{v: \"{i}\"}}}}, \
             spec: {{containers: [{{name: c, image: i}}]}}}}}}\n"
        ),
        _ => "apiVersion: v1\nkind: Pod\nmetadata: {name: broken, namespace: default}\nspec: {containerz: []}\n"
            .to_string(),
    }
}

/// One step: a file gets these documents, or (`None`) is deleted.
fn step() -> impl Strategy<Value = (usize, Option<Vec<usize>>)> {
    (0..FILES.len(), proptest::option::weighted(0.8, proptest::collection::vec(0usize..28, 0..4)))
}

fn text(docs: &[usize]) -> String {
    docs.iter().map(|&i| document(i)).collect::<Vec<_>>().join("---\n")
}

/// The obvious answer: one load of each file's last clean text, in path order.
struct Expected {
    current: BTreeMap<PathBuf, String>,
    last_clean: BTreeMap<PathBuf, String>,
}

impl Expected {
    fn set(&mut self, path: PathBuf, text: Option<String>) {
        match text {
            None => {
                self.current.remove(&path);
                self.last_clean.remove(&path);
            }
            Some(text) => {
                let name = path.display().to_string();
                let alone = netpol_manifest::load([(name.as_str(), text.as_str())], &LoadOptions::default());
                if !alone.has_errors() {
                    self.last_clean.insert(path.clone(), text.clone());
                }
                self.current.insert(path, text);
            }
        }
    }

    fn cluster(&self) -> Cluster {
        let names: Vec<(String, &str)> =
            self.last_clean.iter().map(|(p, t)| (p.display().to_string(), t.as_str())).collect();
        netpol_manifest::load(names.iter().map(|(n, t)| (n.as_str(), *t)), &LoadOptions::default()).cluster
    }
}

fn write(dir: &Path, name: &str, text: &str) -> Vec<PathBuf> {
    // As editors and kubectl-like tools do: a hidden temporary file, renamed.
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.parent().unwrap().join(format!(".{}.tmp", path.file_name().unwrap().to_string_lossy()));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    vec![tmp, path]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn whole_listings_merge_like_one_load(steps in proptest::collection::vec(step(), 1..12)) {
        let mut folder = Folder::new("unused", LoadOptions::default());
        let mut expected = Expected { current: BTreeMap::new(), last_clean: BTreeMap::new() };
        let mut before: Option<(Cluster, u64)> = None;
        for (file, docs) in steps {
            expected.set(PathBuf::from(FILES[file]), docs.map(|d| text(&d)));
            let sources = expected.current.iter().map(|(p, t)| (p.display().to_string(), t.clone())).collect();
            let read = folder.load(sources);
            let cluster = sorted(read.cluster);
            prop_assert_eq!(&cluster, &sorted(&expected.cluster()));
            // The render cache relies on it: other pods or namespaces, another version.
            if let Some((old, version)) = &before {
                if old.pods != cluster.pods || old.namespaces != cluster.namespaces {
                    prop_assert_ne!(*version, read.pods_version);
                }
            }
            before = Some((cluster, read.pods_version));
        }
    }

    #[test]
    fn changed_paths_merge_like_one_load(steps in proptest::collection::vec(step(), 1..10)) {
        let dir = tempfile::tempdir().unwrap();
        let mut folder = Folder::new(dir.path(), LoadOptions::default());
        let mut expected = Expected { current: BTreeMap::new(), last_clean: BTreeMap::new() };
        folder.read().unwrap();
        for (file, docs) in steps {
            let path = dir.path().join(FILES[file]);
            let changed = match &docs {
                Some(d) => write(dir.path(), FILES[file], &text(d)),
                None => {
                    let _ = std::fs::remove_file(&path);
                    vec![path.clone()]
                }
            };
            expected.set(path, docs.map(|d| text(&d)));
            let incremental = sorted(folder.read_changed(&changed).unwrap().cluster);
            prop_assert_eq!(&incremental, &sorted(&expected.cluster()));
            // A fresh folder knows no last good versions: comparable when none is in use.
            if expected.current.iter().all(|(p, t)| expected.last_clean.get(p) == Some(t)) {
                let mut fresh = Folder::new(dir.path(), LoadOptions::default());
                prop_assert_eq!(&incremental, &sorted(fresh.read().unwrap().cluster));
            }
        }
    }
}

#[test]
fn a_new_subfolder_or_a_removed_one_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut folder = Folder::new(dir.path(), LoadOptions::default());
    folder.read().unwrap();
    // A folder moved in at once: the event names the folder, not its files.
    let staging = tempfile::tempdir().unwrap();
    write(staging.path(), "sub/p.yaml", &document(0));
    std::fs::rename(staging.path().join("sub"), dir.path().join("sub")).unwrap();
    let read = folder.read_changed(&[dir.path().join("sub")]).unwrap();
    assert_eq!(read.cluster.pods.len(), 1);
    std::fs::remove_dir_all(dir.path().join("sub")).unwrap();
    let read = folder.read_changed(&[dir.path().join("sub")]).unwrap();
    assert!(read.cluster.pods.is_empty(), "the removed folder's pod is gone");
}

fn policy_named(name: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: x}}\n\
         spec: {{podSelector: {{}}, policyTypes: [Ingress]}}\n"
    )
}

fn policy_names(folder: &mut Folder, changed: Option<&[PathBuf]>) -> Vec<String> {
    let read = match changed {
        Some(paths) => folder.read_changed(paths).unwrap(),
        None => folder.read().unwrap(),
    };
    let mut names: Vec<String> = read.cluster.policies.iter().map(|p| p.name.clone()).collect();
    names.sort();
    names
}

/// Found in review: a ConfigMap volume updates by swapping the hidden `..data`
/// link; every path the watcher names is hidden.
#[test]
fn a_configmap_style_update_is_seen() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("..2025_01")).unwrap();
    std::fs::write(d.join("..2025_01/p.yaml"), policy_named("old")).unwrap();
    symlink("..2025_01", d.join("..data")).unwrap();
    symlink("..data/p.yaml", d.join("p.yaml")).unwrap();
    let mut folder = Folder::new(d, LoadOptions::default());
    assert_eq!(policy_names(&mut folder, None), ["old"]);
    std::fs::create_dir(d.join("..2025_02")).unwrap();
    std::fs::write(d.join("..2025_02/p.yaml"), policy_named("new")).unwrap();
    symlink("..2025_02", d.join("..data_tmp")).unwrap();
    std::fs::rename(d.join("..data_tmp"), d.join("..data")).unwrap();
    std::fs::remove_dir_all(d.join("..2025_01")).unwrap();
    let events: Vec<PathBuf> =
        ["..2025_02", "..2025_02/p.yaml", "..data_tmp", "..data", "..2025_01/p.yaml", "..2025_01"]
            .iter()
            .map(|p| d.join(p))
            .collect();
    assert_eq!(policy_names(&mut folder, Some(&events)), ["new"]);
    // Only the link target's folder named (no event on the link): still seen.
    std::fs::write(d.join("..2025_02/p.yaml"), policy_named("newer")).unwrap();
    assert_eq!(policy_names(&mut folder, Some(&[d.join("..2025_02/p.yaml")])), ["newer"]);
}

/// Found in review: files are keyed by their path as it is, so a name that is
/// not UTF-8 read whole and then deleted by an event is gone.
#[test]
fn a_deleted_file_with_a_non_utf8_name_is_gone() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(std::ffi::OsStr::from_bytes(b"p\xff.yaml"));
    std::fs::write(&path, policy_named("odd")).unwrap();
    let mut folder = Folder::new(dir.path(), LoadOptions::default());
    assert_eq!(policy_names(&mut folder, None), ["odd"]);
    std::fs::remove_file(&path).unwrap();
    assert!(policy_names(&mut folder, Some(std::slice::from_ref(&path))).is_empty());
}

/// A folder that is gone is an error, never an empty cluster (which would lift every policy).
#[test]
fn a_folder_that_is_gone_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifests");
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("p.yaml"), policy_named("p")).unwrap();
    let mut folder = Folder::new(&path, LoadOptions::default());
    assert_eq!(policy_names(&mut folder, None), ["p"]);
    std::fs::remove_dir_all(&path).unwrap();
    let err = folder.read().map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("the manifest folder is gone"), "{err}");
    assert!(folder.read_changed(&[path.join("p.yaml")]).is_err());
}

/// Ordered policies load from the folder like every other kind (the renderer
/// enforces them: crates/nft/tests/differential.rs).
#[test]
fn a_file_with_an_ordered_policy_loads_it() {
    let mut folder = Folder::new("unused", LoadOptions::default());
    let anp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\n\
               spec: {priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{namespaces: {}}]}]}\n";
    let read = folder.load(vec![("p.yaml".into(), format!("{}---\n{anp}", document(1)))]);
    assert!(read.stale.is_empty() && read.skipped.is_empty(), "{:?}", read.diagnostics);
    assert_eq!(read.cluster.policies.len(), 1);
    assert_eq!(read.cluster.tiered.len(), 1);
    assert_eq!(read.cluster.tiered[0].key(), "AdminNetworkPolicy/a");
}

/// A pod takes the labels of its ServiceAccount from another file; relabelled
/// or deleted, the pod follows and the pods version changes; a ServiceAccount
/// no pod runs as leaves it alone.
#[test]
fn a_service_account_in_another_file_labels_the_pods_that_run_as_it() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\n\
               spec: {serviceAccountName: builder, containers: [{name: c, image: i}]}\nstatus: {podIP: 10.0.0.1}\n";
    let sa = |name: &str, team: &str| {
        format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {name}, namespace: shop, labels: {{team: {team}}}}}\n")
    };
    let mut folder = Folder::new("unused", LoadOptions::default());
    let mut files = BTreeMap::from([("a/pod.yaml".to_string(), pod.to_string())]);
    let mut read = |files: &BTreeMap<String, String>| {
        let read = folder.load(files.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
        assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
        let labels = read.cluster.pods[0].service_account.labels.as_ref().map(|l| l.get("team").unwrap().to_string());
        (labels, read.pods_version)
    };
    let (labels, v0) = read(&files);
    assert_eq!(labels, None, "no ServiceAccount yet");
    files.insert("b/sa.yaml".into(), sa("builder", "a"));
    let (labels, v1) = read(&files);
    assert_eq!(labels.as_deref(), Some("a"));
    assert_ne!(v1, v0);
    files.insert("b/sa.yaml".into(), sa("builder", "b"));
    let (labels, v2) = read(&files);
    assert_eq!(labels.as_deref(), Some("b"));
    assert_ne!(v2, v1);
    files.insert("c/other.yaml".into(), sa("other", "c"));
    let (labels, v3) = read(&files);
    assert_eq!(labels.as_deref(), Some("b"));
    assert_eq!(v3, v2, "no pod runs as `other`");
    files.remove("b/sa.yaml");
    let (labels, v4) = read(&files);
    assert_eq!(labels, None);
    assert_ne!(v4, v3);
}

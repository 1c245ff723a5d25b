//! What a caller does with a running control plane through kubectl as
//! admin: run commands, apply objects, mint ServiceAccount tokens with exactly
//! the RBAC rules asked for, and set a Pod's status as a kubelet would.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::{write, ControlPlane, Error};

/// One RBAC rule a minted token gets ([`ControlPlane::mint_token`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub verbs: Vec<String>,
    /// `""` is the core group (pods, namespaces, services).
    pub api_group: String,
    pub resources: Vec<String>,
    /// In a ClusterRole (every namespace, and cluster-scoped resources) rather
    /// than a Role of the ServiceAccount's namespace.
    pub cluster_wide: bool,
}

impl Rule {
    /// A namespace-scoped rule: `Rule::new(&["get", "list"], "", &["pods"])`.
    pub fn new(verbs: &[&str], api_group: &str, resources: &[&str]) -> Rule {
        Rule {
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            api_group: api_group.to_string(),
            resources: resources.iter().map(|r| r.to_string()).collect(),
            cluster_wide: false,
        }
    }

    /// The same rule in a ClusterRole, bound cluster-wide.
    pub fn cluster_wide(mut self) -> Rule {
        self.cluster_wide = true;
        self
    }

    fn to_json(&self) -> Value {
        json!({"apiGroups": [self.api_group], "resources": self.resources, "verbs": self.verbs})
    }
}

/// A ServiceAccount token and a kubeconfig that uses it.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// `system:serviceaccount:<namespace>:<name>`, as RBAC and `Forbidden` messages name it.
    pub user: String,
    pub token: String,
    /// Inside the control plane's dir: removed with it.
    pub kubeconfig: PathBuf,
}

impl ControlPlane {
    /// A `kubectl --kubeconfig=<admin>` command to add arguments to.
    pub fn kubectl(&self) -> Command {
        self.kubectl_as(&self.kubeconfig)
    }

    /// A `kubectl --kubeconfig=<kubeconfig>` command (e.g. [`Credentials::kubeconfig`]).
    pub fn kubectl_as(&self, kubeconfig: &Path) -> Command {
        let mut cmd = Command::new(&self.kubectl);
        cmd.arg(format!("--kubeconfig={}", kubeconfig.display())).stdin(Stdio::null());
        cmd
    }

    /// Runs admin kubectl with `args` (and `stdin`); its stdout, or an error with its stderr.
    pub fn kubectl_output(&self, args: &[&str], stdin: Option<&str>) -> Result<String, Error> {
        let mut cmd = self.kubectl();
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let command = format!("kubectl {}", args.join(" "));
        let mut child = cmd.spawn().map_err(|source| Error::Io { what: format!("run `{command}`"), source })?;
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(text.as_bytes())
                .map_err(|source| Error::Io { what: format!("feed `{command}`"), source })?;
        }
        let out =
            child.wait_with_output().map_err(|source| Error::Io { what: format!("wait for `{command}`"), source })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(Error::Command {
                command,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// `kubectl apply -f -` as admin: YAML or JSON, one or more objects.
    pub fn apply(&self, manifest: &str) -> Result<String, Error> {
        self.kubectl_output(&["apply", "-f", "-"], Some(manifest))
    }

    /// Creates the namespaces that do not exist yet (labelled with their name, as the API server does).
    pub fn ensure_namespaces<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Result<(), Error> {
        let items: Vec<Value> = names
            .into_iter()
            .map(|name| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
            .collect();
        if items.is_empty() {
            return Ok(());
        }
        self.apply(&json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string()).map(drop)
    }

    /// Creates the ServiceAccount `namespace/name` (and the namespace), gives
    /// it exactly `rules` (a Role and RoleBinding in its namespace for the
    /// namespaced rules, a ClusterRole and ClusterRoleBinding
    /// `netpol-test:<namespace>:<name>` for the [`Rule::cluster_wide`] ones),
    /// and returns a one-hour token for it ([`ControlPlane::token`]).
    pub fn mint_token(&self, namespace: &str, name: &str, rules: &[Rule]) -> Result<Credentials, Error> {
        let subject = json!([{"kind": "ServiceAccount", "name": name, "namespace": namespace}]);
        let mut items = vec![
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}),
        ];
        let rbac = "rbac.authorization.k8s.io/v1";
        let (cluster, local): (Vec<&Rule>, Vec<&Rule>) = rules.iter().partition(|r| r.cluster_wide);
        if !local.is_empty() {
            let meta = json!({"name": name, "namespace": namespace});
            let rules: Vec<Value> = local.iter().map(|r| r.to_json()).collect();
            items.push(json!({"apiVersion": rbac, "kind": "Role", "metadata": meta, "rules": rules}));
            items.push(json!({
                "apiVersion": rbac, "kind": "RoleBinding", "metadata": meta, "subjects": subject,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            }));
        }
        if !cluster.is_empty() {
            let role = format!("netpol-test:{namespace}:{name}");
            let rules: Vec<Value> = cluster.iter().map(|r| r.to_json()).collect();
            items.push(json!({"apiVersion": rbac, "kind": "ClusterRole", "metadata": {"name": role}, "rules": rules}));
            items.push(json!({
                "apiVersion": rbac, "kind": "ClusterRoleBinding", "metadata": {"name": role}, "subjects": subject,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            }));
        }
        self.apply(&json!({"apiVersion": "v1", "kind": "List", "items": items}).to_string())?;
        self.token(namespace, name)
    }

    /// A one-hour token for the ServiceAccount `namespace/name`, which must
    /// exist (TokenRequest, through `kubectl create token` as admin), and a
    /// kubeconfig that uses it: requests with it have exactly the rights RBAC
    /// gives that ServiceAccount, e.g. one a test applied from a manifest.
    pub fn token(&self, namespace: &str, name: &str) -> Result<Credentials, Error> {
        let user = format!("system:serviceaccount:{namespace}:{name}");
        let token = self.kubectl_output(&["create", "token", name, "-n", namespace, "--duration=1h"], None)?;
        let token = token.trim().to_string();
        let kubeconfig = self.dir().join(format!("{namespace}.{name}.kubeconfig"));
        write_kubeconfig(&kubeconfig, &self.server, &self.ca_cert, &self.context, &user, &token)?;
        Ok(Credentials { user, token, kubeconfig })
    }

    /// Sets a Pod's status as a kubelet would once it runs: phase Running,
    /// podIP and podIPs `ip`.
    pub fn set_pod_ip(&self, namespace: &str, name: &str, ip: &str) -> Result<(), Error> {
        self.set_pod_ips(namespace, name, &[ip])
    }

    /// Sets a Pod's status as a kubelet would once it runs, through the
    /// status subresource: phase Running, `podIP` the first of `ips`,
    /// `podIPs` all of them (at most one per address family).
    pub fn set_pod_ips(&self, namespace: &str, name: &str, ips: &[&str]) -> Result<(), Error> {
        let pod_ips: Vec<Value> = ips.iter().map(|ip| json!({"ip": ip})).collect();
        let patch = json!({"status": {"phase": "Running", "podIP": ips.first(), "podIPs": pod_ips}});
        self.kubectl_output(
            &["patch", "pod", name, "-n", namespace, "--subresource=status", "--type=merge", "-p", &patch.to_string()],
            None,
        )
        .map(drop)
    }
}

/// A kubeconfig (written as JSON, which is YAML) for one bearer-token user;
/// `name` names the cluster and the context.
pub(crate) fn write_kubeconfig(
    path: &Path,
    server: &str,
    ca: &Path,
    name: &str,
    user: &str,
    token: &str,
) -> Result<(), Error> {
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority": ca}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": user, "namespace": "default"}}],
        "current-context": name,
    });
    let text = serde_json::to_string_pretty(&config).expect("a kubeconfig serializes");
    write(path, &(text + "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_become_rbac_json() {
        let rule = Rule::new(&["get", "list"], "networking.k8s.io", &["networkpolicies"]);
        assert!(!rule.cluster_wide);
        assert_eq!(
            rule.to_json(),
            json!({"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "list"]})
        );
        assert!(Rule::new(&["list"], "", &["pods"]).cluster_wide().cluster_wide);
    }

    #[test]
    fn a_kubeconfig_names_server_ca_and_token() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        write_kubeconfig(&path, "https://127.0.0.1:1234", Path::new("/x/ca.crt"), "netpol-test", "u:1", "t\"ok")
            .unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["clusters"][0]["cluster"]["server"], "https://127.0.0.1:1234");
        assert_eq!(v["clusters"][0]["cluster"]["certificate-authority"], "/x/ca.crt");
        assert_eq!(v["users"][0], json!({"name": "u:1", "user": {"token": "t\"ok"}}));
        assert_eq!(v["contexts"][0]["context"]["user"], "u:1");
        assert_eq!(v["current-context"], "netpol-test");
    }
}

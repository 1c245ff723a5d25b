//! NP0070: Calico selectors read ServiceAccount labels (`pcsa.` keys), and
//! pods run as a ServiceAccount the input does not declare: those pods carry
//! no `pcsa.` labels (docs/semantics.md, "Service accounts"), which is right
//! only if the ServiceAccount really does not exist.

use std::collections::BTreeSet;

use netpol_model::{Cluster, Origin, CALICO_SERVICE_ACCOUNT_PREFIX};

pub(crate) struct Finding {
    pub namespace: String,
    pub origin: Origin,
    pub message: String,
    pub help: String,
}

/// One finding per undeclared ServiceAccount that some pod runs as, at the
/// first such pod, when some Calico selector reads a `pcsa.` key.
pub(crate) fn check(cluster: &Cluster) -> Vec<Finding> {
    let reader = cluster.tiered.iter().find_map(|p| {
        let key = p.calico_selectors().flat_map(|s| s.keys()).find(|k| k.starts_with(CALICO_SERVICE_ACCOUNT_PREFIX))?;
        Some((p.key(), key.to_string()))
    });
    let Some((policy, key)) = reader else { return Vec::new() };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for pod in cluster.pods.iter().filter(|p| !p.host_network && p.service_account.labels.is_none()) {
        let (Some(name), Some(origin)) = (pod.service_account.name(), &pod.origin) else { continue };
        if !seen.insert((pod.namespace.as_str(), name)) {
            continue;
        }
        out.push(Finding {
            namespace: pod.namespace.clone(),
            origin: origin.clone(),
            message: format!(
                "{} runs as ServiceAccount `{}/{name}`, which the input does not declare: Calico selectors on \
                 ServiceAccount labels (`{key}` in {policy}) see none on its pods",
                pod.key(),
                pod.namespace
            ),
            help: format!(
                "add the ServiceAccount with the labels it has (`apiVersion: v1`, `kind: ServiceAccount`, \
                 `metadata: {{name: {name}, namespace: {}, labels: ...}}`), e.g. from `kubectl get serviceaccounts -A -o yaml`",
                pod.namespace
            ),
        });
    }
    out
}

//! What the agent's test files share.

use netpol_model::Cluster;

/// The cluster with its objects in key order (the folder's order is unspecified).
pub fn sorted(cluster: &Cluster) -> Cluster {
    let mut c = cluster.clone();
    c.pods.sort_by(|a, b| (&a.namespace, &a.name, a.kind).cmp(&(&b.namespace, &b.name, b.kind)));
    c.services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    c.policies.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    c.service_accounts.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    c
}

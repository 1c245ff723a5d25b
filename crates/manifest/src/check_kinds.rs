//! The kinds netpol reads, the apiVersions that serve them, and the finding
//! for an `apiVersion` that is missing or wrong.

use crate::diagnostic as d;
use crate::node::FieldPath;
use crate::validate::Finding;

/// The apiVersion that serves each kind netpol reads.
pub(super) fn served_api_version(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "Namespace" | "Pod" | "Service" | "Node" | "ServiceAccount" => "v1",
        "NetworkPolicy" => "networking.k8s.io/v1",
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        _ => return None,
    })
}

pub(super) const KNOWN_KINDS: &[&str] = &[
    "Namespace",
    "Pod",
    "Service",
    "NetworkPolicy",
    "Node",
    "ServiceAccount",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterNetworkPolicy",
    "GlobalNetworkPolicy",
    "Tier",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "List",
];

/// Every kind the core `v1` group serves (besides lists).
pub(super) const CORE_V1_KINDS: &[&str] = &[
    "Binding",
    "ComponentStatus",
    "ConfigMap",
    "Endpoints",
    "Event",
    "LimitRange",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "ResourceQuota",
    "Secret",
    "Service",
    "ServiceAccount",
    "Status",
    "DeleteOptions",
    "List",
];

/// The finding for an object's `apiVersion`, when it is missing or another than
/// `served` (or one of `also`, other spellings that serve the kind).
pub(super) fn api_version_finding(
    kind: &str,
    api_version: Option<&str>,
    served: &str,
    also: &[&str],
) -> Option<Finding> {
    match api_version {
        None => Some(
            Finding::value(
                d::MISSING_API_VERSION,
                FieldPath::root(),
                format!("`apiVersion` is missing for kind `{kind}`"),
            )
            .help(format!("add `apiVersion: {served}`")),
        ),
        Some(given) if given != served && !also.contains(&given) => Some(
            Finding::value(
                d::WRONG_API_VERSION,
                FieldPath::root().key("apiVersion"),
                format!("`{given}` does not serve kind `{kind}`"),
            )
            .help(wrong_version_help(kind, given, served)),
        ),
        Some(_) => None,
    }
}

fn wrong_version_help(kind: &str, given: &str, served: &str) -> String {
    let removed = match given {
        "extensions/v1beta1" => " (`extensions/v1beta1` was removed in Kubernetes 1.16; the fields are the same)",
        "apps/v1beta1" | "apps/v1beta2" => " (`apps/v1beta1` and `apps/v1beta2` were removed in Kubernetes 1.16)",
        "batch/v1beta1" => " (`batch/v1beta1` was removed in Kubernetes 1.25)",
        _ => "",
    };
    format!("{kind} is served as `apiVersion: {served}`{removed}")
}

//! The wire types of the ordered-policy kinds, field for field as their APIs
//! define them (network-policy-api v0.1.8 `apis/v1alpha1`, v0.2.0
//! `apis/v1alpha2`; Calico `api/pkg/apis/projectcalico/v3`; Calico's v1
//! `policy`). Typed decoding reports every field they do not have.

// Fields the model does not use stay declared: typed decoding then knows them
// (an unknown field is a finding) and ICMP matches never concern TCP, UDP or SCTP flows.
#![allow(dead_code)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::IgnoredAny;
use serde::Deserialize;

/// An AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy.
#[derive(Deserialize)]
pub(crate) struct Upstream<S> {
    pub metadata: ObjectMeta,
    pub spec: S,
    #[serde(default)]
    pub status: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnpSpec {
    pub priority: i64,
    pub subject: ApiSubject,
    #[serde(default)]
    pub ingress: Vec<AnpIngressRule>,
    #[serde(default)]
    pub egress: Vec<AnpEgressRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BanpSpec {
    pub subject: ApiSubject,
    #[serde(default)]
    pub ingress: Vec<AnpIngressRule>,
    #[serde(default)]
    pub egress: Vec<AnpEgressRule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CnpSpec {
    pub tier: String,
    pub priority: i64,
    pub subject: ApiSubject,
    #[serde(default)]
    pub ingress: Vec<CnpIngressRule>,
    #[serde(default)]
    pub egress: Vec<CnpEgressRule>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApiSubject {
    pub namespaces: Option<LabelSelector>,
    pub pods: Option<NamespacedPod>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NamespacedPod {
    pub namespace_selector: LabelSelector,
    pub pod_selector: LabelSelector,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnpIngressRule {
    pub name: Option<String>,
    pub action: String,
    pub from: Vec<IngressPeer>,
    pub ports: Option<Vec<AnpPort>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnpEgressRule {
    pub name: Option<String>,
    pub action: String,
    pub to: Vec<EgressPeer>,
    pub ports: Option<Vec<AnpPort>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CnpIngressRule {
    pub name: Option<String>,
    pub action: String,
    pub from: Vec<IngressPeer>,
    pub protocols: Option<Vec<CnpProtocol>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CnpEgressRule {
    pub name: Option<String>,
    pub action: String,
    pub to: Vec<EgressPeer>,
    pub protocols: Option<Vec<CnpProtocol>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IngressPeer {
    pub namespaces: Option<LabelSelector>,
    pub pods: Option<NamespacedPod>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EgressPeer {
    pub namespaces: Option<LabelSelector>,
    pub pods: Option<NamespacedPod>,
    pub nodes: Option<LabelSelector>,
    pub networks: Option<Vec<String>>,
    pub domain_names: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AnpPort {
    pub port_number: Option<AnpPortNumber>,
    pub named_port: Option<String>,
    pub port_range: Option<AnpPortRange>,
}

#[derive(Deserialize)]
pub(crate) struct AnpPortNumber {
    /// The CRD defaults it to TCP.
    pub protocol: Option<String>,
    pub port: i64,
}

#[derive(Deserialize)]
pub(crate) struct AnpPortRange {
    pub protocol: Option<String>,
    pub start: i64,
    pub end: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CnpProtocol {
    pub tcp: Option<CnpDestination>,
    pub udp: Option<CnpDestination>,
    pub sctp: Option<CnpDestination>,
    pub destination_named_port: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CnpDestination {
    pub destination_port: Option<CnpPort>,
}

#[derive(Deserialize)]
pub(crate) struct CnpPort {
    pub number: Option<i64>,
    pub range: Option<CnpRange>,
}

#[derive(Deserialize)]
pub(crate) struct CnpRange {
    pub start: i64,
    pub end: i64,
}

/// A Calico `projectcalico.org/v3` NetworkPolicy or GlobalNetworkPolicy.
#[derive(Deserialize)]
pub(crate) struct Calico {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: CalicoSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CalicoSpec {
    pub tier: Option<String>,
    pub order: Option<f64>,
    #[serde(default)]
    pub ingress: Vec<CalicoRule>,
    #[serde(default)]
    pub egress: Vec<CalicoRule>,
    pub selector: Option<String>,
    pub namespace_selector: Option<String>,
    pub service_account_selector: Option<String>,
    pub types: Option<Vec<String>>,
    pub do_not_track: Option<bool>,
    #[serde(rename = "preDNAT")]
    pub pre_dnat: Option<bool>,
    pub apply_on_forward: Option<bool>,
    pub performance_hints: Option<IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CalicoRule {
    pub action: String,
    pub ip_version: Option<i64>,
    pub protocol: Option<NumOrString>,
    pub not_protocol: Option<NumOrString>,
    pub icmp: Option<Icmp>,
    #[serde(rename = "notICMP")]
    pub not_icmp: Option<Icmp>,
    #[serde(default)]
    pub source: CalicoEntityRule,
    #[serde(default)]
    pub destination: CalicoEntityRule,
    pub http: Option<IgnoredAny>,
    pub metadata: Option<IgnoredAny>,
}

#[derive(Deserialize)]
pub(crate) struct Icmp {
    #[serde(rename = "type")]
    pub kind: Option<i64>,
    pub code: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CalicoEntityRule {
    pub nets: Option<Vec<String>>,
    pub selector: Option<String>,
    pub namespace_selector: Option<String>,
    pub services: Option<IgnoredAny>,
    pub ports: Option<Vec<NumOrString>>,
    pub not_nets: Option<Vec<String>>,
    pub not_selector: Option<String>,
    pub not_ports: Option<Vec<NumOrString>>,
    pub service_accounts: Option<IgnoredAny>,
    // Calico v1 only (converted as Calico's upgrade did).
    pub net: Option<String>,
    pub not_net: Option<String>,
    pub tag: Option<String>,
    pub not_tag: Option<String>,
}

#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub(crate) enum NumOrString {
    Num(i64),
    Str(String),
}

impl std::fmt::Display for NumOrString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NumOrString::Num(n) => write!(f, "{n}"),
            NumOrString::Str(s) => f.write_str(s),
        }
    }
}

/// A Calico `Tier`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CalicoTier {
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: CalicoTierSpec,
    #[serde(default)]
    pub status: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CalicoTierSpec {
    pub order: Option<f64>,
    pub default_action: Option<String>,
}

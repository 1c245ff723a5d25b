//! The wire types of the ordered-policy kinds, field for field as their APIs
//! define them (network-policy-api v0.1.8 `apis/v1alpha1`, v0.2.0
//! `apis/v1alpha2`; Calico `api/pkg/apis/projectcalico/v3`; Calico's v1
//! `policy`). Typed decoding reports every field they do not have.

// Fields the model does not use stay declared: typed decoding then knows them
// (an unknown field is a finding) and ICMP matches never concern TCP, UDP or SCTP flows.
#![allow(dead_code)]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A value of any shape, read and dropped: a field the API has whose content
/// netpol does not read (`status`, `http`, `performanceHints`...). Unlike
/// serde's `Opaque`, which the unknown-field tracking (serde_ignored)
/// reports as unknown, it is read as any other value.
pub(crate) struct Opaque;

impl<'de> Deserialize<'de> for Opaque {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OpaqueVisitor).map(|()| Opaque)
    }
}

struct OpaqueVisitor;

impl<'de> Visitor<'de> for OpaqueVisitor {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_bytes<E>(self, _: &[u8]) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        Opaque::deserialize(deserializer).map(|_| ())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Opaque>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<Opaque, Opaque>()?.is_some() {}
        Ok(())
    }
}

/// An AdminNetworkPolicy, BaselineAdminNetworkPolicy or ClusterNetworkPolicy.
#[derive(Deserialize)]
pub(crate) struct Upstream<S> {
    pub metadata: ObjectMeta,
    pub spec: S,
    #[serde(default)]
    pub status: Option<Opaque>,
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
    pub performance_hints: Option<Opaque>,
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
    pub http: Option<Opaque>,
    pub metadata: Option<Opaque>,
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
    pub services: Option<Opaque>,
    pub ports: Option<Vec<NumOrString>>,
    pub not_nets: Option<Vec<String>>,
    pub not_selector: Option<String>,
    pub not_ports: Option<Vec<NumOrString>>,
    pub service_accounts: Option<CalicoServiceAccountMatch>,
    // Calico v1 only (converted as Calico's upgrade did).
    pub net: Option<String>,
    pub not_net: Option<String>,
    pub tag: Option<String>,
    pub not_tag: Option<String>,
}

/// An entity rule's `serviceAccounts`: names and a selector over the
/// ServiceAccounts' labels, ANDed.
#[derive(Deserialize, Default)]
pub(crate) struct CalicoServiceAccountMatch {
    pub names: Option<Vec<String>>,
    pub selector: Option<String>,
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
    pub status: Option<Opaque>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CalicoTierSpec {
    pub order: Option<f64>,
    pub default_action: Option<String>,
}

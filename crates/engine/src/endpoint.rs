//! The two ends of a concrete flow: a pod (by `namespace/name`) or an IP address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use netpol_model::{PodKey, Protocol};
use serde::{Serialize, Serializer};

/// One end of a [`Flow`]: a pod or workload by key, or an IP address.
///
/// An IP that is some (non-hostNetwork) pod's IP stands for that pod; any other
/// IP is external, and no policy is enforced at its end.
/// Serialized as its display form: `"default/frontend"` or `"10.0.0.1"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub enum Endpoint {
    Pod(PodKey),
    Ip(IpAddr),
}

impl From<Endpoint> for String {
    fn from(e: Endpoint) -> String {
        e.to_string()
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Pod(key) => write!(f, "{key}"),
            Endpoint::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither NAMESPACE/NAME nor an IP address")]
pub struct EndpointParseError(pub String);

/// `"ns/name"` or an IPv4/IPv6 literal.
impl FromStr for Endpoint {
    type Err = EndpointParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Endpoint::Ip(ip));
        }
        s.parse::<PodKey>().map(Endpoint::Pod).map_err(|_| EndpointParseError(s.to_string()))
    }
}

impl From<PodKey> for Endpoint {
    fn from(key: PodKey) -> Self {
        Endpoint::Pod(key)
    }
}

impl From<IpAddr> for Endpoint {
    fn from(ip: IpAddr) -> Self {
        Endpoint::Ip(ip)
    }
}

/// A concrete connection attempt: `src` opens a connection to `dst` on `port`/`protocol`.
/// (Replies of an allowed connection are implicitly allowed.)
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Flow {
    pub src: Endpoint,
    pub dst: Endpoint,
    #[serde(serialize_with = "protocol_name")]
    pub protocol: Protocol,
    pub port: u16,
}

impl Flow {
    pub fn new(src: impl Into<Endpoint>, dst: impl Into<Endpoint>, protocol: Protocol, port: u16) -> Self {
        Flow { src: src.into(), dst: dst.into(), protocol, port }
    }
}

/// `default/frontend -> default/backend 80/TCP`.
impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} {}/{}", self.src, self.dst, self.port, self.protocol)
    }
}

/// Protocols appear in JSON with their Kubernetes spelling (`"TCP"`).
pub(crate) fn protocol_name<S: Serializer>(p: &Protocol, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_and_ips() {
        let cases = [
            ("pod key", "default/web", Some(Endpoint::Pod(PodKey::new("default", "web")))),
            ("ipv4", "10.0.0.1", Some(Endpoint::Ip("10.0.0.1".parse().unwrap()))),
            ("ipv6", "fd00::1", Some(Endpoint::Ip("fd00::1".parse().unwrap()))),
            ("spaces trimmed", " default/web ", Some(Endpoint::Pod(PodKey::new("default", "web")))),
            ("bare name", "web", None),
            ("too many slashes", "a/b/c", None),
            ("empty", "", None),
        ];
        for (name, given, want) in cases {
            assert_eq!(given.parse::<Endpoint>().ok(), want, "{name}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["default/web", "10.0.0.1", "fd00::1"] {
            assert_eq!(s.parse::<Endpoint>().unwrap().to_string(), s);
        }
    }
}

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A transport protocol NetworkPolicy can name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    /// The Kubernetes spelling: `TCP`, `UDP`, `SCTP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol `{0}` (expected TCP, UDP or SCTP)")]
pub struct ProtocolError(pub String);

/// Parses the exact Kubernetes spelling; CLI callers may upper-case first.
impl FromStr for Protocol {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "TCP" => Ok(Protocol::Tcp),
            "UDP" => Ok(Protocol::Udp),
            "SCTP" => Ok(Protocol::Sctp),
            other => Err(ProtocolError(other.to_string())),
        }
    }
}

/// A port as a policy names it: a number, or the name of a container port
/// (resolved against the *destination* pod of a flow).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PortRef {
    Number(u16),
    Name(String),
}

impl fmt::Display for PortRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => f.write_str(s),
        }
    }
}

/// One entry of a rule's `ports` (post-defaulting: `protocol` is always set).
///
/// `port: None` means every port of `protocol`. `end_port` is only ever set
/// together with a numeric `port` no greater than it (validation guarantees it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PolicyPort {
    pub protocol: Protocol,
    pub port: Option<PortRef>,
    pub end_port: Option<u16>,
}

impl PolicyPort {
    pub fn number(protocol: Protocol, port: u16) -> Self {
        PolicyPort { protocol, port: Some(PortRef::Number(port)), end_port: None }
    }

    pub fn range(protocol: Protocol, port: u16, end_port: u16) -> Self {
        PolicyPort { protocol, port: Some(PortRef::Number(port)), end_port: Some(end_port) }
    }

    pub fn named(protocol: Protocol, name: impl Into<String>) -> Self {
        PolicyPort { protocol, port: Some(PortRef::Name(name.into())), end_port: None }
    }

    pub fn all(protocol: Protocol) -> Self {
        PolicyPort { protocol, port: None, end_port: None }
    }
}

/// `80/TCP`, `8000-8080/TCP`, `http/TCP`, `<any>/UDP`.
impl fmt::Display for PolicyPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.port, self.end_port) {
            (None, _) => write!(f, "<any>/{}", self.protocol),
            (Some(p), None) => write!(f, "{p}/{}", self.protocol),
            (Some(p), Some(end)) => write!(f, "{p}-{end}/{}", self.protocol),
        }
    }
}

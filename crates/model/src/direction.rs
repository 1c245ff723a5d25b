use std::fmt;

use serde::{Deserialize, Serialize};

/// The direction of traffic relative to the *subject* (the pod a policy selects).
///
/// `Ingress` is traffic the subject receives; `Egress` is traffic it initiates.
/// Replies to an allowed connection are not a separate direction: they are implicitly allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Direction {
    Ingress,
    Egress,
}

impl Direction {
    pub const ALL: [Direction; 2] = [Direction::Ingress, Direction::Egress];

    /// The spelling used in `spec.policyTypes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ingress => "Ingress",
            Direction::Egress => "Egress",
        }
    }

    /// The YAML key holding the rules of this direction (`ingress` / `egress`).
    pub fn rules_key(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    /// The YAML key holding the peers of a rule (`from` / `to`).
    pub fn peers_key(self) -> &'static str {
        match self {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

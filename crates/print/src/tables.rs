//! The one JSON shape of truth tables: `netpol matrix --port .. -o json` (what
//! the policies allow) and `netpol lab probe -o json` (what real packets did)
//! both print a [`TruthTables`].

use netpol_model::Protocol;
use serde::{Serialize, Serializer};

/// `{"pods": ["ns/name", ...], "probes": [{"port", "protocol", "allowed": [[..]]}]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TruthTables {
    /// Row and column order of every table.
    pub pods: Vec<String>,
    /// One table per (port, protocol). The key is `"probes"`, a documented
    /// contract (docs/cli.md), though in `netpol matrix` nothing is probed.
    #[serde(rename = "probes")]
    pub tables: Vec<TruthTable>,
}

/// The verdicts of one (port, protocol) for every ordered pair of pods.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TruthTable {
    pub port: u16,
    /// `"TCP"`, `"UDP"` or `"SCTP"`.
    #[serde(serialize_with = "protocol_name")]
    pub protocol: Protocol,
    /// `allowed[i][j]`: `pods[i]` connects to `pods[j]`.
    pub allowed: Vec<Vec<bool>>,
}

impl TruthTables {
    /// Pretty-printed JSON and a final newline.
    pub fn json(&self) -> String {
        let mut out = serde_json::to_string_pretty(self).expect("plain data serialises");
        out.push('\n');
        out
    }
}

pub(crate) fn protocol_name<S: Serializer>(protocol: &Protocol, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(protocol.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_tables_json_keeps_the_documented_keys() {
        let tables = TruthTables {
            pods: vec!["x/a".into(), "x/b".into()],
            tables: vec![TruthTable {
                port: 80,
                protocol: Protocol::Udp,
                allowed: vec![vec![true, false], vec![true, true]],
            }],
        };
        let json = tables.json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"pods": ["x/a", "x/b"], "probes": [
                {"port": 80, "protocol": "UDP", "allowed": [[true, false], [true, true]]}
            ]})
        );
        // Field order as docs/cli.md shows it.
        assert!(json.find("\"pods\"").unwrap() < json.find("\"probes\"").unwrap());
        assert!(json.find("\"port\"").unwrap() < json.find("\"allowed\"").unwrap());
    }
}

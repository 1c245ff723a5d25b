//! The connections of a pair: the model's [`PortSet`] under the matrix's name.

use netpol_model::PortSet;

/// Allowed connections: for each protocol, sorted disjoint inclusive port ranges
/// (see [`PortSet`]: the engine's `allowed_connections` returns the same type).
pub type Connections = PortSet;

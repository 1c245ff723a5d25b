//! API-server validation, ported from upstream Kubernetes
//! (`pkg/apis/networking/validation`: `ValidateNetworkPolicySpec`, `ValidateNetworkPolicyPeer`,
//! `ValidateNetworkPolicyPort`, `ValidateIPBlock`; apimachinery's `ValidateLabelSelector`,
//! `ValidateLabels`, `IsQualifiedName`, `IsValidLabelValue`, `IsDNS1123Subdomain`,
//! `IsValidPortName`, `IsValidPortNum`; core's `validateContainerPorts`).
//!
//! Every check runs and every finding is collected, each with the [`FieldPath`] it
//! is about; the loader turns paths into positions. The checks walk with a
//! [`Walk`] on the stack and build a path only for a finding.
//!
//! Split along upstream's packages: [`names`] (apimachinery: name formats,
//! labels, selectors, object metadata), [`networking`] (NetworkPolicy) and
//! [`core`] (Pods, workload templates, Services).

mod core;
mod names;
mod networking;

use crate::diagnostic::{self as d, CodeInfo};
use crate::node::{FieldPath, Walk};

pub(crate) use self::core::{pod_spec, pod_status, service_spec, SpecOf};
use names::port_name;
pub(crate) use names::{
    dns1123_label, dns1123_subdomain, label_value, object_meta, parse_cidr, qualified_name, validate_labels,
    validate_selector, NameRule,
};
pub(crate) use networking::network_policy_spec;

/// Whether a finding is about a field's key or its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum At {
    Key,
    Value,
}

/// A finding before it has a position.
#[derive(Clone, Debug)]
pub(crate) struct Finding {
    pub code: CodeInfo,
    pub path: FieldPath,
    pub at: At,
    pub message: String,
    pub help: Option<String>,
    /// A position inside the value (a selector expression): characters into its
    /// content, past the opening quote of a quoted scalar; `None`: the value's start.
    pub shift: Option<u32>,
}

impl Finding {
    pub fn value(code: CodeInfo, path: FieldPath, message: impl Into<String>) -> Self {
        Finding { code, path, at: At::Value, message: message.into(), help: None, shift: None }
    }

    pub fn key(code: CodeInfo, path: FieldPath, message: impl Into<String>) -> Self {
        Finding { code, path, at: At::Key, message: message.into(), help: None, shift: None }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

fn protocols_help(p: &str) -> String {
    let upper = p.to_ascii_uppercase();
    if ["TCP", "UDP", "SCTP"].contains(&upper.as_str()) {
        format!("protocols are upper case: `{upper}`")
    } else {
        "supported values: `TCP`, `UDP`, `SCTP`".to_string()
    }
}

pub(super) fn validate_protocol(protocol: Option<&str>, path: Walk<'_>, out: &mut Vec<Finding>) {
    if let Some(p) = protocol {
        if !["TCP", "UDP", "SCTP"].contains(&p) {
            out.push(
                Finding::value(d::INVALID_PROTOCOL, path.path(), format!("unsupported protocol `{p}`"))
                    .help(protocols_help(p)),
            );
        }
    }
}

pub(super) fn port_in_range(n: i64) -> bool {
    (1..=65535).contains(&n)
}

pub(super) fn named_port(name: &str, path: Walk<'_>, out: &mut Vec<Finding>) {
    let errs = port_name(name);
    if errs.is_empty() {
        return;
    }
    let numeric = name.parse::<u32>().is_ok();
    for e in errs {
        let mut f = Finding::value(d::INVALID_PORT_NAME, path.path(), format!("invalid port name `{name}`: {e}"));
        if numeric {
            f = f.help(format!("a quoted number is a port *name*: write `{name}` without quotes"));
        }
        out.push(f);
    }
}

//! core's validation: container ports of pods and workload templates, pod IPs, Services.

use std::collections::HashSet;
use std::net::IpAddr;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::names::validate_labels;
use super::{named_port, port_in_range, validate_protocol, Finding};
use crate::diagnostic as d;
use crate::node::Walk;

// ---- Pods, templates, Services ----------------------------------------------

/// Container ports of a pod spec at `path` (`spec` or `spec.template.spec`).
pub(crate) fn pod_spec(spec: &core::PodSpec, path: Walk<'_>, out: &mut Vec<Finding>) {
    let containers = path.key("containers");
    for (i, c) in spec.containers.iter().enumerate() {
        let cpath = containers.index(i);
        let ports = cpath.key("ports");
        let mut names = HashSet::new();
        for (j, p) in c.ports.iter().flatten().enumerate() {
            let ppath = ports.index(j);
            if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
                let before = out.len();
                named_port(name, ppath.key("name"), out);
                if out.len() == before && !names.insert(name) {
                    out.push(Finding::value(
                        d::DUPLICATE_PORT_NAME,
                        ppath.key("name").path(),
                        format!("duplicate port name `{name}` in container `{}`", c.name),
                    ));
                }
            }
            if !port_in_range(i64::from(p.container_port)) {
                out.push(Finding::value(
                    d::PORT_OUT_OF_RANGE,
                    ppath.key("containerPort").path(),
                    format!("containerPort {} must be between 1 and 65535, inclusive", p.container_port),
                ));
            }
            if let Some(h) = p.host_port.filter(|h| *h != 0) {
                if !port_in_range(i64::from(h)) {
                    out.push(Finding::value(
                        d::PORT_OUT_OF_RANGE,
                        ppath.key("hostPort").path(),
                        format!("hostPort {h} must be between 1 and 65535, inclusive"),
                    ));
                }
            }
            validate_protocol(p.protocol.as_deref(), ppath.key("protocol"), out);
        }
    }
}

/// `status.podIP` and `status.podIPs`.
pub(crate) fn pod_status(status: &core::PodStatus, out: &mut Vec<Finding>) {
    let root = Walk::Root;
    let path = root.key("status");
    if let Some(ip) = status.pod_ip.as_deref().filter(|s| !s.is_empty()) {
        ip_address(ip, path.key("podIP"), out);
    }
    let ips = path.key("podIPs");
    for (i, ip) in status.pod_ips.iter().flatten().enumerate() {
        let item = ips.index(i);
        ip_address(&ip.ip, item.key("ip"), out);
    }
}

fn ip_address(text: &str, path: Walk<'_>, out: &mut Vec<Finding>) {
    if text.parse::<IpAddr>().is_err() {
        out.push(Finding::value(d::INVALID_IP, path.path(), format!("`{text}` is not an IP address")));
    }
}

pub(crate) fn service_spec(spec: &core::ServiceSpec, out: &mut Vec<Finding>) {
    let root = Walk::Root;
    let path = root.key("spec");
    if let Some(selector) = &spec.selector {
        validate_labels(selector, path.key("selector"), out);
    }
    let ports = path.key("ports");
    for (i, p) in spec.ports.iter().flatten().enumerate() {
        let ppath = ports.index(i);
        if !port_in_range(i64::from(p.port)) {
            out.push(Finding::value(
                d::PORT_OUT_OF_RANGE,
                ppath.key("port").path(),
                format!("port {} must be between 1 and 65535, inclusive", p.port),
            ));
        }
        match &p.target_port {
            Some(IntOrString::Int(n)) if !port_in_range(i64::from(*n)) => out.push(Finding::value(
                d::PORT_OUT_OF_RANGE,
                ppath.key("targetPort").path(),
                format!("targetPort {n} must be between 1 and 65535, inclusive"),
            )),
            Some(IntOrString::String(name)) => named_port(name, ppath.key("targetPort"), out),
            _ => {}
        }
        validate_protocol(p.protocol.as_deref(), ppath.key("protocol"), out);
    }
    let cluster_ips = path.key("clusterIPs");
    for (i, ip) in spec.cluster_ips.iter().flatten().enumerate() {
        if ip != "None" && !ip.is_empty() {
            ip_address(ip, cluster_ips.index(i), out);
        }
    }
    if let Some(ip) = spec.cluster_ip.as_deref().filter(|s| *s != "None" && !s.is_empty()) {
        ip_address(ip, path.key("clusterIP"), out);
    }
}

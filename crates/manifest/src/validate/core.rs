//! core's validation: container images and ports of pods and workload templates, pod IPs, Services.

use std::collections::HashSet;
use std::net::IpAddr;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::names::validate_labels;
use super::{named_port, port_in_range, validate_protocol, Finding};
use crate::diagnostic as d;
use crate::node::Walk;

// ---- Pods, templates, Services ----------------------------------------------

/// Whose pod spec is checked: the API server checks a Pod's a little more than a template's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SpecOf {
    Pod,
    Template,
}

/// A pod spec at `path` (`spec` or `spec.template.spec`): container images and ports.
pub(crate) fn pod_spec(spec: &core::PodSpec, of: SpecOf, path: Walk<'_>, out: &mut Vec<Finding>) {
    fn name_image(c: &core::Container) -> (&str, Option<&str>) {
        (c.name.as_str(), c.image.as_deref())
    }
    images("containers", spec.containers.iter().map(name_image), of, path, out);
    images("initContainers", spec.init_containers.iter().flatten().map(name_image), of, path, out);
    let ephemeral = spec.ephemeral_containers.iter().flatten().map(|c| (c.name.as_str(), c.image.as_deref()));
    images("ephemeralContainers", ephemeral, of, path, out);
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

/// The images of the containers of `list`, as upstream checks it (`pkg/apis/core/validation`),
/// for `containers`, `initContainers` and `ephemeralContainers` alike:
/// - `validateContainerCommon`: missing, null and `""` are all
///   `spec.containers[0].image: Required value`, in a Pod and in a pod template;
/// - `validateContainersOnlyForPod`, a Pod's only (a template keeps it as written):
///   `Invalid value: "nginx ": must not have leading or trailing whitespace`.
///
/// The finding is at `image:` when it is written, else at the container.
fn images<'a>(
    list: &str,
    containers: impl Iterator<Item = (&'a str, Option<&'a str>)>,
    of: SpecOf,
    path: Walk<'_>,
    out: &mut Vec<Finding>,
) {
    for (i, (name, image)) in containers.enumerate() {
        if let Some((message, help)) = image_finding(list, i, name, image, of) {
            let list_path = path.key(list);
            let item = list_path.index(i);
            out.push(Finding::value(d::INVALID_IMAGE, item.key("image").path(), message).help(help));
        }
    }
}

fn image_finding(list: &str, i: usize, name: &str, image: Option<&str>, of: SpecOf) -> Option<(String, String)> {
    let container = if name.is_empty() { String::from("the container") } else { format!("container `{name}`") };
    let (message, help) = match image {
        None => (
            format!("{list}[{i}]: `image` is required"),
            format!(
                "add `image:` to {container} with the image it runs, e.g. `image: nginx:1.27`: the API server rejects a container without one"
            ),
        ),
        Some("") => (
            format!("{list}[{i}]: `image` is required, and it is empty"),
            format!("write the image {container} runs, e.g. `image: nginx:1.27`: the API server rejects an empty one"),
        ),
        Some(image) if of == SpecOf::Pod && image.trim() != image => (
            format!("{list}[{i}]: `image` {image:?} must not have leading or trailing whitespace"),
            format!("write it without the whitespace: `image: {}`", image.trim()),
        ),
        Some(_) => return None,
    };
    Some((message, help))
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

//! Offline snapshots of the text for the paths the control-plane test checks
//! against the real kubectl (crates/cli/tests/explain.rs), and the errors.

use netpol_explain::{Error, Explainer, Request};

fn explain(request: Request) -> Result<String, Error> {
    Explainer::embedded().expect("the embedded document parses").explain(&request)
}

fn text(path: &str) -> String {
    explain(Request::new(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Snapshot name for a path: dots become underscores.
fn name(path: &str) -> String {
    path.replace('.', "_")
}

#[test]
fn paths_snapshot() {
    for path in [
        "networkpolicy",
        "networkpolicy.spec",
        "networkpolicy.spec.ingress",
        "networkpolicy.spec.ingress.from",
        "networkpolicy.spec.ingress.from.ipBlock",
        "networkpolicy.spec.egress.to.namespaceSelector",
        "networkpolicy.spec.egress.ports",
        "networkpolicy.spec.egress.ports.endPort",
        "networkpolicy.spec.egress.ports.protocol",
        "networkpolicy.spec.ingress.ports.port",
        "networkpolicy.metadata",
        "networkpolicy.metadata.labels",
        "networkpolicy.metadata.creationTimestamp",
        "networkpolicy.spec.podSelector.matchExpressions",
    ] {
        insta::assert_snapshot!(name(path), text(path));
    }
}

#[test]
fn recursive_snapshot() {
    for path in ["networkpolicy", "networkpolicy.spec"] {
        let out = explain(Request::new(path).recursive(true)).unwrap();
        insta::assert_snapshot!(format!("{}_recursive", name(path)), out);
    }
}

#[test]
fn every_name_of_the_resource_gives_the_same_text() {
    let want = text("networkpolicy");
    for path in ["networkpolicies", "netpol", "NetworkPolicy", "NETPOL", "networkpolicies.networking.k8s.io"] {
        assert_eq!(text(path), want, "{path}");
    }
    assert_eq!(text("networkpolicies.networking.k8s.io.spec.ingress"), text("netpol.spec.ingress"));
}

#[test]
fn api_version_accepts_only_the_embedded_one() {
    let with = explain(Request::new("netpol.spec").api_version("networking.k8s.io/v1")).unwrap();
    assert_eq!(with, text("netpol.spec"));
    let err = explain(Request::new("netpol.spec").api_version("networking.k8s.io/v1beta1")).unwrap_err();
    assert!(matches!(err, Error::ApiVersion { .. }), "{err:?}");
}

#[test]
fn errors_snapshot() {
    let cases = [
        Request::new("netpol.foo"),
        Request::new("netpol.foo.bar"),
        Request::new("netpol.spec.Ingress"),
        Request::new("netpol.spec.policyTypes.x"),
        Request::new("netpol.spec.podSelector.matchLabels.x"),
        Request::new("netpol..spec"),
        Request::new("netpol.spec."),
        Request::new("pods.spec"),
        Request::new("netpol.spec").api_version("networking.k8s.io/v1beta1"),
        Request::new("netpol").api_version("v1"),
    ];
    let mut out = String::new();
    for request in cases {
        let err = explain(request.clone()).expect_err("an error");
        out.push_str(&format!("{request:?}\n  error: {err}\n"));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn a_field_path_through_items_and_maps_is_followed() {
    // policyTypes is []string: nothing below it; matchLabels is map[string]string: nothing either.
    assert!(matches!(explain(Request::new("netpol.spec.policyTypes.x")), Err(Error::NoField { .. })));
    // managedFields is []ManagedFieldsEntry: its items' fields are reachable.
    assert!(text("netpol.metadata.managedFields.fieldsV1").starts_with(
        "GROUP:      networking.k8s.io\nKIND:       NetworkPolicy\nVERSION:    v1\n\nFIELD: fieldsV1 <FieldsV1>\n"
    ));
}

#[test]
fn a_document_that_is_not_json_is_an_error() {
    assert!(matches!(Explainer::from_json("{"), Err(Error::Document { .. })));
}

#[test]
fn a_document_without_the_kind_is_an_error() {
    let explainer = Explainer::from_json(r#"{"paths": {}, "components": {"schemas": {}}}"#).unwrap();
    let err = explainer.explain(&Request::new("netpol")).unwrap_err();
    assert_eq!(err.to_string(), "GVR (networking.k8s.io/v1, Resource=networkpolicies) not found in OpenAPI schema");
}

#[test]
fn a_cycle_of_refs_ends() {
    // A schema that holds itself: the recursive field list stops at the ref it has seen.
    let document = r##"{
      "paths": {"/apis/networking.k8s.io/v1/networkpolicies": {"get": {
        "x-kubernetes-group-version-kind": {"group": "networking.k8s.io", "kind": "NetworkPolicy", "version": "v1"}}}},
      "components": {"schemas": {
        "np": {"type": "object", "description": "top",
               "x-kubernetes-group-version-kind": [{"group": "networking.k8s.io", "kind": "NetworkPolicy", "version": "v1"}],
               "properties": {"node": {"$ref": "#/components/schemas/node"}}},
        "node": {"type": "object", "description": "a node",
                 "properties": {"next": {"$ref": "#/components/schemas/node"}, "value": {"type": "string"}}}}}
    }"##;
    let explainer = Explainer::from_json(document).unwrap();
    let out = explainer.explain(&Request::new("netpol").recursive(true)).unwrap();
    insta::assert_snapshot!(out);
    let deep = explainer.explain(&Request::new("netpol.node.next.next.value")).unwrap();
    assert!(deep.contains("FIELD: value <string>\n"), "{deep}");
}

#[test]
fn the_server_version_is_recorded() {
    assert!(netpol_explain::server_version().starts_with("v1."), "{}", netpol_explain::server_version());
}

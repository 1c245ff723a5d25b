//! `netpol exposure`: snapshots of what it prints on the seed 000 walkthrough
//! (the `ns: default` trap of step 9, every pod of step 10), the JSON shape,
//! and the errors. Exactness is the engine's property test
//! (crates/engine/tests/exposure.rs); here, that the command says it.

mod support;

use std::process::Output;
use support::run::netpol;

const STEP_9: &str = "examples/seed-000-walkthrough/step-09-cassandra-ingress";
const STEP_10: &str = "examples/seed-000-walkthrough/step-10-default-labelled";

fn stdout(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn the_unlabelled_namespace_trap_shows_as_a_selector_nothing_matches_yet() {
    let text = stdout(&netpol(&["exposure", "-f", STEP_9, "cassandra/cassandra", "--direction", "ingress"]));
    assert!(text.contains("any namespace labelled ns=default (none does now)"), "{text}");
    insta::assert_snapshot!("exposure_step_9_cassandra_ingress", text);
    // Step 10 labels the namespace: the same selector, now matching it.
    let text = stdout(&netpol(&["exposure", "-f", STEP_10, "cassandra/cassandra", "--direction", "ingress"]));
    assert!(text.contains("any namespace labelled ns=default (now: default)"), "{text}");
}

#[test]
fn every_pod_of_a_step_both_directions() {
    insta::assert_snapshot!("exposure_step_10_all", stdout(&netpol(&["exposure", "-f", STEP_10])));
}

#[test]
fn pods_that_read_alike_are_listed_together() {
    // Step 1 has no policies: every pod is open both ways, one block for all.
    let text = stdout(&netpol(&["exposure", "-f", "examples/seed-000-walkthrough/step-01-no-policies"]));
    let first = text.lines().next().unwrap();
    assert!(first.contains("default/frontend") && first.contains("default/backend"), "{text}");
    assert_eq!(text.matches("not isolated").count(), 2, "{text}");
}

#[test]
fn json_is_one_exposure_per_subject_and_direction() {
    let text = stdout(&netpol(&["exposure", "-f", STEP_10, "default/backend", "-o", "json"]));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["direction"], "Ingress");
    assert_eq!(list[1]["direction"], "Egress");
    assert_eq!(list[0]["subject"]["name"], "backend");
    let grant = &list[0]["grants"][0];
    assert_eq!(grant["reach"]["kind"], "pods");
    assert_eq!(grant["reach"]["namespaces"], serde_json::json!({"kind": "named", "name": "default"}));
    assert_eq!(grant["via"]["policy"], "default/backend");
    assert_eq!(grant["ports"]["numbers"]["TCP"], serde_json::json!([[1, 65535]]));
    let egress_reach: Vec<&str> =
        list[1]["grants"].as_array().unwrap().iter().map(|g| g["reach"]["kind"].as_str().unwrap()).collect();
    assert_eq!(egress_reach, ["pods", "everything"]);
    assert!(list[1]["other_side"].as_array().unwrap().iter().any(|o| o["namespace"] == "cassandra"));
}

#[test]
fn an_unknown_subject_is_an_error() {
    let out = netpol(&["exposure", "-f", STEP_10, "default/nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("default/nope: no such pod or workload"), "{err}");
    let out = netpol(&["exposure", "-f", STEP_10, "nope"]);
    assert_eq!(out.status.code(), Some(2));
}

//! Building and removing a lab leaves nothing behind: after `down`, after an
//! interrupted `up` (at every step it can be interrupted), and after an `up`
//! whose state was left by a killed process.

mod labkit;

use std::cell::Cell;

use netpol_lab::{netns, state, Lab, LabError};
use netpol_model::Protocol;
use netpol_testkit::*;

fn small() -> netpol_model::Cluster {
    cluster()
        .pod(pod("default", "a").label("app", "a").ip("10.1.0.1").port("http", 80, Protocol::Tcp))
        .pod(pod("default", "b").label("app", "b").ip("fd00:10::2").port("dns", 53, Protocol::Udp))
        .build()
}

fn lab_namespaces(id: &str) -> Vec<String> {
    let prefix = format!("np-{id}-");
    let mut names: Vec<String> = std::fs::read_dir(netns::NETNS_DIR)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| n.starts_with(&prefix));
    names
}

#[test]
fn down_removes_everything() {
    require_privileged!();
    let options = labkit::options("d");
    let lab = Lab::up(&small(), &options, &|| false).unwrap();
    assert_eq!(lab_namespaces(&options.id).len(), 4, "node, a, b, kube-dns");
    // IPv6 works end to end: a UDP exchange with b over its IPv6 address from a second v6-only pod is
    // not possible here (a is IPv4-only), so check b reaches itself and a reaches kube-dns.
    let c =
        lab.connect(&"default/b".parse().unwrap(), &"[fd00:10::2]:53/UDP".parse().unwrap(), labkit::TIMEOUT).unwrap();
    assert!(c.connected(), "{c}");
    let removed = lab.down().unwrap();
    assert_eq!(removed.len(), 4);
    assert!(lab_namespaces(&options.id).is_empty());
    assert!(!state::path(&options.state_dir, &options.id).exists());
}

#[test]
fn interrupted_up_removes_what_it_made() {
    require_privileged!();
    // `up` polls the interruption flag between steps; interrupt it at each poll in turn.
    for stop_at in 0..6 {
        let options = labkit::options(&format!("i{stop_at}"));
        let polls = Cell::new(0);
        let result = Lab::up(&small(), &options, &|| {
            polls.set(polls.get() + 1);
            polls.get() > stop_at
        });
        match result {
            Err(LabError::Interrupted) => {}
            Ok(lab) => {
                assert!(polls.get() <= stop_at, "interrupted at poll {stop_at} but up finished");
                lab.down().unwrap();
                break;
            }
            Err(other) => panic!("stop at {stop_at}: {other}"),
        }
        assert!(lab_namespaces(&options.id).is_empty(), "stop at {stop_at}: {:?}", lab_namespaces(&options.id));
        assert!(!state::path(&options.state_dir, &options.id).exists(), "stop at {stop_at}: state file left");
    }
}

#[test]
fn down_by_id_cleans_up_after_a_killed_up() {
    require_privileged!();
    let options = labkit::options("k");
    // What a killed `up` leaves: a journal naming namespaces, some of which exist.
    let made = format!("np-{}-node", options.id);
    let planned = format!("np-{}-default.a", options.id);
    let journal = state::State { id: options.id.clone(), created: vec![made.clone(), planned], ..Default::default() };
    journal.save(&state::path(&options.state_dir, &options.id)).unwrap();
    netns::add(&made).unwrap();
    // `up` refuses to build over it and says how to recover.
    let err = Lab::up(&small(), &options, &|| false).err().expect("up over a leftover lab");
    assert!(err.to_string().contains("netpol lab down"), "{err}");
    let removed = Lab::down_by_id(&options.id, &options.state_dir).unwrap();
    assert_eq!(removed, [made]);
    assert!(lab_namespaces(&options.id).is_empty());
    assert!(matches!(Lab::down_by_id(&options.id, &options.state_dir), Err(LabError::NotUp { .. })));
}

/// Externals are namespaces of the lab like the pods': journaled before each is
/// made, removed by `down` and by an `up` interrupted at any step.
#[test]
fn externals_are_removed_with_the_lab() {
    require_privileged!();
    let externals = ["8.8.8.8".parse().unwrap(), "2001:db8::53".parse().unwrap()];
    let options = labkit::options("e");
    let lab = Lab::up_with_externals(&small(), &externals, &options, &|| false).unwrap();
    let made = lab_namespaces(&options.id);
    let want_ext = [format!("np-{}-ext0", options.id), format!("np-{}-ext1", options.id)];
    assert!(want_ext.iter().all(|n| made.contains(n)), "{made:?}");
    assert_eq!(made.len(), 6, "node, a, b, kube-dns and two externals: {made:?}");
    let journal = state::State::load(&state::path(&options.state_dir, &options.id)).unwrap();
    assert!(want_ext.iter().all(|n| journal.created.contains(n)), "{:?}", journal.created);
    // IPv6 too: b (IPv6-only) reaches the IPv6 external through the node.
    let c =
        lab.connect(&"default/b".parse().unwrap(), &"[2001:db8::53]:53/UDP".parse().unwrap(), labkit::TIMEOUT).unwrap();
    assert!(c.connected() && c.external, "{c}");
    let removed = lab.down().unwrap();
    assert_eq!(removed.len(), 6);
    assert!(lab_namespaces(&options.id).is_empty());

    for stop_at in 0..12 {
        let options = labkit::options(&format!("e{stop_at}"));
        let polls = Cell::new(0);
        let result = Lab::up_with_externals(&small(), &externals, &options, &|| {
            polls.set(polls.get() + 1);
            polls.get() > stop_at
        });
        match result {
            Err(LabError::Interrupted) => {}
            Ok(lab) => {
                assert!(polls.get() <= stop_at, "interrupted at poll {stop_at} but up finished");
                lab.down().unwrap();
                break;
            }
            Err(other) => panic!("stop at {stop_at}: {other}"),
        }
        assert!(lab_namespaces(&options.id).is_empty(), "stop at {stop_at}: {:?}", lab_namespaces(&options.id));
        assert!(!state::path(&options.state_dir, &options.id).exists(), "stop at {stop_at}: state file left");
    }
}

#[test]
fn an_external_at_a_pod_address_is_refused_before_anything_is_made() {
    require_privileged!();
    let options = labkit::options("r");
    let err = Lab::up_with_externals(&small(), &["10.1.0.1".parse().unwrap()], &options, &|| false)
        .err()
        .expect("an external at default/a's address");
    assert_eq!(err.to_string(), "external address 10.1.0.1: it is the address of pod default/a");
    assert!(lab_namespaces(&options.id).is_empty());
    assert!(!state::path(&options.state_dir, &options.id).exists());
}

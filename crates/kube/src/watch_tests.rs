//! Tests of the watchers: backoff, and the notes of absent kinds.

use super::*;

#[test]
fn backoff_doubles_to_its_ceiling_and_resets() {
    let mut b =
        Doubling { min: Duration::from_millis(100), max: Duration::from_millis(350), next: Duration::from_millis(100) };
    let first: Vec<u128> = b.by_ref().take(4).map(|d| d.as_millis()).collect();
    assert_eq!(first, [100, 200, 350, 350]);
    b.reset();
    assert_eq!(b.next(), Some(Duration::from_millis(100)));
}

#[test]
fn notes_say_what_happened_and_that_rules_stay() {
    let failed = Note::WatchFailed { resource: "pods", error: "connection refused".into() };
    assert_eq!(
        failed.to_string(),
        "watching pods failed (rules in place stay; retrying with backoff): connection refused"
    );
    let invalid = Note::Invalid { resource: "networkpolicies", object: "a/b".into(), error: "bad".into() };
    assert!(invalid.to_string().contains("networkpolicies a/b cannot be decoded"), "{invalid}");
    let absent = |absence, kept| Note::Absent {
        resource: "adminnetworkpolicies",
        group_version: "policy.networking.k8s.io/v1alpha1".into(),
        absence,
        kept,
        means: Kind::AdminNetworkPolicies.absent_means(),
    };
    let service_accounts = |kept| Note::Absent {
        resource: "serviceaccounts",
        group_version: "v1".into(),
        absence: Absence::Forbidden { verb: "list" },
        kept,
        means: Kind::ServiceAccounts.absent_means(),
    };
    let cases = [
        (
            absent(Absence::NotServed, false),
            "adminnetworkpolicies (policy.networking.k8s.io/v1alpha1) not served; treating as none \
             (retrying with backoff: listed once it is served and allowed)",
        ),
        (
            absent(Absence::Forbidden { verb: "list" }, false),
            "cannot list adminnetworkpolicies (policy.networking.k8s.io/v1alpha1) at cluster scope: \
             forbidden by RBAC; treating as none (retrying with backoff: listed once it is served and allowed)",
        ),
        (
            absent(Absence::Forbidden { verb: "watch" }, true),
            "cannot watch adminnetworkpolicies (policy.networking.k8s.io/v1alpha1) at cluster scope: \
             forbidden by RBAC; keeping what was listed before (retrying with backoff: listed once it is \
             served and allowed)",
        ),
        (
            service_accounts(false),
            "cannot list serviceaccounts (v1) at cluster scope: forbidden by RBAC; treating as none; pods carry \
             no ServiceAccount labels: Calico selectors on them see none (serviceAccountSelector `team == 'a'` \
             selects no pod, `!has(team)` every pod) (retrying with backoff: listed once it is served and \
             allowed)",
        ),
        (
            service_accounts(true),
            "cannot list serviceaccounts (v1) at cluster scope: forbidden by RBAC; keeping what was listed \
             before (retrying with backoff: listed once it is served and allowed)",
        ),
    ];
    for (note, want) in cases {
        assert_eq!(note.to_string(), want);
    }
}

//! Policies and rules that change nothing (NP0104-NP0106), and rules of a
//! direction `policyTypes` leaves out (NP0107).
//!
//! Design. Model: "changes nothing" means that removing the policy or rule from
//! the manifests leaves every ordered pair of endpoints of the input with the
//! same allowed (protocol, port) set, and leaves addresses outside the cluster
//! where they were. Pairs are compared exactly on the compiled matrix
//! (`Compiled::diff` of the cluster with and without it). The matrix covers
//! pods only, so a rule that can match other addresses (no peers, or an
//! ipBlock peer) is never called redundant, and a policy is only when every
//! pod it selects stays isolated, in each of its directions, by another
//! policy (then what outside addresses may do is decided by the others' rules).
//! A rule whose removal would change a defaulted `policyTypes` (the last egress
//! rule of a policy without `policyTypes`) is not judged either.
//! Goals: every finding can be acted on: removing any one flagged policy or
//! rule changes nothing, and so does removing all of them (tested by proptest
//! in tests/redundancy.rs). Implementation: policies, then rules, in input
//! order, each judged on the cluster with the ones already flagged removed
//! (so two copies of one rule are not both flagged); since allowed sets are
//! unions of rules, what is redundant there is redundant in the whole input.
//! A redundant rule is *shadowed* when one other rule alone allows everything
//! it allows, for every pod it applies to: each rule's grant is compiled on
//! its own (a cluster with that rule alone) and compared pair by pair.

use std::collections::{BTreeSet, HashMap, HashSet};

use netpol_matrix::{Change, Compiled, PodId};
use netpol_model::{Cluster, Direction, NetworkPolicy, Peer, Rule};

use crate::codes::{IGNORED_RULES, REDUNDANT_POLICY, REDUNDANT_RULE, SHADOWED_RULE};
use crate::context::{plural, policy_target, rule_name, rule_target, some_of, Context};
use crate::Finding;

pub(crate) fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    ignored(cx, out);
    if cx.cluster.pods.is_empty() {
        return;
    }
    let options = cx.options;
    let mut state = State {
        current: cx.cluster.clone(),
        compiled: Compiled::build(cx.cluster, options),
        rules_removed: HashSet::new(),
    };
    // Later first: of two that allow the same, the later one is flagged (shadowed by the earlier).
    for policy in cx.cluster.policies.iter().rev() {
        redundant_policy(cx, &mut state, policy, out);
    }
    let bare = Compiled::build(&Cluster { policies: Vec::new(), ..cx.cluster.clone() }, options);
    let mut grants = Grants { bare, cache: HashMap::new() };
    for policy in cx.cluster.policies.iter().rev() {
        redundant_rules(cx, &mut state, &mut grants, policy, out);
    }
}

/// The cluster with the flagged policies and rules removed, and its matrix.
struct State {
    current: Cluster,
    compiled: Compiled,
    /// The rules flagged so far: (policy key, direction, index in the input).
    rules_removed: HashSet<(String, Direction, usize)>,
}

impl State {
    /// Applies `change` if it changes no pair's connections; says whether it did.
    fn remove_if_unchanged(&mut self, change: Change) -> bool {
        let mut next = self.compiled.clone();
        if next.apply(change).is_err() || !self.compiled.diff(&next).pairs.is_empty() {
            return false;
        }
        self.compiled = next;
        true
    }
}

/// A rule that can match addresses outside the input's pods.
fn reaches_outside(rule: &Rule) -> bool {
    rule.peers.is_empty() || rule.peers.iter().any(|p| matches!(p, Peer::IpBlock(_)))
}

fn ignored(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for policy in &cx.cluster.policies {
        for direction in Direction::ALL {
            let rules = policy.rules(direction);
            if rules.is_empty() || policy.affects(direction) {
                continue;
            }
            let types: Vec<&str> = policy.policy_types.iter().map(|d| d.as_str()).collect();
            let message = format!(
                "`{}` has {} but `policyTypes` is [{}]: {} ignored (the policy neither isolates for nor allows {})",
                policy.key(),
                plural(
                    rules.len(),
                    &format!("{} rule", direction.rules_key()),
                    &format!("{} rules", direction.rules_key())
                ),
                types.join(", "),
                if rules.len() == 1 { "it is" } else { "they are" },
                direction.rules_key()
            );
            let help = format!(
                "add `{direction}` to `policyTypes` (which also isolates the selected pods for {}: allow all they need), or delete the rules",
                direction.rules_key()
            );
            let at = cx.field_at(policy, &format!("spec.{}", direction.rules_key()));
            out.push(cx.finding(IGNORED_RULES, at, message, help, policy_target(policy)));
        }
    }
}

fn redundant_policy(cx: &Context<'_>, state: &mut State, policy: &NetworkPolicy, out: &mut Vec<Finding>) {
    let subjects = cx.subjects(policy);
    if subjects.is_empty() || Context::rules(policy).any(|(_, _, r)| reaches_outside(r)) {
        return;
    }
    let others: Vec<&NetworkPolicy> = state.current.policies.iter().filter(|q| q.key() != policy.key()).collect();
    let mut isolating = BTreeSet::new();
    for &direction in &policy.policy_types {
        for pod in &subjects {
            let by: Vec<String> =
                others.iter().filter(|q| q.affects(direction) && q.selects(*pod)).map(|q| q.key()).collect();
            if by.is_empty() {
                return; // removing it would un-isolate this pod
            }
            isolating.extend(by);
        }
    }
    let change = Change::RemovePolicy { namespace: policy.namespace.clone(), name: policy.name.clone() };
    if !state.remove_if_unchanged(change) {
        return;
    }
    state.current.policies.retain(|q| q.key() != policy.key());
    let isolating: Vec<String> = isolating.into_iter().map(|k| format!("`{k}`")).collect();
    let message = format!(
        "removing `{}` changes no connection: the {} it selects {} isolated by {}, and what its rules allow, other policies allow too or the other end denies",
        policy.key(),
        plural(subjects.len(), "pod", "pods"),
        if subjects.len() == 1 { "stays" } else { "stay" },
        some_of(&isolating)
    );
    let help = if policy.ingress.is_empty() && policy.egress.is_empty() {
        "delete it; or keep it on purpose, as a default deny that still isolates these pods should the other policies change"
    } else {
        "delete it; or, if it was meant to allow more than the other policies, compare its rules with theirs"
    };
    out.push(cx.finding(REDUNDANT_POLICY, cx.policy_at(policy), message, help, policy_target(policy)));
}

/// The policy as it would be written without the rules of `removed`.
fn without(policy: &NetworkPolicy, removed: &BTreeSet<(Direction, usize)>) -> NetworkPolicy {
    let keep = |direction: Direction| -> Vec<Rule> {
        let rules = policy.rules(direction).iter().enumerate();
        rules.filter(|(i, _)| !removed.contains(&(direction, *i))).map(|(_, r)| r.clone()).collect()
    };
    NetworkPolicy { ingress: keep(Direction::Ingress), egress: keep(Direction::Egress), ..policy.clone() }
}

fn redundant_rules(
    cx: &Context<'_>,
    state: &mut State,
    grants: &mut Grants,
    policy: &NetworkPolicy,
    out: &mut Vec<Finding>,
) {
    if !state.current.policies.iter().any(|q| q.key() == policy.key()) || cx.subjects(policy).is_empty() {
        return;
    }
    let mut removed: BTreeSet<(Direction, usize)> = BTreeSet::new();
    let rules: Vec<_> = Context::rules(policy).collect();
    for (direction, index, rule) in rules.into_iter().rev() {
        if reaches_outside(rule) {
            continue;
        }
        let mut trial = removed.clone();
        trial.insert((direction, index));
        let changed = without(policy, &trial);
        // Without `policyTypes`, removing the last egress rule also removes Egress.
        if policy.policy_types_defaulted && direction == Direction::Egress && changed.egress.is_empty() {
            continue;
        }
        // Explained before removal, against the rules in place.
        let why = explain(cx, state, grants, policy, direction, index);
        if !state.remove_if_unchanged(Change::UpsertPolicy(changed.clone())) {
            continue;
        }
        removed = trial;
        state.rules_removed.insert((policy.key(), direction, index));
        if let Some(slot) = state.current.policies.iter_mut().find(|q| q.key() == policy.key()) {
            *slot = changed;
        }
        let name = rule_name(policy, direction, index);
        let at = cx.rule_field_at(policy, direction, index, "");
        let target = rule_target(policy, direction, index);
        let (other_end, other) = match direction {
            Direction::Ingress => ("the sources' egress policies deny", "source"),
            Direction::Egress => ("the destinations' ingress policies deny", "destination"),
        };
        let finding = match why {
            Why::Shadowed { by, at: by_at } => cx.finding(
                SHADOWED_RULE,
                at,
                format!("{name} is shadowed by {by} ({by_at}): that rule allows everything this one allows, to every pod this one applies to"),
                format!("delete {name}; or, if it was meant to be narrower than {by}, narrow that rule instead"),
                target,
            ),
            Why::AllowsNothing => cx.finding(
                REDUNDANT_RULE,
                at,
                format!("removing {name} changes no connection: it allows no connection between pods of the input (its peers or ports match none)"),
                "fix its selectors or ports (see the other findings on this rule), or delete it",
                target,
            ),
            Why::DeniedElsewhere => cx.finding(
                REDUNDANT_RULE,
                at,
                format!("removing {name} changes no connection: everything it allows, {other_end}"),
                format!("allow it at the {other} too (that is what this rule is for), or delete it"),
                target,
            ),
            Why::Covered => cx.finding(
                REDUNDANT_RULE,
                at,
                format!("removing {name} changes no connection: other rules of policies selecting the same pods allow what it allows, or the other end denies it"),
                "delete it; or check what it was meant to allow",
                target,
            ),
        };
        out.push(finding);
    }
}

/// Why a redundant rule changes nothing.
enum Why {
    Shadowed { by: String, at: String },
    AllowsNothing,
    DeniedElsewhere,
    Covered,
}

/// Each rule's grant on its own, compiled: a cluster with its policy holding
/// only that rule (and only that direction), so that `connections` is exactly
/// what the rule allows from or to the policy's pods.
struct Grants {
    bare: Compiled,
    /// Keyed by (policy, direction, rule index); `usize::MAX`: no rule (the baseline).
    cache: HashMap<(String, Direction, usize), Compiled>,
}

impl Grants {
    fn of(&mut self, policy: &NetworkPolicy, direction: Direction, index: usize) -> &Compiled {
        let key = (policy.key(), direction, index);
        self.cache.entry(key).or_insert_with(|| {
            let rules: Vec<Rule> = policy.rules(direction).get(index).cloned().into_iter().collect();
            let alone = NetworkPolicy {
                policy_types: vec![direction],
                policy_types_defaulted: false,
                ingress: if direction == Direction::Ingress { rules.clone() } else { vec![] },
                egress: if direction == Direction::Egress { rules } else { vec![] },
                ..policy.clone()
            };
            let mut compiled = self.bare.clone();
            compiled.apply(Change::UpsertPolicy(alone)).expect("an upsert never fails");
            compiled
        })
    }

    /// Every connection `(policy, direction, index)` allows to or from `pods`, by pair.
    fn pairs(
        &mut self,
        policy: &NetworkPolicy,
        direction: Direction,
        index: usize,
        pods: &[PodId],
    ) -> Vec<netpol_model::PortSet> {
        let all: Vec<PodId> = self.bare.pods().map(|(id, _)| id).collect();
        let compiled = self.of(policy, direction, index);
        let mut out = Vec::with_capacity(pods.len() * all.len());
        for &x in pods {
            for &y in &all {
                out.push(match direction {
                    Direction::Egress => compiled.connections(x, y),
                    Direction::Ingress => compiled.connections(y, x),
                });
            }
        }
        out
    }
}

/// Why `policy`'s `direction[index]` (about to be removed) changes nothing:
/// another rule in place that alone allows everything it allows, to every pod
/// of `policy`; else whether it allows anything at all, and whether what it
/// allows gets through the other end.
fn explain(
    cx: &Context<'_>,
    state: &State,
    grants: &mut Grants,
    policy: &NetworkPolicy,
    direction: Direction,
    index: usize,
) -> Why {
    let subjects = cx.subjects(policy);
    let ids: Vec<PodId> = subjects.iter().filter_map(|p| grants.bare.pod_id(&p.key())).collect();
    let mine = grants.pairs(policy, direction, index, &ids);
    // What no rule at all gives (a pod to itself, a node to its own pods).
    let baseline = grants.pairs(policy, direction, usize::MAX, &ids);
    if mine == baseline {
        return Why::AllowsNothing;
    }
    // Its own policy first, then the others in input order.
    let own = cx.cluster.policies.iter().filter(|q| q.key() == policy.key());
    let others = cx.cluster.policies.iter().filter(|q| q.key() != policy.key());
    for q in own.chain(others) {
        let in_place = state.current.policies.iter().any(|c| c.key() == q.key());
        if !in_place || !q.affects(direction) || !subjects.iter().all(|p| q.selects(*p)) {
            continue;
        }
        for j in 0..q.rules(direction).len() {
            let removed = state.rules_removed.contains(&(q.key(), direction, j));
            if removed || (q.key() == policy.key() && j == index) {
                continue;
            }
            let theirs = grants.pairs(q, direction, j, &ids);
            if mine.iter().zip(&theirs).all(|(m, t)| m.difference(t).is_empty()) {
                let at = cx.rule_field_at(q, direction, j, "");
                return Why::Shadowed { by: rule_name(q, direction, j), at: at.to_string() };
            }
        }
    }
    // What the whole cluster allows on the same pairs, with the rule in place.
    let all: Vec<PodId> = grants.bare.pods().map(|(id, _)| id).collect();
    let mut k = 0;
    let mut gets_through = false;
    for &x in &ids {
        for &y in &all {
            let (src, dst) = if direction == Direction::Egress { (x, y) } else { (y, x) };
            let key = grants.bare.pod(src).map(|p| p.key()).zip(grants.bare.pod(dst).map(|p| p.key()));
            let now = key
                .and_then(|(s, d)| {
                    Some(state.compiled.connections(state.compiled.pod_id(&s)?, state.compiled.pod_id(&d)?))
                })
                .unwrap_or_default();
            if !mine[k].intersection(&now).difference(&baseline[k]).is_empty() {
                gets_through = true;
            }
            k += 1;
        }
    }
    if gets_through {
        Why::Covered
    } else {
        Why::DeniedElsewhere
    }
}

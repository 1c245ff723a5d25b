//! Ruleset IR -> `nft -f` script.
//!
//! The script replaces the whole `table inet netpol` in one transaction:
//! `add table` (so the next line cannot fail), `delete table`, then the full
//! table. `nft -f` commits a file atomically, so no packet ever sees a moment
//! with no rules, and no other table is touched.

use std::fmt::Write;

use netpol_model::Protocol;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ir::{Action, ChainRule, Element, Family, Field, Match, NftVerdict, Ruleset, Set, SetKey, TABLE};
use crate::name::comment;
use crate::range::spell;

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    }
}

fn addr_expr(field: Field, family: Family) -> &'static str {
    match (family, field) {
        (Family::V4, Field::Saddr) => "ip saddr",
        (Family::V4, Field::Daddr) => "ip daddr",
        (Family::V6, Field::Saddr) => "ip6 saddr",
        (Family::V6, Field::Daddr) => "ip6 daddr",
    }
}

fn addr_type(family: Family) -> &'static str {
    match family {
        Family::V4 => "ipv4_addr",
        Family::V6 => "ipv6_addr",
    }
}

fn verdict(v: &NftVerdict) -> String {
    match v {
        NftVerdict::Accept => "accept".into(),
        NftVerdict::Drop => "drop".into(),
        NftVerdict::Jump(chain) => format!("jump {chain}"),
    }
}

/// One element as nft spells it.
pub(crate) fn element(e: &Element) -> String {
    match e {
        Element::Addr(r) => spell(r),
        Element::AddrProtoPort(r, p, ports) => format!("{} . {} . {ports}", spell(r), proto(*p)),
        Element::AddrPair(a, b) => format!("{a} . {b}"),
    }
}

/// Each element of a set as nft spells it, with its comment when it has one.
fn commented_elements(set: &Set) -> Vec<String> {
    set.elements
        .iter()
        .enumerate()
        .map(|(i, e)| match set.comments.get(i).filter(|c| !c.is_empty()) {
            Some(c) => format!("{} comment \"{c}\"", element(e)),
            None => element(e),
        })
        .collect()
}

/// A dispatch entry, commented with the pod it belongs to (chains are shared by pods).
fn map_entry(e: &crate::ir::MapEntry) -> String {
    format!("{} comment \"{}\" : {}", e.addr, comment(&e.pod.to_string()), verdict(&e.verdict))
}

pub(crate) fn set_type(key: SetKey) -> String {
    match key {
        SetKey::Addr(f) | SetKey::Host(f) => addr_type(f).to_string(),
        SetKey::AddrProtoPort(f) => format!("{} . inet_proto . inet_service", addr_type(f)),
        SetKey::AddrPair(f) => format!("{0} . {0}", addr_type(f)),
    }
}

pub(crate) fn set_flags(key: SetKey) -> Option<&'static str> {
    match key {
        SetKey::Addr(_) | SetKey::AddrProtoPort(_) => Some("interval"),
        SetKey::AddrPair(_) | SetKey::Host(_) => None,
    }
}

fn condition(m: &Match) -> String {
    match m {
        Match::CtState(states) => {
            format!("ct state {}", states.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","))
        }
        Match::Icmpv6Nd => "icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, \
                            nd-neighbor-advert, nd-redirect }"
            .to_string(),
        Match::TcpWithoutSyn => "tcp flags & (fin | syn | rst | ack) != syn".to_string(),
        Match::Protocol(p) => format!("meta l4proto {}", proto(*p)),
        Match::Dport(r) => format!("th dport {r}"),
        Match::AddrIn { field, family, set } => format!("{} @{set}", addr_expr(*field, *family)),
        Match::AddrProtoPortIn { field, family, set } => {
            format!("{} . meta l4proto . th dport @{set}", addr_expr(*field, *family))
        }
        Match::AddrPairIn { family, set } => {
            format!("{} . {} @{set}", addr_expr(Field::Saddr, *family), addr_expr(Field::Daddr, *family))
        }
    }
}

/// A rule as nft spells it, comment included.
fn rule_text(rule: &ChainRule) -> String {
    let mut line: Vec<String> = rule.matches.iter().map(condition).collect();
    line.push(match &rule.action {
        Action::Verdict(v) => verdict(v),
        Action::Dispatch { field, family, map } => format!("{} vmap @{map}", addr_expr(*field, *family)),
    });
    format!("{} comment \"{}\"", line.join(" "), rule.comment)
}

/// Writes `elements = { ... }`, one element per line.
fn write_elements(out: &mut String, items: impl ExactSizeIterator<Item = String>) {
    if items.len() == 0 {
        return;
    }
    out.push_str("\t\telements = {\n");
    let n = items.len();
    for (i, item) in items.enumerate() {
        let sep = if i + 1 < n { "," } else { "" };
        let _ = writeln!(out, "\t\t\t{item}{sep}");
    }
    out.push_str("\t\t}\n");
}

impl Ruleset {
    /// The full `nft -f` script that atomically replaces `table inet netpol`.
    pub fn script(&self) -> String {
        let mut out = String::with_capacity(4096);
        let _ = writeln!(out, "# netpol: generated ruleset; applied atomically with `nft -f`");
        let _ = writeln!(out, "add table inet {TABLE}");
        let _ = writeln!(out, "delete table inet {TABLE}");
        let _ = writeln!(out, "table inet {TABLE} {{");
        for set in &self.sets {
            let _ = writeln!(out, "\tset {} {{", set.name);
            let _ = writeln!(out, "\t\ttype {}", set_type(set.key));
            if let Some(flags) = set_flags(set.key) {
                let _ = writeln!(out, "\t\tflags {flags}");
            }
            write_elements(&mut out, commented_elements(set).into_iter());
            out.push_str("\t}\n\n");
        }
        for map in &self.maps {
            let _ = writeln!(out, "\tmap {} {{", map.name);
            let _ = writeln!(out, "\t\ttype {} : verdict", addr_type(map.family));
            write_elements(&mut out, map.entries.iter().map(map_entry));
            out.push_str("\t}\n\n");
        }
        for (i, chain) in self.chains.iter().enumerate() {
            let _ = writeln!(out, "\tchain {} {{", chain.name);
            if let Some(base) = chain.base {
                let priority = match base.priority {
                    0 => "filter".to_string(),
                    p if p < 0 => format!("filter - {}", -p),
                    p => format!("filter + {p}"),
                };
                let _ =
                    writeln!(out, "\t\ttype filter hook {} priority {priority}; policy accept;", base.hook.as_str());
            }
            for rule in &chain.rules {
                let _ = writeln!(out, "\t\t{}", rule_text(rule));
            }
            out.push_str("\t}\n");
            if i + 1 < self.chains.len() {
                out.push('\n');
            }
        }
        out.push_str("}\n");
        out
    }
}

/// Writes `delete element` / `add element` lines turning `old` into `new`. Both
/// are sorted by key, one item per key; only the changed items are formatted.
/// An item whose key stays but whose rest (comment, verdict) changes is deleted
/// and added again in the same transaction.
fn element_delta<T, K: Ord>(
    out: &mut String,
    name: &str,
    old: &[T],
    new: &[T],
    key: impl Fn(&T) -> K,
    spell_key: impl Fn(&T) -> String,
    spell: impl Fn(&T) -> String,
) where
    T: PartialEq,
{
    debug_assert!(old.windows(2).all(|w| key(&w[0]) < key(&w[1])), "{name}: old items not sorted and unique");
    debug_assert!(new.windows(2).all(|w| key(&w[0]) < key(&w[1])), "{name}: new items not sorted and unique");
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        let order = match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) => key(a).cmp(&key(b)),
            (Some(_), None) => std::cmp::Ordering::Less,
            _ => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                removed.push(spell_key(&old[i]));
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                added.push(spell(&new[j]));
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                if old[i] != new[j] {
                    removed.push(spell_key(&old[i]));
                    added.push(spell(&new[j]));
                }
                i += 1;
                j += 1;
            }
        }
    }
    if !removed.is_empty() {
        let _ = writeln!(out, "delete element inet {TABLE} {name} {{ {} }}", removed.join(", "));
    }
    if !added.is_empty() {
        let _ = writeln!(out, "add element inet {TABLE} {name} {{ {} }}", added.join(", "));
    }
}

/// A set's elements with their comments, for [`element_delta`].
fn commented(set: &Set) -> Vec<(&Element, &str)> {
    set.elements.iter().enumerate().map(|(i, e)| (e, set.comments.get(i).map_or("", String::as_str))).collect()
}

fn spell_commented(item: &(&Element, &str)) -> String {
    match item.1 {
        "" => element(item.0),
        c => format!("{} comment \"{c}\"", element(item.0)),
    }
}

impl Ruleset {
    /// A script that turns `old` (what the kernel holds) into `self` in one
    /// transaction, touching only what changed: set and map elements added or
    /// deleted, changed chains flushed and refilled, new chains and sets added,
    /// gone ones deleted. `None` when the base chains differ (use [`Ruleset::script`]).
    pub fn delta_script(&self, old: &Ruleset) -> Option<String> {
        let base = |r: &Ruleset| r.chains.iter().filter(|c| c.base.is_some()).cloned().collect::<Vec<_>>();
        if base(self) != base(old) {
            return None;
        }
        let mut out = String::new();
        let old_sets: BTreeMap<&str, &Arc<Set>> = old.sets.iter().map(|s| (s.name.as_str(), s)).collect();
        let new_sets: BTreeMap<&str, &Arc<Set>> = self.sets.iter().map(|s| (s.name.as_str(), s)).collect();
        let old_chains: BTreeMap<&str, &crate::ir::Chain> =
            old.chains.iter().filter(|c| c.base.is_none()).map(|c| (c.name.as_str(), c)).collect();
        let new_chains: BTreeMap<&str, &crate::ir::Chain> =
            self.chains.iter().filter(|c| c.base.is_none()).map(|c| (c.name.as_str(), c)).collect();
        // 1. New sets and chains exist before anything refers to them.
        for (name, set) in &new_sets {
            match old_sets.get(name) {
                Some(before) if before.key == set.key => {}
                Some(_) => return None,
                None => {
                    let flags = set_flags(set.key).map(|f| format!(" flags {f};")).unwrap_or_default();
                    let _ = writeln!(out, "add set inet {TABLE} {name} {{ type {};{flags} }}", set_type(set.key));
                }
            }
        }
        for name in new_chains.keys().filter(|n| !old_chains.contains_key(*n)) {
            let _ = writeln!(out, "add chain inet {TABLE} {name}");
        }
        // 2. Elements.
        for (name, set) in &new_sets {
            let before = old_sets.get(name);
            // Shared (`Arc`) when a render reused the set: equal without looking at the elements.
            if before.is_some_and(|b| Arc::ptr_eq(b, set) || (b.elements == set.elements && b.comments == set.comments))
            {
                continue;
            }
            let old_items = before.map(|s| commented(s)).unwrap_or_default();
            let spell_key = |item: &(&Element, &str)| element(item.0);
            element_delta(&mut out, name, &old_items, &commented(set), |item| item.0, spell_key, spell_commented);
        }
        for map in &self.maps {
            let before = old.maps.iter().find(|m| m.name == map.name)?;
            if Arc::ptr_eq(before, map) || before.entries == map.entries {
                continue;
            }
            let key = |e: &crate::ir::MapEntry| e.addr;
            let spell_key = |e: &crate::ir::MapEntry| e.addr.to_string();
            element_delta(&mut out, &map.name, &before.entries, &map.entries, key, spell_key, map_entry);
        }
        // 3. Chains whose rules changed.
        for (name, chain) in &new_chains {
            let before = old_chains.get(name);
            if before.is_some_and(|b| b.rules == chain.rules) {
                continue;
            }
            if before.is_some() {
                let _ = writeln!(out, "flush chain inet {TABLE} {name}");
            }
            for rule in &chain.rules {
                let _ = writeln!(out, "add rule inet {TABLE} {name} {}", rule_text(rule));
            }
        }
        // 4. What is gone, now that nothing refers to it.
        for name in old_chains.keys().filter(|n| !new_chains.contains_key(*n)) {
            let _ = writeln!(out, "delete chain inet {TABLE} {name}");
        }
        for name in old_sets.keys().filter(|n| !new_sets.contains_key(*n)) {
            let _ = writeln!(out, "delete set inet {TABLE} {name}");
        }
        Some(out)
    }
}

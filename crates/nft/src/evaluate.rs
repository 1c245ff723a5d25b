//! What the kernel would do with a packet: a pure evaluator over the IR.
//!
//! It follows nftables semantics for the subset the renderer uses: base chains
//! of a hook run in priority order; `accept` ends only the current base chain,
//! `drop` ends everything; `jump` returns to the caller when the chain runs out;
//! a verdict map lookup with no entry goes on to the next rule; a base chain
//! that runs out applies its policy (`accept`). Packets are evaluated as the
//! first packet of a new connection (conntrack state `new`).

use std::fmt;
use std::net::IpAddr;

use netpol_model::Protocol;

use crate::ir::{Action, Chain, ChainRule, CtState, Family, Field, Hook, Lookup, Match, NftVerdict, Ruleset, SetKey};

/// The first packet of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Packet {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub protocol: Protocol,
    pub port: u16,
}

impl fmt::Display for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {} {}/{}", self.src, self.dst, self.port, self.protocol)
    }
}

/// The verdict and the rule comments that decided it, one per base chain run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub allowed: bool,
    /// Comment of the rule that ended each base chain (`policy accept` when none did).
    pub because: Vec<String>,
}

enum Outcome {
    Accept(String),
    Drop(String),
    Continue,
}

/// Deeper than any ruleset the renderer makes (base -> subject group).
const MAX_DEPTH: usize = 16;

impl Ruleset {
    /// Evaluates a new connection's first packet at `hook`.
    pub fn evaluate(&self, hook: Hook, packet: &Packet) -> Evaluation {
        let mut because = Vec::new();
        for chain in self.base_chains(hook) {
            match self.run(chain, packet, 0) {
                Outcome::Drop(why) => {
                    because.push(why);
                    return Evaluation { allowed: false, because };
                }
                Outcome::Accept(why) => because.push(why),
                Outcome::Continue => because.push(format!("{}: policy accept", chain.name)),
            }
        }
        Evaluation { allowed: true, because }
    }

    /// Evaluates a routed packet (pod to pod through the node): the `forward` hook.
    pub fn evaluate_forward(&self, packet: &Packet) -> Evaluation {
        self.evaluate(Hook::Forward, packet)
    }

    fn run(&self, chain: &Chain, packet: &Packet, depth: usize) -> Outcome {
        if depth > MAX_DEPTH {
            return Outcome::Drop(format!("{}: jump depth exceeded", chain.name));
        }
        for rule in &chain.rules {
            let Some(element_comment) = self.matches(rule, packet) else {
                continue;
            };
            let verdict = match &rule.action {
                // A set element's comment names the policy rule more precisely than the rule's own.
                Action::Verdict(v) => (v.clone(), element_comment.unwrap_or_else(|| rule.comment.clone())),
                Action::Dispatch { field, family, map } => {
                    let addr = address(packet, *field);
                    if Family::of(addr) != *family {
                        continue;
                    }
                    let Some(entry) = self.map(map).and_then(|m| m.entries.iter().find(|e| e.addr == addr)) else {
                        continue;
                    };
                    (entry.verdict.clone(), format!("{map}: {} not isolated", entry.pod))
                }
            };
            match verdict {
                (NftVerdict::Accept, why) => return Outcome::Accept(why),
                (NftVerdict::Drop, why) => return Outcome::Drop(why),
                (NftVerdict::Jump(target), why) => {
                    let Some(next) = self.chain(&target) else {
                        return Outcome::Drop(format!("{why}: jump to missing chain {target}"));
                    };
                    match self.run(next, packet, depth + 1) {
                        Outcome::Continue => {}
                        done => return done,
                    }
                }
            }
        }
        Outcome::Continue
    }

    /// `None` when the rule does not match; otherwise the comment of the last
    /// set element that matched, if it has one.
    fn matches(&self, rule: &ChainRule, packet: &Packet) -> Option<Option<String>> {
        let mut because = None;
        for m in &rule.matches {
            if let Some(c) = self.condition(m, packet)? {
                because = Some(c);
            }
        }
        Some(because)
    }

    /// `None` when the condition fails; otherwise the matched element's comment, if any.
    fn condition(&self, m: &Match, packet: &Packet) -> Option<Option<String>> {
        let lookup = |field: Field, family: Family, set: &str, second: Lookup| {
            let addr = address(packet, field);
            if Family::of(addr) != family {
                return None;
            }
            let set = self.set(set)?;
            let i = set.find(addr, second)?;
            let comment = set.comments.get(i).filter(|c| !c.is_empty());
            Some(match set.key {
                // The known pods: the comment is the pod's name.
                SetKey::Host(_) => comment.map(|pod| format!("{pod}: a known pod, not isolated here")),
                _ => comment.cloned(),
            })
        };
        let plain = |holds: bool| holds.then_some(None);
        match m {
            Match::CtState(states) => plain(states.contains(&CtState::New)),
            // Packets here are TCP, UDP or SCTP.
            Match::Icmpv6Nd => None,
            // A packet here opens its connection: for TCP, a SYN.
            Match::TcpWithoutSyn => None,
            Match::Protocol(p) => plain(*p == packet.protocol),
            Match::Dport(r) => plain(r.contains(packet.port)),
            Match::AddrIn { field, family, set } => lookup(*field, *family, set, Lookup::Addr),
            Match::AddrProtoPortIn { field, family, set } => {
                lookup(*field, *family, set, Lookup::ProtoPort(packet.protocol, packet.port))
            }
            Match::AddrPairIn { family, set } => lookup(Field::Saddr, *family, set, Lookup::Pair(packet.dst)),
        }
    }
}

fn address(packet: &Packet, field: Field) -> IpAddr {
    match field {
        Field::Saddr => packet.src,
        Field::Daddr => packet.dst,
    }
}

#!/usr/bin/env python3
"""Do a peer analyzer's all-pairs answers agree with netpol's?

Compares, pair by pair, the connections netpol allows (`netpol matrix -f DIR -o
csv`, no --port: every allowed (protocol, port) of each ordered pair of distinct
pods) with a peer's all-pairs connectivity output on the same folder:

  k8snetpolicy   `k8snetpolicy list --dirpath DIR -o csv` (np-guard netpol-analyzer):
                 `src,dst,conn`, one line per allowed pair of workloads;
  nca            `nca --connectivity DIR --resource_list DIR --output_format
                 txt_no_fw_rules --output_endpoints pods` (network-config-analyzer):
                 `src => dst : conn`, one line per (pair, connection cube).

Both peers list only allowed pairs, so a pair of pods the peer does not list is
read as "no connections". Only pod-to-pod pairs are compared (lines with an IP
range at either end are counted and skipped), over TCP, UDP and SCTP ports 1-65535
(what NetworkPolicy can express). Pods are the `kind: Pod` documents of DIR
(read with a small line scanner that fits `netpol synth` output); a peer endpoint
`ns/name[Pod]` is that pod. A peer endpoint of another kind (a workload
aggregating pods with ownerReferences) is not mapped: such lines are counted as
unmapped and the result says so (`netpol synth` pods have no ownerReferences).

The netpol CSV may be the whole output or only its allowed lines
(`grep -v ',"none"$'`): absent pairs are "none" too.

Prints one line, `agree on N pairs` or `disagree on D of N pairs`, then (on
disagreement, or with --details) the disagreements grouped by (netpol, peer)
answer with a few example pairs each.

Usage: benches/peers_agree.py --dir DIR --netpol NETPOL.csv --peer {k8snetpolicy,nca} PEER_OUTPUT
       [--details] [--examples 3]
Exit status: 0 when they agree, 1 when they disagree, 2 on bad input.
Standard library only.
"""

import argparse
import collections
import csv
import os
import re
import sys

PROTOCOLS = ("TCP", "UDP", "SCTP")
PROTOCOL_NUMBERS = {6: "TCP", 17: "UDP", 132: "SCTP"}
FULL = ((1, 65535),)
ALL = tuple((p, FULL) for p in PROTOCOLS)
NONE = ()


def merge(ranges):
    out = []
    for lo, hi in sorted(ranges):
        lo, hi = max(lo, 1), min(hi, 65535)
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def canon(per_protocol):
    """{protocol: [(lo, hi), ...]} -> a hashable, canonical connection set."""
    return tuple((p, merge(per_protocol[p])) for p in PROTOCOLS if merge(per_protocol.get(p, ())))


def union(a, b):
    d = collections.defaultdict(list)
    for p, rs in a + b:
        d[p].extend(rs)
    return canon(d)


def subtract(a, b):
    """a minus b, per protocol."""
    bd = dict(b)
    d = {}
    for p, rs in a:
        cut = bd.get(p, ())
        left = []
        for lo, hi in rs:
            pieces = [(lo, hi)]
            for clo, chi in cut:
                nxt = []
                for plo, phi in pieces:
                    if chi < plo or clo > phi:
                        nxt.append((plo, phi))
                        continue
                    if plo < clo:
                        nxt.append((plo, clo - 1))
                    if chi < phi:
                        nxt.append((chi + 1, phi))
                pieces = nxt
            left.extend(pieces)
        d[p] = left
    return canon(d)


def spell(conns):
    """netpol's spelling: `none`, `all`, `TCP 80,8000-8080; UDP 53`."""
    if not conns:
        return "none"
    if conns == ALL:
        return "all"
    parts = []
    for p, rs in conns:
        ports = "all" if rs == FULL else ",".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in rs)
        parts.append(f"{p} {ports}")
    return "; ".join(parts)


def port_list(text):
    """`80,8000-8080` -> [(80, 80), (8000, 8080)]; None when a token is not a number (a named port)."""
    out = []
    for tok in text.split(","):
        tok = tok.strip()
        if not tok:
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", tok)
        if not m:
            return None
        lo = int(m.group(1))
        out.append((lo, int(m.group(2) or lo)))
    return out


def parse_netpol(text):
    text = text.strip()
    if text == "none":
        return NONE
    if text == "all":
        return ALL
    d = {}
    for part in text.split(";"):
        proto, _, ports = part.strip().partition(" ")
        d[proto] = list(FULL) if ports == "all" else port_list(ports)
        if d[proto] is None:
            raise ValueError(f"netpol port set {text!r}")
    return canon(d)


def parse_k8snetpolicy(text):
    """`All Connections`, `No Connections`, `TCP 443,8000-8100,UDP 53` (sorted `PROTO ports` joined by commas)."""
    text = text.strip()
    if text == "All Connections":
        return ALL
    if text == "No Connections":
        return NONE
    d = collections.defaultdict(list)
    proto = None
    for tok in text.split(","):
        tok = tok.strip()
        head, _, rest = tok.partition(" ")
        if head in PROTOCOLS:
            proto, tok = head, rest
        if proto is None:
            raise ValueError(f"k8snetpolicy connection {text!r}")
        ports = port_list(tok)
        if ports is None:
            raise ValueError(f"k8snetpolicy connection {text!r} (a named port left unresolved?)")
        d[proto].extend(ports)
    return canon(d)


def nca_protocols(text):
    """NCA's protocol set, e.g. `TCP, UDP` or `1-5, TCP`: the NetworkPolicy protocols in it."""
    out = set()
    for tok in text.split(","):
        tok = tok.strip()
        if tok in PROTOCOLS:
            out.add(tok)
            continue
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", tok)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
            out.update(name for num, name in PROTOCOL_NUMBERS.items() if lo <= num <= hi)
    return out


def parse_nca_cubes(text):
    """One or more `{protocols:TCP, UDP,dst_ports:53}` cubes (a missing dimension is all of it)."""
    cubes = re.findall(r"\{([^{}]*)\}", text)
    if not cubes:
        raise ValueError(f"nca connection {text!r}")
    result = NONE
    for body in cubes:
        fields = dict(m.groups() for m in re.finditer(r"(\w+):(.*?)(?=,\w+:|$)", body))
        extra = set(fields) - {"protocols", "dst_ports"}
        if extra:
            raise ValueError(f"nca connection {text!r}: dimensions {sorted(extra)} not compared")
        protos = nca_protocols(fields["protocols"]) if "protocols" in fields else set(PROTOCOLS)
        ports = port_list(fields["dst_ports"]) if "dst_ports" in fields else list(FULL)
        if ports is None:
            raise ValueError(f"nca connection {text!r}")
        result = union(result, canon({p: ports for p in protos}))
    return result


def parse_nca(text):
    text = text.strip()
    if text == "All connections":
        return ALL
    if text == "No connections":
        return NONE
    if text.startswith("All but "):
        return subtract(ALL, parse_nca_cubes(text[len("All but "):]))
    return parse_nca_cubes(text)


def folder_pods(root):
    """ns/name of every `kind: Pod` document under root (.yaml/.yml), scanning lines."""
    pods = set()
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml")):
                continue
            with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                doc = []
                for line in list(fh) + ["---\n"]:
                    if line.startswith("---"):
                        kind = name = None
                        ns = "default"
                        in_meta = False
                        for d in doc:
                            if d.startswith("kind:"):
                                kind = d.split(":", 1)[1].strip()
                            in_meta = d.startswith("metadata:") or (in_meta and d.startswith(" "))
                            if in_meta and d.startswith("  name:"):
                                name = d.split(":", 1)[1].strip()
                            if in_meta and d.startswith("  namespace:"):
                                ns = d.split(":", 1)[1].strip()
                        if kind == "Pod" and name:
                            pods.add(f"{ns}/{name}")
                        doc = []
                    else:
                        doc.append(line.rstrip("\n"))
    return pods


def peer_endpoint(name, pods):
    """A peer's endpoint name -> a pod `ns/name`, `ip` for an IP range, or None (unmapped)."""
    m = re.fullmatch(r"(.+?)\[(\w+)\]", name)
    if m:
        return m.group(1) if m.group(2) == "Pod" and m.group(1) in pods else None
    if "/" in name and not re.match(r"^[0-9a-fA-F:.]+/\d+$", name):
        return name if name in pods else None
    return "ip"


def read_peer(kind, path, pods, stats):
    allowed = collections.defaultdict(tuple)
    with open(path, encoding="utf-8", newline="") as fh:
        if kind == "k8snetpolicy":
            rows = csv.reader(fh)
            header = next(rows, None)
            if header != ["src", "dst", "conn"]:
                raise ValueError(f"{path}: not `k8snetpolicy list -o csv` output (header {header})")
            items = ((r[0], r[1], r[2], parse_k8snetpolicy) for r in rows if r)
        else:
            items = []
            for line in fh:
                m = re.fullmatch(r"(\S+) => (\S+) : (.*)", line.rstrip("\n"))
                if m:
                    items.append((m.group(1), m.group(2), m.group(3), parse_nca))
        for src, dst, conn, parse in items:
            a, b = peer_endpoint(src, pods), peer_endpoint(dst, pods)
            if a == "ip" or b == "ip":
                stats["ip"] += 1
                continue
            if a is None or b is None:
                stats["unmapped"] += 1
                continue
            if a == b:
                continue
            allowed[(a, b)] = union(allowed[(a, b)], parse(conn))
    return allowed


def read_netpol(path, pods):
    allowed = {}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if header != ["from", "to", "allowed"]:
            raise ValueError(f"{path}: not `netpol matrix -o csv` (no --port) output (header {header})")
        for src, dst, conn in rows:
            if src == dst:
                continue
            for p in (src, dst):
                if p not in pods:
                    raise ValueError(f"{path}: netpol reports {p}, which is not a Pod of the folder")
            c = parse_netpol(conn)
            if c:
                allowed[(src, dst)] = c
    return allowed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="the manifests folder both tools read")
    ap.add_argument("--netpol", required=True, help="`netpol matrix -f DIR -o csv` output (or its allowed lines)")
    ap.add_argument("--peer", required=True, choices=["k8snetpolicy", "nca"])
    ap.add_argument("output", help="the peer's output file")
    ap.add_argument("--details", action="store_true", help="print the grouped differences even when none")
    ap.add_argument("--examples", type=int, default=3, help="example pairs per group")
    args = ap.parse_args()
    try:
        pods = folder_pods(args.dir)
        stats = collections.Counter()
        peer = read_peer(args.peer, args.output, pods, stats)
        ours = read_netpol(args.netpol, pods)
    except (OSError, ValueError) as e:
        print(f"peers_agree: {e}", file=sys.stderr)
        return 2
    n = len(pods)
    total = n * (n - 1)
    groups = collections.defaultdict(list)
    for pair in set(ours) | set(peer):
        a, b = ours.get(pair, NONE), peer.get(pair, NONE)
        if a != b:
            groups[(spell(a), spell(b))].append(pair)
    differ = sum(len(v) for v in groups.values())
    notes = []
    if stats["ip"]:
        notes.append(f"{stats['ip']} lines with an IP range not compared")
    if stats["unmapped"]:
        notes.append(f"{stats['unmapped']} lines with an endpoint that is not a pod of the folder not compared")
    tail = f" ({'; '.join(notes)})" if notes else ""
    if differ == 0:
        print(f"agree on {total} pairs{tail}")
    else:
        print(f"disagree on {differ} of {total} pairs{tail}")
    if differ or args.details:
        print(f"  pods: {n}; allowed pairs: netpol {len(ours)}, {args.peer} {len(peer)}")
        for (a, b), pairs in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"  {len(pairs)} pairs: netpol `{a}`, {args.peer} `{b}`; e.g.")
            for src, dst in sorted(pairs)[: args.examples]:
                print(f"    {src} -> {dst}")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Inputs for the Calico differential corpus: one JSON string per line on stdout.

Deterministic (seeded). Three kinds: hand-picked cases (Calico's own test tables and
ours), random well-formed expressions written with random blanks and quotes, and
token soup (tokens and near misses in random order). See README.md.
"""
import json
import random

rng = random.Random(20260822)

HAND = [
    "", " ", "\t", "all()", " all() ", "all( )", "all(\t)", "(all())", "!!all()", "!all()", "global()",
    " global()", "(global())", "!global()", "global() || has(a)", "global( )",
    'a == "b"', 'a == "b" && c == "d"', 'a == "b" || c == "d"', "a in {\"'\", '\"', \"c\"}",
    "a not in {\"'\", '\"', \"c\"}", "a == 'a'", 'a != "b"', 'a contains "a"', 'a starts with "a"',
    'a ends with "a"', '!a in {"a"}', "has(a)", "!has(a)", "!!has(b)", "! has(a)", "!!! has(a)", "!! ! has(a)",
    "a == 'a1' && b != 'b1'", "!a == 'a1' && b == 'b1'", "!(!has(a) || has(b))", "! a == 'a1' || ! b == 'b1'",
    "b == b", "b contains b", "b starts with b", "b ends with b", "'b1' == b", "b", "a b", "!", 'foo == "bar" &',
    'foo == "bar" |', "foo != ||", 'foo in {"", ||', 'foo in ""', '"FOO', "\"FOO'", "'FOO", "(", '(a == "foo"',
    ")", "()", "%", 'a == "b" && %', "a ", "has(foo) &&", "! (has( b)||! has(a ))", '! (a == "b"&&! c != "d")',
    "a startswith '\"'", 'a endswith "\'"', "a!='\"'", 'a in {"z", "z", "x", "y", "x", "a"}',
    "a in {}", "a not in {}", "a in {'x',}", "a in {,}", "a in {'x',,}", "a in {'x' 'y'}", "a notin {'x'}",
    "a not  in {'x'}", "a not\tin {'x'}", "a starts  with 'x'", "a startswith'x'", "a contains'x'", "a in{'x'}",
    "a inx {'x'}", "a containsx 'x'", "a starts with x", "a not in x", "a in x", "a startswithx 'y'",
    "a == 'x'\n", "a\n== 'x'", "\na == 'x'", "a == 'x'\r", "a\u00a0== 'x'", "é == 'x'", "a == 'é'",
    "has()", "has( a )", "has(a b)", "has (a)", "Has(a)", "has('a')", "all(x)", "all", "global", "foo(a)",
    "a = 'x'", "a === 'x'", "a !== 'x'", "a == 'x' & b == 'y'", "a == 'x' | b == 'y'", "a == 'x' &&& b == 'y'",
    "a == 'x' || b == 'y' && c == 'z'", "a == 'x' && b == 'y' || c == 'z'", "(a == 'x' || b == 'y') && c == 'z'",
    "((a == 'x'))", "(a == 'x') (b == 'y')", "has(a) has(b)", "a == 'x' b == 'y'", "!(a == 'x')",
    "!!(a == 'x')", "!(!has(a))", "!(!(!has(a)))", "in in {'x'}", "contains contains 'contains'",
    "has == 'x'", "all == 'x'", "not in {'x'}", "not not in {'x'}", "startswith starts with 'v'",
    "projectcalico.org/namespace == 'ns'", "calico/k8s_ns == 'ns'", "app.kubernetes.io/name == 'web'",
    "A-b_c.d/e == 'x'", "-a == 'x'", "/a == 'x'", ".a == 'x'", "0 == 'x'", "a == ''", "a == \"\"",
    "a == 'x' && ", "&& a == 'x'", "|| a == 'x'", "a == 'x' ||", "a IN {'x'}", "a == {'x'}", "a in ('x')",
    "a == 'x')", "(a == 'x'", "((a == 'x')", "a in {'x'", "a in 'x'}", "!=", "== 'x'", "{", "}", ",",
    "a" * 512 + " == 'x'", "a" * 513 + " == 'x'", "has(" + "a" * 512 + ")", "has(" + "a" * 513 + ")",
    "a not == 'x'", "a starts 'x'", "a ends 'x'", "a < 'x'", "a: x", "a=x", "app in {'a' 'b'}",
]

KEYS = ["a", "b", "c", "d", "app.kubernetes.io/name"]
VALUES = ["", "x", "y", "xy", "yx", "z", "it's", 'say "hi"']


def blank():
    return rng.choice(["", "", " ", " ", "  ", "\t"])


def quote(v):
    if '"' in v:
        return "'" + v + "'"
    if "'" in v:
        return '"' + v + '"'
    q = rng.choice(["'", '"'])
    return q + v + q


def leaf():
    k = rng.choice(KEYS)
    r = rng.random()
    if r < 0.05:
        return "all(" + blank() + ")"
    if r < 0.08:
        return "global()"
    if r < 0.25:
        return "has(" + blank() + k + blank() + ")"
    if r < 0.75:
        op = rng.choice(["==", "!=", "contains", "starts with", "ends with", "startswith", "endswith"])
        b = blank() if op in ("==", "!=") else rng.choice([" ", "  ", "\t"])
        return k + b + op + b + quote(rng.choice(VALUES))
    op = rng.choice(["in", "not in", "notin"])
    vals = [quote(rng.choice(VALUES)) for _ in range(rng.randrange(0, 4))]
    body = ("," + blank()).join(vals)
    if vals and rng.random() < 0.2:
        body += ","
    return k + " " + op + blank() + "{" + blank() + body + blank() + "}"


def expr(depth):
    r = rng.random()
    if depth == 0 or r < 0.35:
        e = leaf()
    elif r < 0.5:
        e = "(" + blank() + expr(depth - 1) + blank() + ")"
    elif r < 0.75:
        e = expr(depth - 1) + blank() + "&&" + blank() + expr(depth - 1)
    else:
        e = expr(depth - 1) + blank() + "||" + blank() + expr(depth - 1)
    if rng.random() < 0.2:
        e = "!" * rng.randrange(1, 4) + blank() + e
    return e


PIECES = [
    "a", "b", "c", "app.kubernetes.io/name", "in", "not", "has", "all", "'x'", '"y"', "''", "'it\"s'", "==", "!=",
    "=", "!", "&&", "||", "&", "|", "(", ")", "{", "}", ",", "not in", "notin", "contains", "starts with",
    "startswith", "ends  with", "has(a)", "has( b )", "has(", "all()", "global()", "all(", "'", '"', "%",
]


def soup():
    return "".join(rng.choice(PIECES) + blank() for _ in range(rng.randrange(1, 10)))


def mutate(s):
    """Well-formed text with one character dropped, doubled or swapped."""
    if not s:
        return s
    i = rng.randrange(len(s))
    r = rng.random()
    if r < 0.4:
        return s[:i] + s[i + 1:]
    if r < 0.7:
        return s[:i] + s[i] + s[i:]
    return s[:i] + rng.choice("(){}'\"=!&|, ") + s[i + 1:]


inputs = list(HAND)
inputs += [expr(3) for _ in range(700)]
inputs += [mutate(expr(2)) for _ in range(500)]
inputs += [soup() for _ in range(800)]
seen = set()
for s in inputs:
    if s not in seen:
        seen.add(s)
        print(json.dumps(s, ensure_ascii=False))

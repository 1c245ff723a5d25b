#!/usr/bin/env bash
# The seed 000 walkthrough, step by step: for each step, the truth table on
# 80/TCP, the verdicts of the flows the seed tried, and the explanation of the
# flow that step is about. Usage: bash examples/walkthrough.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet -p netpol-cli
netpol=target/debug/netpol
dir=examples/seed-000-walkthrough

# The flows the seed tried: from, to, port, protocol.
flows=(
  "default/frontend default/backend 80 TCP"
  "default/backend default/frontend 80 TCP"
  "default/frontend kube-system/kube-dns 53 UDP"
  "default/backend cassandra/cassandra 80 TCP"
)
# The flow each step is about (index into flows).
focus=(0 0 0 2 2 3 3 3 3 3)

i=0
for step in "$dir"/step-*/; do
  name=$(basename "$step")
  what=$(grep -F "\`$name\`" "$dir/README.md" | cut -d'|' -f3 | sed 's/^ *//; s/ *$//')
  printf '\n==================== %s\n%s\n\n' "$name" "$what"
  "$netpol" matrix -f "$step" --port 80 --protocol TCP
  echo
  for flow in "${flows[@]}"; do
    read -r from to port proto <<<"$flow"
    if "$netpol" check -f "$step" --from "$from" --to "$to" --port "$port" --protocol "$proto" >/dev/null 2>&1; then
      verdict=allowed
    else
      verdict=DENIED
    fi
    printf '  %-18s -> %-22s %5s/%-3s  %s\n' "$from" "$to" "$port" "$proto" "$verdict"
  done
  read -r from to port proto <<<"${flows[${focus[$i]}]}"
  printf '\n$ netpol check -f %s --from %s --to %s --port %s --protocol %s\n' "$step" "$from" "$to" "$port" "$proto"
  "$netpol" check -f "$step" --from "$from" --to "$to" --port "$port" --protocol "$proto" 2>/dev/null || true
  i=$((i + 1))
done

#!/usr/bin/env bash
# Input bytes against peak memory and time of a whole load (issue 14).
#
# For each size in MiB it writes (once, cached in $OUT) one YAML stream of
# valid NetworkPolicies with `netpol synth` (its namespaces first, no pods),
# then times `netpol validate -f FILE` with /usr/bin/time (wall
# seconds, peak RSS), best of $RUNS. `ns` cases are Namespaces only (COUNT of
# them), the shape with the most objects per byte.
# Prints a Markdown table. Usage: benches/memory.sh [MIB ...] [ns:COUNT ...]
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-/tmp/netpol-memory}
RUNS=${RUNS:-1}
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(10 100 600 ns:1000000)

cargo build --release -q -p netpol-cli
BIN=$PWD/target/release/netpol
mkdir -p "$OUT"

# shellcheck source=best_of.sh
source benches/best_of.sh

# Bytes per policy of the synthetic stream, from a sample.
per_policy=$(($("$BIN" synth --namespaces 100 --pods 0 --policies 2000 | wc -c) / 2000))

echo "| input | bytes | documents | validate (s) | peak RSS (MiB) | RSS / input |"
echo "|---|---:|---:|---:|---:|---:|"
for case in "${CASES[@]}"; do
  if [[ $case == ns:* ]]; then
    count=${case#ns:}
    file=$OUT/namespaces-$count.yaml
    label="$count Namespaces"
    [ -s "$file" ] || "$BIN" synth --namespaces "$count" --pods 0 --policies 0 >"$file"
  else
    file=$OUT/policies-${case}mib.yaml
    label="$case MiB of NetworkPolicies"
    policies=$((case * 1024 * 1024 / per_policy))
    [ -s "$file" ] || "$BIN" synth --namespaces 1000 --pods 0 --policies "$policies" >"$file"
  fi
  bytes=$(stat -c %s "$file")
  # The summary line: "... (N objects accepted; D documents, B bytes read)".
  documents=$("$BIN" validate -f "$file" 2>/dev/null | tail -n 1 | sed -E 's/.*; ([0-9]+) documents?.*/\1/')
  read -r secs kib <<<"$(best_of "$BIN" validate -f "$file")"
  mib=$((kib / 1024))
  ratio=$(awk -v r="$kib" -v b="$bytes" 'BEGIN{printf "%.1fx", r * 1024 / b}')
  echo "| $label | $bytes | $documents | $secs | $mib | $ratio |"
done

#!/usr/bin/env bash
# Loading: one file or many (issue 12). The same seeded cluster three ways:
#   dir/       `netpol synth -o DIR` (one file per namespace and kind)
#   one.yaml   `netpol synth` to stdout: one multi-document stream
#   list.yaml  every object of one.yaml as the `items` of one `kind: List`
#              document, laid out as `kubectl get ... -o yaml` writes it
# and times `netpol check` (load + one explained flow) and `netpol validate`
# on each with /usr/bin/time (wall seconds, peak RSS), best of $RUNS.
# Usage: benches/load.sh [PODS:POLICIES:NAMESPACES ...] (default 100000:10000:100)
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-/tmp/netpol-load-bench}
RUNS=${RUNS:-3}
BIN=${BIN:-}
SCALES=("$@")
[ ${#SCALES[@]} -gt 0 ] || SCALES=(100000:10000:100)

if [ -z "$BIN" ]; then
  cargo build --release -q -p netpol-cli
  BIN=$PWD/target/release/netpol
fi
mkdir -p "$OUT"

# shellcheck source=best_of.sh
source benches/best_of.sh

# to_list < STREAM > LIST: the documents of a stream as the items of a List.
to_list() {
  awk 'BEGIN { print "apiVersion: v1"; print "items:"; first = 1 }
       /^---/ { first = 1; next }
       { if (first) { print "- " $0; first = 0 } else if ($0 == "") { print "" } else { print "  " $0 } }
       END { print "kind: List"; print "metadata:"; print "  resourceVersion: \"\"" }'
}

echo "| pods | policies | input | bytes | check (s) | check peak (MiB) | validate (s) | validate peak (MiB) |"
echo "|---:|---:|---|---:|---:|---:|---:|---:|"
for scale in "${SCALES[@]}"; do
  IFS=: read -r pods policies namespaces <<<"$scale"
  base=$OUT/p$pods-k$policies-n$namespaces
  if [ ! -f "$base/list.yaml" ]; then
    rm -rf "$base"
    mkdir -p "$base"
    "$BIN" synth --namespaces "$namespaces" --pods "$pods" --policies "$policies" --seed 1 -o "$base/dir" 2>/dev/null
    "$BIN" synth --namespaces "$namespaces" --pods "$pods" --policies "$policies" --seed 1 >"$base/one.yaml" 2>/dev/null
    to_list <"$base/one.yaml" >"$base/list.yaml"
  fi
  # Two pods of the cluster, for `check`.
  read -r from to < <(awk '/^kind: Pod$/ { p = 1 } p && /^  name: / { n = $2 } p && /^  namespace: / { print $2 "/" n; p = 0 }' "$base/one.yaml" | head -n 2 | paste -sd' ')
  for input in dir one.yaml list.yaml; do
    path=$base/$input
    bytes=$(du -sb --apparent-size "$path" | cut -f1)
    read -r cs ck < <(best_of "$BIN" check -f "$path" --from "$from" --to "$to" --port 80)
    read -r vs vk < <(best_of "$BIN" validate -f "$path")
    echo "| $pods | $policies | $input | $bytes | $cs | $((ck / 1024)) | $vs | $((vk / 1024)) |"
  done
done

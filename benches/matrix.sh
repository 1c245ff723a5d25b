#!/usr/bin/env bash
# Whole-process benchmarks for issue 3 (reachability at cluster scale).
#
# For each scale PODS:POLICIES:NAMESPACES it writes a seeded synthetic cluster
# with `netpol synth`, then times whole processes with /usr/bin/time
# (wall seconds, peak RSS), best of $RUNS:
#   - `netpol matrix -f DIR --port 8080 --summary -o json` (load + compile + all pairs);
#   - `netpol check -f DIR --from A --to B --port 8080`     (load + one explained flow);
#   - network-config-analyzer's connectivity map of the same folder, when `$NCA`
#     is installed (pip install network-config-analyzer), within $NCA_TIMEOUT s.
# Prints a Markdown table. Usage: benches/matrix.sh [PODS:POLICIES:NAMESPACES ...]
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-/tmp/netpol-bench}
RUNS=${RUNS:-3}
NCA=${NCA:-nca}
NCA_TIMEOUT=${NCA_TIMEOUT:-600}
SCALES=("$@")
[ ${#SCALES[@]} -gt 0 ] || SCALES=(1000:100:10 10000:1000:100 100000:10000:1000)

cargo build --release -q -p netpol-cli
BIN=$PWD/target/release/netpol
mkdir -p "$OUT"

# shellcheck source=best_of.sh
source benches/best_of.sh

echo "| pods | policies | classes | allowed pairs 8080/TCP | matrix --summary (s) | peak RSS (MiB) | check (s) | NCA connectivity (s) | NCA peak (MiB) | NCA / netpol |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for scale in "${SCALES[@]}"; do
  IFS=: read -r pods policies namespaces <<<"$scale"
  dir=$OUT/p$pods-k$policies
  if [ ! -f "$dir/namespaces.yaml" ]; then
    rm -rf "$dir"
    "$BIN" synth --namespaces "$namespaces" --pods "$pods" --policies "$policies" --seed 1 -o "$dir" 2>/dev/null
  fi
  summary=$("$BIN" matrix -f "$dir" --port 8080 --summary -o json)
  classes=$(echo "$summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["classes"])')
  pairs=$(echo "$summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["probes"][0]["allowed_pairs"])')
  read -r m_s m_kib <<<"$(best_of "$BIN" matrix -f "$dir" --port 8080 --summary -o json)"
  # One flow between two pods of different team namespaces.
  from=$(grep -h -m1 -A1 '^  name:' "$dir"/pods/team-0000.yaml | awk '/name:/{n=$2} /namespace:/{print $2"/"n; exit}')
  to_file=$(ls "$dir"/pods/team-*.yaml | tail -n 1)
  to=$(grep -h -m1 -A1 '^  name:' "$to_file" | awk '/name:/{n=$2} /namespace:/{print $2"/"n; exit}')
  read -r c_s _ <<<"$(best_of sh -c "'$BIN' check -f '$dir' --from '$from' --to '$to' --port 8080 >/dev/null; [ \$? -le 1 ]")"
  nca_s="-"; nca_mib="-"; ratio="-"
  if command -v "$NCA" >/dev/null; then
    timing=$( (cd "$OUT" && /usr/bin/time -f "%e %M" timeout "$NCA_TIMEOUT" "$NCA" --connectivity "$dir" --resource_list "$dir" --output_format txt 2>&1 >/dev/null) || true)
    read -r n_s n_kib <<<"$(echo "$timing" | tail -n 1)"
    status=$(echo "$timing" | sed -n 's/.*exited with non-zero status \([0-9]*\).*/\1/p' | tail -n 1)
    if [ -n "$status" ] && [ "$status" != 124 ]; then
      nca_s="failed after $n_s (exit $status)"; nca_mib=$((n_kib / 1024))
    elif [ -n "${n_kib:-}" ] && awk -v s="$n_s" -v t="$NCA_TIMEOUT" 'BEGIN{exit !(s<t)}'; then
      nca_s=$n_s; nca_mib=$((n_kib / 1024))
      ratio=$(awk -v a="$n_s" -v b="$m_s" 'BEGIN{printf "%.0fx", a/b}')
    else
      nca_s="> $NCA_TIMEOUT"
    fi
  fi
  echo "| $pods | $policies | $classes | $pairs | $m_s | $((m_kib / 1024)) | $c_s | $nca_s | $nca_mib | $ratio |"
done

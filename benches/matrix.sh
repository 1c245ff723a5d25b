#!/usr/bin/env bash
# Whole-process benchmarks of all-pairs reachability: issue 3 (netpol at cluster
# scale) and issue 12 (netpol and its peers side by side, realistic shape).
#
# For each scale PODS:POLICIES:NAMESPACES it writes a seeded synthetic cluster
# with `netpol synth --shape $SHAPE` (kept under $OUT and reused), then times
# whole processes with /usr/bin/time (wall seconds, peak RSS) and prints one
# Markdown table.
#
# SHAPE=default (the default; issue 3's table, scales 1000:100:10
# 10000:1000:100 100000:10000:1000), best of $RUNS:
#   - `netpol matrix -f DIR --port 8080 --summary -o json` (load + compile + all pairs);
#   - `netpol check -f DIR --from A --to B --port 8080`     (load + one explained flow);
#   - network-config-analyzer's connectivity map of the same folder, when `$NCA`
#     is installed (pip install network-config-analyzer), within $NCA_TIMEOUT s.
#
# SHAPE=realistic (or PEERS=1 with any shape; issue 12's table, scales
# 1000:100:10 10000:1000:30 100000:10000:100): one row per scale and tool:
#   - netpol `matrix --port 8080 --summary -o json` (one port, counts), best of $RUNS;
#   - netpol `matrix -o csv` (no --port: every allowed (protocol, port) of every
#     ordered pair, the same question the peers answer), once; skipped above
#     $NETPOL_FULL_MAX_PODS pods, as it holds N^2 strings in memory;
#   - k8snetpolicy (np-guard netpol-analyzer) `list --dirpath DIR -o csv -q`;
#   - policy-assistant (kubernetes-sigs/network-policy-api), when it could be built;
#   - nca (network-config-analyzer) `--connectivity DIR --resource_list DIR
#     --output_format txt_no_fw_rules --output_endpoints pods`;
#   each peer once, within $PEER_TIMEOUT s ("did not finish in N s" otherwise)
#   and under an address-space limit of $PEER_MEM_MIB MiB (prlimit --as). Peers
#   come from tools/peers/build.sh (it builds what is missing; PEERS_BUILD=0 only
#   looks). Columns: ratio of the peer's time to netpol's full run and to its
#   --summary run; agreement with netpol's per-pair answers
#   (benches/peers_agree.py), also against `--ipblock-ignores-pods` (AGREE_IPB=1).
#
# Usage: [SHAPE=realistic] [BIN=/path/to/netpol] benches/matrix.sh [PODS:POLICIES:NAMESPACES ...]
# Without BIN it builds netpol with `cargo build --release`. Environment:
# OUT (work folder, /tmp/netpol-bench), RUNS (3), NCA (nca), NCA_TIMEOUT (600),
# PEER_TIMEOUT (600), PEER_MEM_MIB (12288), NETPOL_FULL_MAX_PODS (10000),
# AGREE_IPB (1), PEERS_BUILD (1).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-/tmp/netpol-bench}
RUNS=${RUNS:-3}
SHAPE=${SHAPE:-default}
PEERS=${PEERS:-$([ "$SHAPE" = realistic ] && echo 1 || echo 0)}
NCA=${NCA:-nca}
NCA_TIMEOUT=${NCA_TIMEOUT:-600}
PEER_TIMEOUT=${PEER_TIMEOUT:-600}
PEER_MEM_MIB=${PEER_MEM_MIB:-12288}
NETPOL_FULL_MAX_PODS=${NETPOL_FULL_MAX_PODS:-10000}
AGREE_IPB=${AGREE_IPB:-1}
PEERS_BUILD=${PEERS_BUILD:-1}
case "$SHAPE" in
  default | realistic) ;;
  *)
    echo "matrix.sh: SHAPE must be default or realistic, not '$SHAPE'" >&2
    exit 2
    ;;
esac
SCALES=("$@")
if [ ${#SCALES[@]} -eq 0 ]; then
  if [ "$SHAPE" = realistic ]; then
    SCALES=(1000:100:10 10000:1000:30 100000:10000:100)
  else
    SCALES=(1000:100:10 10000:1000:100 100000:10000:1000)
  fi
fi

if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p netpol-cli
  BIN=$PWD/target/release/netpol
fi
mkdir -p "$OUT"

# shellcheck source-path=SCRIPTDIR source=best_of.sh
source benches/best_of.sh

# The folder of one scale: written once, reused by later runs.
cluster() {
  local pods=$1 policies=$2 namespaces=$3 dir
  if [ "$SHAPE" = default ]; then dir=$OUT/p$pods-k$policies; else dir=$OUT/$SHAPE-p$pods-k$policies; fi
  if [ ! -f "$dir/namespaces.yaml" ]; then
    rm -rf "$dir"
    "$BIN" synth --namespaces "$namespaces" --pods "$pods" --policies "$policies" --seed 1 \
      --shape "$SHAPE" -o "$dir" >/dev/null 2>&1
  fi
  echo "$dir"
}

# Issue 3's table (SHAPE=default), as it always was.
issue3_table() {
  echo "| pods | policies | classes | allowed pairs 8080/TCP | matrix --summary (s) | peak RSS (MiB) | check (s) | NCA connectivity (s) | NCA peak (MiB) | NCA / netpol |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for scale in "${SCALES[@]}"; do
    IFS=: read -r pods policies namespaces <<<"$scale"
    dir=$(cluster "$pods" "$policies" "$namespaces")
    summary=$("$BIN" matrix -f "$dir" --port 8080 --summary -o json)
    classes=$(echo "$summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["classes"])')
    pairs=$(echo "$summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["probes"][0]["allowed_pairs"])')
    read -r m_s m_kib <<<"$(best_of "$BIN" matrix -f "$dir" --port 8080 --summary -o json)"
    # One flow between two pods of different team namespaces.
    from=$(grep -h -m1 -A1 '^  name:' "$dir"/pods/team-0000.yaml | awk '/name:/{n=$2} /namespace:/{print $2"/"n; exit}')
    to_file=$(find "$dir"/pods -name 'team-*.yaml' | sort | tail -n 1)
    to=$(grep -h -m1 -A1 '^  name:' "$to_file" | awk '/name:/{n=$2} /namespace:/{print $2"/"n; exit}')
    read -r c_s _ <<<"$(best_of sh -c "'$BIN' check -f '$dir' --from '$from' --to '$to' --port 8080 >/dev/null; [ \$? -le 1 ]")"
    nca_s="-"
    nca_mib="-"
    ratio="-"
    if command -v "$NCA" >/dev/null; then
      timing=$( (cd "$OUT" && /usr/bin/time -f "%e %M" timeout "$NCA_TIMEOUT" "$NCA" --connectivity "$dir" --resource_list "$dir" --output_format txt 2>&1 >/dev/null) || true)
      read -r n_s n_kib <<<"$(echo "$timing" | tail -n 1)"
      status=$(echo "$timing" | sed -n 's/.*exited with non-zero status \([0-9]*\).*/\1/p' | tail -n 1)
      if [ -n "$status" ] && [ "$status" != 124 ]; then
        nca_s="failed after $n_s (exit $status)"
        nca_mib=$((n_kib / 1024))
      elif [ -n "${n_kib:-}" ] && awk -v s="$n_s" -v t="$NCA_TIMEOUT" 'BEGIN{exit !(s<t)}'; then
        nca_s=$n_s
        nca_mib=$((n_kib / 1024))
        ratio=$(awk -v a="$n_s" -v b="$m_s" 'BEGIN{printf "%.0fx", a/b}')
      else
        nca_s="> $NCA_TIMEOUT"
      fi
    fi
    echo "| $pods | $policies | $classes | $pairs | $m_s | $((m_kib / 1024)) | $c_s | $nca_s | $nca_mib | $ratio |"
  done
}

# timed NAME LIMIT_S MEM_MIB CMD...: runs CMD once (stdout to $work/NAME.out,
# stderr to $work/NAME.err) under timeout and an address-space limit (0: none);
# sets t_s, t_mib and t_state (ok | timeout | failed: ...).
timed() {
  local name=$1 limit=$2 mem=$3 tf line status
  shift 3
  tf=$work/$name.time
  local pre=()
  [ "$mem" -gt 0 ] && pre=(prlimit --as=$((mem * 1024 * 1024)))
  /usr/bin/time -f "%e %M" -o "$tf" timeout "$limit" "${pre[@]}" "$@" >"$work/$name.out" 2>"$work/$name.err" || true
  line=$(tail -n 1 "$tf")
  t_s=${line%% *}
  t_mib=$((${line##* } / 1024))
  status=$(sed -n 's/.*exited with non-zero status \([0-9]*\).*/\1/p' "$tf" | tail -n 1)
  if [ "$status" = 124 ]; then
    t_state=timeout
  elif [ -n "$status" ] || grep -q 'terminated by signal' "$tf"; then
    t_state="failed after $t_s s (exit ${status:-signal}): $(grep -v '^[[:space:]]*$' "$work/$name.err" | tail -n 1 | cut -c1-120 | tr '|' '/')"
  else
    t_state=ok
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b <= 0) print "-"; else if (a/b >= 10) printf "%.0fx", a/b; else printf "%.1fx", a/b }'; }

# The agreement cell of a peer that finished.
agreement() {
  local peer=$1 dir=$2 out=$3 main ipb
  if [ ! -f "$work/netpol-allowed.csv" ]; then
    echo "not compared: netpol's per-pair run was not made at this scale"
    return
  fi
  main=$(python3 benches/peers_agree.py --dir "$dir" --netpol "$work/netpol-allowed.csv" --peer "$peer" "$out" 2>&1 | head -n 1 || true)
  python3 benches/peers_agree.py --dir "$dir" --netpol "$work/netpol-allowed.csv" --peer "$peer" "$out" --details >"$work/$peer.agree" 2>&1 || true
  if [ "$AGREE_IPB" = 1 ] && [ "${main#agree}" = "$main" ]; then
    if [ ! -f "$work/netpol-ipb-allowed.csv" ]; then
      { "$BIN" matrix -f "$dir" --ipblock-ignores-pods -o csv || true; } | grep -v ',"none"$' >"$work/netpol-ipb-allowed.csv" || true
    fi
    ipb=$(python3 benches/peers_agree.py --dir "$dir" --netpol "$work/netpol-ipb-allowed.csv" --peer "$peer" "$out" 2>&1 | head -n 1 || true)
    python3 benches/peers_agree.py --dir "$dir" --netpol "$work/netpol-ipb-allowed.csv" --peer "$peer" "$out" --details >"$work/$peer.agree-ipb" 2>&1 || true
    main="$main; with --ipblock-ignores-pods: $ipb"
  fi
  echo "$main"
}

# Issue 12's table: netpol and its peers side by side.
peers_table() {
  local env
  if [ "$PEERS_BUILD" = 1 ]; then
    env=$(tools/peers/build.sh --print-env 2>"$OUT/peers-build.log") || {
      echo "matrix.sh: tools/peers/build.sh failed, see $OUT/peers-build.log" >&2
      exit 2
    }
    eval "$env"
  fi
  local cache=${NETPOL_PEERS_CACHE:-$HOME/.cache/netpol/peers}
  local k8s=${NETPOL_PEER_K8SNETPOLICY:-$(find "$cache/bin" -maxdepth 1 -name 'k8snetpolicy-*' ! -name '*.partial' 2>/dev/null | sort | tail -n 1)}
  local pa=${NETPOL_PEER_POLICY_ASSISTANT:-}
  local nca=${NETPOL_PEER_NCA:-$(find "$cache" -maxdepth 3 -path '*nca-venv-*/bin/nca' 2>/dev/null | sort | tail -n 1)}
  local pa_why=${NETPOL_PEER_POLICY_ASSISTANT_WHY:-"not built: run tools/peers/build.sh"}

  echo "| pods | policies | tool | command | whole process (s) | peak RSS (MiB) | / netpol full | / netpol --summary | agreement with netpol (pairs of distinct pods) |"
  echo "|---:|---:|---|---|---:|---:|---:|---:|---|"
  for scale in "${SCALES[@]}"; do
    IFS=: read -r pods policies namespaces <<<"$scale"
    dir=$(cluster "$pods" "$policies" "$namespaces")
    work=$OUT/peers-$SHAPE-p$pods-k$policies
    rm -rf "$work"
    mkdir -p "$work"
    local row="| $pods | $policies"

    # netpol, one port, counts only: best of $RUNS.
    summary=$("$BIN" matrix -f "$dir" --port 8080 --summary -o json)
    classes=$(echo "$summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["classes"])')
    pairs=$(echo "$summary" | python3 -c 'import json,sys; print(json.load(sys.stdin)["probes"][0]["allowed_pairs"])')
    read -r sum_s sum_kib <<<"$(best_of "$BIN" matrix -f "$dir" --port 8080 --summary -o json)"
    echo "$row | netpol | \`matrix --port 8080 --summary -o json\` (best of $RUNS) | $sum_s | $((sum_kib / 1024)) | | | reference: $classes classes, $pairs allowed pairs on 8080/TCP |"

    # netpol, every port of every pair (what the peers compute), once.
    full_s=""
    if [ "$pods" -gt "$NETPOL_FULL_MAX_PODS" ]; then
      echo "$row | netpol | \`matrix -o csv\` (no --port) | not run: $pods pods is over NETPOL_FULL_MAX_PODS=$NETPOL_FULL_MAX_PODS (it prints $((pods * (pods - 1))) lines and holds them in memory) | | | | |"
    else
      /usr/bin/time -f "%e %M" -o "$work/netpol-full.time" timeout "$PEER_TIMEOUT" "$BIN" matrix -f "$dir" -o csv 2>"$work/netpol-full.err" |
        { grep -v ',"none"$' || true; } >"$work/netpol-allowed.csv" || true
      line=$(tail -n 1 "$work/netpol-full.time")
      if grep -q 'non-zero status\|terminated by signal' "$work/netpol-full.time"; then
        rm -f "$work/netpol-allowed.csv"
        if grep -q 'status 124' "$work/netpol-full.time"; then
          state="did not finish in $PEER_TIMEOUT s"
        else
          state="failed after ${line%% *} s: $(tail -n 1 "$work/netpol-full.err" | cut -c1-120)"
        fi
        echo "$row | netpol | \`matrix -o csv\` (no --port) | $state | $((${line##* } / 1024)) | | | |"
      else
        full_s=${line%% *}
        echo "$row | netpol | \`matrix -o csv\` (no --port) | $full_s | $((${line##* } / 1024)) | | | $(($(wc -l <"$work/netpol-allowed.csv") - 1)) allowed pairs (any port) |"
      fi
    fi

    # The peers, once each.
    for peer in k8snetpolicy policy-assistant nca; do
      local cmd=() label
      case "$peer" in
        k8snetpolicy)
          # shellcheck disable=SC2016 # backquotes are Markdown
          label='`list --dirpath DIR -o csv -q`'
          [ -n "$k8s" ] && [ -x "$k8s" ] && cmd=("$k8s" list --dirpath "$dir" -o csv -q)
          ;;
        policy-assistant)
          label='-'
          if [ -z "$pa" ]; then
            echo "$row | policy-assistant | $label | ${pa_why%%;*} | | | | |"
          else
            echo "$row | policy-assistant | $label | built ($pa), not run: its probe mode needs a --probe-path JSON of pods, which this bench does not write | | | | |"
          fi
          continue
          ;;
        nca)
          # shellcheck disable=SC2016 # backquotes are Markdown
          label='`--connectivity DIR --resource_list DIR --output_format txt_no_fw_rules --output_endpoints pods`'
          [ -n "$nca" ] && [ -x "$nca" ] && cmd=("$nca" --connectivity "$dir" --resource_list "$dir" --output_format txt_no_fw_rules --output_endpoints pods)
          ;;
      esac
      if [ ${#cmd[@]} -eq 0 ]; then
        echo "$row | $peer | $label | not built: run tools/peers/build.sh | | | | |"
        continue
      fi
      (cd "$work" && timed "$peer" "$PEER_TIMEOUT" "$PEER_MEM_MIB" "${cmd[@]}" && declare -p t_s t_mib t_state >"$work/$peer.state")
      # shellcheck disable=SC1090
      source "$work/$peer.state"
      case "$t_state" in
        ok)
          r_full="-"
          [ -n "$full_s" ] && r_full=$(ratio "$t_s" "$full_s")
          echo "$row | $peer | $label | $t_s | $t_mib | $r_full | $(ratio "$t_s" "$sum_s") | $(agreement "$peer" "$dir" "$work/$peer.out") |"
          ;;
        timeout)
          r_full="-"
          [ -n "$full_s" ] && r_full="> $(ratio "$PEER_TIMEOUT" "$full_s")"
          echo "$row | $peer | $label | did not finish in $PEER_TIMEOUT s | $t_mib (when stopped) | $r_full | > $(ratio "$PEER_TIMEOUT" "$sum_s") | - |"
          ;;
        *)
          echo "$row | $peer | $label | $t_state | $t_mib | | | - |"
          ;;
      esac
    done
  done
}

if [ "$PEERS" = 1 ]; then
  peers_table
else
  issue3_table
fi

#!/usr/bin/env bash
# Builds the peer NetworkPolicy analyzers that benches/matrix.sh runs side by
# side with netpol, at the versions pinned below, into a cache outside the repo:
#
#   ${NETPOL_PEERS_CACHE:-$HOME/.cache/netpol/peers}/bin/k8snetpolicy-<version>
#       np-guard's netpol-analyzer (`k8snetpolicy list`), from its Go module;
#   .../bin/policy-assistant-<version>
#       kubernetes-sigs/network-policy-api's policy-assistant, from its Go module
#       (it lives in cmd/policy-assistant but declares the module path
#       sigs.k8s.io/network-policy-api/policy-assistant, which the module proxy
#       may not serve: then it is reported as not built, with go's error);
#   .../nca-venv-<version>/bin/nca
#       network-config-analyzer from PyPI, in a venv of its own.
#
# What is already in the cache is not rebuilt (idempotent); a failed Go build
# is tried again on the next run. Each Go build happens in a throwaway module
# under the cache (src/<name>-<version>), as tools/k8s/build.sh does; GOMODCACHE
# and GOCACHE keep their defaults so builds share them.
#
# Usage: tools/peers/build.sh [--print-env] [k8snetpolicy|policy-assistant|nca]...
#   no names      all three
#   --print-env   print, on stdout, `export NETPOL_PEER_<NAME>='PATH'` for each
#                 tool built, or `export NETPOL_PEER_<NAME>_WHY='not built: ...'`
#                 for one that could not be (the report goes to stderr).
#                 Without it, stdout gets `<name> PATH` or `<name> not built: ...`.
# Exit status: 0 when every named tool is there or reported as not buildable;
# 2 on bad arguments or when neither go nor python3 is there at all.
set -euo pipefail

# Pinned versions (the one place that pins them).
NETPOL_ANALYZER_VERSION=v1.4.4 # github.com/np-guard/netpol-analyzer (2025-04-28)
POLICY_ASSISTANT_VERSION=v0.2.0 # sigs.k8s.io/network-policy-api, tag v0.2.0 (2026-04-21)
NCA_VERSION=2.1.0               # network-config-analyzer on PyPI (2024-12)

cache="${NETPOL_PEERS_CACHE:-$HOME/.cache/netpol/peers}"
bin="$cache/bin"

print_env=0
names=()
for arg in "$@"; do
  case "$arg" in
    --print-env) print_env=1 ;;
    k8snetpolicy | policy-assistant | nca) names+=("$arg") ;;
    -h | --help)
      sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done
[ "${#names[@]}" -gt 0 ] || names=(k8snetpolicy policy-assistant nca)

mkdir -p "$bin" "$cache/src"
# One build at a time per cache, also across concurrent callers.
exec 9>"$cache/.build.lock"
flock 9

export CGO_ENABLED=0
log() { printf '%s\n' "$*" >&2; }

# A fresh module directory for one build.
module_dir() {
  local dir="$cache/src/$1"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '%s' "$dir"
}

# `go mod download` of one module version, through $GOPROXY as configured; on
# failure prints go's error (and, when GOPROXY lists a fallback such as
# `direct`, also what the first proxy alone answered, as the fallback's error
# hides it) and fails.
download() {
  local err first
  err="$(download_error "$1" "$(go env GOPROXY)")" || return 0
  first="$(go env GOPROXY)"
  first="${first%%[,|]*}"
  if [ "$first" != "$(go env GOPROXY)" ]; then
    printf 'GOPROXY=%s: %s; GOPROXY=%s: %s\n' "$first" "$(download_error "$1" "$first")" "$(go env GOPROXY)" "$err"
  else
    printf 'GOPROXY=%s: %s\n' "$first" "$err"
  fi
  return 1
}

# Prints go's error for one module version through one GOPROXY value and
# succeeds; fails (prints nothing) when the download works.
download_error() {
  local json err
  json="$(GOPROXY="$2" go mod download -json "$1" 2>&1 || true)"
  err="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)"
  if [ -z "$err" ] && printf '%s\n' "$json" | grep -q '"GoMod"'; then
    return 1
  fi
  printf '%s\n' "${err:-$json}" | sed 's/\\n\\t/ /g; s/\\"/"/g; s|^'"$1"': ||'
}

build_k8snetpolicy() {
  local out="$1" dir
  dir="$(module_dir "k8snetpolicy-$NETPOL_ANALYZER_VERSION")"
  cat >"$dir/go.mod" <<EOF
module netpol.invalid/build/k8snetpolicy

go 1.23.0

require github.com/np-guard/netpol-analyzer $NETPOL_ANALYZER_VERSION
EOF
  cat >"$dir/tools.go" <<'EOF'
//go:build tools

package tools

import _ "github.com/np-guard/netpol-analyzer/cmd/netpolicy"
EOF
  (cd "$dir" && go mod tidy && go build -trimpath -ldflags "-s -w" -o "$out" github.com/np-guard/netpol-analyzer/cmd/netpolicy)
}

build_policy_assistant() {
  local out="$1" dir module=sigs.k8s.io/network-policy-api/policy-assistant why
  dir="$(module_dir "policy-assistant-$POLICY_ASSISTANT_VERSION")"
  if ! why="$(cd "$dir" && download "$module@$POLICY_ASSISTANT_VERSION")"; then
    printf 'module %s@%s cannot be fetched: %s' "$module" "$POLICY_ASSISTANT_VERSION" "$why" >"$dir/why"
    return 1
  fi
  cat >"$dir/go.mod" <<EOF
module netpol.invalid/build/policy-assistant

go 1.21

require $module $POLICY_ASSISTANT_VERSION
EOF
  cat >"$dir/tools.go" <<EOF
//go:build tools

package tools

import _ "$module/cmd/policy-assistant"
EOF
  (cd "$dir" && go mod tidy && go build -trimpath -ldflags "-s -w" -o "$out" "$module/cmd/policy-assistant")
}

declare -A path why
for name in "${names[@]}"; do
  start=$(date +%s)
  if [ "$name" = nca ]; then
    venv="$cache/nca-venv-$NCA_VERSION"
    target="$venv/bin/nca"
    if [ -x "$target" ] && [ "$("$venv/bin/pip" show network-config-analyzer 2>/dev/null | sed -n 's/^Version: //p')" = "$NCA_VERSION" ]; then
      log "nca $NCA_VERSION: $target (cached, not reinstalled)"
      path[$name]="$target"
    elif ! command -v python3 >/dev/null; then
      why[$name]="not built: no python3 on PATH"
    else
      log "nca $NCA_VERSION: pip install into $venv ..."
      rm -rf "$venv"
      if python3 -m venv "$venv" >&2 &&
        "$venv/bin/pip" install -q --disable-pip-version-check "network-config-analyzer==$NCA_VERSION" >&2; then
        path[$name]="$target"
        log "nca $NCA_VERSION: $target (installed in $(($(date +%s) - start))s)"
      else
        rm -rf "$venv"
        why[$name]="not built: pip install network-config-analyzer==$NCA_VERSION failed"
      fi
    fi
    continue
  fi
  case "$name" in
    k8snetpolicy) version="$NETPOL_ANALYZER_VERSION" ;;
    policy-assistant) version="$POLICY_ASSISTANT_VERSION" ;;
  esac
  target="$bin/$name-$version"
  if [ -x "$target" ]; then
    log "$name $version: $target (cached, not rebuilt)"
    path[$name]="$target"
    continue
  fi
  if ! command -v go >/dev/null; then
    why[$name]="not built: no 'go' on PATH"
    continue
  fi
  log "$name $version: building with $(go version | cut -d' ' -f3) ..."
  # Build to a temporary name and rename, so an interrupted build never leaves
  # a half-written binary that a later run would take as cached.
  if "build_${name//-/_}" "$target.partial" >&2; then
    mv -f "$target.partial" "$target"
    log "$name $version: $target (built in $(($(date +%s) - start))s)"
    path[$name]="$target"
  else
    rm -f "$target.partial"
    reason="go build failed (see the output above)"
    [ -f "$cache/src/$name-$version/why" ] && reason="$(cat "$cache/src/$name-$version/why")"
    why[$name]="not built: $reason"
    log "$name $version: ${why[$name]}"
  fi
done

for name in "${names[@]}"; do
  var="NETPOL_PEER_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
  if [ -n "${path[$name]:-}" ]; then
    if [ "$print_env" = 1 ]; then
      printf "export %s='%s'\n" "$var" "${path[$name]}"
    else
      printf '%s %s\n' "$name" "${path[$name]}"
    fi
  else
    if [ "$print_env" = 1 ]; then
      printf "export %s_WHY='%s'\n" "$var" "${why[$name]//\'/}"
    else
      printf '%s %s\n' "$name" "${why[$name]}"
    fi
  fi
done

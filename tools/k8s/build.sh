#!/usr/bin/env bash
# Builds the control-plane binaries netpol's tests run (kube-apiserver, etcd)
# and helm from their Go modules, at the versions pinned in versions.env, into
# a cache outside the repo keyed by version:
#
#   ${NETPOL_CACHE:-$HOME/.cache/netpol}/bin/<name>-<version>
#
# A binary already in the cache is not rebuilt. Each build happens in a
# throwaway Go module generated under the cache (src/<name>-<version>), so the
# repo holds no go.mod and versions.env stays the one place that pins versions.
#
# Usage: tools/k8s/build.sh [--print-env] [kube-apiserver|etcd|helm]...
#   no names       build all three
#   --print-env    after building, print `export NETPOL_...=PATH` lines on
#                  stdout (the report goes to stderr), for `eval` in .ci/run
#
# Go: the machine's go (1.24 or newer). GOMODCACHE and GOCACHE keep their
# defaults, so a second machine-local build of another version reuses them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"

cache="${NETPOL_CACHE:-$HOME/.cache/netpol}"
bin="$cache/bin"

print_env=0
names=()
for arg in "$@"; do
  case "$arg" in
    --print-env) print_env=1 ;;
    kube-apiserver | etcd | helm) names+=("$arg") ;;
    -h | --help)
      sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "build.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done
[ "${#names[@]}" -gt 0 ] || names=(kube-apiserver etcd helm)

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

# kube-apiserver from k8s.io/kubernetes. Its go.mod requires the staging
# modules (k8s.io/api, k8s.io/apiserver, ...) at v0.0.0 and replaces them with
# ./staging paths, which a dependent module cannot see: so replace each one
# with its published tag, v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>.
build_kube_apiserver() {
  local out="$1" dir gomod staging_version
  dir="$(module_dir "kube-apiserver-$KUBERNETES_VERSION")"
  gomod="$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -f "$gomod" ] || {
    log "build.sh: could not download the go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION"
    return 1
  }
  staging_version="v0.${KUBERNETES_VERSION#v1.}"
  {
    echo "module netpol.invalid/build/kube-apiserver"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo
    echo "replace ("
    sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*$|\1|p' "$gomod" |
      while read -r module; do
        echo "	$module => $module $staging_version"
      done
    echo ")"
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'EOF'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
EOF
  # The version the server reports (/version, `kubectl version`), set the way
  # Kubernetes' own hack/lib/version.sh does.
  local minor="${KUBERNETES_VERSION#v1.}"
  minor="${minor%%.*}"
  local ldflags="-s -w"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags="$ldflags -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1"
    ldflags="$ldflags -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    ldflags="$ldflags -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$dir" && go mod tidy && go build -trimpath -ldflags "$ldflags" -o "$out" k8s.io/kubernetes/cmd/kube-apiserver)
}

# etcd: the root module cannot be `go install`ed, so a tiny main (etcd/main.go)
# calls etcdmain.Main from go.etcd.io/etcd/server/v3.
build_etcd() {
  local out="$1" dir
  dir="$(module_dir "etcd-$ETCD_VERSION")"
  cat >"$dir/go.mod" <<EOF
module netpol.invalid/build/etcd

go 1.24.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
  cp "$here/etcd/main.go" "$dir/main.go"
  (cd "$dir" && go mod tidy && go build -trimpath -ldflags "-s -w" -o "$out" .)
}

build_helm() {
  local out="$1" dir
  dir="$(module_dir "helm-$HELM_VERSION")"
  cat >"$dir/go.mod" <<EOF
module netpol.invalid/build/helm

go 1.24.0

require helm.sh/helm/v3 $HELM_VERSION
EOF
  cat >"$dir/tools.go" <<'EOF'
//go:build tools

package tools

import _ "helm.sh/helm/v3/cmd/helm"
EOF
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags="$ldflags -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  (cd "$dir" && go mod tidy && go build -trimpath -ldflags "$ldflags" -o "$out" helm.sh/helm/v3/cmd/helm)
}

declare -A path
for name in "${names[@]}"; do
  case "$name" in
    kube-apiserver) version="$KUBERNETES_VERSION" ;;
    etcd) version="$ETCD_VERSION" ;;
    helm) version="$HELM_VERSION" ;;
  esac
  target="$bin/$name-$version"
  start=$(date +%s)
  if [ -x "$target" ]; then
    log "$name $version: $target (cached, not rebuilt)"
  else
    command -v go >/dev/null || {
      log "build.sh: no 'go' on PATH to build $name $version from its Go module"
      exit 2
    }
    log "$name $version: building with $(go version | cut -d' ' -f3) ..."
    # Build to a temporary name and rename, so an interrupted build never
    # leaves a half-written binary that a later run would take as cached.
    "build_${name//-/_}" "$target.partial"
    mv -f "$target.partial" "$target"
    log "$name $version: $target (built in $(($(date +%s) - start))s)"
  fi
  path[$name]="$target"
done

if [ "$print_env" = 1 ]; then
  for name in "${names[@]}"; do
    var="NETPOL_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
    printf "export %s='%s'\n" "$var" "${path[$name]}"
  done
fi

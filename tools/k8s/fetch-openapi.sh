#!/usr/bin/env bash
# Refreshes the OpenAPI v3 document `netpol explain` embeds from a real
# control plane at the versions pinned in versions.env:
#
#   crates/explain/data/networking.k8s.io-v1.openapi.json
#       what kube-apiserver serves at /openapi/v3/apis/networking.k8s.io/v1
#       (`kubectl get --raw`), pretty-printed with sorted keys (serde_json)
#   crates/explain/data/networking.k8s.io-v1.version
#       the server's gitVersion (e.g. v1.34.4)
#
# It builds (or finds cached) kube-apiserver and etcd with build.sh, then runs
# the drift test in crates/cli/tests/explain.rs with NETPOL_UPDATE_OPENAPI=1,
# which starts a throwaway control plane and writes both files instead of
# comparing them. Run the explain tests afterwards: the insta snapshots of
# crates/explain and the byte-for-byte comparison with `kubectl explain` tell
# what the new document changed.
#
# Usage: tools/k8s/fetch-openapi.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

eval "$("$here/build.sh" --print-env kube-apiserver etcd)"
cd "$root"
NETPOL_REQUIRE_PRIVILEGED=1 NETPOL_UPDATE_OPENAPI=1 \
  cargo test -p netpol-cli --test explain -- --exact the_embedded_schema_is_what_the_server_serves --nocapture
git -C "$root" diff --stat -- crates/explain/data

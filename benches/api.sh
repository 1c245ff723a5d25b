#!/usr/bin/env bash
# The agent on the Kubernetes API (issue 10): a synthetic cluster created through a
# real API server (etcd + kube-apiserver on 127.0.0.1), the real `netpol agent
# --kubernetes --node NODE` enforcing into a network namespace, and from an API
# change returning to the kernel's commit; the agent's CPU and memory.
# Needs root, iproute2, nftables, kubectl, openssl and the control-plane binaries
# (tools/k8s/build.sh builds or finds them).
# Usage: bash benches/api.sh [--pods 10000] [--policies 1000] [--changes 200] [--kubectl 20]
#                            [--concurrency 48] [--node node-0]
# Prints Markdown tables for benches/RESULTS.md ("The agent on the Kubernetes API").
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in ip nft kubectl openssl; do
  command -v "$tool" >/dev/null || { echo "benches/api.sh: $tool is not installed" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "benches/api.sh: needs root (network namespaces)" >&2; exit 2; }
eval "$(tools/k8s/build.sh --print-env)"
cargo build --quiet --release -p netpol-cli --bin netpol
cargo build --quiet --release -p netpol-kube --example api_bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(nft -v), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
exec target/release/examples/api_bench --netpol target/release/netpol "$@"

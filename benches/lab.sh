#!/usr/bin/env bash
# Lab dataplane benchmark: iperf3 throughput and new-connection rate between two
# lab pods with 0, 1,000 and 10,000 policies selecting the server (on the path of
# every new connection). Needs root, iproute2, nftables and iperf3:
#   apt-get install -y iproute2 nftables iperf3
# Usage: bash benches/lab.sh [--policies 0,1000,10000] [--seconds 5] [--repeat 3] [--tiered | --elements] [--render-only]
# (--render-only: no traffic; render time, and nft -f time and peak memory of each ruleset.)
# Prints a Markdown table for benches/RESULTS.md ("Lab dataplane throughput and connection rate").
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in ip nft iperf3; do
  command -v "$tool" >/dev/null || { echo "benches/lab.sh: $tool is not installed" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "benches/lab.sh: needs root (network namespaces)" >&2; exit 2; }
cargo build --quiet --release -p netpol-lab --example lab_bench
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r), $(nft -v)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
exec target/release/examples/lab_bench "$@"

# syntax=docker/dockerfile:1
# The image the DaemonSet in deploy/ (and charts/netpol) runs: a static netpol
# binary on Alpine with the two programs the agent execs, nft and conntrack.
#
#   docker build -t REGISTRY/netpol:0.1.0 .
#   docker push REGISTRY/netpol:0.1.0
#
# (or podman/buildah, which read this file too). Not built in netpol's CI: the
# machine it runs on has no container engine. See docs/deploy.md.

# Build: the workspace's minimum Rust (rust-version in Cargo.toml) on Alpine,
# whose native target is musl, so the binary is static.
FROM rust:1.89-alpine3.22 AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the compiled dependencies between
# builds; the binary is copied out of the cached target dir in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p netpol-cli --target x86_64-unknown-linux-musl \
    && cp target/x86_64-unknown-linux-musl/release/netpol /netpol

# Run: Alpine with nftables (nft) and conntrack-tools (conntrack).
FROM alpine:3.22
RUN apk add --no-cache nftables conntrack-tools
COPY --from=build /netpol /usr/local/bin/netpol
# Root in the container, with only the capabilities the pod spec adds
# (NET_ADMIN, NET_RAW): without uid 0 they would not be effective.
ENTRYPOINT ["/usr/local/bin/netpol"]
CMD ["--help"]

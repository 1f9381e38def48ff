# syntax=docker/dockerfile:1
#
# The `lintas` binary: every Lintas service is a subcommand (registry, intake, subscriber,
# ops, topics, up). Built here, run by docker-compose.yml; see deploy/README.md.
#
#   docker build -t lintas:local .
#   docker run --rm lintas:local --help

# ---- build --------------------------------------------------------------------------------
FROM rust:1-bookworm AS build

# librdkafka is compiled from source by rdkafka-sys (mklove configure + make); zstd is built
# from source by zstd-sys and linked statically; zlib is found by pkg-config and linked
# dynamically (libz.so.1, part of every Debian base image); OpenSSL (TLS to the brokers and
# SASL/SCRAM) is Debian's, linked dynamically so that its security updates apply.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config python3 zlib1g-dev libzstd-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# The whole workspace: Cargo.lock, services/, schemas/ (embedded with include_str!) and
# tests/ (the lintas manifest declares its [[test]] targets there; cargo checks they exist).
COPY . .

# target/ is a cache mount, so the binary is copied out of it in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release -p lintas --locked \
 && install -D -m 0755 target/release/lintas /out/lintas

# ---- runtime ------------------------------------------------------------------------------
FROM debian:bookworm-slim

# ca-certificates: TLS roots for anything the operator points at over https.
# curl: compose's health checks (`curl -fsS http://127.0.0.1:PORT/readyz`).
# zlib1g, libssl3: the shared libraries beyond glibc/libgcc the binary needs (zlib is already in
# the base image; named so that it stays).
# openssl: compose's one-shot `kafka-tls` makes the Kafka broker's certificates with it
# (deploy/kafka/tls.sh).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl zlib1g libssl3 openssl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 lintas \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/lintas \
        --no-create-home --shell /usr/sbin/nologin lintas \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/lintas

COPY --from=build /out/lintas /usr/local/bin/lintas
# Fails the build if a shared library is missing from this image.
RUN ["lintas", "--version"]

# `lintas up` keeps its SQLite files and generated secret in ./data: here, writable by lintas.
WORKDIR /var/lib/lintas
USER 10001:10001

# registry 8081, intake 8082, subscribers imigrasi 8083, disnaker 8084, polri 8085, desa 8086,
# kejaksaan 8087, ops 8090, `lintas up` 8080
EXPOSE 8080 8081 8082 8083 8084 8085 8086 8087 8090

ENTRYPOINT ["lintas"]
CMD ["--help"]

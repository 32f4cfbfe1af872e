# syntax=docker/dockerfile:1
# smokegate as a small container image: a static (musl) binary, the CA certificates it
# verifies TLS with, nothing else.
#
#   docker build -t smokegate .
#   docker run --rm -v "$PWD:/work" smokegate run suites/ --env staging \
#       --report-junit out/junit.xml
#
# Multi-arch: `docker buildx build --platform linux/amd64,linux/arm64 .` builds each
# architecture's binary in its own builder stage (TARGETARCH picks the musl target; under
# emulation when it is not the build machine's architecture).

# ---- build: the dist profile (fat LTO), statically linked against musl ----------------------
FROM rust:1.95-bookworm AS build
ARG TARGETARCH=amd64
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
RUN case "$TARGETARCH" in \
      amd64) echo x86_64-unknown-linux-musl ;; \
      arm64) echo aarch64-unknown-linux-musl ;; \
      *) echo "unsupported TARGETARCH $TARGETARCH" >&2; exit 1 ;; \
    esac > /target-triple \
 && rustup target add "$(cat /target-triple)"
COPY . .
# The registry and target folders are cache mounts: a rebuild recompiles only what changed.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --profile dist --target "$(cat /target-triple)" --bin smokegate \
 && cp "target/$(cat /target-triple)/dist/smokegate" /smokegate \
 && /smokegate --version \
 && mkdir -p /rootfs/work /rootfs/tmp \
 && chmod 1777 /rootfs/tmp

# ---- the image: the binary and CA certificates (FROM scratch: no shell, no package manager) --
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /rootfs/ /
COPY --from=build /smokegate /usr/local/bin/smokegate
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# Suites are mounted here; reports are written relative to it.
WORKDIR /work
# Not root: nobody's uid (mount a writable folder for reports).
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/smokegate"]
CMD ["--help"]

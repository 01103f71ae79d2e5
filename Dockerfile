# syntax=docker/dockerfile:1
# breakout in a container. Build from this folder, then scan a folder mounted read-only:
#   docker build -t breakout .
#   docker run --rm -v "$PWD:/src:ro" breakout scan /src --format sarif
# The image holds the binary and nothing else; it runs as an unprivileged user.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /build
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY policies ./policies
COPY data ./data
COPY benches ./benches
RUN cargo build --release --locked --bin breakout \
    && strip target/release/breakout

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
COPY --from=build /build/target/release/breakout /usr/local/bin/breakout
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/breakout"]
CMD ["scan", "."]

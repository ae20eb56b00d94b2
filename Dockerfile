# Roster's image: built with the Rust toolchain, run from a slim Debian with the binary
# alone. Base images are build arguments so that a site can pin or mirror them.
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
# The bundled libpq links OpenSSL: its headers and pkg-config are needed to build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build

# Dependencies first, against stub sources: this layer is rebuilt only when the
# manifest or the lock file changes, not when the application's code does. The test
# and example stubs stay: the manifest names them, and cargo wants them to exist.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src tests/api examples \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs tests/api/main.rs \
 && echo 'fn main() {}' > examples/fixed_response.rs \
 && cargo build --release --locked --bin roster \
 && rm -rf src

# The application. Templates, the stylesheet and the migrations are compiled in.
COPY src src
COPY templates templates
COPY static static
COPY migrations migrations
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin roster \
 && install -m 0755 target/release/roster /usr/local/bin/roster

FROM ${RUNTIME_IMAGE}
# libssl3 for libpq's SCRAM and TLS; ca-certificates for TLS to a managed database.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/roster --create-home roster
COPY --from=build /usr/local/bin/roster /usr/local/bin/roster
USER roster
WORKDIR /var/lib/roster
ENV ROSTER_BIND=0.0.0.0:8080
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["roster", "health"]
ENTRYPOINT ["roster"]
CMD ["serve"]

# Masthead: multi-stage build, small runtime image, non-root user, SQLite data on a volume.
#   docker build -t masthead .
#   docker run -p 8080:8080 -v masthead-data:/data -e MASTHEAD_JWT_SECRET="$(openssl rand -base64 48)" masthead
# For PostgreSQL, add -e DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DB.

FROM rust:1.95-slim-bookworm AS build
# libpq is built from source (pq-sys "bundled") and links OpenSSL.
RUN apt-get update \
 && apt-get install -y --no-install-recommends pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
RUN cargo build --release --locked --bin masthead

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /data masthead \
 && mkdir -p /data && chown masthead:masthead /data
COPY --from=build /src/target/release/masthead /usr/local/bin/masthead
# Numeric, so that Kubernetes can check `runAsNonRoot` without the image's /etc/passwd.
USER 10001:10001
WORKDIR /data
ENV DATABASE_URL=sqlite:///data/masthead.db \
    MASTHEAD_ADDR=0.0.0.0:8080 \
    MASTHEAD_LOG=info
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["masthead"]
CMD ["serve"]

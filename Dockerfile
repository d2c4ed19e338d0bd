# Herald: the server and its web app in one image.
#
#   docker build -t herald .
#   docker run -p 8000:8000 -v herald-data:/var/lib/herald herald
#
# The SQLite file lives in the volume; set DATABASE_URL=postgres://… to use
# PostgreSQL instead (and run several replicas).

# 1. The web app (frontend/dist).
FROM node:20-bookworm-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci
COPY schema.graphql /src/schema.graphql
COPY frontend/ ./
RUN npm run build

# 2. The server binary.
FROM rust:1-bookworm AS server
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY migration ./migration
COPY bench ./bench
COPY src ./src
RUN cargo build --release --locked --bin herald

# 3. The runtime: the binary, the app, curl for the health check.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/herald --create-home herald
COPY --from=server /src/target/release/herald /usr/local/bin/herald
COPY --from=web /src/frontend/dist /usr/share/herald/ui
ENV HERALD_LISTEN=0.0.0.0:8000 \
    HERALD_UI_DIR=/usr/share/herald/ui \
    DATABASE_URL=sqlite:///var/lib/herald/herald.db?mode=rwc
VOLUME ["/var/lib/herald"]
WORKDIR /var/lib/herald
USER herald
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/herald"]
CMD ["serve"]

# syntax=docker/dockerfile:1
# camhub hub image. Build from the repository root (the .dockerignore there allow-lists what is sent):
#   docker build -f deploy/hub.Dockerfile -t camhub/hub .
# The hub runs TypeScript directly through tsx (no build step), so the runtime needs the sources and the
# production dependencies, nothing else.
ARG NODE_IMAGE=node:22-bookworm-slim

# --- deps: production node_modules for the hub and the shared contract package ---------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
# npm ci checks the lockfile against every workspace's manifest, so all of them come in, not only ours.
# Workspace-local node_modules exist only when npm could not hoist a package; mkdir makes them always exist
# so the runtime stage can copy them unconditionally.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY hub/package.json hub/
COPY edge-agent/package.json edge-agent/
COPY test/package.json test/
RUN npm ci --omit=dev --no-audit --no-fund \
      --workspace=@camhub/hub --workspace=@camhub/shared --include-workspace-root \
 && mkdir -p hub/node_modules shared/node_modules

# --- runtime ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    SNAPSHOT_DIR=/var/lib/camhub/snapshots
WORKDIR /app
# A fixed uid/gid, so volume ownership is predictable across rebuilds and hosts.
RUN groupadd --system --gid 10001 camhub \
 && useradd --system --uid 10001 --gid camhub --home-dir /nonexistent --shell /usr/sbin/nologin camhub \
 && mkdir -p /var/lib/camhub/snapshots \
 && chown -R camhub:camhub /var/lib/camhub
# Code and dependencies stay owned by root: the hub process can read but never modify them.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/hub/node_modules ./hub/node_modules
COPY --from=deps /app/shared/node_modules ./shared/node_modules
COPY package.json ./
COPY shared/ shared/
COPY hub/ hub/
COPY deploy/docker/healthcheck.mjs deploy/docker/healthcheck.mjs

USER camhub
VOLUME ["/var/lib/camhub/snapshots"]
EXPOSE 8080
# Ready means PostgreSQL, Redis and MQTT are connected; start-period covers migrations on first start.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs", "/readyz"]
# Migrations run at start under an advisory lock; the hub drains and exits on SIGTERM within 15 s.
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "hub/src/server.ts"]

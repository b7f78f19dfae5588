# syntax=docker/dockerfile:1
# camhub hub image. Build from the repository root (the .dockerignore there allow-lists what is sent):
#   docker build -f deploy/hub.Dockerfile -t camhub/hub .
# The build stage compiles the hub to plain JavaScript and builds the web console (`npm run build`,
# scripts/build.ts); the runtime stage holds that output, the migrations and the production dependencies, and
# runs it with plain `node`: no TypeScript, no transpiler, no build tools.
# test/integration/image-contents.test.ts assembles exactly what the stages below copy and starts it.
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: the hub bundle (hub/dist) and the console (hub/console/dist) ------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# npm ci checks the lockfile against every workspace's manifest, so all of them come in, not only ours.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY hub/package.json hub/
COPY edge-agent/package.json edge-agent/
COPY test/package.json test/
RUN npm ci --no-audit --no-fund --workspace=@camhub/hub --workspace=@camhub/shared --include-workspace-root
COPY tsconfig.json tsconfig.base.json ./
COPY scripts/build.ts scripts/
COPY shared/src/ shared/src/
COPY hub/src/ hub/src/
COPY hub/console/ hub/console/
RUN npx tsx scripts/build.ts hub

# --- deps: production node_modules for the hub and the shared contract package ---------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
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
    SNAPSHOT_DIR=/var/lib/camhub/snapshots \
    HUB_KEY_FILE=/var/lib/camhub/keys/hub-ed25519.pem \
    EXPORT_DIR=/var/lib/camhub/exports
WORKDIR /app
# A fixed uid/gid, so volume ownership is predictable across rebuilds and hosts.
RUN groupadd --system --gid 10001 camhub \
 && useradd --system --uid 10001 --gid camhub --home-dir /nonexistent --shell /usr/sbin/nologin camhub \
 && mkdir -p /var/lib/camhub/snapshots /var/lib/camhub/keys /var/lib/camhub/exports \
 && chown -R camhub:camhub /var/lib/camhub \
 && chmod 0700 /var/lib/camhub/keys
# Code and dependencies stay owned by root: the hub process can read but never modify them.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/hub/node_modules ./hub/node_modules
COPY --from=deps /app/shared/node_modules ./shared/node_modules
COPY package.json ./
# hub/package.json: "type": "module" for the bundle; the migrations and the console are read from hub/ at run time.
COPY hub/package.json hub/
COPY hub/migrations/ hub/migrations/
COPY --from=build /app/hub/dist/ hub/dist/
COPY --from=build /app/hub/console/dist/ hub/console/dist/
COPY deploy/docker/healthcheck.mjs deploy/docker/healthcheck.mjs

USER camhub
# Snapshots, the hub's signing key (exports are verified against it for years) and the evidence archives: each
# on a volume, so recreating the container loses none of them.
VOLUME ["/var/lib/camhub/snapshots", "/var/lib/camhub/keys", "/var/lib/camhub/exports"]
EXPOSE 8080
# Ready means PostgreSQL, Redis and MQTT are connected; start-period covers migrations on first start.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs", "/readyz"]
# Migrations run at start under an advisory lock; the hub drains and exits on SIGTERM within 15 s.
STOPSIGNAL SIGTERM
CMD ["node", "hub/dist/server.js"]

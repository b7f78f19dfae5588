# syntax=docker/dockerfile:1
# camhub edge agent image. Build from the repository root:
#   docker build -f deploy/agent.Dockerfile -t camhub/agent .
# Run with the site's config mounted at /etc/camhub/agent.yaml (its dataDir must be /var/lib/camhub-agent,
# a volume: the durable outbox lives there).
# The build stage compiles the agent to plain JavaScript (scripts/build.ts); the runtime stage runs it with plain
# `node`. test/integration/image-contents.test.ts assembles exactly what the stages below copy and starts it.
ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: the agent bundle (edge-agent/dist) ------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# npm ci checks the lockfile against every workspace's manifest, so all of them come in, not only ours.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY hub/package.json hub/
COPY edge-agent/package.json edge-agent/
COPY test/package.json test/
RUN npm ci --no-audit --no-fund --workspace=@camhub/edge-agent --workspace=@camhub/shared --include-workspace-root
COPY tsconfig.json tsconfig.base.json ./
COPY scripts/build.ts scripts/
COPY shared/src/ shared/src/
COPY edge-agent/src/ edge-agent/src/
RUN npx tsx scripts/build.ts edge-agent

# --- deps: production node_modules for the agent and the shared contract package -------------------------
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
      --workspace=@camhub/edge-agent --workspace=@camhub/shared --include-workspace-root \
 && mkdir -p edge-agent/node_modules shared/node_modules

# --- runtime ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# ffmpeg/ffprobe: stream probes (codec, fps, frozen or black picture) and RTSP snapshot grabs.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10002 camhub-agent \
 && useradd --system --uid 10002 --gid camhub-agent --home-dir /nonexistent --shell /usr/sbin/nologin camhub-agent \
 && mkdir -p /var/lib/camhub-agent /etc/camhub \
 && chown camhub-agent:camhub-agent /var/lib/camhub-agent \
 && chmod 0750 /var/lib/camhub-agent
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/edge-agent/node_modules ./edge-agent/node_modules
COPY --from=deps /app/shared/node_modules ./shared/node_modules
COPY package.json ./
# edge-agent/package.json: "type": "module" for the bundle, and the version the agent reports.
COPY edge-agent/package.json edge-agent/
COPY --from=build /app/edge-agent/dist/ edge-agent/dist/
# What fluent-ffmpeg starts in place of ffmpeg, so that every ffmpeg leads a process group the agent can kill.
COPY edge-agent/bin/ edge-agent/bin/

USER camhub-agent
# The outbox: events the broker has not acknowledged yet survive restarts and upgrades only on a volume.
VOLUME ["/var/lib/camhub-agent"]
# The agent serves no HTTP. Healthy means the outbox volume still takes writes: a full or read-only disk is
# the failure that silently stops an edge box from buffering. (The outbox only reads *.seg and cursor files,
# so the probe file is ignored.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["sh", "-c", "echo ok > /var/lib/camhub-agent/.healthcheck && rm -f /var/lib/camhub-agent/.healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "edge-agent/dist/main.js"]
CMD ["--config", "/etc/camhub/agent.yaml"]

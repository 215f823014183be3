# The node-agent image. docker-compose v1 (Debian bookworm's 1.29.2) is included because
# `redeploy` runs it by default (`docker-compose`, not `docker compose`: docs/services-yaml.md).
# Build from the repository root (docs/deploy.md "Images"):
#   docker build -f deploy/agent.Dockerfile --build-arg VERSION=$(node -p "require('./apps/cli/package.json').version") -t homelab-agent .
# BASE_IMAGE: any Debian bookworm image with Node.js >= 20.19 and npm: bookworm is where
# docker-compose v1 comes from (the tests build one from Debian's mirror, docs/deploy.md).
ARG BASE_IMAGE=node:24-bookworm-slim

# The build stage is the same in hub.Dockerfile: the builder reuses it for the second image.
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY apps apps
COPY libs libs
COPY deploy deploy
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build

FROM ${BASE_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="homelab-agent" \
      org.opencontainers.image.description="Homelab control plane node agent: watches Docker, publishes over MQTT, runs approved commands" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="UNLICENSED"
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker-compose \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOMELAB_ROOT=/opt/homelab
WORKDIR /app
# The agent-only bundle: `homelab agent` without the hub's code (deploy/agent-bundle.mjs).
COPY --from=build /src/dist/homelab-agent.mjs /app/homelab-agent.mjs
COPY deploy/healthcheck.mjs /app/healthcheck.mjs
# Not root: UID 1000 like the data root, plus the group of the Docker socket, which compose
# adds (group_add, HOMELAB_DOCKER_GID). The socket is still root on the host (docs/security.md).
USER 1000:1000
# The agent's one local dependency: the Docker API answering on the mounted socket.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/healthcheck.mjs", "agent"]
# AGENT_NODE_FLAGS of deploy/agent-bundle.mjs, which `homelab agent` from a checkout runs with
# too (test/checks/agent-node-flags.test.ts keeps the two equal; docs/benchmarks.md, "Agent:
# detection latency and footprint").
ENTRYPOINT ["node", "--max-semi-space-size=1", "--lite-mode", "--no-expose-wasm", "/app/homelab-agent.mjs"]
CMD ["agent"]

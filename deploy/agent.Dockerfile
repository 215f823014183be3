# The node-agent image. docker-compose v1 is included because `redeploy` runs it
# by default (`docker-compose`, not `docker compose`: docs/services-yaml.md).
# Build from the repository root:  docker build -f deploy/agent.Dockerfile -t homelab-agent .
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY apps apps
COPY libs libs
RUN npm ci --no-audit --no-fund && npm run build

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker-compose \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOMELAB_ROOT=/opt/homelab
WORKDIR /app
# The agent-only bundle: `homelab agent` without the hub's code (deploy/agent-bundle.mjs).
COPY --from=build /src/dist/homelab-agent.mjs /app/homelab-agent.mjs
# Root inside the container: the Docker socket is root on the host anyway (docs/security.md).
# --max-semi-space-size=1 --lite-mode: AGENT_NODE_FLAGS in deploy/agent-bundle.mjs
# (docs/benchmarks.md, "Agent: detection latency and footprint").
ENTRYPOINT ["node", "--max-semi-space-size=1", "--lite-mode", "/app/homelab-agent.mjs"]
CMD ["agent"]

# The hub image: one bundled file on the current Node.js LTS, running as UID 1000.
# Build from the repository root (docs/deploy.md "Images"):
#   docker build -f deploy/hub.Dockerfile --build-arg VERSION=$(node -p "require('./apps/cli/package.json').version") -t homelab-hub .
# BASE_IMAGE: any Debian bookworm image with Node.js >= 20.19 and npm (the tests build one from
# Debian's mirror, docs/deploy.md "What is tested").
ARG BASE_IMAGE=node:24-bookworm-slim

# The build stage is the same in agent.Dockerfile: the builder reuses it for the second image.
FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY apps apps
COPY libs libs
COPY deploy deploy
RUN npm ci --no-audit --no-fund --ignore-scripts && npm run build

FROM ${BASE_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="homelab-hub" \
      org.opencontainers.image.description="Homelab control plane hub: MQTT broker, event log, supervisor, executor, UI/API on 18180" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="UNLICENSED"
ENV NODE_ENV=production HOMELAB_ROOT=/opt/homelab HOMELAB_HOSTS_DIR=/etc/homelab/hosts
WORKDIR /app
COPY --from=build /src/dist/homelab.mjs /app/homelab.mjs
COPY --from=build /src/dist/swagger-ui /app/swagger-ui
COPY deploy/healthcheck.mjs /app/healthcheck.mjs
USER 1000:1000
EXPOSE 1883 18180
# /healthz answers once the hub runs (docs/ui-api.md); the port follows HOMELAB_HTTP_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/healthcheck.mjs", "hub"]
ENTRYPOINT ["node", "/app/homelab.mjs"]
CMD ["hub", "--mqtt-host", "0.0.0.0", "--http-host", "0.0.0.0"]

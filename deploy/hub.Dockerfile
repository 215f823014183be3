# The hub image: one bundled file on the current Node.js LTS, running as UID 1000.
# Build from the repository root:  docker build -f deploy/hub.Dockerfile -t homelab-hub .
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY apps apps
COPY libs libs
RUN npm ci --no-audit --no-fund && npm run build

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOMELAB_ROOT=/opt/homelab HOMELAB_HOSTS_DIR=/etc/homelab/hosts
WORKDIR /app
COPY --from=build /src/dist/homelab.mjs /app/homelab.mjs
COPY --from=build /src/dist/swagger-ui /app/swagger-ui
USER 1000:1000
EXPOSE 1883 18180
ENTRYPOINT ["node", "/app/homelab.mjs"]
CMD ["hub", "--mqtt-host", "0.0.0.0", "--http-host", "0.0.0.0"]

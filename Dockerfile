# fleetgraph API image.
#
#   docker build -t fleetgraph-api .         (or: docker compose build api)
#
# Two stages: `build` installs every dependency and compiles TypeScript with tsconfig.build.json;
# `runtime` installs production dependencies only and copies the compiled dist/ in. The
# runtime image runs as an unprivileged user and carries no TypeScript sources or dev tools.

# ---- build: full dependency tree + TypeScript compiler ----------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first so the dependency layer is cached until package*.json change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY resolvers ./resolvers
COPY entities ./entities
# rootDir "." and outDir "dist" (tsconfig.json) put src/main.ts at dist/src/main.js, the same
# path `npm start` runs. Migrations compile to dist/src/migrations and are found there at start.
RUN node_modules/.bin/tsc -p tsconfig.build.json

# ---- runtime: production dependencies + compiled output --------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0 \
    FLEETGRAPH_DATA_DIR=/var/lib/fleetgraph
WORKDIR /app

# Dedicated system user with a fixed numeric id (orchestrators can verify runAsNonRoot).
# FLEETGRAPH_DATA_DIR is the only place the process may write; in production nothing is written
# there unless DATABASE_URL is unset (embedded PostgreSQL), which Compose always sets.
RUN groupadd --system --gid 10001 fleetgraph \
 && useradd --system --uid 10001 --gid fleetgraph --home-dir /var/lib/fleetgraph --no-create-home \
      --shell /usr/sbin/nologin fleetgraph \
 && mkdir -p /var/lib/fleetgraph \
 && chown fleetgraph:fleetgraph /var/lib/fleetgraph \
 && chmod 0700 /var/lib/fleetgraph

# Production dependencies only. Optional native builds (cpu-features, ssh2's crypto binding)
# fail without a compiler and are skipped; both have pure-JS fallbacks.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# Application code stays owned by root: the service user can read it but not change it.
COPY --from=build /app/dist ./dist

USER 10001:10001
EXPOSE 4000

# Liveness: the process answers HTTP. Readiness (database + pub/sub) is /readyz, which
# docker-compose.yml uses as the service healthcheck so dependants wait for a usable API.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Exec form: node is PID 1 and receives SIGTERM directly (main.ts drains HTTP, closes
# websockets with 1001, stops workers and closes the ORM and Redis before exiting).
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]

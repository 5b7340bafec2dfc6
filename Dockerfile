# One image for both processes of the service:
#   API (default):  node apps/api/dist/main.js      (listens on PORT, 8080)
#   worker:         node apps/worker/dist/main.js
# Configuration comes from the environment (packages/core/src/config.ts).
# Works with the classic builder and BuildKit alike (no RUN --mount).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------- build ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV TURBO_TELEMETRY_DISABLED=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

# Manifests first, so the dependency layer is rebuilt only when they change
# (npm ci checks the lockfile against every workspace). One line per
# workspace: a new one needs its line here, and scripts/compose-smoke.sh
# fails when a workspace npm knows is missing from the image.
COPY package.json package-lock.json ./
COPY packages/core/package.json packages/core/
COPY apps/api/package.json apps/api/
COPY apps/bench/package.json apps/bench/
COPY apps/cli/package.json apps/cli/
COPY apps/console/package.json apps/console/
COPY apps/worker/package.json apps/worker/
# --ignore-scripts: the only install scripts in the tree are dev-only
# (ssh2/cpu-features/protobufjs, from testcontainers) or optional with
# prebuilt binaries (msgpackr-extract, loaded at run time without its script),
# and the slim image has no compiler for node-gyp anyway.
RUN npm ci --ignore-scripts

COPY tsconfig.base.json turbo.json ./
COPY packages packages
COPY apps apps
RUN npm run build

# Drop dev dependencies, then gather what the runtime needs into /out:
# root manifests and node_modules (node_modules/@datagen/* are relative
# symlinks to the workspace folders, so those folders must sit at the same
# paths), and per workspace its package.json, dist (compiled code, the Lua
# scripts packages/core's build copies beside it, a web app's built files)
# and any nested node_modules. A workspace without a build has no dist.
RUN npm prune --omit=dev --ignore-scripts \
 && mkdir -p /out \
 && cp -a package.json package-lock.json node_modules /out/ \
 && for ws in packages/* apps/*; do \
      if [ ! -f "$ws/package.json" ]; then continue; fi; \
      mkdir -p "/out/$ws" \
      && cp -a "$ws/package.json" "/out/$ws/" \
      && if [ -d "$ws/dist" ]; then cp -a "$ws/dist" "/out/$ws/" && rm -f "/out/$ws/dist/.tsbuildinfo"; fi \
      && if [ -d "$ws/node_modules" ]; then cp -a "$ws/node_modules" "/out/$ws/"; fi; \
    done \
 && node -e "for (const p of ['@datagen/core', '@datagen/api/package.json', '@datagen/worker/package.json']) require.resolve(p, { paths: ['/out'] })" \
 && ls /out/packages/core/dist/store/lua/*.lua /out/packages/core/dist/llm/lua/*.lua >/dev/null

# -------------------------------------------------------------- runtime ---
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps zombies, also under a plain
# `docker run` without --init. -s keeps it quiet when compose's `init: true`
# puts docker-init in front of it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app
# Owned by root, read-only for the `node` user that runs the service.
COPY --from=build /out/ ./

USER node
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "-s", "--"]
CMD ["node", "apps/api/dist/main.js"]

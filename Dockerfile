# whatsapp-ai-chatbot: one image for every role. The command picks it: `node dist/src/main/start.js` (all three,
# the default), `web.js`, `worker.js`, `scheduler.js`, or `node bin/chatbot.js migrate`. Configuration comes from
# the environment at run time (docker-compose.yml reads .env); nothing secret is baked into the image.
ARG NODE_IMAGE=node:20-slim

# ── build: compile TypeScript to dist/ (with the SQL migrations and the simulator page beside the code) ──
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN node scripts/build.js dist

# ── deps: production dependencies only ──
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ── runtime: compiled code + production dependencies, run as the unprivileged `node` user ──
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=8000 \
    PGLITE_DATA_DIR=/app/data/pglite
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# Writable only where the app writes: the embedded database (zero-setup mode) and LOG_DIR files if enabled.
RUN mkdir -p /app/data /app/logs && chown 1000:1000 /app/data /app/logs
# 1000 is the image's `node` user; numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8000
# The web role's /health/ (database, Redis, queue). Worker and scheduler containers have no web port: compose
# points their check at METRICS_PORT instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health/').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself, so it finishes in-flight work before exiting.
CMD ["node", "dist/src/main/start.js"]

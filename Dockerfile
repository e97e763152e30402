# OpenMRS Event Bridge image: production dependencies installed in one stage, copied into a clean runtime stage that
# runs as `node`. docker build -t openmrs-event-bridge .   (see docs/docker.md)

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# tsx is a production dependency: the service runs its TypeScript sources as `npm start` does, so the image runs
# exactly what the tests run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    BRIDGE_HTTP_HOST=0.0.0.0 \
    BRIDGE_HTTP_PORT=8787
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json tsconfig.json ./
# The service and its console page (src/api/console/public).
COPY --chown=node:node src ./src
# The official node image ships the unprivileged user `node` (uid 1000).
USER node
EXPOSE 8787
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.BRIDGE_HTTP_PORT||8787)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The same command as `npm start` (and the tests, and `npm run demo`).
CMD ["node", "--import", "tsx", "src/cli.ts"]

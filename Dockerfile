# dropwatch: one image for every role (DROPWATCH_ROLE=api | worker | all).
# Written to mirror the topology tested with `npm run topology` / `npm run soak`; see docs/deploy.md
# (this file itself was not built where it was written: no Docker there).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# The workspace pins npm 11 (package.json "packageManager"); turbo reads the workspaces through it.
RUN npm install -g npm@11.19.1
COPY . .
RUN npm ci --no-audit --no-fund \
 && npx turbo run build --output-logs=errors-only \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf .git .turbo apps/bench apps/cli

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# The image's unprivileged user; nothing in /app is written at run time.
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "apps/server/dist/main.js"]

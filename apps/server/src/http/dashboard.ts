import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { compressWhenDone, encodingFor } from './compression.js';
import type { Routes } from './server.js';

/** Where the dashboard's built files are: the @dropwatch/web workspace's dist/. */
export function dashboardDir(): string | null {
  try {
    const pkg = createRequire(import.meta.url).resolve('@dropwatch/web/package.json');
    const dir = path.join(path.dirname(pkg), 'dist');
    return existsSync(path.join(dir, 'index.html')) ? dir : null;
  } catch {
    return null;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};
/** Vite's `[name]-[hash]` asset names (8 base64url characters): content-addressed, so cacheable for good. */
const HASHED = /-[A-Za-z0-9_-]{8}\.(js|css)(\.map)?$/;
/** The page runs only its own scripts and talks only to its own origin. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly cacheControl: string;
}

function send(req: IncomingMessage, res: ServerResponse, asset: Asset, extra: Record<string, string> = {}): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'method not allowed' }));
    return;
  }
  res.setHeader('content-type', asset.type);
  res.setHeader('cache-control', asset.cacheControl);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('vary', 'accept-encoding');
  for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  const encoding = encodingFor(req);
  if (encoding) compressWhenDone(res, encoding);
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}

/**
 * GET / (the dashboard page), /static/* (its scripts, styles and the browser build of the SDK)
 * and the files at the top of the build (the service worker /sw.js, which must be served from the
 * root to control the page), read once at start-up. Without a build, / says how to make one
 * instead of a 404.
 */
export function dashboardRoutes(dir: string | null = dashboardDir()): Routes {
  if (!dir) {
    return {
      '/': (_req, res) => {
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end('The dashboard is not built: run `npm run build` (or `npm start`, which builds first).\n');
      },
    };
  }
  const index: Asset = {
    body: readFileSync(path.join(dir, 'index.html')),
    type: TYPES['.html']!,
    cacheControl: 'no-cache',
  };
  const assets = new Map<string, Asset>();
  const staticDir = path.join(dir, 'static');
  for (const name of existsSync(staticDir) ? readdirSync(staticDir) : []) {
    const type = TYPES[path.extname(name)];
    if (!type) continue;
    assets.set(name, {
      body: readFileSync(path.join(staticDir, name)),
      type,
      cacheControl: HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
    });
  }
  // Top-level files keep their names from build to build: browsers revalidate them each time
  // (a service worker's updates reach its users on their next visit).
  const rootRoutes: Routes = {};
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (!type || name === 'index.html') continue;
    const asset: Asset = { body: readFileSync(path.join(dir, name)), type, cacheControl: 'no-cache' };
    rootRoutes[`/${name}`] = (req, res) => send(req, res, asset);
  }
  return {
    ...rootRoutes,
    '/': (req, res) => send(req, res, index, { 'content-security-policy': CSP, 'referrer-policy': 'no-referrer' }),
    '/static/': (req, res) => {
      const name = new URL(req.url ?? '/', 'http://localhost').pathname.slice('/static/'.length);
      // Only names read at start-up: nothing from the request reaches the file system.
      const asset = assets.get(name);
      if (!asset) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not found' }));
        return;
      }
      // The SDK build is loaded by pages on other origins (a <script> needs no CORS).
      send(req, res, asset);
    },
  };
}

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<unknown> | void;

/** Exact paths, and prefixes ending in '/' (e.g. '/trpc/'); '/' itself is exact (the dashboard), not a catch-all. */
export type Routes = Record<string, RouteHandler>;

export interface HttpServer {
  readonly server: http.Server;
  readonly url: string;
  close(graceMs: number): Promise<void>;
}

function findRoute(routes: Routes, pathname: string): RouteHandler | undefined {
  if (Object.hasOwn(routes, pathname)) return routes[pathname];
  for (const prefix in routes) {
    if (prefix !== '/' && prefix.endsWith('/') && pathname.startsWith(prefix)) return routes[prefix];
  }
  return undefined;
}

/**
 * A path that `new URL` would give back unchanged: starting with one '/', only unreserved
 * characters, ',' and '/', no '.' or '..' segment. Anything else (percent-encoding, dot segments,
 * backslashes, an absolute URL) is left to the URL parser.
 */
const PLAIN_PATH = /^\/(?!\/)[\w\-.~,/]*$/;
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** The path of a request target, as `new URL(target, base).pathname` gives it. */
export function pathnameOf(target: string): string {
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  if (PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path)) return path;
  return new URL(target, 'http://localhost').pathname;
}

export async function startHttpServer(host: string, port: number, routes: Routes, logger: Logger): Promise<HttpServer> {
  const server = http.createServer((req, res) => {
    const pathname = pathnameOf(req.url ?? '/');
    const handler = findRoute(routes, pathname);
    if (!handler) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not found' }));
      return;
    }
    const failed = (err: unknown) => {
      logger.error({ err, path: pathname }, 'unhandled error in HTTP handler');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    };
    // A handler that answered synchronously returns nothing: no promise to wait on.
    let done: Promise<unknown> | void;
    try {
      done = handler(req, res);
    } catch (err) {
      failed(err);
      return;
    }
    if (done) done.catch(failed);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      // Name the setting to change; the code stays for callers that test for it.
      if (err.code === 'EADDRINUSE') {
        reject(
          Object.assign(new Error(`port ${port} on ${host} is already in use (set PORT, or HOST)`, { cause: err }), {
            code: err.code,
          }),
        );
      } else reject(err);
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    // Idempotent: start-up binds first and must close the server on any later failure, while a
    // normal shutdown closes it at its own place in the order.
    close(graceMs) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        await closed;
        clearTimeout(force);
      })();
      return closing;
    },
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Methods the API answers: queries and SSE are GET, mutations and batches POST. */
const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/**
 * Request headers a browser client may send: the bearer token, the JSON body type, tRPC's own
 * (`trpc-accept` of the streaming link, `x-trpc-source` some apps add) and `last-event-id`.
 */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'trpc-accept', 'x-trpc-source', 'last-event-id'];
/** Response headers a cross-origin script may read besides the CORS-safelisted ones. */
const EXPOSED_HEADERS = 'etag, x-dropwatch-cache, retry-after';
/** Browsers cache a preflight answer this long (Chromium caps it at 2 hours). */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

export type CorsOutcome = 'same-origin' | 'allowed' | 'refused' | 'preflight';

/**
 * Adds `value` to the response's Vary header without dropping what is there. tRPC sets its own
 * Vary (`trpc-accept, accept`) with setHeader later, so the Vary of a response that tRPC writes
 * is merged in `mergeVaryOnSetHeader`.
 */
export function addVary(res: ServerResponse, ...values: string[]): void {
  res.setHeader('vary', mergeVary(res.getHeader('vary'), values));
}

function mergeVary(current: number | string | string[] | undefined, values: readonly string[]): string {
  const have = (Array.isArray(current) ? current.join(',') : String(current ?? ''))
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
  const lower = new Set(have.map((v) => v.toLowerCase()));
  for (const v of values) if (!lower.has(v.toLowerCase())) have.push(v);
  return have.join(', ');
}

/** Keeps the Vary values set so far when a later writer (tRPC's adapter) sets Vary again. */
export function mergeVaryOnSetHeader(res: ServerResponse): void {
  const setHeader = res.setHeader.bind(res);
  res.setHeader = (name: string, value: number | string | readonly string[]) => {
    if (name.toLowerCase() === 'vary')
      return setHeader(name, mergeVary(res.getHeader('vary'), [value].flat().map(String)));
    return setHeader(name, value);
  };
}

/**
 * CORS for the API. Only origins in the allow-list get `Access-Control-Allow-Origin` (their own
 * origin echoed, never `*`, since credentials are allowed for them); a request from its own
 * origin needs no header and always works. Every answer says `Vary: Origin`, so a shared cache
 * never hands one origin's answer to another.
 */
export function createCors(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return {
    /**
     * Sets the CORS headers of `req`'s answer. Returns 'preflight' when it has answered an
     * OPTIONS preflight itself (the caller writes nothing more).
     */
    apply(req: IncomingMessage, res: ServerResponse): CorsOutcome {
      addVary(res, 'origin');
      const origin = req.headers.origin;
      const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
      if (origin === undefined || (!preflight && isSameOrigin(req, origin))) return 'same-origin';
      if (!allowed.has(origin)) {
        if (preflight) {
          res.writeHead(403, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify({ error: `origin ${origin} is not allowed (CORS_ORIGINS)` }));
          return 'preflight';
        }
        // The request runs as any other; without the header the browser keeps the answer from
        // the page. Bearer tokens are not ambient credentials, so there is nothing to forge.
        return 'refused';
      }
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      if (!preflight) {
        res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
        return 'allowed';
      }
      addVary(res, 'access-control-request-method', 'access-control-request-headers');
      const asked = String(req.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h.length > 0);
      const refusedHeaders = asked.filter((h) => !ALLOWED_HEADERS.includes(h));
      const method = String(req.headers['access-control-request-method']).toUpperCase();
      if (!ALLOWED_METHODS.split(', ').includes(method) || refusedHeaders.length > 0) {
        res.writeHead(403, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        const what = refusedHeaders.length > 0 ? `header(s) ${refusedHeaders.join(', ')}` : `method ${method}`;
        res.end(JSON.stringify({ error: `${what} not allowed by CORS` }));
        return 'preflight';
      }
      res.writeHead(204, {
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': ALLOWED_HEADERS.join(', '),
        'access-control-max-age': String(PREFLIGHT_MAX_AGE_SECONDS),
        'content-length': '0',
      });
      res.end();
      return 'preflight';
    },
  };
}

export type Cors = ReturnType<typeof createCors>;

/** An Origin equal to the scheme and Host the request came in on: the server's own pages. */
function isSameOrigin(req: IncomingMessage, origin: string): boolean {
  const host = req.headers.host;
  if (!host) return false;
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  return origin === `${encrypted ? 'https' : 'http'}://${host}`;
}

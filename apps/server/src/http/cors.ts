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

const NO_HEADERS: readonly string[] = Object.freeze([]);

/** An OPTIONS request asking whether a cross-origin request may be made (answered by `apply`). */
export const isPreflight = (req: IncomingMessage): boolean =>
  req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;

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
  /** The headers of an allowed origin's answer, made once per listed origin (name, value, name, value…). */
  const answerHeaders = new Map(
    allowedOrigins.map((origin) => [
      origin,
      Object.freeze([
        'access-control-allow-origin',
        origin,
        'access-control-allow-credentials',
        'true',
        'access-control-expose-headers',
        EXPOSED_HEADERS,
      ]),
    ]),
  );
  const headersFor = (req: IncomingMessage): readonly string[] => {
    const origin = req.headers.origin;
    if (origin === undefined || isSameOrigin(req, origin)) return NO_HEADERS;
    // Without the header the browser keeps the answer from the page. The request runs as any
    // other: bearer tokens are not ambient credentials, so there is nothing to forge.
    return answerHeaders.get(origin) ?? NO_HEADERS;
  };
  return {
    /**
     * The CORS headers (besides `Vary: Origin`, which every answer has) of the answer to `req`,
     * a request that is not a preflight, as name, value pairs in one array: for answers written
     * whole with `writeHead`, which then need no `setHeader` call.
     */
    headersFor,
    /**
     * Sets the CORS headers of `req`'s answer. Returns 'preflight' when it has answered an
     * OPTIONS preflight itself (the caller writes nothing more).
     */
    apply(req: IncomingMessage, res: ServerResponse): CorsOutcome {
      addVary(res, 'origin');
      const origin = req.headers.origin;
      const preflight = isPreflight(req);
      if (!preflight) {
        const headers = headersFor(req);
        for (let i = 0; i < headers.length; i += 2) res.setHeader(headers[i]!, headers[i + 1]!);
        return origin === undefined || isSameOrigin(req, origin)
          ? 'same-origin'
          : headers.length > 0
            ? 'allowed'
            : 'refused';
      }
      if (origin === undefined) return 'same-origin';
      if (!allowed.has(origin)) {
        res.writeHead(403, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ error: `origin ${origin} is not allowed (CORS_ORIGINS)` }));
        return 'preflight';
      }
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
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

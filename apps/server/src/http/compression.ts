import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

export type ContentEncoding = 'br' | 'gzip';

/** Answers smaller than this go as they are: a header and a zlib call would cost more than they save. */
export const COMPRESS_MIN_BYTES = 1024;
/**
 * Brotli quality 5: about gzip's speed with smaller output; 11 (zlib's default) takes hundreds
 * of milliseconds on a large feed.live answer. gzip stays at its default level 6.
 */
const BROTLI_QUALITY = 5;

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** zlib runs on libuv's thread pool: the event loop keeps serving while a large answer compresses. */
export function compress(body: Buffer, encoding: ContentEncoding): Promise<Buffer> {
  return encoding === 'br'
    ? brotli(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        },
      })
    : gzipAsync(body);
}

/**
 * The encoding to answer with for an Accept-Encoding header: br over gzip when both are
 * acceptable, by q-value otherwise; null for identity. `*` counts for both; `q=0` refuses.
 */
export function negotiateEncoding(header: string | string[] | undefined): ContentEncoding | null {
  if (!header) return null;
  const q = new Map<string, number>();
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const of = (name: ContentEncoding) => q.get(name) ?? q.get('*') ?? 0;
  const br = of('br');
  const gz = of('gzip');
  if (br <= 0 && gz <= 0) return null;
  return br >= gz ? 'br' : 'gzip';
}

const COMPRESSIBLE_TYPE = /^(application\/(json|[\w.+-]+\+json)|text\/(plain|html|css|javascript))\b/i;

type Chunk = string | Uint8Array;

/**
 * Buffers what a handler writes to `res` (tRPC's adapter writes a non-streamed answer as one
 * chunk) and sends it compressed with `encoding` when it is JSON of at least COMPRESS_MIN_BYTES.
 * Only for answers that are not streams: an SSE stream must reach the client event by event,
 * so subscriptions never go through this.
 */
export function compressWhenDone(res: ServerResponse, encoding: ContentEncoding): void {
  const chunks: Buffer[] = [];
  const end = res.end.bind(res) as (chunk?: Buffer) => ServerResponse;
  const toBuffer = (chunk: Chunk, enc?: BufferEncoding) =>
    typeof chunk === 'string' ? Buffer.from(chunk, enc ?? 'utf8') : Buffer.from(chunk);
  const callbackOf = (args: unknown[]) => args.find((a): a is () => void => typeof a === 'function');

  res.write = ((chunk: Chunk, ...args: unknown[]) => {
    chunks.push(toBuffer(chunk, typeof args[0] === 'string' ? (args[0] as BufferEncoding) : undefined));
    const cb = callbackOf(args);
    if (cb) queueMicrotask(cb);
    return true;
  }) as typeof res.write;

  res.end = ((...args: unknown[]) => {
    const [first, second] = args;
    if (typeof first === 'string' || first instanceof Uint8Array) {
      chunks.push(toBuffer(first, typeof second === 'string' ? (second as BufferEncoding) : undefined));
    }
    const cb = callbackOf(args);
    if (cb) res.once('finish', cb);
    const body = Buffer.concat(chunks);
    const type = String(res.getHeader('content-type') ?? '');
    if (
      res.headersSent ||
      body.length < COMPRESS_MIN_BYTES ||
      !COMPRESSIBLE_TYPE.test(type) ||
      res.getHeader('content-encoding')
    ) {
      return end(body);
    }
    compress(body, encoding).then(
      (compressed) => {
        res.setHeader('content-encoding', encoding);
        res.setHeader('content-length', compressed.length);
        end(compressed);
      },
      () => end(body),
    );
    return res;
  }) as typeof res.end;
}

/**
 * Accept-Encoding values seen, with their answer. Clients send a handful of distinct spellings,
 * so nearly every request is a lookup instead of a parse; the map is emptied when it is full, so a
 * client sending a new spelling each time costs a parse, never memory.
 */
const negotiated = new Map<string, ContentEncoding | null>();
const NEGOTIATED_MAX_ENTRIES = 64;
const NEGOTIATED_MAX_LENGTH = 256;

/** Whether `req` is a request whose answer may be compressed, and with what. */
export function encodingFor(req: IncomingMessage): ContentEncoding | null {
  if (req.method === 'HEAD') return null;
  const header = req.headers['accept-encoding'];
  if (typeof header !== 'string' || header.length > NEGOTIATED_MAX_LENGTH) return negotiateEncoding(header);
  let encoding = negotiated.get(header);
  if (encoding === undefined) {
    encoding = negotiateEncoding(header);
    if (negotiated.size >= NEGOTIATED_MAX_ENTRIES) negotiated.clear();
    negotiated.set(header, encoding);
  }
  return encoding;
}

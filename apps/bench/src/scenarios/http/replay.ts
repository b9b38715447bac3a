import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { LoadRequest } from './load.js';

/** A response exactly as it came off the socket: status, headers, body bytes (still compressed). */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** GET without any decoding (fetch would decompress the body, and the wire bytes are the point). */
export function rawGet(origin: string, request: LoadRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(request.path, origin), { headers: request.headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${request.path} timed out`)));
    req.on('error', reject);
  });
}

/** How the replay server tells requests apart: the same three things the real server varies on. */
export function replayKey(request: LoadRequest): string {
  const h = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return `${request.path}\n${h['accept-encoding'] ?? ''}\n${h['if-none-match'] ?? ''}`;
}

/** Hop-by-hop and per-message headers Node writes by itself. */
const OWN_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/**
 * The reference: a bare `node:http` server, in its own process, that answers each captured
 * request with the captured status, headers and body bytes — no routing beyond a Map lookup,
 * no serialization, no compression, no database.
 */
export async function startReplayServer(
  file: string,
  port: number,
  captured: ReadonlyArray<{ request: LoadRequest; response: RawResponse }>,
): Promise<ChildProcess> {
  const table = captured.map(({ request, response }) => ({
    key: replayKey(request),
    status: response.status,
    headers: Object.fromEntries(
      Object.entries(response.headers).filter(([k, v]) => !OWN_HEADERS.has(k) && v !== undefined),
    ),
    body: response.body.toString('base64'),
  }));
  await writeFile(file, JSON.stringify(table));
  const code = `const http = require('node:http');
const answers = new Map();
for (const a of JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'))) {
  const body = Buffer.from(a.body, 'base64');
  answers.set(a.key, { status: a.status, body, headers: a.status === 304 ? a.headers : { ...a.headers, 'content-length': body.length } });
}
http.createServer((req, res) => {
  const a = answers.get(req.url + '\\n' + (req.headers['accept-encoding'] ?? '') + '\\n' + (req.headers['if-none-match'] ?? ''));
  if (!a) { res.writeHead(404); res.end(); return; }
  res.writeHead(a.status, a.headers);
  res.end(a.body);
}).listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('listening\\n'));`;
  const child = spawn(process.execPath, ['-e', code, file, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`replay server exited with ${code}`)));
    child.stdout.once('data', () => resolve());
  });
  child.removeAllListeners('exit');
  return child;
}

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const worker = fileURLToPath(new URL('./load-worker.js', import.meta.url));

/** One request of a load: path with query, and the headers it carries. */
export interface LoadRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
}

export interface LoadSpec {
  /** http://127.0.0.1:port */
  readonly origin: string;
  readonly connections: number;
  readonly seconds: number;
  /** Sent in turn by every connection. */
  readonly requests: readonly LoadRequest[];
}

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Everything read off the sockets: status lines, headers and bodies. */
  readonly bytesRead: number;
  readonly status2xx: number;
  readonly status3xx: number;
  readonly status4xx: number;
  readonly status5xx: number;
  /** Connection errors and timeouts. */
  readonly errors: number;
}

/** Runs autocannon for spec.seconds in a child process; refuses to wait much longer than that. */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const { stdout } = await exec(process.execPath, [worker, JSON.stringify(spec)], {
    maxBuffer: 4 * 1024 * 1024,
    timeout: (spec.seconds + 30) * 1000,
  });
  return JSON.parse(stdout) as LoadResult;
}

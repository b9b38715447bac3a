import pg from 'pg';
import { pino, type Logger } from 'pino';
import { RETENTION_LOCK_RETRIES, RETENTION_LOCK_TIMEOUT_MS, RETENTION_RETRY_BASE_MS } from './retention-config.js';

/**
 * Retention's own connection, outside the ORM pool. `DETACH PARTITION … CONCURRENTLY` refuses to
 * run inside a transaction block, and a `SET lock_timeout` must reach the very session that runs
 * the statement — neither holds for statements sent through the pool. Every statement on it is
 * either its own autocommit transaction or part of an explicit short BEGIN … COMMIT.
 */
export interface RetentionSession {
  readonly client: pg.Client;
  /** Runs fn, retrying it when it failed on a lock timeout, deadlock or serialization error. */
  retrying<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** BEGIN … COMMIT around fn (ROLLBACK on error), retried as a whole like `retrying`. */
  transaction<T>(what: string, fn: () => Promise<T>): Promise<T>;
  /** Lock-timeout retries that happened, for the run's stats. */
  readonly retries: number;
  close(): Promise<void>;
}

/** lock_not_available, deadlock_detected, serialization_failure. */
const RETRYABLE = new Set(['55P03', '40P01', '40001']);

export function isRetryableLockError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && RETRYABLE.has(String((err as { code?: unknown }).code));
}

export interface SessionOptions {
  readonly databaseUrl: string;
  readonly logger?: Logger;
  readonly lockTimeoutMs?: number;
  readonly lockRetries?: number;
}

const SILENT = pino({ level: 'silent' });
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function openRetentionSession(options: SessionOptions): Promise<RetentionSession> {
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'dropwatch-retention' });
  await client.connect();
  const lockTimeoutMs = options.lockTimeoutMs ?? RETENTION_LOCK_TIMEOUT_MS;
  const maxRetries = options.lockRetries ?? RETENTION_LOCK_RETRIES;
  try {
    // Retention is background upkeep: its exact counts and batched deletes run without parallel
    // workers, so they never take cores from the feeds. (On a 2-core machine a parallel count of
    // a 200k-row day partition also measured 50–80 ms against 9 ms serial: worker start-up.)
    await client.query(`set lock_timeout = ${Math.trunc(lockTimeoutMs)}; set max_parallel_workers_per_gather = 0`);
  } catch (err) {
    await client.end();
    throw err;
  }
  let retries = 0;

  async function retrying<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isRetryableLockError(err) || attempt >= maxRetries) throw err;
        retries++;
        // Exponential backoff with full jitter: competing writers drift apart.
        const wait = Math.random() * RETENTION_RETRY_BASE_MS * 2 ** attempt;
        (options.logger ?? SILENT).warn(
          { what, attempt: attempt + 1, code: (err as { code?: string }).code, waitMs: Math.round(wait) },
          'retention statement hit a lock, retrying',
        );
        await pause(wait);
      }
    }
  }

  return {
    client,
    retrying,
    transaction: (what, fn) =>
      retrying(what, async () => {
        await client.query('begin');
        try {
          const value = await fn();
          await client.query('commit');
          return value;
        } catch (err) {
          await client.query('rollback').catch(() => undefined);
          throw err;
        }
      }),
    get retries() {
      return retries;
    },
    close: () => client.end(),
  };
}

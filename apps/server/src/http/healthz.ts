import type { ServerResponse } from 'node:http';
import type { MikroORM } from '@dropwatch/db';

/** A health check answers within this, pool exhausted or not. */
export const HEALTHZ_TIMEOUT_MS = 2_000;

/** 200 after a database round trip, 503 when it fails or takes longer than HEALTHZ_TIMEOUT_MS. */
export async function handleHealthz(orm: MikroORM, res: ServerResponse): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('database did not answer in time')), HEALTHZ_TIMEOUT_MS);
  });
  try {
    await Promise.race([orm.em.execute('select 1'), timeout]);
    send(res, 200, { status: 'ok' });
  } catch (err) {
    send(res, 503, { status: 'down', reason: (err as Error).message.slice(0, 200) });
  } finally {
    clearTimeout(timer);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

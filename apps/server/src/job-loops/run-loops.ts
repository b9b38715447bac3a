import { parentPort, workerData } from 'node:worker_threads';
import { readJobWorkerData } from '../scheduler/worker-data.js';
import type { LoopOptions } from './discovery-loop.js';

export type Loop = (options: LoopOptions) => Promise<void>;

/**
 * The shell of a long-lived job worker: parses its workerData, runs its loops side by side until
 * Bree's 'cancel' (shutdown), then says 'done'. One loop that fails stops the others (they finish
 * what is in flight) and the error is thrown, so Bree's error handler sees it and the supervisor
 * restarts the worker, all its loops with it.
 */
export async function runLoops(job: string, loops: readonly Loop[]): Promise<void> {
  const { databaseUrl, config } = readJobWorkerData(job, workerData);
  const abort = new AbortController();
  parentPort?.on('message', (message) => {
    if (message === 'cancel') abort.abort();
  });
  const post = (message: unknown) => parentPort?.postMessage(message);
  const results = await Promise.allSettled(
    loops.map((loop) =>
      loop({ databaseUrl, config, signal: abort.signal, post }).catch((err: unknown) => {
        abort.abort();
        throw err;
      }),
    ),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  post('done');
}

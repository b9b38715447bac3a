import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import Bree from 'bree';

/**
 * Bree whose workers can run TypeScript job files in development: on Node 20 `--import tsx`
 * in a worker's execArgv does not load `.ts` (Unknown file extension), so a `.ts` job starts from a tiny
 * eval'd bootstrap that registers tsx's ESM loader in the worker and then imports the job.
 * Compiled `.js` jobs start the ordinary way.
 */
export class TsxBree extends Bree {
  // Bree's typings declare createWorker as a property, hence a field rather than a method.
  override createWorker = (filename: string, options: Partial<WorkerOptions>): Worker => {
    if (!filename.endsWith('.ts')) return new Worker(filename, options);
    const bootstrap = `(async () => {
  const { register } = await import('tsx/esm/api');
  register();
  await import(${JSON.stringify(pathToFileURL(filename).href)});
})().catch((err) => { setImmediate(() => { throw err; }); });`;
    return new Worker(bootstrap, { ...options, eval: true });
  };
}

import { z } from 'zod';
import { ConfigError, loadConfig, type Config } from '@dropwatch/core';

/**
 * What every job's worker thread receives as `workerData`: the database URL the process resolved
 * (DATABASE_URL or the embedded one) and the process's validated config itself. One shape for
 * all jobs; never logged (the config holds secrets).
 */
export interface JobWorkerData {
  readonly databaseUrl: string;
  readonly config: Config;
}

const jobWorkerDataSchema = z.object({
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://'),
  config: z.record(z.string(), z.unknown()),
});

export function jobWorkerData(config: Config, databaseUrl: string): JobWorkerData {
  return { databaseUrl, config };
}

/**
 * The worker's side: the structured clone is checked with the one config loader (so a value out
 * of range fails the job naming the setting, as at start-up) rather than trusted.
 */
export function readJobWorkerData(job: string, data: unknown): JobWorkerData {
  const parsed = jobWorkerDataSchema.safeParse(data);
  if (!parsed.success) throw new Error(`${job} job: invalid workerData: ${z.prettifyError(parsed.error)}`);
  try {
    return { databaseUrl: parsed.data.databaseUrl, config: loadConfig(parsed.data.config) };
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`${job} job: ${err.message}`);
    throw err;
  }
}

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { withDatabase } from '../database-url.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../embedded-postgres.js';
import { migrate } from '../migrate.js';
import { adminQuery, dropDatabase, uniqueDatabaseName } from './admin.js';
import { freePort } from './free-port.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dropwatchDb: { adminUrl: string; template: string };
  }
}

/**
 * Once per test run: find PostgreSQL (TEST_DATABASE_URL, DATABASE_URL, else an embedded one in a
 * temp dir on a free port), build one migrated template database, and hand both to the tests.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let embedded: EmbeddedPostgresHandle | undefined;
  let tmp: string | undefined;
  if (!adminUrl) {
    tmp = await mkdtemp(path.join(tmpdir(), 'dropwatch-test-pg-'));
    // The server runs as the unprivileged postgres user, which must reach into the dir.
    await chmod(tmp, 0o755);
    embedded = await startEmbeddedPostgres({ dataDir: path.join(tmp, 'data'), port: await freePort() });
    adminUrl = embedded.url;
  }

  const template = uniqueDatabaseName('dw_tpl');
  await adminQuery(adminUrl, `create database "${template}"`);
  await migrate(withDatabase(adminUrl, template), 3);
  project.provide('dropwatchDb', { adminUrl, template });

  return async () => {
    await dropDatabase(adminUrl, template).catch(() => undefined);
    await embedded?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
}

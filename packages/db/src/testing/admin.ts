import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { withDatabase } from '../database-url.js';

/** Runs one statement on the server's maintenance database. */
export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'dropwatch-test-admin' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

const TEMPLATE_BUSY_RETRIES = 50;

/**
 * CREATE DATABASE … TEMPLATE fails while anything is connected to the template (a backend of a
 * just-closed pool may still be exiting), so retry that one error briefly.
 */
export async function cloneDatabase(adminUrl: string, template: string, name: string): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(adminUrl, `create database "${name}" template "${template}"`);
      return withDatabase(adminUrl, name);
    } catch (err) {
      const busy = err instanceof Error && /being accessed by other users/.test(err.message);
      if (!busy || attempt >= TEMPLATE_BUSY_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await adminQuery(adminUrl, `drop database if exists "${name}" with (force)`);
}

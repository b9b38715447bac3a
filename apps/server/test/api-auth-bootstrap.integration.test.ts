import { execFile } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDropwatchClient } from '@dropwatch/client';
import { loadConfig } from '@dropwatch/core';
import { createTestDatabase, type TestDatabase } from '@dropwatch/db/testing';
import { startApp } from '../src/app.js';
import { createLogger } from '../src/logger.js';

const run = promisify(execFile);
const serverDir = path.resolve(import.meta.dirname, '..');

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('first admin and the token CLI', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  const start = async (log: Writable) =>
    startApp({
      config: loadConfig({ DATABASE_URL: db.url, PORT: '0', DROPWATCH_ROLE: 'api' }),
      logger: createLogger('info', log),
      baseDir: serverDir,
    });

  it('creates an admin on first start and logs its token once; the CLI issues and revokes tokens', async () => {
    const first = capture();
    const app = await start(first.stream);
    let token: string;
    try {
      const logged = first.lines().filter((l) => typeof l.adminToken === 'string');
      expect(logged).toHaveLength(1);
      token = logged[0]!.adminToken as string;
      const admin = createDropwatchClient({ url: app.url, token, EventSource });
      expect((await admin.health.tables.query()).tables.length).toBeGreaterThan(0);

      const cli = await run(
        process.execPath,
        ['--import', 'tsx', 'src/token.ts', 'create', '--user', 'bob', '--admin'],
        {
          cwd: serverDir,
          env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
        },
      );
      const bobToken = /token: (\S+)/.exec(cli.stdout)?.[1];
      expect(bobToken).toMatch(/^dw_/);
      const bob = createDropwatchClient({ url: app.url, token: bobToken!, EventSource });
      expect((await bob.health.tables.query()).tables.length).toBeGreaterThan(0);
      await run(process.execPath, ['--import', 'tsx', 'src/token.ts', 'revoke', '--token', bobToken!], {
        cwd: serverDir,
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      });
      await expect(bob.health.tables.query()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    } finally {
      await app.stop();
    }

    const second = capture();
    const again = await start(second.stream);
    await again.stop();
    expect(second.lines().filter((l) => 'adminToken' in l)).toEqual([]);
    expect(JSON.stringify(second.lines())).not.toContain(token);
  });
});

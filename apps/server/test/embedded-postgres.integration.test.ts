import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@dropwatch/core';
import { freePort } from '@dropwatch/db/testing';
import { openDatabase, type DatabaseHandle } from '../src/database.js';
import { createLogger } from '../src/logger.js';

const serverDir = path.resolve(import.meta.dirname, '..');
const logger = createLogger('silent');
/** A spawned tool is killed (by pid) if it has not exited by then. */
const TOOL_TIMEOUT_MS = 60_000;

function configFor(dataDir: string, port: number) {
  return loadConfig({ EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(port), LOG_LEVEL: 'silent' });
}

async function selectOne(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('select 1 as one')).rows[0]?.one ?? 0;
  } finally {
    await client.end();
  }
}

/** Runs one operator tool (`src/<tool>.ts`) as `npm run` would, bounded in time. */
function runTool(
  tool: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `src/${tool}.ts`, ...args], {
      cwd: serverDir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), TOOL_TIMEOUT_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('embedded Postgres', () => {
  let dir: string;
  let running: DatabaseHandle | undefined;
  let runningDir: string;
  let runningPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dropwatch-embedded-'));
    await chmod(dir, 0o755);
    runningDir = path.join(dir, 'held');
    runningPort = await freePort();
    running = await openDatabase(configFor(runningDir, runningPort), logger, dir);
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs in its own process group, so a Ctrl-C to the terminal does not reach it before the app stops it', () => {
    const pids = execFileSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(runningDir) && l.includes('postgres'));
    expect(pids.length).toBeGreaterThan(0);
    const ownGroup = execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim();
    for (const line of pids) expect(line.trim().split(/\s+/)[1]).not.toBe(ownGroup);
  });

  it('a second start on a data dir in use says so (not a TypeError)', async () => {
    const err = await openDatabase(configFor(runningDir, await freePort()), logger, dir).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(
      /could not start the embedded Postgres in .*held on port \d+ .*in use by a running Postgres \(pid \d+, port \d+\)/,
    );
  });

  it('a start on a port already taken says what Postgres said', async () => {
    const port = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const err = await openDatabase(configFor(path.join(dir, 'port-taken'), port), logger, dir).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(err?.message).toMatch(
        new RegExp(
          `could not start the embedded Postgres .* on port ${port} .*postgres exited during start.*(could not bind|Address already in use)`,
        ),
      );
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  }, 60_000);

  it('tools attach to the Postgres a running server holds, and leave it running', async () => {
    const attached = await openDatabase(configFor(runningDir, await freePort()), logger, dir, { attach: true });
    expect(attached.url).toContain(`:${runningPort}/`);
    await attached.stop();
    expect(await selectOne(running!.url)).toBe(1);
  });

  it(
    '`db:migrate` and `token create` work beside the running embedded Postgres',
    async () => {
      const env = { EMBEDDED_PG_DIR: runningDir, EMBEDDED_PG_PORT: String(runningPort), LOG_LEVEL: 'warn' };
      const migrated = await runTool('migrate', [], env);
      expect(migrated, migrated.out).toMatchObject({ code: 0 });
      const token = await runTool('token', ['create', '--user', 'beside-server'], env);
      expect(token, token.out).toMatchObject({ code: 0 });
      expect(token.out).toMatch(/token: \S+/);
      expect(await selectOne(running!.url)).toBe(1);
    },
    2 * TOOL_TIMEOUT_MS + 10_000,
  );
});

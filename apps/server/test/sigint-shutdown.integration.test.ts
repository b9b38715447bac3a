import { execFileSync, spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '@dropwatch/db/testing';

const serverDir = path.resolve(import.meta.dirname, '..');
/** The server is killed (its whole group, by pid) if it has not exited by then. */
const RUN_TIMEOUT_MS = 90_000;

interface LogLine {
  level?: number;
  msg?: string;
}

describe('Ctrl-C in a terminal (SIGINT to the whole foreground process group)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dropwatch-sigint-'));
    await chmod(dir, 0o755);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stops in order on the embedded Postgres: exit 0, no warning or error lines, no postgres left', async () => {
    const port = await freePort();
    const dataDir = path.join(dir, 'pg');
    // detached: the server leads its own process group, as a shell's foreground job does, so a
    // signal to the group reaches every process in it, the way a terminal delivers Ctrl-C.
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: serverDir,
      detached: true,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        HOST: '127.0.0.1',
        PORT: String(port),
        EMBEDDED_PG_PORT: String(await freePort()),
        EMBEDDED_PG_DIR: dataDir,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = child.pid!;
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const killer = setTimeout(() => process.kill(-pid, 'SIGKILL'), RUN_TIMEOUT_MS);
    try {
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.status === 200 ? true : undefined,
        60_000,
        'readyz on the embedded path',
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; server output:\n${out}`);
      });
      // Let the long-lived jobs get going (a discovery pass opens its connections).
      await waitFor(() => (out.includes('"msg":"poller started"') ? true : undefined), 30_000, 'the poller');
      const signalled = Date.now();
      process.kill(-pid, 'SIGINT');
      const code = await exited;
      process.stderr.write(`SIGINT shutdown took ${Date.now() - signalled} ms\n`);
      expect(code, out).toBe(0);
    } finally {
      clearTimeout(killer);
    }
    const lines = out.split('\n').filter((l) => l.trim());
    const parsed = lines.map((l): LogLine => {
      try {
        return JSON.parse(l) as LogLine;
      } catch {
        return { level: 100, msg: l };
      }
    });
    // The one warning a first start prints on purpose: the admin token, shown once.
    const bad = parsed.filter((l) => (l.level ?? 0) >= 40 && !l.msg?.startsWith('first start: created the admin user'));
    expect(bad, out).toEqual([]);
    expect(out).toContain('"msg":"stopped"');
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(ps.split('\n').filter((l) => l.includes(dataDir))).toEqual([]);
  }, 120_000);
});

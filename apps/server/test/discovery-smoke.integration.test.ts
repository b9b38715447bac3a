import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '@dropwatch/db/testing';

const t = useTestDatabase();
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const serverDist = fileURLToPath(new URL('../dist/', import.meta.url));
let child: ChildProcess | undefined;

beforeAll(() => {
  // The smoke test runs what `npm start` runs: the built server and its compiled job files.
  if (!existsSync(`${serverDist}main.js`) || !existsSync(`${serverDist}jobs/discovery.js`)) {
    execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: repoRoot, stdio: 'inherit' });
  }
}, 300_000);
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

describe('npm start with nothing configured (simulated market)', () => {
  it('logs drops within 2 minutes and stops cleanly on SIGTERM', async () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    Object.assign(env, {
      DATABASE_URL: t.db.url,
      PORT: '0',
      DISCOVERY_TICK_SECONDS: '2',
      DISCOVERY_BUCKET_COOLDOWN_SECONDS: '2',
      LOG_LEVEL: 'info',
    });
    const proc = spawn(process.execPath, [`${serverDist}main.js`], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    const lines: Record<string, unknown>[] = [];
    let buffered = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
    });
    let stderr = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

    const deadline = Date.now() + 120_000;
    let dropLine: Record<string, unknown> | undefined;
    while (!dropLine && Date.now() < deadline && proc.exitCode === null) {
      dropLine = lines.find((l) => l.msg === 'discovery pass' && Number(l.drops) > 0);
      if (!dropLine) await new Promise((r) => setTimeout(r, 200));
    }
    expect(dropLine, `no drops logged; last lines: ${JSON.stringify(lines.slice(-5))}`).toBeDefined();
    expect(dropLine).toMatchObject({ job: 'discovery', failed: 0 });
    expect(JSON.stringify(lines)).not.toContain(t.db.url);

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(lines.some((l) => l.msg === 'scheduler stopped')).toBe(true);
    // A normal run prints no warnings: no Node warnings (pg's DeprecationWarning for two queries
    // at once on one client) and no warn/error log lines (Bree's "already running", …) beyond
    // the one-time admin token of a first start.
    expect(stderr).toBe('');
    const warnings = lines.filter(
      (l) => Number(l.level) >= 40 && !String(l.msg).startsWith('first start: created the admin user'),
    );
    expect(warnings).toEqual([]);
  }, 180_000);
});

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, waitFor, type TestDatabase } from '@dropwatch/db/testing';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cliDir = fileURLToPath(new URL('../', import.meta.url));
const cliMain = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const serverMain = fileURLToPath(new URL('../../server/dist/main.js', import.meta.url));

/** The admin token the test server starts with (DROPWATCH_ADMIN_TOKEN). */
export const ADMIN_TOKEN = 'cli-test-admin-token-0123456789abcdefghijkl';

/**
 * The CLI is compiled before every run, so the tests always run the current sources as a user
 * would (node dist/main.js); the server only when it was never built (the turbo build makes it).
 */
export function buildCli(): void {
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'],
    {
      cwd: cliDir,
      stdio: 'inherit',
    },
  );
  if (!existsSync(serverMain))
    execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: repoRoot, stdio: 'inherit' });
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI with only the environment given (no DROPWATCH_* leaking in from the shell). */
export function runCli(
  args: readonly string[],
  opts: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliMain, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/nonexistent', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `dropwatch ${args.join(' ')} did not finish within ${timeoutMs} ms; stdout: ${stdout}; stderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface TestServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * The built server (what `npm start` runs) on its own database and a free 127.0.0.1 port, polling
 * the simulated market fast and over a short window so its first drops come within a minute or so.
 */
export async function startServer(): Promise<TestServer> {
  const db: TestDatabase = await createTestDatabase();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    DISCOVERY_TICK_SECONDS: '2',
    DISCOVERY_BUCKET_COOLDOWN_SECONDS: '2',
    DISCOVERY_WINDOW_DAYS: '2',
    SIM_CHURN: '0.1',
    DROPWATCH_ADMIN_TOKEN: ADMIN_TOKEN,
    // The destinations test's receiver listens on 127.0.0.1.
    WEBHOOK_ALLOW_PRIVATE: 'true',
    LOG_LEVEL: 'info',
  };
  const child: ChildProcess = spawn(process.execPath, [serverMain], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await db.drop();
  };
  try {
    const url = await waitFor(
      () => {
        if (child.exitCode !== null)
          throw new Error(`the server exited (${child.exitCode}); its output:\n${out.slice(-2000)}`);
        return /"msg":"dropwatch listening"/.test(out) ? /"url":"([^"]+)"/.exec(out)?.[1] : undefined;
      },
      60_000,
      'the server to listen',
    );
    return { url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

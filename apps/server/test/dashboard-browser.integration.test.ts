import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDropwatchClient, type DropwatchClient } from '@dropwatch/client';
import { useTestDatabase } from '@dropwatch/db/testing';
import { seedDrop, TEST_ADMIN_TOKEN, waitFor } from './api-fixtures.js';

/** Debian's chromium; .ci/run installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`dashboard browser tests skipped: no chromium at ${CHROMIUM} (apt-get install -y chromium)`);

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const serverDist = fileURLToPath(new URL('../dist/', import.meta.url));
const webDist = fileURLToPath(new URL('../../web/dist/', import.meta.url));
/** Screenshots for a person to look at (gitignored). */
const artifacts = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
/** The simulated market needs a few polls per bucket (its baseline) before its first drops. */
const DROPS_WITHIN_MS = 150_000;

const t = useTestDatabase();

/** What the cross-origin page leaves in window.result. (Code run in that page is passed as strings: this test program has no DOM types.) */
interface PageResult {
  readonly feed: number | null;
  readonly error: string | null;
  readonly started?: boolean;
}

/** A page server on its own 127.0.0.1 port: another origin than the API's. */
async function pageServer(html: (origin: string) => string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html(origin));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A page of another site that loads the SDK's browser build from the API server and uses it. */
const crossOriginPage = (apiUrl: string, token: string) => `<!doctype html><html><body>
<script src="${apiUrl}/static/dropwatch-client.js"></script>
<script>
  window.result = { feed: null, error: null, notifications: [] };
  const client = Dropwatch.createDropwatchClient({ url: ${JSON.stringify(apiUrl)}, token: ${JSON.stringify(token)} });
  client.feed.live.query({ market: 'nyc' })
    .then((live) => { window.result.feed = live.justOpened.length; })
    .catch((err) => { window.result.error = String(err && err.message); });
  client.notifications.onNew.subscribe({}, {
    onStarted: () => { window.result.started = true; },
    onData: (e) => window.result.notifications.push(e.data.drop.venue.name),
    onError: (err) => { window.result.error = String(err && err.message); },
  });
</script></body></html>`;

describe.skipIf(!hasChromium)('the dashboard in Chromium (built server, simulated market)', () => {
  let proc: ChildProcess | undefined;
  let apiUrl = '';
  let browser: Browser;
  let admin: DropwatchClient;
  let sql: pg.Pool;
  let allowedPage: { origin: string; close(): Promise<void> } | undefined;
  let otherPage: { origin: string; close(): Promise<void> } | undefined;
  let userToken = '';

  beforeAll(async () => {
    // What `npm start` runs: the built server, its job files and the built dashboard.
    if (!existsSync(`${serverDist}main.js`) || !existsSync(`${webDist}index.html`)) {
      execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only'], { cwd: repoRoot, stdio: 'inherit' });
    }
    mkdirSync(artifacts, { recursive: true });
    let token = '';
    allowedPage = await pageServer(() => crossOriginPage(apiUrl, token));
    otherPage = await pageServer(() => crossOriginPage(apiUrl, token));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: t.db.url,
      PORT: '0',
      DISCOVERY_TICK_SECONDS: '2',
      DISCOVERY_BUCKET_COOLDOWN_SECONDS: '2',
      DROPWATCH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
      NOTIFY_COOLDOWN_MINUTES: '0',
      CORS_ORIGINS: allowedPage.origin,
      LOG_LEVEL: 'info',
    };
    const child = spawn(process.execPath, [`${serverDist}main.js`], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc = child;
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    apiUrl = await waitFor(() => /"msg":"dropwatch listening"/.test(out) ? (/"url":"([^"]+)"/.exec(out)?.[1] ?? undefined) : undefined, 60_000, 'the server to listen');
    admin = createDropwatchClient({ url: apiUrl, token: TEST_ADMIN_TOKEN });
    userToken = (await admin.admin.tokens.create.mutate({ userName: 'browser-user' })).token;
    token = userToken;
    sql = new pg.Pool({ connectionString: t.db.url, max: 2 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await sql?.end();
    await allowedPage?.close();
    await otherPage?.close();
    if (proc && proc.exitCode === null) {
      const exited = new Promise((resolve) => proc!.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
  }, 60_000);

  const newPage = async (): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    return page;
  };

  it('shows health and live drops from the simulated market; a token signs in, a watch is added and its notification arrives live', async () => {
    const page = await newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    const response = await page.goto(`${apiUrl}/`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('dropwatch');
    // Locators, not page functions: the dashboard's CSP (no eval) refuses those, as it should.
    await page.locator('#health', { hasText: /Health: (ok|degraded|down)/ }).waitFor({ timeout: 30_000 });

    // Drops from the simulated market, on screen: first from feed.live or, as they open, over SSE.
    await page.waitForSelector('#feed li', { timeout: DROPS_WITHIN_MS });
    await page.waitForSelector('#feed li.new', { timeout: DROPS_WITHIN_MS });
    expect(await page.locator('#live-state').textContent()).toBe('live');
    await page.screenshot({ path: `${artifacts}dashboard-feed.png`, fullPage: true });

    // A wrong token says so.
    await page.getByLabel('API token').fill('dw_not-a-real-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#account-message', { hasText: 'not valid' }).waitFor({ timeout: 15_000 });

    // Sign in, with the keyboard: the token field and Enter.
    await page.getByLabel('API token').fill(userToken);
    await page.getByLabel('API token').press('Enter');
    await page.waitForSelector('#account:not([hidden])', { timeout: 15_000 });

    // Watch a venue the market has, by name.
    const { rows } = await sql.query<{ bucket_id: string; venue_id: string; name: string; slot_date: string }>(
      `select d.bucket_id, d.venue_id, v.name, to_char(d.slot_date, 'YYYY-MM-DD') as slot_date
         from drop_events d join venues v on v.venue_id = d.venue_id where d.market = 'nyc' order by d.id desc limit 1`,
    );
    const row = rows[0]!;
    const target = { bucketId: row.bucket_id, slotDate: row.slot_date, venue: { id: row.venue_id, name: row.name } };
    await page.getByLabel('Venue name or id (resy:123)').fill(target.venue.name);
    await page.getByRole('button', { name: 'Add watch' }).click();
    // Stored normalized (lowercase, accents folded): compared the same way.
    const folded = target.venue.name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
    await page.locator('#watches li').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('#account-message').textContent()).toBe('');
    expect((await page.locator('#watches').textContent())?.toLowerCase()).toContain(folded);

    // A new drop at that venue: the notify job writes a notification, the page shows it live.
    await seedDrop(sql, { bucketId: target.bucketId, venueId: target.venue.id, market: 'nyc', slotDate: target.slotDate, slotTime: '23:45' });
    await sql.query(`select pg_notify('dropwatch_drops', '{}')`);
    await page.waitForSelector('#notifications li.new', { timeout: 90_000 });
    expect(await page.locator('#notifications li.new').first().textContent()).toContain(target.venue.name);
    await page.screenshot({ path: `${artifacts}dashboard-notification.png`, fullPage: true });

    // Remove the watch again.
    await page.getByRole('button', { name: /^Remove watch / }).first().click();
    await page.locator('#watches li').waitFor({ state: 'detached', timeout: 15_000 });
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 300_000);

  it('a page on a listed origin reads the feed and subscribes to its notifications through CORS; another origin cannot', async () => {
    const page = await newPage();
    await page.goto(allowedPage!.origin);
    await page.waitForFunction(`window.result && (window.result.error !== null || (window.result.feed !== null && window.result.started === true))`, null, {
      timeout: 30_000,
    });
    const ok = await page.evaluate<PageResult>('window.result');
    expect(ok.error).toBeNull();
    expect(ok.feed).toBeGreaterThan(0);

    const other = await newPage();
    await other.goto(otherPage!.origin);
    await other.waitForFunction(`window.result && window.result.error !== null`, null, { timeout: 30_000 });
    const refused = await other.evaluate<PageResult>('window.result');
    expect(refused.feed).toBeNull();
    expect(refused.error).toMatch(/fetch|reach/i);
    await page.close();
    await other.close();
  }, 120_000);
});

describe('GET / without a browser', () => {
  it('serves the page with cache headers and a CSP, its hashed assets immutable and compressed', async () => {
    if (!existsSync(`${webDist}index.html`)) {
      execFileSync('npx', ['turbo', 'run', 'build', '--filter=@dropwatch/web', '--output-logs=errors-only'], { cwd: repoRoot, stdio: 'inherit' });
    }
    const { dashboardRoutes } = await import('../src/http/dashboard.js');
    const { startHttpServer } = await import('../src/http/server.js');
    const { createLogger } = await import('../src/logger.js');
    const server = await startHttpServer('127.0.0.1', 0, dashboardRoutes(), createLogger('silent'));
    try {
      const page = await fetch(`${server.url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      const script = /src="(\/static\/app-[A-Z0-9]{8}\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const js = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(js.status).toBe(200);
      expect(js.headers.get('cache-control')).toContain('immutable');
      expect(js.headers.get('content-encoding')).toBe('gzip');
      expect((await js.text()).length).toBeGreaterThan(1000);
      const sdk = await fetch(`${server.url}/static/dropwatch-client.js`);
      expect(sdk.status).toBe(200);
      expect(await sdk.text()).toContain('Dropwatch');
      expect((await fetch(`${server.url}/static/../package.json`)).status).toBe(404);
      expect((await fetch(`${server.url}/static/nothing.js`)).status).toBe(404);
      expect((await fetch(`${server.url}/`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close(0);
    }
  });
});

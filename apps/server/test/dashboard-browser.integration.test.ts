import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { chromium, type Browser, type Locator, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDropwatchClient, type DropwatchClient } from '@dropwatch/client';
import { useTestDatabase } from '@dropwatch/db/testing';
import { seedDrop, TEST_ADMIN_TOKEN, waitFor } from './api-fixtures.js';

/** Debian's chromium; .ci/run installs it when missing. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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

describe('the dashboard in Chromium (built server, simulated market)', () => {
  let proc: ChildProcess | undefined;
  let apiUrl = '';
  let browser: Browser;
  let admin: DropwatchClient;
  let sql: pg.Pool;
  let allowedPage: { origin: string; close(): Promise<void> } | undefined;
  let otherPage: { origin: string; close(): Promise<void> } | undefined;
  let userToken = '';

  beforeAll(async () => {
    // Run everywhere, never skipped: without the browser these fail and say what to install.
    if (!existsSync(CHROMIUM))
      throw new Error(`no chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
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
    const child = spawn(process.execPath, [`${serverDist}main.js`], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc = child;
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    apiUrl = await waitFor(
      () => (/"msg":"dropwatch listening"/.test(out) ? (/"url":"([^"]+)"/.exec(out)?.[1] ?? undefined) : undefined),
      60_000,
      'the server to listen',
    );
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

  /** One attribute of every element a locator matches (locators, not page functions: see below). */
  const attributes = async (list: Locator, name: string): Promise<string[]> => {
    const out: string[] = [];
    for (let i = 0, n = await list.count(); i < n; i++) out.push((await list.nth(i).getAttribute(name)) ?? '');
    return out;
  };

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
    const folded = target.venue.name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase();
    await page.locator('#watches li').first().waitFor({ timeout: 15_000 });
    expect(await page.locator('#account-message').textContent()).toBe('');
    expect((await page.locator('#watches').textContent())?.toLowerCase()).toContain(folded);

    // A new drop at that venue: the notify job writes a notification, the page shows it live.
    await seedDrop(sql, {
      bucketId: target.bucketId,
      venueId: target.venue.id,
      market: 'nyc',
      slotDate: target.slotDate,
      slotTime: '23:45',
    });
    await sql.query(`select pg_notify('dropwatch_drops', '{}')`);
    await page.waitForSelector('#notifications li.new', { timeout: 90_000 });
    expect(await page.locator('#notifications li.new').first().textContent()).toContain(target.venue.name);
    // It also pops up as a toast, which marks it read on the server.
    const toast = page.locator('#toasts .toast').first();
    await toast.waitFor({ timeout: 15_000 });
    expect(await toast.textContent()).toContain(target.venue.name);
    const notificationId = (await toast.getAttribute('data-notification-id'))!;
    expect(await page.locator(`#notifications li.unread[data-notification-id="${notificationId}"]`).count()).toBe(1);
    await page.screenshot({ path: `${artifacts}dashboard-notification.png`, fullPage: true });
    await page.screenshot({ path: `${artifacts}dashboard-toast.png` });
    await toast.getByRole('button', { name: /^Mark read/ }).click();
    await page
      .locator(`#toasts [data-notification-id="${notificationId}"]`)
      .waitFor({ state: 'detached', timeout: 15_000 });
    await page
      .locator(`#notifications li.unread[data-notification-id="${notificationId}"]`)
      .waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.locator('#account-message').textContent()).toBe('');
    const asUser = createDropwatchClient({ url: apiUrl, token: userToken });
    const stored = (await asUser.notifications.list.query({})).items.find((n) => n.id === notificationId);
    expect(stored?.readAt).toBeInstanceOf(Date);

    // Remove the watch again.
    await page
      .getByRole('button', { name: /^Remove watch / })
      .first()
      .click();
    await page.locator('#watches li').waitFor({ state: 'detached', timeout: 15_000 });
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 300_000);

  it('the heat-map shows every bucket of the market, each with its state on focus', async () => {
    // The default settings: one market (nyc), 14 days × 2 anchor times.
    const buckets = await waitFor(
      async () => {
        const { buckets } = await admin.health.buckets.query({ market: 'nyc' });
        return buckets.length === 28 ? buckets : undefined;
      },
      60_000,
      'the poller to create the 28 buckets',
    );
    const page = await newPage();
    await page.goto(`${apiUrl}/`);
    const cells = page.locator('#heatmaps table[data-market="nyc"] button.bucket');
    // The page re-reads buckets periodically: wait for a read that has them all.
    await waitFor(async () => ((await cells.count()) === 28 ? true : undefined), 60_000, '28 heat-map cells');
    expect(await page.locator('#heatmaps button.bucket').count()).toBe(28);
    const shown = new Set<string>();
    for (let i = 0; i < 28; i++) {
      const cell = cells.nth(i);
      shown.add((await cell.getAttribute('data-bucket-id'))!);
      expect(['fresh', 'ageing', 'stale']).toContain(await cell.getAttribute('data-freshness'));
    }
    expect([...shown].sort()).toEqual(buckets.map((b) => b.bucketId).sort());
    expect(await page.locator('#heatmap-state').isHidden()).toBe(true);

    // Keyboard: Tab reaches the cells; the focused one describes itself.
    await cells.first().focus();
    await page.keyboard.press('Tab');
    const focused = page.locator('#heatmaps button.bucket:focus');
    expect(await focused.count()).toBe(1);
    const id = (await focused.getAttribute('data-bucket-id'))!;
    expect(id).toBe(await cells.nth(1).getAttribute('data-bucket-id'));
    const b = buckets.find((x) => x.bucketId === id)!;
    const detail = (await page.locator('#bucket-detail').textContent()) ?? '';
    expect(detail).toContain(`${b.date} ${b.timeSlot}`);
    expect(detail).toMatch(/\d+ slots?/);
    expect(detail).toMatch(/calibrat/);
    expect(detail).toMatch(/poll/);
    expect(await focused.getAttribute('title')).toContain(`${b.date} ${b.timeSlot}`);
    // On a phone the 14 columns scroll inside their box: no section is wider than the screen.
    for (const section of await page.locator('main > section').all()) {
      const box = (await section.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
    await page.screenshot({ path: `${artifacts}dashboard-heatmap.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator('#heatmaps').screenshot({ path: `${artifacts}dashboard-heatmap-wide.png` });
    await page.close();
  }, 180_000);

  it('filters narrow the live feed to matching drops and clearing them brings the rest back', async () => {
    const page = await newPage();
    await page.goto(`${apiUrl}/`);
    await page.locator('#live-state', { hasText: 'live' }).waitFor({ timeout: 30_000 });
    // A bucket and venue the simulated market has (its first drop tells both).
    const row = await waitFor(
      async () =>
        (
          await sql.query<{ bucket_id: string; venue_id: string; slot_date: string }>(
            `select d.bucket_id, d.venue_id, to_char(d.slot_date, 'YYYY-MM-DD') as slot_date
               from drop_events d where d.market = 'nyc' order by d.id desc limit 1`,
          )
        ).rows[0],
      DROPS_WITHIN_MS,
      'a first drop in nyc',
    );
    // Two drops that only the time-of-day filter tells apart, arriving live.
    const base = {
      bucketId: row.bucket_id,
      venueId: row.venue_id,
      market: 'nyc',
      slotDate: row.slot_date,
      partySizes: [3],
    };
    const late = await seedDrop(sql, { ...base, slotTime: '23:15' });
    const morning = await seedDrop(sql, { ...base, slotTime: '08:15' });
    await sql.query(`select pg_notify('dropwatch_drops', '{}')`);
    const item = (id: string) => page.locator(`#feed li[data-drop-id="${id}"]`);
    // Live drops are released below the snapshot's xmin, which any long transaction on the same
    // Postgres holds back (other databases' too): a generous bound, as for the first drops.
    await item(late.id).waitFor({ timeout: DROPS_WITHIN_MS });
    await item(morning.id).waitFor({ timeout: DROPS_WITHIN_MS });
    const before = await page.locator('#feed li').count();

    await page.getByLabel('Time of day').selectOption('late');
    await item(morning.id).waitFor({ state: 'detached', timeout: 5_000 });
    expect(await item(late.id).count()).toBe(1);
    const times = await attributes(page.locator('#feed li'), 'data-slot-time');
    expect(times.length).toBeLessThan(before);
    for (const t of times) expect(t >= '22:00' || t < '05:00').toBe(true);

    // Party size and date narrow further, on top of the time of day.
    await page.locator('#filter-party').fill('3');
    await page.getByLabel('Date').fill(row.slot_date);
    expect(await item(late.id).count()).toBe(1);
    const dates = await attributes(page.locator('#feed li'), 'data-slot-date');
    const parties = await attributes(page.locator('#feed li'), 'data-party-sizes');
    expect(dates.length).toBeGreaterThan(0);
    for (const d of dates) expect(d).toBe(row.slot_date);
    for (const p of parties) expect(p.split(' ')).toContain('3');
    await page.screenshot({ path: `${artifacts}dashboard-filtered.png`, fullPage: true });

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await item(morning.id).waitFor({ timeout: 5_000 });
    expect(await page.locator('#feed li').count()).toBeGreaterThanOrEqual(before);
    await page.close();
  }, 400_000);

  it('a page on a listed origin reads the feed and subscribes to its notifications through CORS; another origin cannot', async () => {
    const page = await newPage();
    await page.goto(allowedPage!.origin);
    await page.waitForFunction(
      `window.result && (window.result.error !== null || (window.result.feed !== null && window.result.started === true))`,
      null,
      {
        timeout: 30_000,
      },
    );
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

  /** Every section of the page fits a phone's width (wide tables scroll inside their box). */
  const fitsPhone = async (page: Page) => {
    for (const section of await page.locator('main > section').all()) {
      const box = (await section.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
    }
  };

  it("a venue's page shows its drop history from the poller's drops, charts of durations and hours, and a link to book", async () => {
    // The first drop recorded is the poller's (the tests above seed theirs later).
    const first = await waitFor(
      async () =>
        (
          await sql.query<{ id: string; venue_id: string; name: string; booking_url: string | null }>(
            `select d.id::text as id, d.venue_id, v.name, v.booking_url
               from drop_events d join venues v on v.venue_id = d.venue_id where d.market = 'nyc' order by d.id limit 1`,
          )
        ).rows[0],
      DROPS_WITHIN_MS,
      'a first drop in nyc',
    );
    const page = await newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    // From the feed, a venue's name leads to its page.
    await page.goto(`${apiUrl}/`);
    const firstLink = page.locator('#feed li a[href^="#/venue/"]').first();
    await firstLink.waitFor({ timeout: DROPS_WITHIN_MS });
    // The live list may re-render between reading the link and clicking it: click it by its href.
    const href = (await firstLink.getAttribute('href'))!;
    const link = page.locator(`#feed li a[href="${href}"]`).first();
    const linked = (await link.textContent())!;
    await link.click();
    await page.locator('#venue-title', { hasText: linked }).waitFor({ timeout: 15_000 });

    await page.goto(`${apiUrl}/#/venue/${encodeURIComponent(first.venue_id)}`);
    await page.locator('#venue-title', { hasText: first.name }).waitFor({ timeout: 15_000 });
    const rows = page.locator('#venue-history tbody tr');
    await rows.first().waitFor({ timeout: 15_000 });
    const ids = await attributes(rows, 'data-drop-id');
    // Real rows of this venue, newest first, the first drop among them.
    const { rows: stored } = await sql.query<{ id: string }>(
      `select id::text as id from drop_events where venue_id = $1 and id = any($2::bigint[]) order by opened_at desc, id desc`,
      [first.venue_id, ids],
    );
    expect(stored.map((r) => r.id)).toEqual(ids);
    expect(ids).toContain(first.id);
    // The charts: 24 hours and the duration classes; the hours add up to the drops in the window.
    const summary = (await page.locator('#venue-history-summary').textContent()) ?? '';
    const total = Number(/^(\d+) drops? in the last/.exec(summary)?.[1]);
    expect(total).toBeGreaterThanOrEqual(1);
    const hours = page.locator('#chart-hours .chart-bar');
    expect(await hours.count()).toBe(24);
    const perHour = (await attributes(hours, 'data-value')).map(Number);
    expect(perHour.reduce((a, b) => a + b, 0)).toBe(total);
    expect(await page.locator('#chart-durations .chart-bar').count()).toBe(7);
    expect(await page.locator('#chart-hours svg').getAttribute('aria-label')).toMatch(/drops in all/);
    if (first.booking_url) expect(await page.locator('#venue-book').getAttribute('href')).toBe(first.booking_url);
    else expect(await page.locator('#venue-book').count()).toBe(0);
    await fitsPhone(page);
    await page.screenshot({ path: `${artifacts}dashboard-venue.png`, fullPage: true });
    // An unknown venue says so.
    await page.goto(`${apiUrl}/#/venue/resy%3A999999999`);
    await page.locator('#venue-state[data-state="error"]', { hasText: 'No venue resy:999999999' }).waitFor({
      timeout: 15_000,
    });
    expect(consoleErrors).toEqual([]);
    await page.close();
  }, 240_000);

  it("feed.live read again by the dashboard is revalidated by the browser's HTTP cache: 304 on the wire while the feed is unchanged", async () => {
    const page = await newPage();
    const isLive = (url: string) => new URL(url).pathname === '/trpc/feed.live';
    // The status on the wire: the browser hands the page (and Playwright's response events) a
    // revalidated answer as the 200 it had cached; the DevTools protocol sees the 304 itself.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const urls = new Map<string, string>();
    const wire = new Map<string, number>();
    cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
    cdp.on('Network.responseReceivedExtraInfo', (e) => wire.set(e.requestId, e.statusCode));
    const liveOnWire = () =>
      [...wire].filter(([id]) => isLive(urls.get(id) ?? 'http://x/')).map(([, status]) => status);
    const answers: Response[] = [];
    page.on('response', (r) => {
      if (isLive(r.url())) answers.push(r);
    });
    await page.goto(`${apiUrl}/`);
    await page.locator('#feed li').first().waitFor({ timeout: DROPS_WITHIN_MS });
    const refresh = page.getByRole('button', { name: 'Refresh the feed and the board' });
    // A poll between two reads changes the feed (its last scan time): refresh until one read
    // finds it unchanged. Bounded by the deadline; each round is one request.
    await waitFor(
      async () => {
        const answer = page.waitForResponse((r) => isLive(r.url()), { timeout: 15_000 });
        await refresh.click();
        await answer;
        return liveOnWire().includes(304) ? true : undefined;
      },
      90_000,
      'a 304 answer to feed.live on the wire',
    );
    // What the page got for it: the cached answer, revalidated with its ETag.
    const revalidated = await waitFor(
      async () => {
        for (const r of answers) if ((await r.headerValue('x-dropwatch-cache')) === 'not_modified') return r;
        return undefined;
      },
      5_000,
      'the revalidated answer',
    );
    expect((await revalidated.request().allHeaders())['if-none-match']).toMatch(/^"/);
    expect(revalidated.status()).toBe(200);
    // The browser answered the page from its cache: the feed is still on screen.
    expect(await page.locator('#feed li').count()).toBeGreaterThan(0);
    expect(await page.locator('#feed-state[data-state="error"]').count()).toBe(0);
    await page.close();
  }, 240_000);

  it('the admin view shows table sizes, the prune preview and job runs to an admin token, and runs a prune; a user token is told it is not an admin', async () => {
    const adminUser = (await admin.admin.tokens.create.mutate({ userName: 'browser-admin', admin: true })).token;
    const page = await newPage();
    await page.goto(`${apiUrl}/#/admin`);
    expect(await page.title()).toBe('Admin · dropwatch');
    await page.getByLabel('API token').fill(userToken);
    await page.getByLabel('API token').press('Enter');
    await page.locator('#tables-state', { hasText: 'not an admin token' }).waitFor({ timeout: 15_000 });

    await page.getByLabel('API token').fill(adminUser);
    await page.getByLabel('API token').press('Enter');
    const tableRows = page.locator('#table-sizes tbody tr');
    await tableRows.first().waitFor({ timeout: 15_000 });
    const { tables } = await admin.health.tables.query();
    const shown = await attributes(tableRows, 'data-table');
    expect([...shown].sort()).toEqual(tables.map((t) => t.table).sort());
    expect(shown).toContain('drop_events');
    // Largest first, each with its size on disk.
    const sizes = (await attributes(tableRows, 'data-bytes')).map(Number);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    expect(await page.locator('#table-sizes tr[data-table="drop_events"] td').last().textContent()).toMatch(
      /\d( \w+)?B$/,
    );
    await page.locator('#prune-preview tr[data-table="drop_events"]').waitFor({ timeout: 15_000 });
    await page.locator('#job-runs li[data-job="discovery"]').waitFor({ timeout: 15_000 });
    await fitsPhone(page);
    await page.screenshot({ path: `${artifacts}dashboard-admin.png`, fullPage: true });

    await page.getByRole('button', { name: 'Prune now…' }).click();
    await page.getByRole('button', { name: 'Yes, delete these rows' }).click();
    await page.locator('#prune-result').waitFor({ timeout: 60_000 });
    expect(await page.locator('#prune-result').textContent()).toMatch(/Pruned in \d+ ms|already running/);
    await page.close();
  }, 180_000);

  it('notification settings: "Enable push notifications" registers /sw.js from the dashboard origin and says how it went', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    await context.grantPermissions(['notifications'], { origin: apiUrl });
    const page = await context.newPage();
    await page.goto(`${apiUrl}/#/settings`);
    await page.getByLabel('API token').fill(userToken);
    await page.getByLabel('API token').press('Enter');
    await page.locator('#destinations-empty').waitFor({ timeout: 15_000 });
    const worker = context.waitForEvent('serviceworker', { timeout: 30_000 });
    await page.getByRole('button', { name: 'Enable push notifications' }).click();
    expect(new URL((await worker).url()).pathname).toBe('/sw.js');
    // The subscription itself needs the browser's push service, which this machine cannot reach:
    // the page says what happened either way.
    const note = page.locator('#destination-note');
    await note.waitFor({ timeout: 30_000 });
    expect(await note.textContent()).toMatch(/Push notifications are on|could not be enabled: \S/);
    await fitsPhone(page);
    await page.screenshot({ path: `${artifacts}dashboard-settings.png`, fullPage: true });
    await context.close();
  }, 120_000);
});

describe('GET / without a browser', () => {
  it('serves the page with cache headers and a CSP, its hashed assets immutable and compressed', async () => {
    if (!existsSync(`${webDist}index.html`)) {
      execFileSync('npx', ['turbo', 'run', 'build', '--filter=@dropwatch/web', '--output-logs=errors-only'], {
        cwd: repoRoot,
        stdio: 'inherit',
      });
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
      const script = /src="(\/static\/app-[\w-]{8}\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const js = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(js.status).toBe(200);
      expect(js.headers.get('cache-control')).toContain('immutable');
      expect(js.headers.get('content-encoding')).toBe('gzip');
      expect((await js.text()).length).toBeGreaterThan(1000);
      // No inline script in the page: the CSP would refuse it.
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const css = /href="(\/static\/app-[\w-]{8}\.css)"/.exec(html)?.[1];
      expect(css).toBeDefined();
      expect((await fetch(`${server.url}${css}`)).headers.get('cache-control')).toContain('immutable');
      // The service worker, from the root (so it may control the page), revalidated on each visit.
      const sw = await fetch(`${server.url}/sw.js`);
      expect(sw.status).toBe(200);
      expect(sw.headers.get('content-type')).toContain('text/javascript');
      expect(sw.headers.get('cache-control')).toBe('no-cache');
      expect(await sw.text()).toContain('showNotification');
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

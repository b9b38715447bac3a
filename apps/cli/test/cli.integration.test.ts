import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDropwatchClient } from '@dropwatch/client';
import { ADMIN_TOKEN, buildCli, runCli, startServer, type TestServer } from './cli-harness.js';

/** The simulated market needs a few polls per bucket (its baseline) before its first drops. */
const FIRST_DROP_MS = 150_000;

describe('the dropwatch CLI without a server', () => {
  beforeAll(() => buildCli(), 120_000);

  it('--help at the top level lists every command and the exit codes; each command has its own', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const c of [
      'tail',
      'board',
      'health',
      'watch add',
      'watch rm',
      'destinations add',
      'notifications',
      'prune now',
      'token create',
    ])
      expect(top.stdout).toContain(c);
    expect(top.stdout).toMatch(/3 +auth error/);
    const rm = await runCli(['watch', 'rm', '--help']);
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain('Usage: dropwatch watch rm <id>');
  });

  it.each([
    [['frob'], "unknown command 'frob'"],
    [[], 'no command given'],
    [['watch'], "'watch' needs a subcommand: add, list, rm"],
    [['tail', '--limit', 'lots'], "--limit must be a whole number from 1 to 1000000, got 'lots'"],
    [['health', '--frob'], "Unknown option '--frob'"],
    [['watch', 'add'], 'give a venue name or --venue-id'],
    [['watch', 'rm', 'abc'], 'a watch id is a number'],
    [['health', '--url', 'ftp://example.test'], 'must be http:// or https://'],
  ])('usage error %j exits 2 with a readable message', async (args, message) => {
    const r = await runCli(args, { env: { DROPWATCH_URL: 'http://127.0.0.1:9' } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/see: dropwatch .*--help/);
  });
});

describe('the dropwatch CLI against a running server (simulated market)', () => {
  let server: TestServer;
  let state: string;
  const env = () => ({ DROPWATCH_URL: server.url, XDG_STATE_HOME: state });
  const admin = () => ({ ...env(), DROPWATCH_TOKEN: ADMIN_TOKEN });

  beforeAll(async () => {
    buildCli();
    state = mkdtempSync(join(tmpdir(), 'dropwatch-cli-'));
    server = await startServer();
  }, 180_000);
  afterAll(async () => {
    await server?.stop();
    if (state) rmSync(state, { recursive: true, force: true });
  }, 60_000);

  it(
    'tail --limit 1 --json prints one drop and stores the cursor; the next tail resumes right after it',
    async () => {
      const cursorFile = join(state, 'dropwatch', 'cursor');
      const first = await runCli(['tail', '--limit', '1', '--json', '--interval', '1'], {
        env: env(),
        timeoutMs: FIRST_DROP_MS,
      });
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      const lines1 = first.stdout.trim().split('\n');
      expect(lines1).toHaveLength(1);
      const drop1 = JSON.parse(lines1[0]!) as {
        id: string;
        venue: { name: string };
        slotDate: string;
        partySizes: number[];
      };
      expect(drop1.venue.name).not.toBe('');
      expect(drop1.slotDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(existsSync(cursorFile)).toBe(true);
      const cursor1 = readFileSync(cursorFile, 'utf8').trim();

      const second = await runCli(['tail', '-n', '1', '--json', '--interval', '1'], {
        env: env(),
        timeoutMs: FIRST_DROP_MS,
      });
      expect(second.code).toBe(0);
      const drop2 = JSON.parse(second.stdout.trim()) as { id: string };
      expect(drop2.id).not.toBe(drop1.id);
      const cursor2 = readFileSync(cursorFile, 'utf8').trim();
      expect(cursor2).not.toBe(cursor1);
      // Resumed exactly after the first: the drop that follows cursor1 in commit order is drop2.
      const after1 = await createDropwatchClient({ url: server.url }).feed.newDrops.query({
        cursor: cursor1,
        limit: 1,
      });
      expect(after1.drops.map((d) => d.id)).toEqual([drop2.id]);
    },
    2 * FIRST_DROP_MS + 10_000,
  );

  it(
    'tail without --json prints one readable line per drop; --cursor-file and --reset choose where it starts',
    async () => {
      const file = join(state, 'other', 'cursor');
      const r = await runCli(['tail', '--limit', '2', '--reset', '--since', '600', '--cursor-file', file], {
        env: env(),
        timeoutMs: FIRST_DROP_MS,
      });
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(2);
      // opened-at time, venue, weekday + slot date + time, party sizes, booking link (or its absence)
      for (const line of lines)
        expect(line).toMatch(
          /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} {2}.+ {2}\w{3} \d{4}-\d{2}-\d{2} \d{2}:\d{2} {2}party [\d,]+ {2}(https?:\/\/\S+|\(no booking link\))$/,
        );
      expect(lines.join('')).not.toContain('\u001b[');
      expect(readFileSync(file, 'utf8').trim()).not.toBe('');
    },
    FIRST_DROP_MS + 10_000,
  );

  it('a cursor the server never issued: exit 2, naming the file and --reset', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const file = join(state, 'bogus', 'cursor');
    mkdirSync(join(state, 'bogus'));
    writeFileSync(file, 'not-a-cursor\n');
    const r = await runCli(['tail', '--limit', '1', '--cursor-file', file], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('--reset');
  });

  it('health: the status and a bucket grid; --json carries both', async () => {
    const json = await runCli(['health', '--json'], { env: env() });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      status: string;
      reasons: string[];
      buckets: { market: string; date: string; timeSlot: string }[];
    };
    expect(['ok', 'degraded', 'down']).toContain(doc.status);
    // Drops have opened (the tail test), so the window's buckets exist: 2 days × 2 anchor times.
    expect(doc.buckets.length).toBe(4);
    const text = await runCli(['health'], { env: { ...env(), NO_COLOR: '1' } });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^${doc.status.toUpperCase()} `));
    expect(text.stdout).toContain('nyc  (4 buckets)');
    expect(text.stdout).toContain('15:00 20:30');
    for (const date of new Set(doc.buckets.map((b) => b.date)))
      expect(text.stdout).toMatch(new RegExp(`^${date} +[●○◌✖·]`, 'm'));
    expect(text.stdout).toContain('● polled recently');
    expect(text.stdout).not.toContain('\u001b[');
  });

  it('board: the ranked board of nyc, as text and as the feed.live document', async () => {
    const json = await runCli(['board', '--json', '--market', 'nyc'], { env: env() });
    expect(json.code).toBe(0);
    const feed = JSON.parse(json.stdout) as { market: string; board: { venue: { name: string } }[] };
    expect(feed.market).toBe('nyc');
    const text = await runCli(['board'], { env: env() });
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^nyc: \d+ open on the board/);
    if (feed.board.length > 0) expect(text.stdout).toContain('  1. rarity');
    const bad = await runCli(['board', '--market', 'atlantis'], { env: env() });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the server refused the input');
  });

  it('token create (admin), then that token adds, lists and removes a watch', async () => {
    const created = await runCli(['token', 'create', 'cli-user', '--label', 'from the cli test', '--json'], {
      env: admin(),
    });
    expect(created.code).toBe(0);
    const { token, role, userName } = JSON.parse(created.stdout) as { token: string; role: string; userName: string };
    expect({ role, userName }).toEqual({ role: 'user', userName: 'cli-user' });
    const user = { ...env(), DROPWATCH_TOKEN: token };

    const add = await runCli(['watch', 'add', 'Le Bernardin', '--party-size', '2', '--market', 'nyc', '--json'], {
      env: user,
    });
    expect(add.code).toBe(0);
    const added = JSON.parse(add.stdout) as {
      created: boolean;
      watch: { id: string; venueName: string; partySize: number };
    };
    expect(added.created).toBe(true);
    expect(added.watch).toMatchObject({ venueName: 'le bernardin', partySize: 2 });

    const list = await runCli(['watch', 'list'], { env: user });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(added.watch.id);
    expect(list.stdout).toContain('"le bernardin"  (market nyc, party 2)');
    // The token was given through DROPWATCH_TOKEN and is never echoed.
    expect(list.stdout + list.stderr).not.toContain(token);

    const rm = await runCli(['watch', 'rm', added.watch.id], { env: user });
    expect(rm.code).toBe(0);
    expect(rm.stdout).toBe(`removed watch ${added.watch.id}\n`);
    const after = await runCli(['watch', 'list', '--json'], { env: user });
    expect(JSON.parse(after.stdout)).toEqual({ items: [] });
    const again = await runCli(['watch', 'rm', added.watch.id], { env: user });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no such watch');

    const notes = await runCli(['notifications', '--unread', '--json'], { env: user });
    expect(notes.code).toBe(0);
    expect(JSON.parse(notes.stdout)).toMatchObject({ items: [] });

    // A user token is not an admin token: exit 3, the auth code.
    const prune = await runCli(['prune', 'preview'], { env: user });
    expect(prune.code).toBe(3);
    expect(prune.stderr).toContain('not allowed');

    const revoke = await runCli(['token', 'revoke', '--user', 'cli-user', '--json'], { env: admin() });
    expect(revoke.code).toBe(0);
    expect(JSON.parse(revoke.stdout)).toEqual({ revoked: 1 });
    const revoked = await runCli(['watch', 'list'], { env: user });
    expect(revoked.code).toBe(3);
  });

  it('destinations add, list, test and rm; secrets printed by add only', async () => {
    const hits: string[] = [];
    const receiver = http.createServer((req, res) => {
      hits.push(String(req.headers['webhook-id'] ?? ''));
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const created = await runCli(['token', 'create', 'cli-dest-user', '--json'], { env: admin() });
      const { token } = JSON.parse(created.stdout) as { token: string };
      const user = { ...env(), DROPWATCH_TOKEN: token };

      const add = await runCli(['destinations', 'add', 'webhook', '--webhook-url', url, '--name', 'hook', '--json'], {
        env: user,
      });
      expect(add.code).toBe(0);
      const added = JSON.parse(add.stdout) as { destination: { id: string }; secrets: { signingSecret: string } };
      expect(added.secrets.signingSecret).toMatch(/^whsec_/);
      const ntfy = await runCli(
        [
          'destinations',
          'add',
          'ntfy',
          '--topic-url',
          'https://ntfy.example.test/alerts',
          '--access-token',
          'tk_cli',
          '--quiet',
          '22:00-07:00',
          '--tz',
          'Europe/Paris',
        ],
        { env: user },
      );
      expect(ntfy.code).toBe(0);
      expect(ntfy.stdout).toContain('accessToken: tk_cli');

      const list = await runCli(['destinations', 'list'], { env: user });
      expect(list.code).toBe(0);
      expect(list.stdout).toContain(url);
      expect(list.stdout).toContain('quiet 22:00–07:00 Europe/Paris');
      expect(list.stdout).not.toContain(added.secrets.signingSecret);
      expect(list.stdout).not.toContain('tk_cli');

      const test = await runCli(['destinations', 'test', added.destination.id, '--json'], { env: user });
      expect(test.code).toBe(0);
      expect(JSON.parse(test.stdout)).toEqual({ delivered: true, status: 200, error: null });
      expect(hits.at(-1)).toMatch(/^test_/);

      const rm = await runCli(['destinations', 'rm', added.destination.id], { env: user });
      expect(rm.stdout).toBe(`removed destination ${added.destination.id}\n`);
      const after = JSON.parse((await runCli(['destinations', 'list', '--json'], { env: user })).stdout) as {
        items: { channel: string }[];
      };
      expect(after.items.map((d) => d.channel)).toEqual(['ntfy']);

      const usage = await runCli(['destinations', 'add', 'telegram', '--chat-id', '1'], { env: user });
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('needs --bot-token');
      const refused = await runCli(['destinations', 'add', 'email', '--to', 'nope'], { env: user });
      expect(refused.code).toBe(2);
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });

  it('a bad token exits 3 with a message that does not contain the token', async () => {
    const bad = 'dw_not-a-real-token-0123456789abcdefghij';
    for (const args of [['watch', 'list'], ['notifications'], ['watch', 'list', '--json']]) {
      const r = await runCli([...args, '--token', bad], { env: env() });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('not signed in');
      expect(r.stdout + r.stderr).not.toContain(bad);
    }
    const none = await runCli(['watch', 'list'], { env: env() });
    expect(none.code).toBe(3);
  });

  it('prune preview (admin) says what retention would delete', async () => {
    const r = await runCli(['prune', 'preview', '--json'], { env: admin() });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { wouldDelete: Record<string, number>; partitionsToDrop: string[] };
    expect(doc.wouldDelete).toHaveProperty('drop_events');
    const text = await runCli(['prune', 'preview'], { env: admin() });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}drop_events +\d+$/m);
  });

  it('a server that is down: exit 1, naming the URL', async () => {
    const r = await runCli(['health'], { env: { DROPWATCH_URL: 'http://127.0.0.1:9' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach the dropwatch server at http://127.0.0.1:9/trpc');
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import type { BenchContext, Scenario } from '../harness.js';

/**
 * Channel delivery of the fan-out: USERS users × 2 destinations (webhook + ntfy, ntfy + email,
 * email + webhook in turn) against receivers in this process (a webhook receiver, a fake ntfy
 * server, a real SMTP server), one drop per venue in one transaction, while the notifier (the
 * long-lived notify job in a worker thread) is killed KILLS times mid-run and restarted.
 * Reports per channel: deliveries/s, commit → first receipt p50/p99, re-sends (the same id
 * received again: the crash-between-send-and-record case; a receiver deduping on the channel's
 * key sees it once), plus the outbox invariant (one row per pair, every row delivered).
 */
const USERS = Number(process.env.BENCH_CHANNELS_USERS ?? 3_000);
const VENUES = 100;
const KILLS = Number(process.env.BENCH_CHANNELS_KILLS ?? 5);
const KILL_EVERY_MS = 1_500;
const DEADLINE_MS = 300_000;
const WORKER_FILE = new URL('./notify/notify-job-worker.js', import.meta.url);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

type Channel = 'webhook' | 'ntfy' | 'email';
const PAIRS: readonly [Channel, Channel][] = [
  ['webhook', 'ntfy'],
  ['ntfy', 'email'],
  ['email', 'webhook'],
];

/** id → receipt times, per channel. */
const receipts: Record<Channel, Map<string, number[]>> = { webhook: new Map(), ntfy: new Map(), email: new Map() };
const got = (channel: Channel, id: string) => {
  const list = receipts[channel].get(id) ?? [];
  list.push(performance.now());
  receipts[channel].set(id, list);
};

async function httpReceiver(onHit: (req: http.IncomingMessage, body: string) => void): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      onHit(req, Buffer.concat(chunks).toString('utf8'));
      res.end('{}');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

const portOf = (s: { address(): AddressInfo | string | null }) => (s.address() as AddressInfo).port;

export const fanoutChannelsScenario: Scenario = {
  name: 'fanout-channels',
  description: 'channel delivery: users × 2 destinations (webhook, ntfy fake, SMTP) with the notifier killed mid-run',
  async run(ctx: BenchContext) {
    for (const c of Object.values(receipts)) c.clear();
    const hook = await httpReceiver((req) => got('webhook', String(req.headers['webhook-id'])));
    const ntfy = await httpReceiver((_req, body) => {
      const id = (JSON.parse(body) as { sequence_id: string }).sequence_id.replace(/^dropwatch-/, '');
      got('ntfy', id);
    });
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, _s, cb) {
        let head = '';
        stream.on('data', (c: Buffer) => {
          if (head.length < 4096) head += c.toString('utf8');
        });
        stream.on('end', () => {
          const m = /X-Dropwatch-Delivery: (\d+)/i.exec(head);
          if (m) got('email', m[1]!);
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));

    const sql = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'bench-fanout-channels' });
    await sql.connect();
    const workers: Worker[] = [];
    try {
      await sql.query(
        `insert into venues (venue_id, provider, market, name, booking_url)
         select 'resy:c' || g, 'resy', 'nyc', 'Channel venue ' || g, 'https://book.example.test/' || g
         from generate_series(0, $1 - 1) g`,
        [VENUES],
      );
      await sql.query(`insert into users (name) select 'chan-' || g from generate_series(1, $1) g`, [USERS]);
      await sql.query(
        `insert into watches (user_id, venue_id)
         select id, 'resy:c' || (substr(name, 6)::int % $1) from users where name like 'chan-%'`,
        [VENUES],
      );
      const settingsOf = (c: Channel) =>
        c === 'webhook'
          ? `jsonb_build_object('url', 'http://127.0.0.1:${portOf(hook)}/hook')`
          : c === 'ntfy'
            ? `jsonb_build_object('topicUrl', 'http://127.0.0.1:${portOf(ntfy)}/bench', 'priority', 4, 'tags', '[]'::jsonb, 'hasAccessToken', false)`
            : `jsonb_build_object('to', 'u' || u.n || '@example.test')`;
      for (const [k, pair] of PAIRS.entries()) {
        for (const c of pair) {
          await sql.query(
            `insert into destinations (user_id, channel, settings, secrets)
             select u.id, '${c}', ${settingsOf(c)},
                    ${c === 'webhook' ? `jsonb_build_object('signingSecret', 'whsec_' || encode(sha256(u.id::text::bytea), 'base64'))` : `'{}'::jsonb`}
             from (select id, substr(name, 6)::int as n from users where name like 'chan-%') u
             where u.n % 3 = $1`,
            [k],
          );
        }
      }
      await sql.query('analyze');
      const settings = { SMTP_URL: `smtp://127.0.0.1:${portOf(smtp.server)}` };
      const start = () => {
        const w = new Worker(WORKER_FILE, {
          workerData: { databaseUrl: ctx.databaseUrl, mode: 'long-lived', settings },
        });
        w.on('error', () => undefined);
        workers.push(w);
        return w;
      };
      let worker = start();
      await sleep(2_000); // its ORM, lease and LISTEN

      // One transaction, one drop per venue: every user notified once, 2 deliveries each.
      await sql.query(
        `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes)
         select 'nyc_bench_20:30', md5('c' || g), g, 'resy:c' || g, 'nyc', current_date + 1, '20:30', '{2}'
         from generate_series(0, $1 - 1) g`,
        [VENUES],
      );
      const committed = performance.now();
      const expected = USERS * 2;
      let kills = 0;
      const delivered = async () =>
        Number(
          (await sql.query<{ n: string }>(`select count(*) as n from webhook_deliveries where status = 'delivered'`))
            .rows[0]!.n,
        );
      while (performance.now() - committed < DEADLINE_MS) {
        await sleep(kills < KILLS ? KILL_EVERY_MS : 500);
        const done = await delivered();
        if (done >= expected) break;
        if (kills < KILLS) {
          // A crash: the thread stops wherever it is (mid-send, between a send and its record).
          await worker.terminate();
          kills++;
          // A dead holder's lease lapses after its TTL; the bench lets the next one in at once.
          await sql.query(`delete from job_leases where name = 'notify'`);
          worker = start();
        }
      }
      const rows = await sql.query<{ channel: string; status: string; n: string }>(
        `select channel, status, count(*) as n from webhook_deliveries group by 1, 2 order by 1, 2`,
      );
      const pairs = await sql.query<{ dup: string }>(
        `select count(*) as dup from (select 1 from webhook_deliveries group by notification_id, destination_id having count(*) > 1) x`,
      );
      ctx.log(
        `outbox: ${rows.rows.map((r) => `${r.channel}/${r.status}=${r.n}`).join(' ')}; pairs queued twice: ${pairs.rows[0]!.dup}`,
      );
      for (const channel of ['webhook', 'ntfy', 'email'] as const) {
        const map = receipts[channel];
        const firsts = [...map.values()].map((t) => t[0]! - committed);
        const total = [...map.values()].reduce((a, t) => a + t.length, 0);
        const lastFirst = Math.max(...firsts);
        ctx.record({
          case: `${USERS} users × 2 destinations, notifier killed ${kills}×`,
          variant: channel,
          metrics: {
            received: map.size,
            deliveries_per_s: map.size / (lastFirst / 1000),
            commit_to_received_p50_ms: pct(firsts, 50),
            commit_to_received_p99_ms: pct(firsts, 99),
            resent_same_id: total - map.size,
          },
        });
      }
    } finally {
      for (const w of workers) await w.terminate().catch(() => undefined);
      await sql.end();
      hook.closeAllConnections();
      ntfy.closeAllConnections();
      await new Promise<void>((r) => hook.close(() => r()));
      await new Promise<void>((r) => ntfy.close(() => r()));
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  },
};

import pg from 'pg';
import pino from 'pino';
import { loadConfig } from '@dropwatch/core';
import { runNotify } from '@dropwatch/discovery';
import type { BenchContext, Scenario } from '../harness.js';
import { median } from '../stats.js';
import { notifyLatency } from './notify/latency.js';

/** The population of the fan-out benchmark. */
const USERS = 10_000;
const WATCHES_PER_USER = 5;
const VENUES = 1_000;
const DROPS = 1_000;
/** Throughput rounds (each: reset the cursor, drop the notifications, run the job function). */
const THROUGHPUT_ROUNDS = 3;
const LATENCY_DEADLINE_MS = 60_000;

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 10 000 users × 5 distinct venues each (of 1 000): every venue has ≈ 50 watchers. */
async function seedPopulation(sql: pg.Client): Promise<void> {
  await sql.query(
    `insert into venues (venue_id, provider, market, name)
     select 'resy:f' || g, 'resy', 'nyc', 'Fan venue ' || g from generate_series(0, $1 - 1) g`,
    [VENUES],
  );
  await sql.query(`insert into users (name) select 'fan-' || g from generate_series(1, $1) g`, [USERS]);
  // k × 211 mod 1000 is distinct for k = 0..4, so a user's five venues are distinct.
  await sql.query(
    `insert into watches (user_id, venue_id)
     select u.id, 'resy:f' || ((u.n * 7 + k * 211) % $2)
     from (select id, substr(name, 5)::int as n from users where name like 'fan-%') u
     cross join generate_series(0, $1 - 1) k`,
    [WATCHES_PER_USER, VENUES],
  );
  await sql.query('analyze users; analyze watches; analyze venues');
}

/** 1 000 drops in one transaction, one per venue (37 is coprime with 1 000). Returns their tx id. */
async function seedDrops(sql: pg.Client): Promise<string> {
  const { rows } = await sql.query<{ tx: string }>(
    `insert into drop_events (bucket_id, slot_id, slot_key, venue_id, market, slot_date, slot_time, party_sizes)
     select 'nyc_bench_20:30', md5(g::text), g, 'resy:f' || ((g * 37) % $2), 'nyc', current_date + 1, '20:30', '{2,4}'
     from generate_series(1, $1) g
     returning tx_id::text as tx`,
    [DROPS, VENUES],
  );
  return rows[0]!.tx;
}

async function resetNotify(sql: pg.Client, beforeTx: bigint): Promise<void> {
  await sql.query('truncate user_notifications');
  await sql.query(
    `insert into consumer_cursors (name, tx_id, id) values ('notify', $1::xid8, $2)
     on conflict (name) do update set tx_id = excluded.tx_id, id = excluded.id`,
    [(beforeTx - 1n).toString(), ((1n << 63n) - 1n).toString()],
  );
}

/**
 * The cursor only reads transactions below the cluster's snapshot xmin: on a shared
 * server another session's long transaction holds the seeded drops back, so wait for them.
 */
async function waitVisible(sql: pg.Client, tx: bigint): Promise<void> {
  const deadline = Date.now() + LATENCY_DEADLINE_MS * 5;
  for (;;) {
    const { rows } = await sql.query<{ ok: boolean }>(
      'select $1::xid8 < pg_snapshot_xmin(pg_current_snapshot()) as ok',
      [tx.toString()],
    );
    if (rows[0]?.ok) return;
    if (Date.now() > deadline) throw new Error('seeded drops never became visible to the cursor');
    await sleep(100);
  }
}

async function throughput(ctx: BenchContext, sql: pg.Client, config: ReturnType<typeof loadConfig>): Promise<void> {
  const tx = BigInt(await seedDrops(sql));
  await waitVisible(sql, tx);
  for (const batchSize of [200, 50, 500]) {
    const rates: number[] = [];
    const times: number[] = [];
    let notifications = 0;
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      await resetNotify(sql, tx);
      const started = performance.now();
      const stats = await runNotify({
        orm: ctx.orm,
        config,
        logger: silent,
        batchSize,
        deliver: false,
        recordRun: false,
      });
      const ms = performance.now() - started;
      notifications = stats.notifications;
      times.push(ms);
      rates.push(stats.notifications / (ms / 1000));
      if (stats.drops !== DROPS) throw new Error(`notify read ${stats.drops} drops, expected ${DROPS}`);
    }
    ctx.record({
      case: `${USERS} users × ${WATCHES_PER_USER} watches, ${DROPS} drops`,
      variant: `batch ${batchSize}`,
      metrics: { notifications, medianMs: Math.round(median(times)), notificationsPerSec: Math.round(median(rates)) },
    });
    ctx.log(
      `batch ${batchSize}: ${notifications} notifications in ${Math.round(median(times))} ms (${Math.round(median(rates))}/s)`,
    );
  }
}

export const fanoutScenario: Scenario = {
  name: 'fanout',
  description: `notify job: ${USERS} users × ${WATCHES_PER_USER} watches, ${DROPS} drops → notifications/s; drop commit → notifications.onNew (SSE) and → webhook received, old interval job vs long-lived LISTEN worker`,
  async run(ctx) {
    const config = loadConfig({ NOTIFY_COOLDOWN_MINUTES: '0', LOG_LEVEL: 'silent' });
    const sql = new pg.Client({ connectionString: ctx.databaseUrl, application_name: 'bench-fanout' });
    await sql.connect();
    try {
      await seedPopulation(sql);
      await throughput(ctx, sql, config);
      await notifyLatency(ctx, sql, config, VENUES);
    } finally {
      await sql.end();
    }
  },
};

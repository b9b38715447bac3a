import { isDeepStrictEqual } from 'node:util';
import { addWatch, listWatches, type WatchAddInput, type WatchDto } from '@dropwatch/api/internals';
import { AppError } from '@dropwatch/core';
import type { EntityManager } from '@dropwatch/db';
import { MAX_WATCHES_PER_USER, normalizeVenueName } from '@dropwatch/discovery';
import type { BenchContext, Scenario } from '../harness.js';

/** add + list pairs per measured run (one pair is a couple of milliseconds: too short to time alone). */
const PAIRS_PER_RUN = 20;
/** Watches a user gets before the next user takes over, so lists stay the size of a real user's. */
const WATCHES_PER_USER = 10;
/** Watches of the user the "existing watch" case reads back. */
const EXISTING_WATCHES = 20;

// ---- The reference: the SQL the watches router ran before it went through the Watch entity. ----

interface WatchRow {
  id: string;
  kind: 'include' | 'exclude';
  venue_id: string | null;
  venue_name: string | null;
  market: string | null;
  party_size: number | null;
  date_from: string | null;
  date_to: string | null;
  time_from: string | null;
  time_to: string | null;
  created_at: Date | string;
}

const WATCH_COLUMNS = `id::text, kind, venue_id, venue_name, market, party_size,
  to_char(date_from, 'YYYY-MM-DD') as date_from, to_char(date_to, 'YYYY-MM-DD') as date_to,
  time_from, time_to, created_at`;

const toWatchDtoSql = (r: WatchRow): WatchDto => ({
  id: r.id,
  kind: r.kind,
  venueId: r.venue_id,
  venueName: r.venue_name,
  market: r.market,
  partySize: r.party_size,
  dateFrom: r.date_from,
  dateTo: r.date_to,
  timeFrom: r.time_from,
  timeTo: r.time_to,
  createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
});

const venueKey = (venueId: string | null, venueName: string | null) => venueId ?? `name:${venueName ?? ''}`;

async function listWatchesSql(em: EntityManager, userId: string): Promise<WatchDto[]> {
  const rows = await em.execute<WatchRow[]>(
    `select ${WATCH_COLUMNS} from watches where user_id = ? order by id limit ?`,
    [userId, MAX_WATCHES_PER_USER],
  );
  return rows.map(toWatchDtoSql);
}

async function addWatchSql(
  em: EntityManager,
  userId: string,
  input: WatchAddInput,
): Promise<{ watch: WatchDto; created: boolean }> {
  const venueName = input.venueName === undefined ? null : normalizeVenueName(input.venueName);
  if (venueName === '') throw new AppError('BAD_INPUT', 'venueName is empty once normalized');
  const venueId = input.venueId ?? null;
  const key = venueKey(venueId, venueName);
  return em.transactional(async (tx) => {
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`dropwatch_watches:${userId}`]);
    const [existing] = await tx.execute<WatchRow[]>(
      `select ${WATCH_COLUMNS} from watches where user_id = ? and venue_key = ?`,
      [userId, key],
    );
    if (existing) return { watch: toWatchDtoSql(existing), created: false };
    const [count] = await tx.execute<{ n: number }[]>('select count(*)::int as n from watches where user_id = ?', [
      userId,
    ]);
    if ((count?.n ?? 0) >= MAX_WATCHES_PER_USER) {
      throw new AppError('CONFLICT', `watch limit reached: at most ${MAX_WATCHES_PER_USER} watches per user`);
    }
    const [row] = await tx.execute<WatchRow[]>(
      `insert into watches (user_id, kind, venue_id, venue_name, market, party_size, date_from, date_to, time_from, time_to)
       values (?, ?, ?, ?, ?, ?, ?::date, ?::date, ?, ?)
       returning ${WATCH_COLUMNS}`,
      [
        userId,
        input.kind,
        venueId,
        venueId === null ? venueName : null,
        input.market ?? null,
        input.partySize ?? null,
        input.dateFrom ?? null,
        input.dateTo ?? null,
        input.timeFrom ?? null,
        input.timeTo ?? null,
      ],
    );
    if (!row) throw new Error('watch was not inserted');
    return { watch: toWatchDtoSql(row), created: true };
  });
}

// ---- The scenario. ----

type AddFn = typeof addWatch;
type ListFn = typeof listWatches;

/** A watch as users make them: every other one by name, with the filters of a typical watch. */
const watchInput = (n: number): WatchAddInput =>
  n % 2 === 0
    ? { kind: 'include', venueId: `resy:${n}`, partySize: 2, dateFrom: '2030-01-02', dateTo: '2030-01-09' }
    : { kind: 'include', venueName: `Venue ${n}`, market: 'nyc', timeFrom: '18:00', timeTo: '21:30' };

/**
 * This process's CPU time since `before`, in ms: the entity path's extra cost is CPU (query building,
 * mapping), so it shows apart from the round trips both paths wait for alike.
 */
const cpuMs = (before: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
};

/** The DTO without what differs between two inserts of the same input (the id and the time). */
const shape = (w: WatchDto) => ({ ...w, id: 'id', createdAt: 0 });

export const watchesCrudScenario: Scenario = {
  name: 'watches-crud',
  description: 'watches.add + watches.list through the Watch entity vs the SQL the router ran before',
  async run(ctx: BenchContext) {
    // Each request gets its own fork, as the HTTP context gives each request.
    const fork = () => ctx.orm.em.fork();
    const newUser = async (name: string) => {
      const [row] = await fork().execute<{ id: string }[]>('insert into users (name) values (?) returning id', [name]);
      return row!.id;
    };

    // Both paths must answer alike before their times mean anything.
    const [sqlUser, ormUser] = [await newUser('check-sql'), await newUser('check-orm')];
    for (let n = 0; n < 4; n++) {
      const a = await addWatchSql(fork(), sqlUser, watchInput(n));
      const b = await addWatch(fork(), ormUser, watchInput(n));
      const again = await addWatch(fork(), ormUser, watchInput(n));
      if (!isDeepStrictEqual(shape(a.watch), shape(b.watch)) || a.created !== b.created || again.created) {
        throw new Error(`watches-crud: the two paths answer differently for input ${n}`);
      }
    }
    const [la, lb] = [await listWatchesSql(fork(), sqlUser), await listWatches(fork(), ormUser)];
    if (!isDeepStrictEqual(la.map(shape), lb.map(shape))) throw new Error('watches-crud: the lists differ');

    /** One run: PAIRS_PER_RUN × (add a new watch, list), each call a request of its own. */
    const newWatches = (prefix: string, add: AddFn, list: ListFn) => {
      let n = 0;
      let userId = '';
      return async () => {
        let listed = 0;
        let cpu = 0;
        for (let i = 0; i < PAIRS_PER_RUN; i++, n++) {
          // A new user is set up outside the measured CPU time (it is the same for both paths).
          if (n % WATCHES_PER_USER === 0) userId = await newUser(`${prefix}-${n}`);
          const before = process.cpuUsage();
          await add(fork(), userId, watchInput(n));
          listed += (await list(fork(), userId)).length;
          cpu += cpuMs(before);
        }
        return { listedPerPair: listed / PAIRS_PER_RUN, cpuMsPerPair: cpu / PAIRS_PER_RUN };
      };
    };
    await ctx.compare({
      case: `new watch + list (users of up to ${WATCHES_PER_USER}), ${PAIRS_PER_RUN} pairs/run`,
      variants: [
        { name: 'old: SQL', run: newWatches('sql', addWatchSql, listWatchesSql) },
        { name: 'ours: Watch entity', run: newWatches('orm', addWatch, listWatches) },
      ],
    });

    /** The idempotent add (the watch exists: created false) and the list of a user's watches. */
    const existing = async (prefix: string, add: AddFn) => {
      const userId = await newUser(prefix);
      for (let n = 0; n < EXISTING_WATCHES; n++) await add(fork(), userId, watchInput(n));
      return userId;
    };
    const sqlExisting = await existing('sql-existing', addWatchSql);
    const ormExisting = await existing('orm-existing', addWatch);
    const existingRun = (userId: string, add: AddFn, list: ListFn) => async () => {
      const before = process.cpuUsage();
      for (let i = 0; i < PAIRS_PER_RUN; i++) {
        const { created } = await add(fork(), userId, watchInput(i % EXISTING_WATCHES));
        if (created) throw new Error('watches-crud: an existing watch was added again');
        await list(fork(), userId);
      }
      return { cpuMsPerPair: cpuMs(before) / PAIRS_PER_RUN };
    };
    await ctx.compare({
      case: `existing watch + list of ${EXISTING_WATCHES}, ${PAIRS_PER_RUN} pairs/run`,
      variants: [
        { name: 'old: SQL', run: existingRun(sqlExisting, addWatchSql, listWatchesSql) },
        { name: 'ours: Watch entity', run: existingRun(ormExisting, addWatch, listWatches) },
      ],
    });
  },
};

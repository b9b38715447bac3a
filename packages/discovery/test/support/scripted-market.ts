import type { ServerResponse } from 'node:http';
import { getMarket } from '@dropwatch/core';
import { afterAll, beforeAll } from 'vitest';
import { ResyProvider, type ProviderBucket, type ResyProviderOptions } from '../../src/index.js';
import { flatHit, sendJson, startFakeResy, type RecordedRequest } from './fake-resy.js';

/** A venue of the scripted market: where it is and which local starts it offers (both party sizes). */
export interface ScriptedVenue {
  readonly id: number;
  readonly lat: number;
  readonly lng: number;
  starts: string[];
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * A small Resy on 127.0.0.1 whose venues each test edits: the venue search filtered by bounding
 * box, day and [time_filter − 30 min, time_filter + 30 min), ranked by slot count, paged with
 * `total_pages`; and `/4/find` with a venue's whole day. `emptyFilter` makes the searches of one
 * time filter answer an empty page (a partial outage of one call), `emptyNext` the next n searches
 * of one; `findFails` makes `/4/find` answer 500; `beforeSearch` sees each search before it is
 * answered.
 */
export async function startScriptedMarket() {
  const venues = new Map<number, ScriptedVenue>();
  const state = {
    emptyFilter: null as string | null,
    emptyNext: null as { filter: string; count: number } | null,
    emptyAnswers: 0,
    searchHidden: new Set<number>(),
    /** `/4/find` answers 500 while set. */
    findFails: false,
    /** Awaited with each search's body before it is answered (a test moves the ranking mid-read). */
    beforeSearch: null as ((body: RecordedRequest['body']) => Promise<void>) | null,
  };
  const search = async (req: RecordedRequest, res: ServerResponse) => {
    const { page, per_page: perPage, slot_filter: filter, geo } = req.body;
    await state.beforeSearch?.(req.body);
    const next = state.emptyNext;
    if (state.emptyFilter === filter.time_filter || (next && next.filter === filter.time_filter && next.count > 0)) {
      if (next && next.filter === filter.time_filter) next.count--;
      state.emptyAnswers++;
      return sendJson(res, 200, { search: { hits: [] } });
    }
    const [s, w, n, e] = geo.bounding_box as [number, number, number, number];
    const t = minutes(filter.time_filter);
    const matching = [...venues.values()]
      .filter((v) => !state.searchHidden.has(v.id) && v.lat >= s && v.lat < n && v.lng >= w && v.lng < e)
      .map((v) => ({
        v,
        starts: v.starts.filter(
          (st) =>
            st.startsWith(filter.day) &&
            Math.abs(minutes(st.slice(11, 16)) - t) <= 30 &&
            minutes(st.slice(11, 16)) - t < 30,
        ),
      }))
      .filter((x) => x.starts.length > 0)
      .sort((a, b) => b.starts.length - a.starts.length || a.v.id - b.v.id);
    const hits = matching
      .slice((page - 1) * perPage, page * perPage)
      .map((x) => flatHit(x.v.id, `Venue ${x.v.id}`, x.starts));
    sendJson(res, 200, {
      search: { hits, nbHits: matching.length, pagination: { total_pages: Math.ceil(matching.length / perPage) } },
    });
  };
  const find = (req: RecordedRequest, res: ServerResponse) => {
    if (state.findFails) return sendJson(res, 500, { message: 'find is down' });
    const url = new URL(req.path, 'http://x');
    const v = venues.get(Number(url.searchParams.get('venue_id')));
    const day = url.searchParams.get('day') ?? '';
    if (!v) return sendJson(res, 200, { results: { venues: [] } });
    const hit = flatHit(
      v.id,
      `Venue ${v.id}`,
      v.starts.filter((st) => st.startsWith(day)),
    );
    sendJson(res, 200, { results: { venues: [{ venue: hit, slots: hit.availability?.slots ?? [] }] } });
  };
  const fake = await startFakeResy((req, res) => {
    if (req.path.startsWith('/4/find')) find(req, res);
    else void search(req, res);
  });
  return { ...fake, venues, state };
}

/**
 * A scripted market for one file's tests, started before them and closed after: one 20:30 bucket
 * on a fixed day, a Resy provider on it with pages of 20, and helpers to place venues.
 */
export function useScriptedBucket() {
  const day = '2030-01-05';
  const nyc = getMarket('nyc');
  const bucket: ProviderBucket = { bucketId: `nyc_${day}_20:30`, market: nyc, date: day, timeSlot: '20:30' };
  const [south, west] = nyc.boundingBox;
  let started: Awaited<ReturnType<typeof startScriptedMarket>> | undefined;
  beforeAll(async () => {
    started = await startScriptedMarket();
  });
  afterAll(async () => {
    await started?.close();
  });
  const market = () => started!;
  return {
    day,
    bucket,
    market,
    provider: (options: Partial<ResyProviderOptions> = {}) =>
      new ResyProvider({
        baseUrl: market().url,
        apiKey: 'k',
        perPage: 20,
        maxPages: 10,
        maxRps: 1_000,
        timeoutMs: 2_000,
        retryBaseMs: 5,
        ...options,
      }),
    /** A venue at a grid point of the market's south-west corner (50 a row) with these local starts. */
    place: (id: number, starts: string[]) =>
      market().venues.set(id, {
        id,
        lat: south + 0.001 * (id % 50),
        lng: west + 0.001 * Math.floor(id / 50),
        starts,
      }),
    /** The bucket day's local start at HH:MM. */
    at: (hhmm: string) => `${day} ${hhmm}:00`,
  };
}

import { afterEach, describe, expect, it } from 'vitest';
import { getMarket } from '@dropwatch/core';
import {
  FakeResyMarket,
  MAX_OPENING_MS,
  SLOT_TIMES,
  startFakeResyMarket,
  timeToMinutes,
  type FakeResyHandle,
} from '../src/fake-resy/index.js';

const EPOCH = Date.parse('2026-12-01T14:00:00Z'); // 09:00 in New York
const AT = EPOCH + 3_600_000;
const NYC_BOX = getMarket('nyc').boundingBox;
const HEADERS = { authorization: 'ResyAPI api_key="test"', 'user-agent': 'vitest', 'content-type': 'application/json' };

interface Slot {
  date: { start: string };
  config: { id: number; token: string; type: string };
}
interface Hit {
  id: { resy: number };
  name: string;
  location: { neighborhood: string; latitude: number; longitude: number };
  availability: { slots: Slot[] };
}
interface SearchAnswer {
  search: { hits: Hit[]; nbHits?: number; pagination?: { total_pages: number } };
}

const handles: FakeResyHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

async function start(options: Partial<Parameters<typeof startFakeResyMarket>[0]> = {}): Promise<FakeResyHandle> {
  const h = await startFakeResyMarket({ seed: 7, venues: 300, epochMs: EPOCH, now: () => AT, ...options });
  handles.push(h);
  return h;
}

function body(
  day: string,
  partySize: number,
  time: string,
  extra: { page?: number; per_page?: number; box?: readonly number[] } = {},
) {
  return {
    availability: true,
    page: extra.page ?? 1,
    per_page: extra.per_page ?? 100,
    slot_filter: { day, party_size: partySize, time_filter: time },
    types: ['venue'],
    order_by: 'availability',
    geo: { bounding_box: [...(extra.box ?? NYC_BOX)] },
    query: '',
  };
}

async function search(h: FakeResyHandle, b: unknown): Promise<SearchAnswer> {
  const res = await fetch(`${h.url}/3/venuesearch/search`, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify(b),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as SearchAnswer;
}

const today = (m: FakeResyMarket, at = AT) => m.localDate(at);

describe('fake Resy market model', () => {
  it('is a pure function of seed, epoch and instant', () => {
    const a = new FakeResyMarket({ seed: 7, venues: 300, epochMs: EPOCH });
    const b = new FakeResyMarket({ seed: 7, venues: 300, epochMs: EPOCH });
    const c = new FakeResyMarket({ seed: 8, venues: 300, epochMs: EPOCH });
    const q = { date: today(a), partySize: 2, timeFilter: '20:30', boundingBox: NYC_BOX };
    const ids = (m: FakeResyMarket) => m.search(q, AT).map((h) => `${h.venue.venueId}@${h.times.join(',')}`);
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a)).not.toEqual(ids(c));
    // Query order does not matter: b asked for a later instant first.
    b.openings(AT + 600_000, AT + 700_000);
    expect(b.openings(AT, AT + 120_000)).toEqual(a.openings(AT, AT + 120_000));
  });

  it('clusters venues so that a uniform split of the box is uneven', () => {
    const m = new FakeResyMarket({ seed: 7, venues: 2000, epochMs: EPOCH });
    const [south, west, north, east] = NYC_BOX;
    const counts = new Map<string, number>();
    for (const v of m.venues) {
      expect(v.lat).toBeGreaterThanOrEqual(south);
      expect(v.lat).toBeLessThanOrEqual(north);
      expect(v.lng).toBeGreaterThanOrEqual(west);
      expect(v.lng).toBeLessThanOrEqual(east);
      const key = `${Math.floor(((v.lat - south) / (north - south)) * 4)},${Math.floor(((v.lng - west) / (east - west)) * 4)}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const cells = Array.from({ length: 16 }, (_, i) => counts.get(`${Math.floor(i / 4)},${i % 4}`) ?? 0);
    expect(Math.max(...cells)).toBeGreaterThan(500); // > 4× the uniform 125
    expect(Math.min(...cells)).toBeLessThan(30);
    const hard = m.venues.filter((v) => v.kind === 'hard').length / m.venues.length;
    expect(hard).toBeGreaterThan(0.25);
    expect(hard).toBeLessThan(0.35);
  });

  it('starts about 2 openings a second at 300 venues, shorter than 5 min, most of them near the date', () => {
    const m = new FakeResyMarket({ seed: 7, venues: 300, epochMs: EPOCH });
    const from = AT;
    const to = AT + 1_800_000;
    const started = m.openings(from, to).filter((o) => o.startMs >= from && o.startMs <= to);
    expect(started.length / 1800).toBeGreaterThan(1.7);
    expect(started.length / 1800).toBeLessThan(2.3);
    const durations = started.map((o) => o.endMs - o.startMs);
    expect(Math.min(...durations)).toBeGreaterThanOrEqual(60_000);
    expect(Math.max(...durations)).toBeLessThanOrEqual(MAX_OPENING_MS);
    expect(durations.filter((d) => d <= 120_000).length / durations.length).toBeGreaterThan(0.85);
    const d0 = today(m);
    const onDay = (offset: number) =>
      started.filter((o) => Date.parse(o.date) - Date.parse(d0) === offset * 86_400_000).length;
    expect(onDay(0) + onDay(1)).toBeGreaterThan(5 * (onDay(9) + onDay(10)));
    for (const o of started) {
      expect(m.venue(o.venueId)?.kind).toBe('hard');
      expect(SLOT_TIMES).toContain(o.time);
      expect(o.partySizes.length).toBeGreaterThan(0);
    }
    const big = new FakeResyMarket({ seed: 7, venues: 2000, epochMs: EPOCH });
    const bigStarted = big.openings(from, from + 600_000).filter((o) => o.startMs >= from).length / 600;
    expect(bigStarted).toBeGreaterThan(11);
    expect(bigStarted).toBeLessThan(15.5);
  });

  it('keeps regular slots steady: few of them change within a minute', () => {
    const m = new FakeResyMarket({ seed: 7, venues: 300, epochMs: EPOCH });
    const q = { date: today(m), partySize: 2, timeFilter: '20:30', boundingBox: NYC_BOX };
    const regular = (at: number) =>
      new Set(
        m
          .search(q, at)
          .flatMap((h) => (h.venue.kind === 'regular' ? h.times.map((t) => `${h.venue.venueId}@${t}`) : [])),
      );
    const before = regular(AT);
    const after = regular(AT + 60_000);
    expect(before.size).toBeGreaterThan(100);
    const changed = [...before].filter((s) => !after.has(s)).length + [...after].filter((s) => !before.has(s)).length;
    expect(changed).toBeLessThan(5);
    for (const s of before) {
      const [venueId = '', time = ''] = s.split('@');
      expect(m.isRegularBookable(venueId, q.date, time, AT, 2)).toBe(true);
    }
  });

  it('answers exactly the ground truth at an instant: every active opening is found, every hard-venue slot is an opening', () => {
    const m = new FakeResyMarket({ seed: 7, venues: 300, epochMs: EPOCH });
    const active = m.activeOpenings(AT);
    expect(active.length).toBeGreaterThan(50);
    for (const o of active) {
      for (const size of o.partySizes) {
        const hit = m
          .search({ date: o.date, partySize: size, timeFilter: o.time, boundingBox: NYC_BOX }, AT)
          .find((h) => h.venue.venueId === o.venueId);
        expect(hit?.times).toContain(o.time);
        expect(m.isBookable(o.venueId, o.date, o.time, AT, size)).toBe(true);
      }
      expect(m.isBookable(o.venueId, o.date, o.time, o.endMs)).toBe(
        m.activeOpenings(o.endMs).some((x) => x.venueId === o.venueId && x.date === o.date && x.time === o.time),
      );
    }
    for (const date of [today(m), m.localDate(AT + 86_400_000)]) {
      for (const h of m.search({ date, partySize: 2, timeFilter: '20:30', boundingBox: NYC_BOX }, AT)) {
        if (h.venue.kind !== 'hard') continue;
        for (const t of h.times)
          expect(
            active.some(
              (o) => o.venueId === h.venue.venueId && o.date === date && o.time === t && o.partySizes.includes(2),
            ),
          ).toBe(true);
      }
    }
  });
});

describe('fake Resy HTTP server', () => {
  it('answers the same JSON from two instances with the same seed and epoch', async () => {
    const [a, b] = [await start(), await start()];
    const q = body(today(a.market), 2, '20:30');
    expect(await search(a, q)).toEqual(await search(b, q));
  });

  it('filters by bounding box and the [t − 30, t + 30) window', async () => {
    const h = await start();
    const box = [40.7, -74.02, 40.74, -73.98] as const;
    const all = await search(h, body(today(h.market), 2, '20:30', { per_page: 500 }));
    const some = await search(h, body(today(h.market), 2, '20:30', { per_page: 500, box }));
    expect(some.search.hits.length).toBeGreaterThan(10);
    expect(some.search.hits.length).toBeLessThan(all.search.hits.length);
    for (const hit of some.search.hits) {
      expect(hit.location.latitude).toBeGreaterThanOrEqual(box[0]);
      expect(hit.location.latitude).toBeLessThanOrEqual(box[2]);
      expect(hit.location.longitude).toBeGreaterThanOrEqual(box[1]);
      expect(hit.location.longitude).toBeLessThanOrEqual(box[3]);
    }
    const times = new Set(all.search.hits.flatMap((x) => x.availability.slots.map((s) => s.date.start.slice(11, 16))));
    expect([...times].sort()).toEqual(['20:00', '20:15', '20:30', '20:45']);
  });

  it('ranks by matching slots then popularity, pages by per_page and reports total_pages', async () => {
    const h = await start();
    const day = today(h.market);
    const full = await search(h, body(day, 2, '20:30', { per_page: 500 }));
    const n = full.search.hits.length;
    expect(n).toBeGreaterThan(150);
    const counts = full.search.hits.map((x) => x.availability.slots.length);
    expect(counts).toEqual([...counts].sort((x, y) => y - x));
    const pages: Hit[] = [];
    const first = await search(h, body(day, 2, '20:30', { per_page: 40 }));
    expect(first.search.pagination?.total_pages).toBe(Math.ceil(n / 40));
    expect(first.search.nbHits).toBe(n);
    for (let page = 1; page <= Math.ceil(n / 40); page++)
      pages.push(...(await search(h, body(day, 2, '20:30', { per_page: 40, page }))).search.hits);
    expect(pages.map((x) => x.id.resy)).toEqual(full.search.hits.map((x) => x.id.resy));
    expect((await search(h, body(day, 2, '20:30', { per_page: 40, page: Math.ceil(n / 40) + 1 }))).search.hits).toEqual(
      [],
    );
    expect(h.stats().searchRequests).toBe(3 + Math.ceil(n / 40));
  });

  it('serves /4/find with all of a venue’s slots that day, and no venue for an unknown id', async () => {
    const h = await start();
    const day = today(h.market);
    const regular = h.market.venues.find((v) => v.kind === 'regular')!;
    const res = await fetch(`${h.url}/4/find?venue_id=${regular.resyId}&day=${day}&party_size=2&lat=0&long=0`, {
      headers: HEADERS,
    });
    const json = (await res.json()) as { results: { venues: { venue: { id: { resy: number } }; slots: Slot[] }[] } };
    expect(json.results.venues).toHaveLength(1);
    expect(json.results.venues[0]!.venue.id.resy).toBe(regular.resyId);
    const times = json.results.venues[0]!.slots.map((s) => s.date.start.slice(11, 16));
    expect(times.length).toBeGreaterThan(8);
    expect(Math.max(...times.map(timeToMinutes)) - Math.min(...times.map(timeToMinutes))).toBeGreaterThan(120);
    for (const t of times) expect(h.market.isBookable(regular.venueId, day, t, AT, 2)).toBe(true);
    const none = await fetch(`${h.url}/4/find?venue_id=1&day=${day}&party_size=2&lat=0&long=0`, { headers: HEADERS });
    expect(await none.json()).toEqual({ results: { venues: [] } });
    expect(h.stats().findRequests).toBe(2);
  });

  it('refuses a missing api key (419) or user-agent (500), and rejects bursts above 1.5 × rejectAboveRps', async () => {
    const h = await start({ rejectAboveRps: 4 });
    const q = JSON.stringify(body(today(h.market), 2, '20:30'));
    const url = `${h.url}/3/venuesearch/search`;
    expect((await fetch(url, { method: 'POST', body: q, headers: { 'user-agent': 'x' } })).status).toBe(419);
    const noUa = await fetch(url, {
      method: 'POST',
      body: q,
      headers: { authorization: HEADERS.authorization, 'user-agent': '' },
    });
    expect(noUa.status).toBe(500);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => fetch(url, { method: 'POST', body: q, headers: HEADERS }).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(6); // the clock is pinned: all in one second
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    expect(h.stats()).toMatchObject({ refused: 2, rejected: 4, searchRequests: 6 });
    expect(h.requestsBetween(AT, AT + 1)).toBe(10);
  });

  it('answers about emptyCallShare of the search calls with an empty page', async () => {
    const h = await start({ emptyCallShare: 1 / 7 });
    const q = body(today(h.market), 2, '20:30', { per_page: 20 });
    let empty = 0;
    for (let i = 0; i < 700; i++) if ((await search(h, q)).search.hits.length === 0) empty++;
    expect(empty).toBe(h.stats().emptyAnswers);
    expect(empty).toBeGreaterThan(70);
    expect(empty).toBeLessThan(130);
  });
});

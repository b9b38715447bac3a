import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { unit } from './hash.js';
import { FakeResyMarket, type FakeMarketOptions, type VenueSlots } from './market.js';
import { Stream, type FakeVenue } from './venues.js';

export interface FakeResyServerOptions extends FakeMarketOptions {
  /** Share of search calls answered with an empty 200 page although venues match (0 = none). */
  readonly emptyCallShare?: number | undefined;
  /** Answer 429 once more than 1.5 × this many requests arrive within one wall-clock second. */
  readonly rejectAboveRps?: number | undefined;
  /** The market's clock (tests pin it). */
  readonly now?: (() => number) | undefined;
  /** Called with every search answered (for a bench's dump): when, what was asked, the venue ids sent. */
  readonly onSearch?: ((entry: SearchLogEntry) => void) | undefined;
}

export interface SearchLogEntry {
  readonly at: number;
  readonly date: string;
  readonly partySize: number;
  readonly timeFilter: string;
  readonly box: readonly number[];
  readonly page: number;
  /** Empty on purpose (emptyCallShare). */
  readonly empty: boolean;
  readonly nbHits: number;
  readonly venueIds: readonly string[];
}

export interface FakeResyStats {
  readonly searchRequests: number;
  readonly findRequests: number;
  /** Search calls answered empty on purpose (emptyCallShare). */
  readonly emptyAnswers: number;
  /** Requests answered 429 (rejectAboveRps). */
  readonly rejected: number;
  /** Requests refused for a missing api key (419) or user-agent (500). */
  readonly refused: number;
  /** Requests (of both endpoints) per wall-clock second, keyed by floor(ms / 1000). */
  readonly perSecond: ReadonlyMap<number, number>;
}

export interface FakeResyHandle {
  readonly url: string;
  readonly market: FakeResyMarket;
  stats(): FakeResyStats;
  /** Requests (both endpoints) that arrived in [fromMs, toMs). */
  requestsBetween(fromMs: number, toMs: number): number;
  close(): Promise<void>;
}

/** Search bodies are small; anything larger is refused. */
const MAX_BODY_BYTES = 64 * 1024;
const AUTH = /^ResyAPI api_key="[^"]+"$/;

/** Serves a FakeResyMarket on 127.0.0.1 (a free port) as Resy's /3/venuesearch/search and /4/find. */
export async function startFakeResyMarket(options: FakeResyServerOptions): Promise<FakeResyHandle> {
  const market = new FakeResyMarket(options);
  const now = options.now ?? Date.now;
  const emptyShare = options.emptyCallShare ?? 0;
  const counters = { searchRequests: 0, findRequests: 0, emptyAnswers: 0, rejected: 0, refused: 0 };
  const perSecond = new Map<number, number>();
  const times: number[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const at = now();
    const url = new URL(req.url ?? '/', 'http://fake-resy');
    const isSearch = req.method === 'POST' && url.pathname === '/3/venuesearch/search';
    const isFind = req.method === 'GET' && url.pathname === '/4/find';
    if (!isSearch && !isFind) return sendJson(res, 404, { message: 'not found' });
    if (!AUTH.test(req.headers.authorization ?? '')) {
      counters.refused++;
      return sendJson(res, 419, { message: 'Unauthorized' });
    }
    if (!req.headers['user-agent']) {
      counters.refused++;
      return sendJson(res, 500, { message: 'Internal Server Error' });
    }
    const second = Math.floor(at / 1000);
    const inSecond = (perSecond.get(second) ?? 0) + 1;
    perSecond.set(second, inSecond);
    times.push(at);
    if (options.rejectAboveRps !== undefined && inSecond > 1.5 * options.rejectAboveRps) {
      counters.rejected++;
      return sendJson(res, 429, { message: 'Too Many Requests' }, { 'retry-after': '1' });
    }
    if (isFind) {
      counters.findRequests++;
      return answerFind(market, url, at, res);
    }
    counters.searchRequests++;
    let parsed: SearchBody;
    try {
      parsed = parseSearchBody(body);
    } catch (err) {
      return sendJson(res, 400, { message: err instanceof Error ? err.message : 'bad request' });
    }
    // Decided by the call's ordinal: the same share of calls, whatever they ask.
    const { date, partySize, timeFilter, boundingBox: box } = parsed.query;
    if (emptyShare > 0 && unit(market.seed, Stream.EmptyCall, counters.searchRequests) < emptyShare) {
      counters.emptyAnswers++;
      options.onSearch?.({
        at,
        date,
        partySize,
        timeFilter,
        box,
        page: parsed.page,
        empty: true,
        nbHits: 0,
        venueIds: [],
      });
      return sendJson(res, 200, { search: { hits: [] } });
    }
    const hits = market.search(parsed.query, at);
    const totalPages = Math.ceil(hits.length / parsed.perPage);
    const page = hits.slice((parsed.page - 1) * parsed.perPage, parsed.page * parsed.perPage);
    options.onSearch?.({
      ...{ at, date, partySize, timeFilter, box, page: parsed.page, empty: false, nbHits: hits.length },
      venueIds: page.map((h) => h.venue.venueId),
    });
    sendJson(res, 200, {
      search: {
        hits: page.map((h) => flatHit(h, parsed.query.date, parsed.query.partySize)),
        nbHits: hits.length,
        pagination: { total_pages: totalPages, page: parsed.page, per_page: parsed.perPage },
      },
    });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return sendJson(res, 413, { message: 'body too large' });
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    market,
    stats: () => ({ ...counters, perSecond: new Map(perSecond) }),
    requestsBetween: (fromMs, toMs) => times.filter((t) => t >= fromMs && t < toMs).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface SearchBody {
  readonly page: number;
  readonly perPage: number;
  readonly query: { date: string; partySize: number; timeFilter: string; boundingBox: readonly number[] };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const HH_MM = /^\d{2}:\d{2}$/;

function parseSearchBody(raw: string): SearchBody {
  const b = JSON.parse(raw || '{}') as {
    page?: unknown;
    per_page?: unknown;
    slot_filter?: { day?: unknown; party_size?: unknown; time_filter?: unknown };
    geo?: { bounding_box?: unknown };
  };
  const page = typeof b.page === 'number' && Number.isInteger(b.page) && b.page >= 1 ? b.page : 1;
  const perPage =
    typeof b.per_page === 'number' && Number.isInteger(b.per_page) && b.per_page >= 1 ? Math.min(b.per_page, 500) : 20;
  const day = b.slot_filter?.day;
  const partySize = b.slot_filter?.party_size;
  const timeFilter = b.slot_filter?.time_filter;
  const box = b.geo?.bounding_box;
  if (typeof day !== 'string' || !DAY.test(day)) throw new Error('slot_filter.day must be YYYY-MM-DD');
  if (typeof partySize !== 'number') throw new Error('slot_filter.party_size must be a number');
  if (typeof timeFilter !== 'string' || !HH_MM.test(timeFilter))
    throw new Error('slot_filter.time_filter must be HH:MM');
  const boundingBox =
    Array.isArray(box) && box.length === 4 && box.every((x) => typeof x === 'number') ? box : [-90, -180, 90, 180];
  return { page, perPage, query: { date: day, partySize, timeFilter, boundingBox } };
}

function answerFind(market: FakeResyMarket, url: URL, at: number, res: ServerResponse): void {
  const venueId = Number(url.searchParams.get('venue_id'));
  const day = url.searchParams.get('day') ?? '';
  const partySize = Number(url.searchParams.get('party_size'));
  if (!DAY.test(day) || !Number.isInteger(partySize))
    return sendJson(res, 400, { message: 'day and party_size are required' });
  const found = Number.isInteger(venueId) ? market.find(venueId, day, partySize, at) : null;
  if (!found) return sendJson(res, 200, { results: { venues: [] } });
  sendJson(res, 200, {
    results: { venues: [{ venue: venueBody(found.venue), slots: slotsBody(found, day, partySize) }] },
  });
}

function venueBody(v: FakeVenue) {
  return {
    id: { resy: v.resyId },
    name: v.name,
    url_slug: v.urlSlug,
    location: { neighborhood: v.neighborhood, latitude: v.lat, longitude: v.lng },
  };
}

/** A hit in the flat shape (id, name, … and availability.slots beside them). */
function flatHit(h: VenueSlots, date: string, partySize: number) {
  return { ...venueBody(h.venue), availability: { slots: slotsBody(h, date, partySize) } };
}

function slotsBody(h: VenueSlots, date: string, partySize: number) {
  return h.times.map((t) => ({
    date: { start: `${date} ${t}:00`, end: `${date} ${t}:00` },
    size: { min: partySize, max: partySize },
    config: {
      id: h.venue.resyId * 100 + Number(t.slice(0, 2)),
      token: `rgs://resy/${h.venue.resyId}/1/${partySize}/${date}/${date}/${t}:00/${partySize}/Dining Room`,
      type: 'Dining Room',
    },
  }));
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

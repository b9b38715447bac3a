import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { RequestBudget } from '../../budget/request-budget.js';
import type {
  Provider,
  ProviderBucket,
  Snapshot,
  SnapshotSlot,
  VenueDay,
  VenueDayQuery,
  VenueInfo,
} from '../provider.js';
import { ProviderError } from '../provider.js';
import { collapsed } from '../../suspect-rules.js';
import { CallGuard, type BoxScan, type CallSlot } from './call-guard.js';
import { getVenueFind, postSearch, type ResyHttpOptions, type SearchCallStats } from './resy-http.js';
import { hitPosition, parseFindVenue, parseHit, slotSchema, totalPagesOf, type ParsedHit } from './resy-schema.js';
import { Tiling, TILINGS_MAX, type Box, type Point, type Tile, type TilingSeed } from './search-tiles.js';

export const RESY_PROVIDER_NAME = 'resy';
/** Hour filters around the anchor: anchor − 1 h, anchor, anchor + 1 h. */
const HOUR_OFFSETS = [-60, 0, 60] as const;
const RESY_SITE = 'https://resy.com';
/** A doubtful answer (see CallGuard.doubtful) is asked again at once at most this many times. */
export const SUSPECT_RETRIES = 2;
/** Venues with at most this many slots in a call are its tail: where drops happen (a venue that can drop has only the table that opened). */
export const TAIL_SLOTS = 1;
/**
 * A box is scanned whole at least this often; in between only its tail is read. The head it skips
 * holds venues with regular tables, which never drop; a venue that enters or leaves it shows in the
 * box's count and has the head read at once (countGap), as does a tail venue that moves up into it
 * unresolved (call-guard). What is left for the full scan is refreshing the head venues' own slots,
 * so it is long: in a large market a full scan is many pages, and at 5 min nearly every read was one.
 */
export const FULL_SCAN_EVERY_MS = 900_000;
/**
 * A call's last answer stands in for it in a poll that refreshes another party size for at most
 * this long; an older one is asked again. Longer than the slowest poll interval in a large market,
 * where halving a poll's cost matters most.
 */
export const CARRY_MAX_MS = 900_000;
/**
 * Venues that left a box's tail in one read and are told apart by one per-venue request each
 * (closed, or moved up into the unread head); with more, the box's next read is a full scan,
 * which is then cheaper.
 */
export const FIND_VANISHED_MAX = 3;
/** Calls whose last answer is kept for carrying (28 buckets × party sizes × hours, a few markets). */
const CARRIED_CALLS_MAX = 4_000;
/** Buckets whose last snapshot's slots are kept (28 buckets a market, a few markets, twice over). */
const RETURNED_BUCKETS_MAX = 1_000;

export interface ResyProviderOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly authToken?: string | undefined;
  readonly perPage: number;
  readonly maxPages: number;
  readonly maxRps: number;
  readonly timeoutMs: number;
  /** Share of the budget the fast lane may claim when both lanes wait (default 0). */
  readonly fastLaneShare?: number;
  /** Backoff base (tests shorten it). */
  readonly retryBaseMs?: number;
  readonly logger?: Logger | undefined;
}

interface MergedSlot {
  venueId: string;
  localStart: string;
  sizes: Set<number>;
  bookingUrl: string | null;
}

/** What one search call (party size × hour) of a poll collects. */
interface PollState {
  readonly bucket: ProviderBucket;
  readonly venues: Map<string, VenueInfo>;
  readonly slots: Map<string, MergedSlot>;
  readonly stats: SearchCallStats & {
    malformed: number;
    suspectCalls: number;
    truncatedCalls: number;
    tiles: number;
    doubtfulRetries: number;
    /** Venues gone from a tail read told apart by a per-venue request. */
    vanishedResolved: number;
    /** Tail reads made whole by reading their head instead (withHead). */
    headReads: number;
  };
  readonly commits: (() => void)[];
  /** `${venueId}|${localStart}` of every slot an answer of this poll showed (not carried). */
  readonly seen: Set<string>;
  readonly signal: AbortSignal;
}

/**
 * One box's answer: the hits of the pages read; whether the ranking went on past the cap
 * (truncated) or a page was missing (incomplete); the box's page count when known.
 */
interface BoxAnswer {
  readonly mode: 'full' | 'tail';
  readonly hits: readonly ParsedHit[];
  readonly truncated: boolean;
  readonly incomplete: boolean;
  readonly pages: number | undefined;
  /** The first page read (a tail read starts after the head it carries). */
  readonly firstPage?: number;
  /** Venues the ranking held, as its last page read said. */
  readonly total?: number | undefined;
  /**
   * The ranking moved while its pages were read (movedBetween): a venue may have crossed a page
   * boundary unseen, so absence from this answer does not mean closed.
   */
  readonly moved?: boolean;
}

interface BoxRequest {
  readonly state: PollState;
  readonly box: Box;
  readonly size: number;
  readonly time: string;
  /** Splits the box (told where the venues seen are and how many the box holds, when known). */
  readonly split: (seen: readonly ParsedHit[], expected: number | undefined) => Tile[] | null;
}

/** One call's last answer as the snapshot took it, carried into polls that refresh other calls. */
interface CallAnswer {
  readonly slots: readonly CallSlot[];
  readonly venues: readonly VenueInfo[];
  readonly at: number;
}

interface FetchedPage {
  readonly hits: ParsedHit[];
  readonly full: boolean;
  readonly totalPages: number | undefined;
  /** Venues the whole ranking holds, when the answer says. */
  readonly total: number | undefined;
  readonly exhausted: boolean;
  readonly empty: boolean;
}

/**
 * The Resy venue search as a Provider. A poll of a bucket is one search per party size × hour
 * filter; each search covers the market's bounding box with as many boxes as it needs to be
 * answered completely (search-tiles), and each box's answer passes the call guard (call-guard).
 * Hits merge by venue and start time. All-or-nothing: one failed call fails the poll (a partial
 * snapshot would close drops that are still open).
 *
 * Once every call of a bucket has answered, a poll refreshes the calls of one party size and
 * carries the others' last answers (at most CARRY_MAX_MS old), taking the party sizes in turn.
 * Most tables that open are offered at more than one party size, so such a slot is seen by
 * whichever of its calls is refreshed first: at the same request rate per bucket its wait is
 * halved, and the snapshot stays whole (a carried slot closes only once its own call is asked).
 */
export class ResyProvider implements Provider {
  readonly name = RESY_PROVIDER_NAME;
  readonly budget: RequestBudget;
  private readonly http: ResyHttpOptions;
  private readonly guard = new CallGuard();
  /** Per search call (bucket, party size, hour): its tiling. */
  private readonly tilings = new Map<string, Tiling>();
  /** Per (market, party size, hour): the latest tiling, the start of a new call's tiling. */
  private readonly seeds = new Map<string, TilingSeed>();
  /** Per search call (bucket, party size, hour): its last answer, carried while another size is asked. */
  private readonly answers = new Map<string, CallAnswer>();
  /**
   * Per bucket: the slots of the snapshot it last returned, and those the fast lane has seen since
   * (foldIntoCarried): what a carried answer may keep in the next snapshot.
   */
  private readonly returned = new Map<string, Set<string>>();
  /** Per bucket: how many rotating polls it has had (which party size is asked next). */
  private readonly turns = new Map<string, number>();
  /**
   * The minutes from a search's time filter to the slots it answers, least and most seen: a
   * per-venue answer (its whole day) stands in for a call only within them.
   */
  private window: { lo: number; hi: number } | undefined;

  constructor(private readonly options: ResyProviderOptions) {
    this.budget = new RequestBudget(options.maxRps, options.fastLaneShare ?? 0);
    this.http = {
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      authToken: options.authToken,
      timeoutMs: options.timeoutMs,
      budget: this.budget,
      retryBaseMs: options.retryBaseMs,
      logger: options.logger,
    };
  }

  callsPerPoll(partySizes: readonly number[], timeSlot: string): number {
    return partySizes.length * hourFilters(timeSlot).length;
  }

  async fetchSnapshot(bucket: ProviderBucket, partySizes: readonly number[], signal?: AbortSignal): Promise<Snapshot> {
    // One failed call aborts the others of this poll.
    const controller = new AbortController();
    const state: PollState = {
      bucket,
      venues: new Map(),
      slots: new Map(),
      stats: {
        requests: 0,
        retries: 0,
        malformed: 0,
        suspectCalls: 0,
        truncatedCalls: 0,
        tiles: 0,
        doubtfulRetries: 0,
        vanishedResolved: 0,
        headReads: 0,
      },
      commits: [],
      seen: new Set(),
      signal: signal ? AbortSignal.any([signal, controller.signal]) : controller.signal,
    };
    // Every request of the poll listens on it (tens at once in a split market).
    setMaxListeners(0, state.signal, controller.signal);
    const calls = partySizes.flatMap((size) => hourFilters(bucket.timeSlot).map((time) => ({ size, time })));
    const { fresh, carried, turn, partial } = this.planCalls(bucket, partySizes, calls);
    let answers: { key: string; answer: CallAnswer }[];
    try {
      answers = await Promise.all(fresh.map(({ size, time }) => this.searchCall(state, size, time)));
    } catch (err) {
      controller.abort();
      throw err;
    }
    for (const commit of state.commits) commit();
    for (const { key, answer } of answers) this.rememberCall(key, answer);
    for (const { size, key } of carried) {
      const answer = this.answers.get(key)!;
      for (const venue of answer.venues) if (!state.venues.has(venue.id)) state.venues.set(venue.id, venue);
      mergeSlots(state, size, answer.slots);
    }
    if (turn !== undefined) this.turns.set(bucket.bucketId, turn + 1);
    // What no answer showed is carried only to keep it open: a slot the bucket's last snapshot no
    // longer had (closed since, by the calls of another party size) would come back as a new drop.
    const returned = this.returned.get(bucket.bucketId);
    for (const key of state.slots.keys()) if (!state.seen.has(key) && !returned?.has(key)) state.slots.delete(key);
    // A snapshot the bucket-level guard will take as suspect is not applied: the bucket keeps
    // what it had, and so must this memory, or the next poll would drop those slots' carries.
    const keys = new Set(state.slots.keys());
    this.rememberReturned(
      bucket.bucketId,
      returned && collapsed(returned.size, keys.size) ? new Set([...returned, ...keys]) : keys,
    );
    const merged: SnapshotSlot[] = [...state.slots.values()].map((s) => ({
      venueId: s.venueId,
      localStart: s.localStart,
      partySizes: [...s.sizes].sort((a, b) => a - b),
      bookingUrl: s.bookingUrl,
    }));
    return { venues: state.venues, slots: merged, stats: state.stats, ...(partial && { partial }) };
  }

  /**
   * Which calls this poll asks and which it carries. With every call recently answered, one party
   * size's calls are asked, the sizes in turn. A size some of whose calls have no recent answer is
   * asked whole, the others carried. When no size has one (a first poll here: after a restart, or
   * of a bucket taken over from a replica that died) and the bucket has a baseline, one size is
   * asked and the snapshot is partial: the next poll then asks the other sizes and carries it. This
   * halves what taking over a dead replica's buckets costs, so they are all seen within its lease.
   */
  private planCalls(
    bucket: ProviderBucket,
    partySizes: readonly number[],
    calls: readonly { size: number; time: string }[],
  ): {
    fresh: { size: number; time: string }[];
    carried: { size: number; key: string }[];
    turn: number | undefined;
    partial: boolean;
  } {
    const now = Date.now();
    const keyed = calls.map((c) => ({ ...c, key: callKeyOf(bucket.bucketId, c.size, c.time) }));
    const all = { fresh: [...calls], carried: [], turn: undefined, partial: false };
    if (partySizes.length < 2) return all;
    const answered = (c: { key: string }) => {
      const a = this.answers.get(c.key);
      return a !== undefined && now - a.at < CARRY_MAX_MS;
    };
    const stale = new Set(keyed.filter((c) => !answered(c)).map((c) => c.size));
    let asked: ReadonlySet<number>;
    if (stale.size === 0 || (stale.size === partySizes.length && bucket.hasBaseline)) {
      asked = new Set([partySizes[(this.turns.get(bucket.bucketId) ?? 0) % partySizes.length]!]);
    } else if (stale.size < partySizes.length) {
      asked = stale;
    } else {
      return all;
    }
    // After asking one size, the next turn is the size after it.
    const one = asked.size === 1 ? [...asked][0]! : undefined;
    return {
      fresh: keyed.filter((c) => asked.has(c.size)).map(({ size, time }) => ({ size, time })),
      carried: keyed.filter((c) => !asked.has(c.size)).filter(answered),
      turn: one === undefined ? undefined : partySizes.indexOf(one),
      partial: keyed.some((c) => !asked.has(c.size) && !answered(c)),
    };
  }

  private rememberReturned(bucketId: string, keys: Set<string>): void {
    this.returned.delete(bucketId);
    this.returned.set(bucketId, keys);
    if (this.returned.size > RETURNED_BUCKETS_MAX) this.returned.delete(this.returned.keys().next().value!);
  }

  private rememberCall(key: string, answer: CallAnswer): void {
    this.answers.delete(key);
    this.answers.set(key, answer);
    if (this.answers.size > CARRIED_CALLS_MAX) this.answers.delete(this.answers.keys().next().value!);
    if (this.turns.size > CARRIED_CALLS_MAX) this.turns.delete(this.turns.keys().next().value!);
  }

  async fetchVenueDay(query: VenueDayQuery, signal?: AbortSignal): Promise<VenueDay> {
    const stats = { requests: 0, retries: 0, malformed: 0 };
    const resyId = Number(query.venueId.slice(RESY_PROVIDER_NAME.length + 1));
    if (!query.venueId.startsWith(`${RESY_PROVIDER_NAME}:`) || !Number.isSafeInteger(resyId) || resyId <= 0) {
      throw new ProviderError('malformed', 'resy find: not a resy venue id', { retryable: false });
    }
    const res = await getVenueFind(
      this.http,
      { venueId: resyId, day: query.date, partySize: query.partySize },
      stats,
      signal,
    );
    const raw = res.results.venues[0];
    if (raw === undefined) return { venue: null, slots: [], stats };
    const hit = parseFindVenue(raw);
    if (!hit) return { venue: null, slots: [], stats: { ...stats, malformed: 1 } };
    const venue = venueInfo(query.market.locationSlug, hit);
    const slots: SnapshotSlot[] = [];
    for (const s of callSlots(venue, hit, query.partySize, stats)) {
      // /4/find answers the whole day; a slot of another day is not this query's.
      if (s.localStart.startsWith(query.date)) slots.push({ ...s, partySizes: [query.partySize] });
    }
    this.foldIntoCarried(query, venue, slots);
    return { venue, slots, stats };
  }

  /**
   * A venue's day for one party size, fresher than the calls of that size last answered: it
   * replaces what those answers said of the venue, within each call's window. A poll that asks
   * the other party size carries these answers, and one that predates a table the fast lane has
   * just seen would otherwise close that table's drop (the table is in the bucket, the carried
   * answer does not have it). Skipped until the window is learned.
   */
  private foldIntoCarried(query: VenueDayQuery, venue: VenueInfo | null, slots: readonly SnapshotSlot[]): void {
    const { window } = this;
    if (!window) return;
    const venueId = venue?.id ?? query.venueId;
    const bucketPrefix = `${query.market.slug}_${query.date}_`;
    for (const [key, answer] of this.answers) {
      const [bucketId = '', size, time = ''] = key.split('|');
      if (Number(size) !== query.partySize || !bucketId.startsWith(bucketPrefix)) continue;
      const inWindow = slots.filter((s) => answersFor(window, time, s.localStart));
      if (inWindow.length === 0 && !answer.slots.some((s) => s.venueId === venueId)) continue;
      for (const s of inWindow) this.returned.get(bucketId)?.add(`${venueId}|${s.localStart}`);
      this.answers.set(key, {
        ...answer,
        slots: [
          ...answer.slots.filter((s) => s.venueId !== venueId),
          ...inWindow.map((s) => ({ venueId, localStart: s.localStart, bookingUrl: s.bookingUrl ?? null })),
        ],
        venues:
          venue && inWindow.length > 0 && !answer.venues.some((v) => v.id === venue.id)
            ? [...answer.venues, venue]
            : answer.venues,
      });
    }
  }

  /** One (party size, hour) search over the call's boxes, splitting any box that truncates. */
  private async searchCall(state: PollState, size: number, time: string): Promise<{ key: string; answer: CallAnswer }> {
    const { bucket } = state;
    const callKey = callKeyOf(bucket.bucketId, size, time);
    const taken: CallSlot[] = [];
    const tiling = this.tilingFor(callKey, bucket.market.slug, bucket.market.boundingBox, size, time);
    const answered = new Map<string, number>();
    const capacity = this.options.perPage * this.options.maxPages;
    const now = Date.now();
    const searchBox = async (tile: Tile): Promise<void> => {
      const boxKey = `${callKey}|${tile.path}`;
      const known = this.guard.scanOf(boxKey);
      const tail = known !== undefined && known.pages > 1 && now - known.fullAt < FULL_SCAN_EVERY_MS;
      for (let attempt = 0; ; attempt++) {
        state.stats.tiles += 1;
        const request = {
          state,
          box: tile.box,
          size,
          time,
          split: (seen: readonly ParsedHit[], expected: number | undefined) =>
            tiling.split(tile, splitHint(seen, expected, capacity)),
        };
        let answer = tail ? await this.searchTail(request, known.pages) : await this.searchBox(request, known?.pages);
        if ('children' in answer) {
          await Promise.all(answer.children.map(searchBox));
          return;
        }
        // Venues of the box's last answer that left its tail: closed, or moved up into the head.
        const leftTail = answer.mode === 'tail' && !answer.incomplete ? this.leftTail(boxKey, answer, TAIL_SLOTS) : [];
        // The box's count of venues may tell what the tail read could not see (countGap).
        const gap = this.countGap(boxKey, known, answer, leftTail);
        let resolved: ReadonlyMap<string, readonly CallSlot[]> | undefined;
        if (gap === 0) resolved = new Map(leftTail.map((id) => [id, []]));
        else answer = (await this.withHead(request, answer, leftTail.length, false)) ?? answer;
        const slotCount = answer.hits.reduce((n, h) => n + h.slots.length, 0);
        // An empty or collapsed answer is often one bad answer: ask again before believing it. (A
        // tail answer is small by design; its pages are checked one by one instead.)
        if (
          answer.mode === 'full' &&
          attempt < SUSPECT_RETRIES &&
          this.guard.doubtful(boxKey, slotCount, tile.path.length > 0)
        ) {
          state.stats.doubtfulRetries += 1;
          continue;
        }
        // A tail read, or a full one whose ranking moved while it was read, cannot tell a venue
        // that is gone from one it did not see: those are asked one by one, or carried.
        if (partial(answer) && resolved === undefined) {
          const vanished = answer.mode === 'tail' ? leftTail : this.leftTail(boxKey, answer, Infinity);
          resolved = await this.resolveVanished(state, vanished, size, time);
        }
        // With every venue that left the tail told apart, a count that still does not add up means a
        // venue entered (or left) the head unseen: most likely a drop of several tables at once.
        if (
          answer.mode === 'tail' &&
          gap !== undefined &&
          gap !== 0 &&
          (leftTail.length === 0 || resolved !== undefined) &&
          gap !== [...(resolved?.values() ?? [])].filter((slots) => slots.length > 0).length
        ) {
          const whole = await this.withHead(request, answer, leftTail.length, true);
          if (whole && !whole.moved) [answer, resolved] = [whole, undefined];
        }
        if (answer.mode === 'full') answered.set(tile.path, answer.hits.length);
        const scan = {
          pages: answer.pages ?? known?.pages ?? 1,
          fullAt: answer.mode === 'full' && !answer.incomplete ? now : (known?.fullAt ?? 0),
          total: !answer.incomplete && !answer.truncated && answer.moved !== true ? answer.total : undefined,
        };
        taken.push(...this.takeBox(state, boxKey, size, time, answer, scan, resolved));
        return;
      }
    };
    await Promise.all(tiling.current().map(searchBox));
    if (answered.size > 0) tiling.settle(answered, capacity);
    this.seeds.set(`${bucket.market.slug}|${size}|${time}`, tiling.seed());
    const venueIds = new Set(taken.map((s) => s.venueId));
    const venues = [...venueIds].flatMap((id) => state.venues.get(id) ?? []);
    return { key: callKey, answer: { slots: taken, venues, at: now } };
  }

  private tilingFor(callKey: string, market: string, root: Box, size: number, time: string): Tiling {
    let tiling = this.tilings.get(callKey);
    if (!tiling) {
      tiling = new Tiling(root, this.seeds.get(`${market}|${size}|${time}`));
      if (this.tilings.size >= TILINGS_MAX) this.tilings.delete(this.tilings.keys().next().value!);
      this.tilings.set(callKey, tiling);
    }
    return tiling;
  }

  /**
   * One page of a box's ranking. A page after the first that comes back empty although the
   * count (or a full page before it) said it exists is asked again (SUSPECT_RETRIES times): one
   * bad page would otherwise cut off the end of the ranking, where the venues that drop sit.
   */
  private async fetchPage(
    req: BoxRequest,
    page: number,
    expectHits: boolean,
    granted?: Promise<void>,
  ): Promise<FetchedPage> {
    const { perPage } = this.options;
    for (let attempt = 0; ; attempt++) {
      const body = {
        availability: true,
        page,
        per_page: perPage,
        slot_filter: { day: req.state.bucket.date, party_size: req.size, time_filter: req.time },
        types: ['venue'],
        order_by: 'availability',
        geo: { bounding_box: [...req.box] },
        query: '',
      };
      const res = await postSearch(
        this.http,
        body,
        req.state.stats,
        req.state.bucket.lane ?? 'search',
        req.state.signal,
        attempt === 0 ? granted : undefined,
      );
      const count = totalPagesOf(res);
      const pastTheEnd = count !== undefined && page > count;
      if (res.search.hits.length === 0 && expectHits && !pastTheEnd && attempt < SUSPECT_RETRIES) {
        req.state.stats.doubtfulRetries += 1;
        continue;
      }
      const hits: ParsedHit[] = [];
      let exhausted = false;
      for (const raw of res.search.hits) {
        const hit = parseHit(raw);
        if (!hit) {
          req.state.stats.malformed += 1;
          continue;
        }
        if (hit.slots.length === 0) exhausted = true;
        hits.push(hit);
      }
      return {
        hits,
        full: res.search.hits.length >= perPage,
        totalPages: count,
        total: res.search.nbHits,
        exhausted,
        empty: res.search.hits.length === 0,
      };
    }
  }

  /**
   * A box's whole ranking: stops at the page count, on a short page, after a page with a hit
   * that has no slots (everything ranked after it has none either), or at maxPages. When the
   * ranking goes on past the cap, `split` is asked for the box's quadrants; with them the box's
   * own hits are dropped (the quadrants cover it), without (deepest tiling) the box answers
   * truncated. A page missing in the middle makes the answer incomplete.
   *
   * With the box's page count from its last read (`pagesHint`), those pages are asked all at once
   * on one grant of the budget: they leave together instead of each waiting behind the other
   * calls' pages, seconds apart in a busy poll, so the ranking has next to no time to move
   * between them (movedBetween). A page past the end of a ranking that shrank costs one request
   * and answers empty.
   */
  private async searchBox(req: BoxRequest, pagesHint?: number): Promise<BoxAnswer | { children: Tile[] }> {
    const { maxPages } = this.options;
    const asked = new Map<number, Promise<FetchedPage>>();
    const together = Math.min(pagesHint ?? 1, maxPages, this.budget.batchMax);
    if (together > 1) {
      const granted = this.budget.acquire(req.state.bucket.lane ?? 'search', req.state.signal, together);
      granted.catch(() => undefined);
      for (let page = 1; page <= together; page++) {
        const pending = this.fetchPage(req, page, page > 1, granted);
        // An early stop leaves some unread; their failures must not go unhandled.
        pending.catch(() => undefined);
        asked.set(page, pending);
      }
    }
    const hits: ParsedHit[] = [];
    let expected: number | undefined;
    let total: number | undefined;
    let moved = false;
    const answer = (
      pages: number | undefined,
      extra: { truncated?: boolean; incomplete?: boolean } = {},
    ): BoxAnswer => ({
      mode: 'full',
      hits: moved ? latestOfEach(hits) : hits,
      truncated: extra.truncated ?? false,
      incomplete: extra.incomplete ?? false,
      pages,
      total,
      moved,
    });
    for (let page = 1; page <= maxPages; page++) {
      const got = await (asked.get(page) ?? this.fetchPage(req, page, page > 1));
      if (page > 1 && movedBetween(hits, total, got)) moved = true;
      hits.push(...got.hits);
      total = got.total ?? total;
      if (page > 1 && got.empty && (expected === undefined || page <= expected)) {
        return answer(undefined, { incomplete: true });
      }
      expected = got.totalPages ?? expected;
      if (got.exhausted || !got.full) return answer(page);
      if (got.totalPages !== undefined && page >= got.totalPages) return answer(page);
      // The count already says the ranking runs past the cap: split now, not after maxPages.
      if (got.totalPages !== undefined && got.totalPages > maxPages) {
        const children = req.split(hits, this.venuesIn(got));
        if (children) return { children };
      }
    }
    const children = req.split(hits, undefined);
    return children ? { children } : answer(maxPages, { truncated: true });
  }

  /**
   * The tail of a box's ranking: the venues with at most TAIL_SLOTS slots, which the ranking (by
   * slot count) puts last, and which are where drops happen — a venue that can drop has no
   * regular slots, only the few tables that open. It starts at the page where the last full scan
   * ended, follows the count forward, and walks back until a page starts with a venue above
   * TAIL_SLOTS. Venues above it are carried from the box's last answer (call-guard); a full scan
   * every FULL_SCAN_EVERY_MS refreshes them. Without a page count it scans the whole box.
   */
  private async searchTail(req: BoxRequest, lastPages: number): Promise<BoxAnswer | { children: Tile[] }> {
    const { maxPages } = this.options;
    let page = Math.min(lastPages, maxPages);
    let got = await this.fetchPage(req, page, true);
    if (got.totalPages === undefined) return this.searchBox(req);
    if (got.totalPages > maxPages) {
      // Past the cap the tail is out of reach: split, or (deepest tiling) answer truncated.
      const children = req.split(got.hits, this.venuesIn(got));
      return children ? { children } : this.searchBox(req);
    }
    const total = Math.min(got.totalPages, maxPages);
    if (total === 0) return { mode: 'full', hits: [], truncated: false, incomplete: false, pages: 0 };
    if (got.empty && total < page) {
      // The ranking got shorter: its last page is earlier.
      page = total;
      got = await this.fetchPage(req, page, true);
    }
    if (got.empty) return { mode: 'tail', hits: [], truncated: false, incomplete: true, pages: undefined };
    const pages: FetchedPage[] = [got];
    for (let next = page + 1; next <= total; next++) {
      const more = await this.fetchPage(req, next, true);
      if (more.empty) return { mode: 'tail', hits: [], truncated: false, incomplete: true, pages: undefined };
      pages.push(more);
    }
    let first = page;
    while (first > 1 && (pages[0]!.hits[0]?.slots.length ?? 0) <= TAIL_SLOTS) {
      const before = await this.fetchPage(req, --first, true);
      if (before.empty) return { mode: 'tail', hits: [], truncated: false, incomplete: true, pages: undefined };
      pages.unshift(before);
    }
    return {
      mode: 'tail',
      hits: pages.flatMap((p) => p.hits),
      truncated: false,
      incomplete: false,
      pages: total,
      firstPage: first,
      total: pages.at(-1)!.total,
    };
  }

  /**
   * A tail answer made whole by reading the head it skipped (pages 1 to firstPage − 1), when
   * venues left the tail and telling them apart costs at least as much by `/4/find` (one request
   * each) as the head's pages — or cannot be done by it (too many, window not learned). Reading
   * the head now also refreshes what the tail read carries, where carrying them would force a full
   * scan at the next poll anyway. With `force`, whatever it costs: the box's count says something
   * entered or left the head unseen (countGap). Null when there is no head to read or a head page
   * is missing.
   */
  private async withHead(
    req: BoxRequest,
    tail: BoxAnswer,
    vanished: number,
    force: boolean,
  ): Promise<BoxAnswer | null> {
    const head = (tail.firstPage ?? 1) - 1;
    if (tail.mode !== 'tail' || tail.incomplete || head < 1) return null;
    if (!force && (vanished === 0 || (vanished < head && vanished <= FIND_VANISHED_MAX && this.window))) return null;
    const hits: ParsedHit[] = [];
    let total = tail.total;
    let moved = false;
    // Asked at once on one grant, like a full read's pages (searchBox), then checked in order.
    const together = Math.min(head, this.budget.batchMax);
    const granted =
      together > 1 ? this.budget.acquire(req.state.bucket.lane ?? 'search', req.state.signal, together) : undefined;
    granted?.catch(() => undefined);
    const pages = await Promise.all(
      Array.from({ length: head }, (_, i) => this.fetchPage(req, i + 1, true, i < together ? granted : undefined)),
    );
    for (const got of pages) {
      if (got.empty) return null;
      // Read after the tail, so each head page is checked against everything read before it.
      if (movedBetween([...hits, ...tail.hits], total, got)) moved = true;
      hits.push(...got.hits);
      total = got.total ?? total;
    }
    req.state.stats.headReads += 1;
    return {
      mode: 'full',
      // The head was read after the tail: where a venue is on both, its head hit is the later one.
      hits: moved ? latestOfEach([...tail.hits, ...hits]) : [...hits, ...tail.hits],
      truncated: false,
      incomplete: false,
      pages: tail.pages,
      total,
      moved,
    };
  }

  /**
   * What the box's count of venues says of a tail read. The ranking holds the venues with a slot
   * in the window, so between two reads its count moves by the venues that entered it less those
   * that left. A venue new to the box is on the tail pages unless it entered with several tables at
   * once (a drop the head hides); a venue that left the tail closed or moved up into the head, and
   * only one that closed lowers the count. So the gap between this count and the last one, less
   * every venue that left the tail, plus those new on it, is 0 when they all closed and nothing
   * entered the head unseen: no request is needed to tell. Otherwise it counts the venues that
   * moved up, plus any that entered or left the head unseen. Undefined without two counts to
   * compare, or when the ranking lists venues with no slot (its count does not move this way then).
   */
  private countGap(
    boxKey: string,
    known: BoxScan | undefined,
    answer: BoxAnswer,
    leftTail: readonly string[],
  ): number | undefined {
    if (answer.mode !== 'tail' || answer.incomplete || known?.total === undefined || answer.total === undefined)
      return undefined;
    if (answer.hits.some((h) => h.slots.length === 0)) return undefined;
    const entered = this.guard.entered(
      boxKey,
      answer.hits.map((h) => `${RESY_PROVIDER_NAME}:${h.venue.id}`),
    );
    return answer.total - (known.total - leftTail.length + entered);
  }

  /** How many venues a box's whole ranking holds: the answer's count, or its pages' worth. */
  private venuesIn(page: FetchedPage): number | undefined {
    return page.total ?? (page.totalPages === undefined ? undefined : page.totalPages * this.options.perPage);
  }

  /**
   * Venues of the box's last answer with at most `tailSlots` slots that are not in this answer
   * (CallGuard.leftTail): all that are missing, with Infinity.
   */
  private leftTail(boxKey: string, answer: BoxAnswer, tailSlots: number): string[] {
    const seen = new Set(answer.hits.map((h) => `${RESY_PROVIDER_NAME}:${h.venue.id}`));
    return this.guard.leftTail(boxKey, seen, tailSlots);
  }

  /**
   * The venues that left this box's tail (leftTail), each asked on its own (`/4/find`) and cut to
   * the call's window: no slots there means it closed, slots mean it moved up into the head.
   * Undefined when there are none, too many (FIND_VANISHED_MAX), the window is not learned yet, or
   * a request fails: then they are carried and the next read of the box is a full scan.
   */
  private async resolveVanished(
    state: PollState,
    vanished: readonly string[],
    size: number,
    time: string,
  ): Promise<ReadonlyMap<string, readonly CallSlot[]> | undefined> {
    const { window } = this;
    if (vanished.length === 0 || vanished.length > FIND_VANISHED_MAX || !window) return undefined;
    try {
      const days = await Promise.all(
        vanished.map((venueId) =>
          this.fetchVenueDay(
            { market: state.bucket.market, venueId, date: state.bucket.date, partySize: size },
            state.signal,
          ),
        ),
      );
      const out = new Map<string, CallSlot[]>();
      vanished.forEach((venueId, i) => {
        const day = days[i]!;
        state.stats.requests += day.stats.requests;
        state.stats.retries += day.stats.retries;
        const inWindow = day.slots.filter((s) => answersFor(window, time, s.localStart));
        if (day.venue && inWindow.length > 0 && !state.venues.has(day.venue.id))
          state.venues.set(day.venue.id, day.venue);
        out.set(
          venueId,
          inWindow.map((s) => ({ venueId, localStart: s.localStart, bookingUrl: s.bookingUrl ?? null })),
        );
      });
      state.stats.vanishedResolved += vanished.length;
      return out;
    } catch (err) {
      if (state.signal.aborted) throw err;
      return undefined;
    }
  }

  /** Widens the learned window of a search (time filter → the slots it answers). */
  private learnWindow(time: string, slots: readonly CallSlot[]): void {
    const anchor = minuteOf(time);
    for (const s of slots) {
      const offset = minuteOf(s.localStart.slice(11, 16)) - anchor;
      if (!this.window) this.window = { lo: offset, hi: offset };
      else if (offset < this.window.lo) this.window = { ...this.window, lo: offset };
      else if (offset > this.window.hi) this.window = { ...this.window, hi: offset };
    }
  }

  /** A box's complete (or guarded) answer into the poll's snapshot; returns what it took. */
  private takeBox(
    state: PollState,
    boxKey: string,
    partySize: number,
    time: string,
    answer: BoxAnswer,
    scan: BoxScan,
    resolved: ReadonlyMap<string, readonly CallSlot[]> | undefined,
  ): readonly CallSlot[] {
    const slots: CallSlot[] = [];
    for (const hit of answer.hits) {
      const info = venueInfo(state.bucket.market.locationSlug, hit);
      if (!state.venues.has(info.id)) state.venues.set(info.id, info);
      slots.push(...callSlots(info, hit, partySize, state.stats));
    }
    if (answer.mode === 'full' && !answer.truncated) this.learnWindow(time, slots);
    for (const s of [...slots, ...[...(resolved?.values() ?? [])].flat()])
      state.seen.add(`${s.venueId}|${s.localStart}`);
    const guarded = partial(answer)
      ? this.guard.tail(boxKey, slots, answer.mode === 'tail' ? TAIL_SLOTS : Infinity, scan, resolved)
      : this.guard.guard(boxKey, slots, answer.truncated || answer.incomplete, scan);
    if (guarded.suspect) state.stats.suspectCalls += 1;
    if (guarded.truncated) state.stats.truncatedCalls += 1;
    state.commits.push(guarded.commit);
    mergeSlots(state, partySize, guarded.slots);
    return guarded.slots;
  }
}

/**
 * Whether a complete answer may have missed venues that are still there: a tail read (it skips
 * the head), or a read whose ranking moved between its pages.
 */
function partial(answer: BoxAnswer): boolean {
  return !answer.incomplete && !answer.truncated && (answer.mode === 'tail' || answer.moved === true);
}

/**
 * Whether the ranking moved between the pages read so far and the next one: a venue on both
 * (something ranked above it moved down past the page boundary, or a venue joined above it) or a
 * different count of venues (one left or joined). Either can carry a venue across the boundary
 * between a page already read and the next, where no page shows it. A single page is one
 * consistent answer; only reads of two or more can be torn like this.
 */
function movedBetween(before: readonly ParsedHit[], total: number | undefined, next: FetchedPage): boolean {
  if (total !== undefined && next.total !== undefined && next.total !== total) return true;
  const seen = new Set(before.map((h) => h.venue.id));
  return next.hits.some((h) => seen.has(h.venue.id));
}

/** One hit per venue, the one read last (the ranking's latest word on it). */
function latestOfEach(hits: readonly ParsedHit[]): ParsedHit[] {
  const byVenue = new Map<string | number, ParsedHit>();
  for (const h of hits) {
    byVenue.delete(h.venue.id);
    byVenue.set(h.venue.id, h);
  }
  return [...byVenue.values()];
}

/** What a split of a truncated box knows: where the venues it saw are, and how many it holds. */
function splitHint(seen: readonly ParsedHit[], expected: number | undefined, capacity: number) {
  if (expected === undefined) return undefined;
  const points = seen.flatMap((h): Point[] => {
    const at = hitPosition(h);
    return at ? [at] : [];
  });
  return { points, expected, capacity };
}

const minuteOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether a search with time filter `time` answers a slot starting at `localStart`, by the learned window. */
function answersFor(window: { lo: number; hi: number }, time: string, localStart: string): boolean {
  const offset = minuteOf(localStart.slice(11, 16)) - minuteOf(time);
  return offset >= window.lo && offset <= window.hi;
}

function callKeyOf(bucketId: string, size: number, time: string): string {
  return `${bucketId}|${size}|${time}`;
}

/** One call's slots into the poll's snapshot, merged by venue and start time. */
function mergeSlots(state: PollState, partySize: number, slots: readonly CallSlot[]): void {
  for (const s of slots) {
    const key = `${s.venueId}|${s.localStart}`;
    let merged = state.slots.get(key);
    if (!merged) {
      merged = { venueId: s.venueId, localStart: s.localStart, sizes: new Set(), bookingUrl: s.bookingUrl };
      state.slots.set(key, merged);
    }
    merged.sizes.add(partySize);
  }
}

/** The valid slots of a hit, with their booking links for the party size. */
function callSlots(info: VenueInfo, hit: ParsedHit, partySize: number, stats: { malformed: number }): CallSlot[] {
  const out: CallSlot[] = [];
  for (const rawSlot of hit.slots) {
    const slot = slotSchema.safeParse(rawSlot);
    if (!slot.success) {
      stats.malformed += 1;
      continue;
    }
    const start = slot.data.date.start;
    const url = info.bookingUrl ? `${info.bookingUrl}?date=${start.slice(0, 10)}&seats=${partySize}` : null;
    out.push({ venueId: info.id, localStart: start, bookingUrl: url });
  }
  return out;
}

function venueInfo(locationSlug: string, hit: ParsedHit): VenueInfo {
  const v = hit.venue;
  const rating = typeof v.rating === 'number' ? v.rating : (v.rating?.average ?? null);
  const cuisine = Array.isArray(v.cuisine) ? v.cuisine.join(', ') : (v.cuisine ?? null);
  return {
    id: `${RESY_PROVIDER_NAME}:${v.id}`,
    name: v.name,
    neighborhood: v.location?.neighborhood ?? v.neighborhood ?? null,
    cuisine: cuisine === '' ? null : cuisine,
    priceRange: v.price_range ?? v.price_range_id ?? null,
    rating,
    imageUrl: v.images?.[0] ?? null,
    bookingUrl: v.url_slug ? `${RESY_SITE}/cities/${locationSlug}/${encodeURIComponent(v.url_slug)}` : null,
  };
}

/** HH:MM of the anchor and one hour either side, within the day. */
export function hourFilters(anchor: string): string[] {
  const [hh = 0, mm = 0] = anchor.split(':').map(Number);
  const pad = (n: number) => String(n).padStart(2, '0');
  return HOUR_OFFSETS.map((off) => hh * 60 + mm + off)
    .filter((m) => m >= 0 && m < 24 * 60)
    .map((m) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`);
}

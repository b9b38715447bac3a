import { feedCacheKey, feedCachePayload, type FeedCachePayload, type PgClient } from '@dropwatch/db';

/** The segments of a cache payload (DTO drops), each already capped by the writer. */
export type FeedCacheSegments = Pick<FeedCachePayload, 'justOpened' | 'stillOpen' | 'board'>;

export interface FeedCacheEntry {
  readonly version: number;
  readonly builtAt: Date;
  readonly segments: FeedCacheSegments;
}

export interface FeedCacheRead {
  /** null: no cache row for this market (yet). */
  readonly entry: FeedCacheEntry | null;
  readonly lastScanAt: Date | null;
}

/**
 * Parsed payloads by key, reused while the row's version is unchanged: a request reads the
 * version (a few bytes), and the up-to-2 MB payload only when it changed. One statement.
 * -- uses feed_cache_pkey; discovery_buckets_market_date_idx for the market's last scan.
 */
export class FeedCacheReader {
  private readonly parsed = new Map<string, FeedCacheEntry>();

  constructor(private readonly onBadPayload: (key: string, err: unknown) => void = () => undefined) {}

  async read(db: PgClient, market: string): Promise<FeedCacheRead> {
    const key = feedCacheKey(market);
    const known = this.parsed.get(key);
    const { rows } = await db.query<{
      version: string | null;
      built_at: Date | null;
      payload: unknown;
      last_scan_at: Date | null;
    }>(
      `select c.version::text as version, c.built_at,
              case when c.version = $1::bigint then null else c.payload end as payload,
              (select max(b.scanned_at) from discovery_buckets b where b.market = $2) as last_scan_at
       from (select 1) one
       left join feed_cache c on c.key = $3`,
      [known?.version ?? -1, market, key],
    );
    const row = rows[0];
    const lastScanAt = row?.last_scan_at ? new Date(row.last_scan_at) : null;
    if (!row || row.version === null || row.built_at === null) return { entry: null, lastScanAt };
    const version = Number(row.version);
    if (known && known.version === version) return { entry: known, lastScanAt };
    const parsed = feedCachePayload.safeParse(typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload);
    if (!parsed.success) {
      this.onBadPayload(key, parsed.error);
      return { entry: null, lastScanAt };
    }
    const entry: FeedCacheEntry = { version, builtAt: new Date(row.built_at), segments: parsed.data };
    this.parsed.set(key, entry);
    return { entry, lastScanAt };
  }
}

import { Cron } from 'croner';
import { z } from 'zod';

/**
 * Every setting dropwatch reads from the environment, in one table. The zod schema, the
 * start-up error messages, `.env.example` and the README table are all derived from it.
 */
export interface SettingSpec<T> {
  /** Human-readable default, as written in the environment. */
  readonly default: string | undefined;
  /** Human-readable allowed range or form. */
  readonly range: string;
  readonly description: string;
  readonly schema: z.ZodType<T>;
  readonly secret?: boolean;
}

const intIn = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const numIn = (min: number, max: number) => z.coerce.number().min(min).max(max);

function spec<T>(
  def: string | undefined,
  range: string,
  description: string,
  schema: z.ZodType<T>,
  secret = false,
): SettingSpec<T> {
  return { default: def, range, description, schema, secret };
}

function intSetting(def: number, min: number, max: number, description: string) {
  return spec(String(def), `${min}–${max}`, description, intIn(min, max));
}

/**
 * Five fields (Bree runs without a seconds field) that croner can parse, so `61 * * * *` fails at
 * start-up naming the variable instead of later inside the scheduler.
 */
const cronExpression = z
  .string()
  .regex(/^(\S+\s+){4}\S+$/, 'must be a 5-field cron expression (minute hour day-of-month month day-of-week)')
  .refine(
    (expr) => {
      try {
        new Cron(expr, { paused: true });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'is not a valid cron expression (a field is out of range or malformed)' },
  );

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- zod's pipe wants any-input items
const commaList = <T>(item: z.ZodType<T, any>, min: number, max: number) =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    )
    .pipe(z.array(item).min(min).max(max));

const booleanString = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * One browser origin: scheme, host and port exactly as a browser sends it in `Origin` (no path,
 * no trailing slash, no wildcard: answers carry credentials, which a wildcard may not).
 */
const browserOrigin = z.string().refine(
  (o) => {
    try {
      const u = new URL(o);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o;
    } catch {
      return false;
    }
  },
  {
    message:
      'each entry must be an origin such as https://app.example.com (scheme, host, optional port; no path, no *)',
  },
);

export const BUILT_IN_MARKET_SLUGS = ['nyc', 'la', 'chi', 'mia', 'sf'] as const;

export const SETTINGS = {
  PORT: intSetting(3000, 0, 65535, 'HTTP port (tRPC at /trpc, SSE, /healthz, /metrics)'),
  HOST: spec('127.0.0.1', 'host name or address', 'Interface the HTTP server binds to', z.string().min(1).max(255)),
  DATABASE_URL: spec(
    undefined,
    'postgres URL',
    'PostgreSQL to use; unset starts an embedded Postgres in .dropwatch/pg',
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    true,
  ),
  DATABASE_POOLER: spec(
    'none',
    'none, transaction',
    'What sits in front of DATABASE_URL: transaction = a PgBouncer-style pooler in transaction mode (no named prepared statements, no startup options; needs DIRECT_DATABASE_URL)',
    z.enum(['none', 'transaction']),
  ),
  DIRECT_DATABASE_URL: spec(
    undefined,
    'postgres URL',
    'The primary without a pooler, for what needs a session of its own: LISTEN, the migration lock, retention; unset: DATABASE_URL',
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    true,
  ),
  READ_DATABASE_URL: spec(
    undefined,
    'postgres URL',
    'A streaming replica (direct or through a pooler) for the API reads that tolerate replica lag: feed.justOpened, feed.stillOpen, feed.board, venues.get, health.buckets; unset: DATABASE_URL',
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
      .optional(),
    true,
  ),
  READ_REPLICA_MAX_LAG_SECONDS: intSetting(
    30,
    1,
    3600,
    "Replica lag above which (or while the replica does not answer) the replica's reads go to the primary",
  ),
  READ_REPLICA_CHECK_SECONDS: intSetting(2, 1, 60, 'Seconds between two measurements of the replica lag'),
  EMBEDDED_PG_PORT: intSetting(54329, 1024, 65535, 'Port of the embedded Postgres (only without DATABASE_URL)'),
  EMBEDDED_PG_DIR: spec('.dropwatch/pg', 'path', 'Data directory of the embedded Postgres', z.string().min(1)),
  DROPWATCH_ROLE: spec('all', 'all, api, worker', 'Which parts this process runs', z.enum(['all', 'api', 'worker'])),
  DROPWATCH_ADMIN_TOKEN: spec(
    undefined,
    '≥ 32 chars',
    'Admin token on first start; unset generates one and prints it once',
    z.string().min(32).max(256).optional(),
    true,
  ),
  DISCOVERY_MARKETS: spec(
    'nyc',
    `comma list of ${BUILT_IN_MARKET_SLUGS.join(', ')}`,
    'Markets to poll',
    commaList(z.enum(BUILT_IN_MARKET_SLUGS), 1, BUILT_IN_MARKET_SLUGS.length).refine(
      (l) => new Set(l).size === l.length,
      'markets must not repeat',
    ),
  ),
  DISCOVERY_WINDOW_DAYS: intSetting(14, 1, 14, 'Days in the rolling window, today included'),
  DISCOVERY_TIME_SLOTS: spec(
    '15:00,20:30',
    'comma list of HH:MM, 1–6 entries',
    'Anchor times polled each day',
    commaList(z.string().regex(HH_MM, 'must be HH:MM'), 1, 6).refine(
      (l) => new Set(l).size === l.length,
      'time slots must not repeat',
    ),
  ),
  DISCOVERY_PARTY_SIZES: spec(
    '2,4',
    'comma list of 1–20',
    'Party sizes searched per bucket',
    commaList(intIn(1, 20), 1, 20),
  ),
  DISCOVERY_TICK_SECONDS: intSetting(
    20,
    2,
    300,
    'Seconds between housekeeping passes of the poller (bucket window, partitions, learned drop rates, watches)',
  ),
  DISCOVERY_BUCKET_COOLDOWN_SECONDS: intSetting(5, 2, 3600, 'Minimum seconds between two polls of one bucket'),
  DISCOVERY_MAX_STALENESS_SECONDS: intSetting(
    240,
    10,
    3600,
    'A bucket unpolled this long goes first, whatever its score (no bucket starves)',
  ),
  DISCOVERY_CONCURRENCY: intSetting(8, 1, 32, 'Bucket polls in flight at most'),
  DISCOVERY_FAST_LANE_SHARE: spec(
    '0.3',
    '0–0.9',
    "Share of the request budget the fast lane for watched venues (per-venue requests, or their days' bucket polls) may claim while searches wait",
    numIn(0, 0.9),
  ),
  DISCOVERY_LEASE_SECONDS: intSetting(
    15,
    3,
    300,
    "Lease of a worker replica on its share of the buckets: a dead replica's buckets move after this",
  ),
  DISCOVERY_BASELINE_POLLS: intSetting(3, 1, 10, 'Successful polls that form a bucket baseline'),
  DROP_DEDUPE_MINUTES: intSetting(30, 1, 1440, 'A slot reopening within this many minutes is not a new drop'),
  RESY_API_KEY: spec(
    undefined,
    'secret',
    'Resy API key; unset uses the simulated market',
    z.string().min(1).optional(),
    true,
  ),
  RESY_AUTH_TOKEN: spec(undefined, 'secret', 'Optional Resy user auth token', z.string().min(1).optional(), true),
  RESY_BASE_URL: spec('https://api.resy.com', 'URL', 'Resy API base URL', z.url()),
  RESY_PER_PAGE: intSetting(100, 20, 200, 'Venues per search page'),
  RESY_MAX_PAGES: intSetting(5, 1, 10, 'Pages fetched per search at most'),
  RESY_MAX_RPS: spec('10', '0.1–100', 'Process-wide request rate limit to Resy', numIn(0.1, 100)),
  RESY_TIMEOUT_MS: intSetting(10000, 500, 60000, 'Timeout of one Resy request'),
  SIM_SEED: spec('1', 'integer', 'Seed of the simulated market', z.coerce.number().int()),
  SIM_VENUES: intSetting(300, 1, 100000, 'Venues in the simulated market'),
  SIM_SLOTS_PER_BUCKET: intSetting(400, 1, 20000, 'Typical bookable slots per bucket in the simulated market'),
  SIM_CHURN: spec('0.02', '0–1', 'Share of slots that change between two polls', numIn(0, 1)),
  DROP_EVENTS_RETENTION_DAYS: intSetting(14, 7, 30, 'Days of drop_events kept'),
  NOTIFICATIONS_RETENTION_DAYS: intSetting(30, 7, 90, 'Days of user_notifications kept'),
  VENUE_RETENTION_DAYS: intSetting(30, 7, 365, 'Days a venue unseen and without kept drops is kept'),
  VENUE_METRICS_RETENTION_DAYS: intSetting(90, 14, 365, 'Days of venue_metrics kept'),
  JOB_RUNS_RETENTION_DAYS: intSetting(14, 1, 90, 'Days of job_runs and webhook_deliveries kept'),
  PRUNE_BATCH_SIZE: intSetting(10000, 100, 100000, 'Rows per batched delete statement'),
  // A dense market (2 000 venues) shows ~8 000 slots in one bucket: a cap below that hides the
  // latest times of the day from the diff.
  BUCKET_SLOT_CAP: intSetting(20000, 100, 100000, 'Slots stored per bucket at most'),
  FEED_JUST_OPENED_CAP: intSetting(500, 1, 5000, 'Just-opened drops kept in the feed cache per market'),
  FEED_STILL_OPEN_CAP: intSetting(1000, 1, 10000, 'Still-open drops kept in the feed cache per market'),
  STILL_OPEN_EVENTS_LIMIT: intSetting(10000, 100, 50000, 'Open drops read at most by one query'),
  PARTITION_PREMAKE_DAYS: intSetting(3, 1, 14, 'Day partitions created ahead of today'),
  RETENTION_CRON: spec(
    '30 3 * * *',
    'cron expression (first market zone)',
    'When the retention job runs',
    cronExpression,
  ),
  NOTIFY_COOLDOWN_MINUTES: intSetting(30, 0, 1440, 'Per user and venue, minutes between two notifications'),
  WEBHOOK_ALLOW_PRIVATE: spec(
    'false',
    'true, false',
    'Let delivery destinations (webhook, ntfy, Telegram, Web Push URLs) reach loopback/private addresses (tests only)',
    booleanString,
  ),
  TELEGRAM_API_URL: spec(
    'https://api.telegram.org',
    'URL',
    'Telegram Bot API base URL (tests point it at a fake); a send goes to {url}/bot{token}/sendMessage',
    z.url(),
  ),
  SMTP_URL: spec(
    undefined,
    'smtp:// or smtps:// URL (may carry user:password)',
    'SMTP server of the email channel; unset: email destinations cannot be added and pending emails wait',
    z
      .string()
      .regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')
      .optional(),
    true,
  ),
  SMTP_FROM: spec(
    'dropwatch <dropwatch@localhost>',
    'address',
    'From address of notification emails',
    z.string().min(3),
  ),
  VAPID_PUBLIC_KEY: spec(
    undefined,
    'base64url P-256 public key',
    'Web Push VAPID public key; unset (with VAPID_PRIVATE_KEY): a pair is generated once and kept in the database',
    z.string().min(20).optional(),
  ),
  VAPID_PRIVATE_KEY: spec(
    undefined,
    'secret',
    'Web Push VAPID private key (set both or neither)',
    z.string().min(20).optional(),
    true,
  ),
  VAPID_SUBJECT: spec(
    'mailto:dropwatch@localhost',
    'mailto: or https: URL',
    'Contact the push services see in the VAPID claim',
    z.string().regex(/^(mailto:|https:\/\/)/, 'must start with mailto: or https://'),
  ),
  VENUE_TOUCH_MINUTES: intSetting(60, 1, 1440, "Minutes between two writes of a venue's last_seen_at"),
  CORS_ORIGINS: spec(
    undefined,
    'comma list of origins, up to 50',
    'Browser origins allowed to call the API from another site (CORS); unset: same origin only',
    z
      .string()
      .optional()
      .transform((s) =>
        (s ?? '')
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x.length > 0),
      )
      .pipe(z.array(browserOrigin).max(50)),
  ),
  DB_POOL_MAX: intSetting(10, 1, 100, 'Connections per process pool'),
  LOG_LEVEL: spec(
    'info',
    'fatal, error, warn, info, debug, trace, silent',
    'Log level',
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  ),
  LOG_FORMAT: spec(
    'json',
    'json, pretty',
    'Log lines as JSON, or pretty: human-readable, for development',
    z.enum(['json', 'pretty']),
  ),
} as const satisfies Record<string, SettingSpec<unknown>>;

export type SettingName = keyof typeof SETTINGS;

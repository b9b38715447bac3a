import type { RouterOutputs } from '@dropwatch/client';
import { marketOpt } from '../args.js';
import type { Command } from '../command.js';
import { localTime } from '../format.js';
import { paint, type Output, type Style } from '../output.js';

type Bucket = RouterOutputs['health']['buckets']['buckets'][number];

/**
 * One mark per state, each a different character as well as a different colour, so the grid
 * reads the same without colour (NO_COLOR, a pipe, a colour-blind reader).
 */
const STATES = {
  fresh: { mark: '●', style: 'green', label: 'polled recently' },
  baseline: { mark: '○', style: 'blue', label: 'polled, baseline not complete yet' },
  stale: { mark: '◌', style: 'yellow', label: 'stale (not polled for too long)' },
  error: { mark: '✖', style: 'red', label: 'last poll failed' },
  never: { mark: '·', style: 'dim', label: 'never polled' },
} as const satisfies Record<string, { mark: string; style: Style; label: string }>;
type State = keyof typeof STATES;

function stateOf(b: Bucket): State {
  if (!b.scannedAt) return 'never';
  // An error newer than the last scan is the latest word on the bucket.
  if (b.lastError && b.lastErrorAt && b.lastErrorAt.getTime() >= b.scannedAt.getTime()) return 'error';
  if (b.stale) return 'stale';
  return b.baselineComplete ? 'fresh' : 'baseline';
}

const STATUS_STYLE = { ok: 'green', degraded: 'yellow', down: 'red' } as const satisfies Record<string, Style>;

/** Rows are days of the window, columns the anchor times, one grid per market. */
function printGrid(out: Output, buckets: readonly Bucket[]): void {
  const markets = [...new Set(buckets.map((b) => b.market))].sort();
  for (const market of markets) {
    const mine = buckets.filter((b) => b.market === market);
    const slots = [...new Set(mine.map((b) => b.timeSlot))].sort();
    const dates = [...new Set(mine.map((b) => b.date))].sort();
    const byKey = new Map(mine.map((b) => [`${b.date} ${b.timeSlot}`, b]));
    out.line();
    out.line(paint(out, 'bold', `${market}  (${mine.length} buckets)`));
    out.line(`${' '.repeat(10)}  ${slots.map((s) => s.padEnd(5)).join(' ')}`);
    for (const date of dates) {
      const cells = slots.map((slot) => {
        const b = byKey.get(`${date} ${slot}`);
        if (!b) return ' '.repeat(5);
        const s = STATES[stateOf(b)];
        return `${paint(out, s.style, s.mark)}${String(b.slotCount).padStart(4)}`;
      });
      out.line(`${date}  ${cells.join(' ')}`);
    }
    const errors = mine.filter((b) => stateOf(b) === 'error');
    for (const b of errors.slice(0, 5)) out.line(paint(out, 'red', `  ${b.bucketId}: ${b.lastError ?? ''}`));
    if (errors.length > 5) out.line(paint(out, 'red', `  … and ${errors.length - 5} more failing buckets`));
  }
  out.line();
  out.line(
    Object.values(STATES)
      .map((s) => `${paint(out, s.style, s.mark)} ${s.label}`)
      .join('   '),
  );
  out.line(paint(out, 'dim', 'the number beside each mark: bookable slots seen in that bucket'));
}

export const health: Command = {
  name: 'health',
  summary: 'Whether polling is healthy: the status with its reasons and the grid of buckets',
  usage: '[--market nyc]',
  options: { market: { type: 'string' } },
  optionHelp: [['--market SLUG', 'only the buckets of this market']],
  positionals: { min: 0, max: 0 },
  details: 'With --json: { "status": …, "reasons": [...], "checkedAt": …, "buckets": [...] }.',
  async run({ values, out, client }) {
    const c = client();
    const market = marketOpt(values);
    const [status, grid] = await Promise.all([
      c.health.status.query(),
      c.health.buckets.query(market ? { market } : {}),
    ]);
    if (out.json) return out.jsonLine({ ...status, buckets: grid.buckets });
    out.line(
      `${paint(out, STATUS_STYLE[status.status], status.status.toUpperCase())}  checked ${localTime(status.checkedAt)}`,
    );
    for (const reason of status.reasons) out.line(`  - ${reason}`);
    if (grid.buckets.length === 0) {
      out.line();
      out.line(paint(out, 'dim', 'no buckets yet: discovery has not run its first pass'));
      return;
    }
    printGrid(out, grid.buckets);
  },
};

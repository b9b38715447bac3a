// The bucket heat-map: one grid per polled market, days across and anchor times down, each cell
// coloured by how long ago the poller last scanned it. A person sees at a glance whether polling
// is healthy: a grid of green is fine, yellow is a poller falling behind, red is a stalled one.
import type { DropwatchClient, RouterOutputs } from '@dropwatch/client';
import { $, duration, el, errorText, setState } from './dom.js';

type Bucket = RouterOutputs['health']['buckets']['buckets'][number];
type Freshness = 'fresh' | 'ageing' | 'stale';

/** Re-read every bucket this often: one small query (at most 420 rows), cheap for the server. */
export const HEATMAP_EVERY_MS = 15_000;
/**
 * A bucket polled every few seconds is "ageing" once it is twice its own poll interval late; quiet
 * buckets are polled rarely on purpose, so nothing under this floor counts as late.
 */
const AGEING_FLOOR_SECONDS = 120;

/** Stale is the server's call (it knows the poller's settings); ageing is late for its own pace. */
export function freshness(b: Bucket, now: number): Freshness {
  if (b.stale || !b.scannedAt) return 'stale';
  const age = (now - b.scannedAt.getTime()) / 1000;
  const late = Math.max(AGEING_FLOOR_SECONDS, 2 * (b.pollIntervalSeconds ?? 0));
  return age > late ? 'ageing' : 'fresh';
}

function describe(b: Bucket, f: Freshness, now: number): string {
  const scanned = b.scannedAt ? `scanned ${duration((now - b.scannedAt.getTime()) / 1000)} ago` : 'never scanned';
  const parts = [
    `${b.market} ${b.date} ${b.timeSlot}: ${f}, ${scanned}`,
    `${b.slotCount} slot${b.slotCount === 1 ? '' : 's'}`,
    b.baselineComplete ? 'calibrated' : 'calibrating (baseline not complete)',
    b.pollIntervalSeconds === null ? 'poll interval not known yet' : `polled every ${duration(b.pollIntervalSeconds)}`,
    b.lastError
      ? `last error: ${b.lastError}${b.lastErrorAt ? ` (${duration((now - b.lastErrorAt.getTime()) / 1000)} ago)` : ''}`
      : 'no error',
  ];
  return parts.join(' · ');
}

function cell(b: Bucket, now: number, detail: HTMLElement): HTMLTableCellElement {
  const td = document.createElement('td');
  const f = freshness(b, now);
  // A button: focusable and announced without extra roles; the text is the slot count.
  const btn = el('button', String(b.slotCount), `bucket ${f}`) as HTMLButtonElement;
  btn.type = 'button';
  btn.dataset.bucketId = b.bucketId;
  btn.dataset.freshness = f;
  if (b.lastError) btn.classList.add('failing');
  if (!b.baselineComplete) btn.classList.add('calibrating');
  const text = describe(b, f, now);
  btn.title = text;
  btn.setAttribute('aria-label', text);
  const show = () => {
    detail.textContent = text;
    detail.dataset.bucketId = b.bucketId;
  };
  btn.addEventListener('focus', show);
  btn.addEventListener('mouseenter', show);
  btn.addEventListener('click', show);
  td.append(btn);
  return td;
}

function grid(market: string, buckets: Bucket[], now: number, detail: HTMLElement): HTMLElement {
  const dates = [...new Set(buckets.map((b) => b.date))].sort();
  const times = [...new Set(buckets.map((b) => b.timeSlot))].sort();
  const at = new Map(buckets.map((b) => [`${b.date} ${b.timeSlot}`, b]));
  const table = document.createElement('table');
  table.className = 'heatmap';
  table.dataset.market = market;
  table.append(el('caption', `${market}: ${buckets.length} buckets`));
  const head = document.createElement('tr');
  head.append(el('th', 'Time'));
  for (const d of dates) {
    const th = el('th', d.slice(5));
    th.setAttribute('scope', 'col');
    th.title = d;
    head.append(th);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  for (const t of times) {
    const row = document.createElement('tr');
    const th = el('th', t);
    th.setAttribute('scope', 'row');
    row.append(th);
    for (const d of dates) {
      const b = at.get(`${d} ${t}`);
      row.append(b ? cell(b, now, detail) : document.createElement('td'));
    }
    tbody.append(row);
  }
  table.append(thead, tbody);
  const wrap = el('div', '', 'heatmap-scroll');
  wrap.append(table);
  return wrap;
}

export function startHeatmap(client: DropwatchClient): void {
  const grids = $('heatmaps');
  const status = $('heatmap-state');
  const detail = $('bucket-detail');
  const summary = $('heatmap-summary');
  let loaded = false;
  const refresh = async () => {
    try {
      const { buckets } = await client.health.buckets.query();
      const now = Date.now();
      const byMarket = new Map<string, Bucket[]>();
      for (const b of buckets) byMarket.set(b.market, [...(byMarket.get(b.market) ?? []), b]);
      // A refresh must not take keyboard focus away from the cell a person is on, or leave the
      // detail line describing an older reading of it.
      const focused =
        document.activeElement instanceof HTMLElement ? document.activeElement.dataset.bucketId : undefined;
      grids.replaceChildren(...[...byMarket].map(([m, bs]) => grid(m, bs, now, detail)));
      const shown =
        detail.dataset.bucketId &&
        grids.querySelector<HTMLButtonElement>(`[data-bucket-id="${CSS.escape(detail.dataset.bucketId)}"]`);
      if (shown) detail.textContent = shown.title;
      if (focused) grids.querySelector<HTMLButtonElement>(`[data-bucket-id="${CSS.escape(focused)}"]`)?.focus();
      const counts = { fresh: 0, ageing: 0, stale: 0 };
      for (const b of buckets) counts[freshness(b, now)] += 1;
      const failing = buckets.filter((b) => b.lastError).length;
      summary.textContent = buckets.length
        ? `${counts.fresh} fresh, ${counts.ageing} ageing, ${counts.stale} stale${failing ? `, ${failing} failing` : ''}`
        : '';
      loaded = true;
      if (buckets.length === 0) setState(status, 'empty', 'No buckets yet: the poller creates them on its first pass.');
      else setState(status, 'ready');
    } catch (err) {
      // Keep the last grid on screen (it says when each bucket was scanned) and say it is old.
      setState(status, 'error', `${loaded ? 'Could not refresh' : 'Could not load'} the buckets: ${errorText(err)}`);
    }
  };
  setState(status, 'loading', 'Loading buckets…');
  void refresh();
  setInterval(() => void refresh(), HEATMAP_EVERY_MS);
}

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { boolOpt, intOpt, marketOpt, stringOpt } from '../args.js';
import type { Command } from '../command.js';
import { defaultCursorFile } from '../config.js';
import { UsageError } from '../errors.js';
import { dropLine } from '../format.js';

/** The server's largest newDrops page. */
const PAGE = 200;

async function readCursor(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Write then rename: a Ctrl-C halfway leaves the old cursor whole rather than half a new one. */
async function saveCursor(file: string, cursor: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${cursor}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** Resolves after `ms`, or at once when the signal aborts (Ctrl-C must not wait out a poll interval). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

export const tail: Command = {
  name: 'tail',
  summary: 'Print new drops as they open, resuming where the last run stopped',
  usage: '[--market nyc] [--limit N] [--since MINUTES] [--interval SECONDS] [--cursor-file PATH] [--reset]',
  options: {
    market: { type: 'string' },
    limit: { type: 'string', short: 'n' },
    since: { type: 'string' },
    interval: { type: 'string' },
    'cursor-file': { type: 'string' },
    reset: { type: 'boolean' },
  },
  optionHelp: [
    ['--market SLUG', 'only drops of this market'],
    ['-n, --limit N', 'stop after N drops (default: run until Ctrl-C)'],
    ['--since MINUTES', 'without a stored cursor, start with drops opened this long ago (default 60)'],
    ['--interval SECONDS', 'how often to ask for new drops when caught up (default 5)'],
    [
      '--cursor-file PATH',
      'where the cursor is kept (default $XDG_STATE_HOME/dropwatch/cursor or ~/.local/state/dropwatch/cursor)',
    ],
    ['--reset', 'ignore the stored cursor and start again from --since'],
  ],
  positionals: { min: 0, max: 0 },
  details: `Every committed drop is printed exactly once across runs: the cursor is saved after each
page, so Ctrl-C or a crash loses nothing and repeats nothing. The cursor belongs to one server's
database; pointed at another server, use --reset (or another --cursor-file).
With --json: one JSON object per line (a drop), nothing else on stdout.`,
  async run(ctx) {
    const { values, out, signal } = ctx;
    const limit = intOpt(values, 'limit', 'tail', { min: 1, max: 1_000_000 });
    const since = intOpt(values, 'since', 'tail', { min: 1, max: 43_200 }) ?? 60;
    const intervalMs = (intOpt(values, 'interval', 'tail', { min: 1, max: 3600 }) ?? 5) * 1000;
    const market = marketOpt(values);
    const file = stringOpt(values, 'cursor-file') ?? defaultCursorFile(ctx.env);
    if (file === '') throw new UsageError('--cursor-file is empty', 'tail');
    let cursor = boolOpt(values, 'reset') ? undefined : await readCursor(file);
    const client = ctx.client();
    let printed = 0;
    while (!signal.aborted && (limit === undefined || printed < limit)) {
      // Never ask for more than is left to print: the page's cursor then points just after the
      // last printed drop, so the next run starts with the first one this run did not show.
      const want = limit === undefined ? PAGE : Math.min(PAGE, limit - printed);
      let page;
      try {
        page = await client.feed.newDrops.query({ cursor, withinMinutes: since, market, limit: want }, { signal });
      } catch (err) {
        if (signal.aborted) break;
        if (
          cursor !== undefined &&
          (err as { data?: { code?: unknown } }).data?.code === 'BAD_REQUEST' &&
          /cursor/i.test((err as Error).message)
        ) {
          throw new UsageError(
            `the server refused the cursor stored in ${file} (${(err as Error).message}); start again with --reset`,
            'tail',
          );
        }
        throw err;
      }
      for (const drop of page.drops) {
        if (out.json) out.jsonLine(drop);
        else out.line(dropLine(out, drop));
      }
      printed += page.drops.length;
      cursor = page.cursor;
      await saveCursor(file, cursor);
      if (page.drops.length < want) await pause(intervalMs, signal);
    }
  },
};

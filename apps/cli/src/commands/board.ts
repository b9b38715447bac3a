import { intListOpt, intOpt, marketOpt } from '../args.js';
import type { Command } from '../command.js';
import { dropLine, localTime } from '../format.js';
import { paint } from '../output.js';

export const board: Command = {
  name: 'board',
  summary: "A market's ranked board of open drops (rarest first), from the cached live feed",
  usage: '[--market nyc] [--party-sizes 2,4] [--limit N]',
  options: { market: { type: 'string' }, 'party-sizes': { type: 'string' }, limit: { type: 'string', short: 'n' } },
  optionHelp: [
    ['--market SLUG', "the market (default: the server's first)"],
    ['--party-sizes LIST', 'only drops bookable for one of these party sizes, e.g. 2,4'],
    ['-n, --limit N', 'at most N drops (default: the server default)'],
  ],
  positionals: { min: 0, max: 0 },
  details: 'With --json: the whole feed.live answer (market, board, justOpened, stillOpen, lastScanAt, …).',
  async run({ values, out, client }) {
    const partySizes = intListOpt(values, 'party-sizes', 'board', { min: 1, max: 20 });
    const limit = intOpt(values, 'limit', 'board', { min: 1, max: 500 });
    const feed = await client().feed.live.query({
      ...(marketOpt(values) ? { market: marketOpt(values) } : {}),
      ...(partySizes ? { partySizes } : {}),
      ...(limit ? { limit } : {}),
    });
    if (out.json) return out.jsonLine(feed);
    const scanned = feed.lastScanAt ? `last scan ${localTime(feed.lastScanAt)}` : 'not scanned yet';
    out.line(paint(out, 'bold', `${feed.market}: ${feed.board.length} open on the board, ${scanned}`));
    if (feed.board.length === 0) out.line(paint(out, 'dim', 'nothing open right now'));
    feed.board.forEach((d, i) => {
      out.line(
        `${String(i + 1).padStart(3)}. ${paint(out, 'magenta', `rarity ${d.rarity.toFixed(0).padStart(3)}`)}  ${dropLine(out, d)}`,
      );
    });
  },
};

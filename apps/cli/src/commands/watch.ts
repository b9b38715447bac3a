import type { RouterInputs, RouterOutputs } from '@dropwatch/client';
import { boolOpt, intOpt, marketOpt, stringOpt } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { paint, type Output } from '../output.js';

type Watch = RouterOutputs['watches']['list']['items'][number];

function watchLine(out: Output, w: Watch): string {
  const what = w.venueId ? `venue ${w.venueId}` : `"${w.venueName ?? ''}"`;
  const filters = [
    w.market && `market ${w.market}`,
    w.partySize !== null && `party ${w.partySize}`,
    (w.dateFrom || w.dateTo) && `dates ${w.dateFrom ?? '…'}–${w.dateTo ?? '…'}`,
    (w.timeFrom || w.timeTo) && `times ${w.timeFrom ?? '…'}–${w.timeTo ?? '…'}`,
  ].filter(Boolean);
  const kind = w.kind === 'exclude' ? paint(out, 'red', 'exclude') : paint(out, 'green', 'include');
  return `${paint(out, 'bold', w.id.padStart(6))}  ${kind}  ${what}${filters.length ? `  (${filters.join(', ')})` : ''}`;
}

export const watchAdd: Command = {
  name: 'watch add',
  summary: 'Watch a venue (by name or provider id), with optional filters',
  usage:
    '(<venue name> | --venue-id ID) [--market nyc] [--party-size N] [--date-from D] [--date-to D] [--time-from HH:MM] [--time-to HH:MM] [--exclude]',
  options: {
    'venue-id': { type: 'string' },
    market: { type: 'string' },
    'party-size': { type: 'string' },
    'date-from': { type: 'string' },
    'date-to': { type: 'string' },
    'time-from': { type: 'string' },
    'time-to': { type: 'string' },
    exclude: { type: 'boolean' },
  },
  optionHelp: [
    ['<venue name>', 'match drops of venues with this name (case and accents ignored)'],
    ['--venue-id ID', "match one venue by the provider's id instead"],
    ['--market SLUG', 'only in this market'],
    ['--party-size N', 'only drops bookable for N people'],
    ['--date-from / --date-to YYYY-MM-DD', 'only slots on these dates'],
    ['--time-from / --time-to HH:MM', 'only slots at these times of day'],
    ['--exclude', 'never notify about this venue (an exclude watch)'],
  ],
  positionals: { min: 0, max: 1, name: 'venue name' },
  details: 'Adding a venue already watched shows the existing watch (created: false).',
  async run({ values, positionals, out, client }) {
    const venueName = positionals[0];
    const venueId = stringOpt(values, 'venue-id');
    if ((venueName === undefined) === (venueId === undefined)) {
      throw new UsageError('give a venue name or --venue-id (exactly one)', 'watch add');
    }
    const partySize = intOpt(values, 'party-size', 'watch add', { min: 1, max: 20 });
    const input: RouterInputs['watches']['add'] = {
      kind: boolOpt(values, 'exclude') ? 'exclude' : 'include',
      ...(venueName !== undefined ? { venueName } : { venueId }),
      ...(marketOpt(values) !== undefined ? { market: marketOpt(values) } : {}),
      ...(partySize !== undefined ? { partySize } : {}),
      ...(stringOpt(values, 'date-from') !== undefined ? { dateFrom: stringOpt(values, 'date-from') } : {}),
      ...(stringOpt(values, 'date-to') !== undefined ? { dateTo: stringOpt(values, 'date-to') } : {}),
      ...(stringOpt(values, 'time-from') !== undefined ? { timeFrom: stringOpt(values, 'time-from') } : {}),
      ...(stringOpt(values, 'time-to') !== undefined ? { timeTo: stringOpt(values, 'time-to') } : {}),
    };
    const res = await client().watches.add.mutate(input);
    if (out.json) return out.jsonLine(res);
    out.line(`${res.created ? 'added' : 'already watched'}: ${watchLine(out, res.watch)}`);
  },
};

export const watchList: Command = {
  name: 'watch list',
  summary: 'Your watches, oldest first',
  usage: '',
  options: {},
  optionHelp: [],
  positionals: { min: 0, max: 0 },
  details: 'With --json: { "items": [...] }.',
  async run({ out, client }) {
    const res = await client().watches.list.query();
    if (out.json) return out.jsonLine(res);
    if (res.items.length === 0) out.line(paint(out, 'dim', 'no watches yet: dropwatch watch add "<venue name>"'));
    for (const w of res.items) out.line(watchLine(out, w));
  },
};

export const watchRm: Command = {
  name: 'watch rm',
  summary: 'Remove one of your watches by its id (from watch list)',
  usage: '<id>',
  options: {},
  optionHelp: [],
  positionals: { min: 1, max: 1, name: 'watch id' },
  async run({ positionals, out, client }) {
    const id = positionals[0]!;
    if (!/^[1-9]\d{0,18}$/.test(id))
      throw new UsageError(`a watch id is a number (see dropwatch watch list), got '${id}'`, 'watch rm');
    const res = await client().watches.remove.mutate({ id });
    if (out.json) return out.jsonLine({ id, ...res });
    out.line(`removed watch ${id}`);
  },
};

import { boolOpt, intOpt } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { dropLine, localTime } from '../format.js';
import { paint } from '../output.js';

const ID = /^[1-9]\d{0,18}$/;

export const notificationsList: Command = {
  name: 'notifications',
  summary: 'Your notifications, newest first',
  usage: '[--unread] [--limit N]   |   notifications read (<id>… | --all)',
  options: { unread: { type: 'boolean' }, limit: { type: 'string', short: 'n' } },
  optionHelp: [
    ['--unread', 'only the ones not marked read'],
    ['-n, --limit N', 'at most N (default: the server default)'],
  ],
  positionals: { min: 0, max: 0 },
  details:
    'With --json: { "items": [...], "nextCursor": … }. Mark them read with: dropwatch notifications read <id>… | --all',
  async run({ values, out, client }) {
    const limit = intOpt(values, 'limit', 'notifications', { min: 1, max: 200 });
    const res = await client().notifications.list.query({
      unreadOnly: boolOpt(values, 'unread'),
      ...(limit ? { limit } : {}),
    });
    if (out.json) return out.jsonLine(res);
    if (res.items.length === 0)
      out.line(paint(out, 'dim', boolOpt(values, 'unread') ? 'no unread notifications' : 'no notifications'));
    for (const n of res.items) {
      const mark = n.readAt ? paint(out, 'dim', 'read  ') : paint(out, 'yellow', 'unread');
      out.line(`${paint(out, 'bold', n.id.padStart(6))}  ${mark}  ${localTime(n.createdAt)}  ${dropLine(out, n.drop)}`);
    }
    if (res.nextCursor) out.line(paint(out, 'dim', '(more: raise --limit)'));
  },
};

export const notificationsRead: Command = {
  name: 'notifications read',
  summary: 'Mark notifications read: the ones given, or --all',
  usage: '(<id>… | --all)',
  options: { all: { type: 'boolean' } },
  optionHelp: [['--all', 'every unread notification']],
  positionals: { min: 0, max: 100, name: 'notification id' },
  async run({ values, positionals, out, client }) {
    const all = boolOpt(values, 'all');
    if (all === positionals.length > 0)
      throw new UsageError('give notification ids or --all (not both)', 'notifications read');
    const bad = positionals.find((id) => !ID.test(id));
    if (bad !== undefined) throw new UsageError(`a notification id is a number, got '${bad}'`, 'notifications read');
    const res = all
      ? await client().notifications.markAllRead.mutate()
      : await client().notifications.markRead.mutate({ ids: [...positionals] });
    if (out.json) return out.jsonLine(res);
    out.line(`marked ${res.updated} read`);
  },
};

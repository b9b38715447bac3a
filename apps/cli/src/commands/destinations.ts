import { DESTINATION_CHANNELS, destinationTarget, type Destination, type RouterInputs } from '@dropwatch/client';
import { intOpt, stringOpt } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { localTime } from '../format.js';
import { paint, type Output } from '../output.js';

type AddInput = RouterInputs['destinations']['add'];

function destinationLine(out: Output, d: Destination): string {
  const state = d.disabledAt
    ? paint(out, 'red', `disabled: ${d.disabledReason ?? 'gone'}`)
    : d.enabled
      ? paint(out, 'green', 'on')
      : paint(out, 'dim', 'off');
  const last = d.lastDelivery
    ? `last ${d.lastDelivery.status} ${localTime(d.lastDelivery.at)}${d.failureCount ? `, ${d.failureCount} failures` : ''}`
    : 'never sent';
  const extras = [
    d.name && `"${d.name}"`,
    d.quietHours && `quiet ${d.quietHours.start}–${d.quietHours.end} ${d.quietHours.timeZone}`,
    d.watchIds && `watches ${d.watchIds.join(',')}`,
  ].filter(Boolean);
  return `${paint(out, 'bold', d.id.padStart(6))}  ${d.channel.padEnd(8)}  ${state}  ${destinationTarget(d)}  ${paint(out, 'dim', last)}${extras.length ? `  (${extras.join(', ')})` : ''}`;
}

/** The channels added from options: a webpush destination is a browser's push subscription. */
const CHANNELS = DESTINATION_CHANNELS.filter((c) => c !== 'webpush');

/** Settings of one channel from the options; webpush needs a browser's subscription (the dashboard). */
function channelInput(channel: string, values: Parameters<typeof stringOpt>[0]): AddInput {
  const need = (name: string) => {
    const v = stringOpt(values, name);
    if (v === undefined) throw new UsageError(`a ${channel} destination needs --${name}`, 'destinations add');
    return v;
  };
  switch (channel) {
    case 'webhook':
      return { channel, url: need('webhook-url') };
    case 'ntfy': {
      const priority = intOpt(values, 'priority', 'destinations add', { min: 1, max: 5 });
      const tags = stringOpt(values, 'tags');
      const token = stringOpt(values, 'access-token');
      return {
        channel,
        topicUrl: need('topic-url'),
        ...(priority !== undefined ? { priority } : {}),
        ...(tags !== undefined ? { tags: tags.split(',').filter((t) => t.length > 0) } : {}),
        ...(token !== undefined ? { accessToken: token } : {}),
      };
    }
    case 'telegram':
      return { channel, botToken: need('bot-token'), chatId: need('chat-id') };
    case 'email':
      return { channel, to: need('to') };
    case 'webpush':
      throw new UsageError(
        'a web push subscription is made by a browser: add it from the dashboard',
        'destinations add',
      );
    default:
      throw new UsageError(`unknown channel '${channel}': one of ${CHANNELS.join(', ')}`, 'destinations add');
  }
}

export const destinationsAdd: Command = {
  name: 'destinations add',
  summary: 'Send notifications to a webhook, an ntfy topic, a Telegram chat or an email address',
  usage: `<${CHANNELS.join('|')}> [--webhook-url U] [--topic-url U] [--access-token T] [--priority 1-5] [--tags a,b] [--bot-token T] [--chat-id C] [--to ADDR] [--name N] [--quiet HH:MM-HH:MM --tz ZONE] [--watches ID,ID]`,
  options: {
    'webhook-url': { type: 'string' },
    'topic-url': { type: 'string' },
    'access-token': { type: 'string' },
    priority: { type: 'string' },
    tags: { type: 'string' },
    'bot-token': { type: 'string' },
    'chat-id': { type: 'string' },
    to: { type: 'string' },
    name: { type: 'string' },
    quiet: { type: 'string' },
    tz: { type: 'string' },
    watches: { type: 'string' },
  },
  optionHelp: [
    ['webhook --webhook-url URL', 'a Standard Webhooks receiver; its signing secret is printed once'],
    ['ntfy --topic-url URL', 'an ntfy topic on any server; --access-token, --priority, --tags optional'],
    ['telegram --bot-token T --chat-id C', 'a chat your bot may write to (numeric id or @channel)'],
    ['email --to ADDR', 'an email address (the server needs SMTP_URL)'],
    ['--name N', 'a label for the list'],
    ['--quiet HH:MM-HH:MM --tz ZONE', 'hold notifications during these hours (IANA zone, e.g. Europe/Paris)'],
    ['--watches ID,ID', 'only notifications of these watches (default: all)'],
  ],
  positionals: { min: 1, max: 1, name: 'channel' },
  details:
    'Secrets (the webhook signing secret, tokens you gave) are printed this once; list never shows them. With --json: { destination, secrets, created }.',
  async run({ values, positionals, out, client }) {
    const input = channelInput(positionals[0]!, values);
    const quiet = stringOpt(values, 'quiet');
    const tz = stringOpt(values, 'tz');
    if ((quiet === undefined) !== (tz === undefined))
      throw new UsageError('--quiet and --tz go together', 'destinations add');
    let quietHours: { start: string; end: string; timeZone: string } | undefined;
    if (quiet !== undefined && tz !== undefined) {
      const m = /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(quiet);
      if (!m) throw new UsageError(`--quiet is HH:MM-HH:MM, got '${quiet}'`, 'destinations add');
      quietHours = { start: m[1]!, end: m[2]!, timeZone: tz };
    }
    const name = stringOpt(values, 'name');
    const watches = stringOpt(values, 'watches');
    const res = await client().destinations.add.mutate({
      ...input,
      ...(name !== undefined ? { name } : {}),
      ...(quietHours ? { quietHours } : {}),
      ...(watches !== undefined ? { watchIds: watches.split(',').filter((w) => w.length > 0) } : {}),
    });
    if (out.json) return out.jsonLine(res);
    out.line(`added: ${destinationLine(out, res.destination)}`);
    for (const [k, v] of Object.entries(res.secrets)) out.line(`${k}: ${v}  ${paint(out, 'dim', '(shown once)')}`);
  },
};

export const destinationsList: Command = {
  name: 'destinations list',
  summary: 'Where your notifications go, with the last delivery of each',
  usage: '',
  options: {},
  optionHelp: [],
  positionals: { min: 0, max: 0 },
  details: 'With --json: { "items": [...] }.',
  async run({ out, client }) {
    const res = await client().destinations.list.query();
    if (out.json) return out.jsonLine(res);
    if (res.items.length === 0)
      out.line(paint(out, 'dim', 'no destinations yet: dropwatch destinations add ntfy --topic-url <url>'));
    for (const d of res.items) out.line(destinationLine(out, d));
  },
};

const idOf = (positionals: readonly string[], command: string): string => {
  const id = positionals[0]!;
  if (!/^[1-9]\d{0,18}$/.test(id))
    throw new UsageError(`a destination id is a number (see dropwatch destinations list), got '${id}'`, command);
  return id;
};

export const destinationsRm: Command = {
  name: 'destinations rm',
  summary: 'Remove a destination by its id (its pending deliveries end)',
  usage: '<id>',
  options: {},
  optionHelp: [],
  positionals: { min: 1, max: 1, name: 'destination id' },
  async run({ positionals, out, client }) {
    const id = idOf(positionals, 'destinations rm');
    const res = await client().destinations.remove.mutate({ id });
    if (out.json) return out.jsonLine({ id, ...res });
    out.line(`removed destination ${id}`);
  },
};

export const destinationsTest: Command = {
  name: 'destinations test',
  summary: 'Send a test notification to a destination now',
  usage: '<id>',
  options: {},
  optionHelp: [],
  positionals: { min: 1, max: 1, name: 'destination id' },
  details: 'Exit code 1 when the destination did not accept it. With --json: { delivered, status, error }.',
  async run({ positionals, out, client }) {
    const id = idOf(positionals, 'destinations test');
    const res = await client().destinations.test.mutate({ id });
    if (out.json) out.jsonLine(res);
    else if (res.delivered) out.line(`delivered${res.status !== null ? ` (${res.status})` : ''}`);
    else out.line(paint(out, 'red', `not delivered: ${res.error ?? 'failed'}`));
    if (!res.delivered) process.exitCode = 1;
  },
};

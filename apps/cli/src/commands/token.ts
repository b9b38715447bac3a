import { boolOpt, stringOpt } from '../args.js';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { paint } from '../output.js';

export const tokenCreate: Command = {
  name: 'token create',
  summary: 'Issue an API token for a user, created if the name is new (admin)',
  usage: '<user name> [--admin] [--label TEXT]',
  options: { admin: { type: 'boolean' }, label: { type: 'string' } },
  optionHelp: [
    ['<user name>', 'letters, digits and _ . @ + -'],
    ['--admin', 'an admin token (prune, tokens)'],
    ['--label TEXT', 'a note stored with the token, e.g. where it is used'],
  ],
  positionals: { min: 1, max: 1, name: 'user name' },
  details: `The new token is printed once (the server keeps only its hash): it is the one secret this
CLI ever prints, because asking for it is the point of the command. Through the admin API, so it
works beside a running server.`,
  async run({ values, positionals, out, client }) {
    const label = stringOpt(values, 'label');
    const res = await client().admin.tokens.create.mutate({
      userName: positionals[0]!,
      admin: boolOpt(values, 'admin'),
      ...(label !== undefined ? { label } : {}),
    });
    if (out.json) return out.jsonLine(res);
    out.line(`token for ${res.userName} (${res.role}, user ${res.userId}); shown once, store it now:`);
    out.line(paint(out, 'bold', res.token));
  },
};

export const tokenRevoke: Command = {
  name: 'token revoke',
  summary: 'Revoke one token, or every token of a user (admin)',
  usage: '(--user NAME | --revoke-token TOKEN)',
  options: { user: { type: 'string' }, 'revoke-token': { type: 'string' } },
  optionHelp: [
    ['--user NAME', 'every token of this user'],
    [
      '--revoke-token TOKEN',
      'this one token (read from the DROPWATCH_REVOKE_TOKEN environment variable when the flag is "-")',
    ],
  ],
  positionals: { min: 0, max: 0 },
  details: 'Exit status 1 when nothing matched (no such token or user): a script learns its revoke did nothing.',
  async run({ values, out, env, client }) {
    const user = stringOpt(values, 'user');
    let token = stringOpt(values, 'revoke-token');
    // A token on the command line lands in shell history and `ps`; "-" reads it from the environment instead.
    if (token === '-') token = env.DROPWATCH_REVOKE_TOKEN || undefined;
    if ((user === undefined) === (token === undefined))
      throw new UsageError('give exactly one of --user or --revoke-token', 'token revoke');
    const res = await client().admin.tokens.revoke.mutate(user !== undefined ? { userName: user } : { token: token! });
    if (out.json) out.jsonLine(res);
    else out.line(`revoked ${res.revoked} token${res.revoked === 1 ? '' : 's'}`);
    if (res.revoked === 0) {
      if (!out.json) out.warn('nothing matched: no such token or user');
      process.exitCode = 1;
    }
  },
};

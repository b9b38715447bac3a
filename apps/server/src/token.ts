import { parseArgs } from 'node:util';
import { issueToken, revokeToken, revokeUserTokens } from '@dropwatch/api';
import { loadConfig } from '@dropwatch/core';
import { createOrm } from '@dropwatch/db';
import { openDatabase } from './database.js';
import { readEnvironment } from './environment.js';
import { createLogger } from './logger.js';

const USAGE = `usage:
  npm run token -- create --user NAME [--admin] [--label TEXT]   issue a token (creates the user if new)
  npm run token -- revoke --token TOKEN                          revoke one token
  npm run token -- revoke --user NAME                            revoke every token of a user`;

/** Operators' token tool. The new token goes to stdout once; only its sha256 is stored. */
async function run(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      admin: { type: 'boolean', default: false },
      label: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || (command !== 'create' && command !== 'revoke')) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (command === 'create' && !values.user) {
    process.stderr.write(`create needs --user NAME\n${USAGE}\n`);
    return 2;
  }
  if (command === 'revoke' && !values.user === !values.token) {
    process.stderr.write(`revoke needs exactly one of --token, --user\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(readEnvironment(process.cwd(), process.env));
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, undefined, config.LOG_FORMAT);
  const db = await openDatabase(config, logger, process.cwd(), { attach: true });
  const orm = await createOrm({
    databaseUrl: db.url,
    poolMax: 2,
    applicationName: 'dropwatch-token',
    pooler: config.DATABASE_POOLER,
  });
  try {
    const em = orm.em.fork();
    if (command === 'create') {
      const created = await issueToken(em, {
        userName: values.user ?? '',
        role: values.admin ? 'admin' : 'user',
        label: values.label ?? null,
      });
      process.stdout.write(`user: ${created.userName} (${created.role}, ${created.userId})\ntoken: ${created.token}\n`);
      process.stderr.write('store the token now: it is not shown again\n');
    } else {
      const revoked = values.token
        ? await revokeToken(em, values.token)
        : await revokeUserTokens(em, values.user ?? '');
      process.stdout.write(`revoked: ${revoked}\n`);
      if (revoked === 0) return 1;
    }
    return 0;
  } finally {
    await orm.close(true);
    await db.stop();
  }
}

run().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`dropwatch token: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

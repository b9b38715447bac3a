import { hasAdmin, issueToken } from '@dropwatch/api';
import type { Config } from '@dropwatch/core';
import type { MikroORM } from '@dropwatch/db';
import type { Logger } from '../logger.js';

/** The user the first start creates. */
export const FIRST_ADMIN_NAME = 'admin';

/**
 * On a database without any admin: create one. Its token is DROPWATCH_ADMIN_TOKEN when set,
 * else a random one printed ONCE to the log (it is stored only as a sha256). Serialized by an
 * advisory lock so replicas starting together create one admin.
 */
export async function ensureFirstAdmin(orm: MikroORM, config: Config, logger: Logger): Promise<'created' | 'exists'> {
  return orm.em.fork().transactional(async (em) => {
    await em.execute(`select pg_advisory_xact_lock(hashtext('dropwatch_first_admin'))`);
    if (await hasAdmin(em)) return 'exists';
    const fromEnv = config.DROPWATCH_ADMIN_TOKEN;
    const created = await issueToken(em, {
      userName: FIRST_ADMIN_NAME,
      role: 'admin',
      label: 'first start',
      ...(fromEnv ? { token: fromEnv } : {}),
    });
    if (fromEnv) {
      logger.info({ user: FIRST_ADMIN_NAME }, 'first start: created the admin user with DROPWATCH_ADMIN_TOKEN');
    } else {
      logger.warn(
        { user: FIRST_ADMIN_NAME, adminToken: created.token },
        'first start: created the admin user; this is the only time its token is shown - store it now',
      );
    }
    return 'created';
  });
}

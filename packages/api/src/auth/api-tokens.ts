import { createHash, randomBytes } from 'node:crypto';
import { ApiToken, raw, User, type EntityManager } from '@dropwatch/db';
import type { AuthUser } from '../context.js';

/** Tokens look like `dw_<43 base64url chars>` (32 random bytes). Only their sha256 is stored. */
const TOKEN_PREFIX = 'dw_';
const TOKEN_BYTES = 32;
/** last_used_at is written at most this often per token (not on every request). */
const LAST_USED_RESOLUTION_SECONDS = 60;

export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(TOKEN_BYTES).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The token from an `Authorization: Bearer <token>` header; null when absent or not a bearer. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * The user of a live (unrevoked) token, or null. Touches last_used_at at most once a minute.
 * Every authenticated request runs it, so it stays one hand-written statement (lookup, join and
 * touch in one round trip) rather than going through the entities.
 */
export async function resolveToken(em: EntityManager, token: string): Promise<AuthUser | null> {
  const rows = await em.execute<{ id: string; name: string; role: 'user' | 'admin' }[]>(
    `with hit as (
       select t.token_hash, u.id, u.name, u.role
       from api_tokens t join users u on u.id = t.user_id
       where t.token_hash = ? and t.revoked_at is null
     ), touch as (
       update api_tokens set last_used_at = now()
       where token_hash = (select token_hash from hit)
         and (last_used_at is null or last_used_at < now() - make_interval(secs => ?))
     )
     select id, name, role from hit`,
    [hashToken(token), LAST_USED_RESOLUTION_SECONDS],
  );
  const row = rows[0];
  return row ? { id: row.id, name: row.name, role: row.role } : null;
}

export interface CreatedToken {
  readonly token: string;
  readonly userId: string;
  readonly userName: string;
  readonly role: 'user' | 'admin';
}

/**
 * Issues a token for the user named `userName`, creating the user (with `role`) if no user has
 * that name. An existing user keeps its role unless `role` is admin (an operator promoting it).
 * `token` lets the first-start bootstrap take DROPWATCH_ADMIN_TOKEN instead of a random one.
 */
export async function issueToken(
  em: EntityManager,
  opts: { userName: string; role: 'user' | 'admin'; label?: string | null; token?: string },
): Promise<CreatedToken> {
  const token = opts.token ?? generateToken();
  return em.transactional(async (tx) => {
    // Serializes concurrent issues for one name, so a name never gets two users.
    await tx.execute('select pg_advisory_xact_lock(hashtext(?))', [`dropwatch_user:${opts.userName}`]);
    let user = await tx.findOne(User, { name: opts.userName }, { orderBy: { createdAt: 'asc' } });
    if (!user) {
      user = tx.create(User, { name: opts.userName, role: opts.role });
      // The id is the database's default: the token row needs it.
      await tx.flush();
    } else if (opts.role === 'admin' && user.role !== 'admin') {
      user.role = 'admin';
    }
    tx.create(ApiToken, { tokenHash: hashToken(token), userId: user.id, label: opts.label ?? null });
    await tx.flush();
    return { token, userId: user.id, userName: opts.userName, role: user.role };
  });
}

/** Revokes one token (by its value). Returns how many live tokens were revoked (0 or 1). */
export async function revokeToken(em: EntityManager, token: string): Promise<number> {
  return em.nativeUpdate(ApiToken, { tokenHash: hashToken(token), revokedAt: null }, { revokedAt: raw('now()') });
}

/** Revokes every live token of the user named `userName`. */
export async function revokeUserTokens(em: EntityManager, userName: string): Promise<number> {
  const userIds = em.createQueryBuilder(User).select('id').where({ name: userName });
  return em
    .createQueryBuilder(ApiToken)
    .update({ revokedAt: raw('now()') })
    .where({ revokedAt: null, userId: { $in: userIds.getKnexQuery() } })
    .execute('run')
    .then((res) => res.affectedRows);
}

export async function hasAdmin(em: EntityManager): Promise<boolean> {
  return (await em.findOne(User, { role: 'admin' }, { fields: ['id'] })) !== null;
}

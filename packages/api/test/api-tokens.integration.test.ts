import { describe, expect, it } from 'vitest';
import { useTestDatabase } from '@dropwatch/db/testing';
import { hasAdmin, issueToken, resolveToken, revokeToken, revokeUserTokens } from '../src/auth/api-tokens.js';

const t = useTestDatabase({ poolMax: 4 });
const fork = () => t.orm.em.fork();

describe('api tokens (entities)', () => {
  it('issues for a new user, then for the same user; promotes to admin only when asked', async () => {
    expect(await hasAdmin(fork())).toBe(false);
    const first = await issueToken(fork(), { userName: 'ann', role: 'user', label: 'laptop' });
    expect(first).toMatchObject({ userName: 'ann', role: 'user' });
    expect(first.userId).toMatch(/^[0-9a-f-]{36}$/);
    const second = await issueToken(fork(), { userName: 'ann', role: 'user' });
    expect(second.userId).toBe(first.userId);
    expect(await hasAdmin(fork())).toBe(false);
    const promoted = await issueToken(fork(), { userName: 'ann', role: 'admin' });
    expect(promoted).toMatchObject({ userId: first.userId, role: 'admin' });
    expect(await issueToken(fork(), { userName: 'ann', role: 'user' })).toMatchObject({ role: 'admin' });
    expect(await hasAdmin(fork())).toBe(true);
    expect(await resolveToken(fork(), first.token)).toEqual({ id: first.userId, name: 'ann', role: 'admin' });

    const [row] = await fork().execute<{ label: string | null; n: number }[]>(
      'select (select label from api_tokens where user_id = ? and label is not null) as label, count(*)::int as n from api_tokens where user_id = ?',
      [first.userId, first.userId],
    );
    expect(row).toEqual({ label: 'laptop', n: 4 });
  });

  it('takes the token it is given (the bootstrap admin token)', async () => {
    const given = 'dw_' + 'a'.repeat(43);
    const created = await issueToken(fork(), { userName: 'root', role: 'admin', token: given });
    expect(created.token).toBe(given);
    expect(await resolveToken(fork(), given)).toMatchObject({ name: 'root', role: 'admin' });
  });

  it('revokes one token, or every live token of a user, counting only live ones', async () => {
    const a = await issueToken(fork(), { userName: 'bob', role: 'user' });
    const b = await issueToken(fork(), { userName: 'bob', role: 'user' });
    const c = await issueToken(fork(), { userName: 'bob', role: 'user' });
    const other = await issueToken(fork(), { userName: 'carl', role: 'user' });
    expect(await revokeToken(fork(), a.token)).toBe(1);
    expect(await revokeToken(fork(), a.token)).toBe(0);
    expect(await resolveToken(fork(), a.token)).toBeNull();
    expect(await revokeUserTokens(fork(), 'bob')).toBe(2);
    expect(await revokeUserTokens(fork(), 'bob')).toBe(0);
    expect(await revokeUserTokens(fork(), 'nobody')).toBe(0);
    for (const tok of [b, c]) expect(await resolveToken(fork(), tok.token)).toBeNull();
    expect(await resolveToken(fork(), other.token)).toMatchObject({ name: 'carl' });
    const [row] = await fork().execute<{ late: number }[]>(
      `select count(*)::int as late from api_tokens where revoked_at > now() + interval '1 second'`,
    );
    expect(row?.late).toBe(0);
  });
});

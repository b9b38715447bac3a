import { randomBytes } from 'node:crypto';
import { AppError } from '@dropwatch/core';
import type { EntityManager } from '@dropwatch/db';
import type { AuthUser } from '../context.js';
import { STREAM_TICKET_TTL_SECONDS, STREAM_TICKETS_PER_USER } from '../limits.js';
import { hashToken } from './api-tokens.js';

/** `dwt_` and 32 random bytes: told apart from API tokens (`dw_`) at a glance. */
const TICKET_PREFIX = 'dwt_';
const TICKET_BYTES = 32;

export interface StreamTicket {
  readonly ticket: string;
  readonly expiresAt: Date;
}

/**
 * Issues a ticket for `userId` that one subscription request may redeem within
 * STREAM_TICKET_TTL_SECONDS. A user holds at most STREAM_TICKETS_PER_USER live tickets: a page
 * stuck in a loop gets TOO_MANY_REQUESTS instead of filling the table.
 */
export async function issueStreamTicket(em: EntityManager, userId: string): Promise<StreamTicket> {
  const ticket = `${TICKET_PREFIX}${randomBytes(TICKET_BYTES).toString('base64url')}`;
  // -- uses stream_tickets_user_expires_idx (user_id, expires_at) for the count.
  const rows = await em.execute<{ expires_at: Date | string }[]>(
    `insert into stream_tickets (ticket_hash, user_id, expires_at)
     select ?, ?, now() + make_interval(secs => ?)
     where (select count(*) from stream_tickets
             where user_id = ? and expires_at > now() and used_at is null) < ?
     returning expires_at`,
    [hashToken(ticket), userId, STREAM_TICKET_TTL_SECONDS, userId, STREAM_TICKETS_PER_USER],
  );
  const row = rows[0];
  if (!row)
    throw new AppError(
      'BUSY',
      `too many unused stream tickets (at most ${STREAM_TICKETS_PER_USER} live at once); use or let them expire`,
    );
  return { ticket, expiresAt: row.expires_at instanceof Date ? row.expires_at : new Date(row.expires_at) };
}

/**
 * The user of a live, unused ticket, marking it used in the same statement: two requests with
 * one ticket cannot both get through. Unknown, expired and used tickets give null.
 */
export async function redeemStreamTicket(em: EntityManager, ticket: string): Promise<AuthUser | null> {
  if (!ticket.startsWith(TICKET_PREFIX) || ticket.length > 128) return null;
  const rows = await em.execute<{ id: string; name: string; role: 'user' | 'admin' }[]>(
    `with used as (
       update stream_tickets set used_at = now()
       where ticket_hash = ? and used_at is null and expires_at > now()
       returning user_id
     )
     select u.id, u.name, u.role from used join users u on u.id = used.user_id`,
    [hashToken(ticket)],
  );
  const row = rows[0];
  return row ? { id: row.id, name: row.name, role: row.role } : null;
}

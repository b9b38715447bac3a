import { randomBytes } from 'node:crypto';
import { AppError } from '@dropwatch/core';
import { raw, StreamTicket as StreamTicketEntity, User, type EntityManager } from '@dropwatch/db';
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
  // Two concurrent issues may both pass the check, as with any check under read committed: the
  // limit bounds a page requesting tickets in a loop, not a race of two requests.
  const live = await em.count(StreamTicketEntity, {
    userId,
    expiresAt: { $gt: raw<object, Date>('now()') },
    usedAt: null,
  });
  if (live >= STREAM_TICKETS_PER_USER)
    throw new AppError(
      'BUSY',
      `too many unused stream tickets (at most ${STREAM_TICKETS_PER_USER} live at once); use or let them expire`,
    );
  // The expiry is the database's clock, which redeeming compares it with.
  const [row] = await em
    .createQueryBuilder(StreamTicketEntity)
    .insert({
      ticketHash: hashToken(ticket),
      userId,
      expiresAt: raw('now() + make_interval(secs => ?)', [STREAM_TICKET_TTL_SECONDS]),
    })
    .returning('expiresAt')
    .execute<{ expiresAt: Date }[]>('all', true);
  if (!row) throw new Error('stream ticket was not inserted');
  return { ticket, expiresAt: row.expiresAt };
}

/**
 * The user of a live, unused ticket, marking it used in the statement that checks it: two
 * requests with one ticket cannot both get through. Unknown, expired and used tickets give null.
 */
export async function redeemStreamTicket(em: EntityManager, ticket: string): Promise<AuthUser | null> {
  if (!ticket.startsWith(TICKET_PREFIX) || ticket.length > 128) return null;
  const [used] = await em
    .createQueryBuilder(StreamTicketEntity)
    .update({ usedAt: raw('now()') })
    .where({ ticketHash: hashToken(ticket), usedAt: null, expiresAt: { $gt: raw('now()') } })
    .returning('userId')
    .execute<{ userId: string }[]>('all', true);
  if (!used) return null;
  const user = await em
    .createQueryBuilder(User)
    .select(['id', 'name', 'role'])
    .where({ id: used.userId })
    .execute<{ id: string; name: string; role: 'user' | 'admin' }>('get', true);
  return user ? { id: user.id, name: user.name, role: user.role } : null;
}

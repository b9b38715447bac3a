import { defineEntity, p } from '@mikro-orm/core';
import { User } from './user.entity.js';

/**
 * A single-use ticket that authenticates one subscription (SSE) request of a browser, whose
 * EventSource cannot send the bearer token. Only its sha256 is stored, like api_tokens.
 */
export const StreamTicket = defineEntity({
  name: 'StreamTicket',
  tableName: 'stream_tickets',
  properties: {
    ticketHash: p.text().primary(),
    userId: p
      .manyToOne(User)
      .mapToPk()
      .fieldName('user_id')
      .foreignKeyName('stream_tickets_user_id_fkey')
      .deleteRule('cascade')
      .updateRule('no action'),
    createdAt: p.datetime().defaultRaw('now()'),
    expiresAt: p.datetime(),
    /** Set when a subscription redeems the ticket; a used ticket is refused. */
    usedAt: p.datetime().nullable(),
  },
  indexes: [
    { name: 'stream_tickets_user_expires_idx', properties: ['userId', 'expiresAt'] },
    // Retention removes expired tickets.
    { name: 'stream_tickets_expires_at_idx', properties: ['expiresAt'] },
  ],
});

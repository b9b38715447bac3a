import { defineEntity, p } from '@mikro-orm/core';

/**
 * A single-use ticket that authenticates one subscription (SSE) request of a browser, whose
 * EventSource cannot send the bearer token. Only its sha256 is stored, like api_tokens.
 */
export const StreamTicket = defineEntity({
  name: 'StreamTicket',
  tableName: 'stream_tickets',
  properties: {
    ticketHash: p.string().primary(),
    userId: p.uuid(),
    createdAt: p.datetime().defaultRaw('now()'),
    expiresAt: p.datetime(),
    /** Set when a subscription redeems the ticket; a used ticket is refused. */
    usedAt: p.datetime().nullable(),
  },
});

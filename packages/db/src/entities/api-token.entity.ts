import { defineEntity, p } from '@mikro-orm/core';

/** The token itself is shown once and never stored: only its sha256. */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  tableName: 'api_tokens',
  properties: {
    tokenHash: p.string().primary(),
    userId: p.uuid(),
    label: p.string().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
});

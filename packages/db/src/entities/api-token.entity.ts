import { defineEntity, p } from '@mikro-orm/core';
import { User } from './user.entity.js';

/** The token itself is shown once and never stored: only its sha256. */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  tableName: 'api_tokens',
  properties: {
    tokenHash: p.text().primary(),
    userId: p
      .manyToOne(User)
      .mapToPk()
      .fieldName('user_id')
      .foreignKeyName('api_tokens_user_id_fkey')
      .deleteRule('cascade')
      .updateRule('no action'),
    label: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
  indexes: [{ name: 'api_tokens_user_id_idx', properties: ['userId'] }],
});

import { defineEntity, p } from '@mikro-orm/core';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.text(),
    role: p.enum(['user', 'admin'] as const).default('user'),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});

import { defineEntity, p } from '@mikro-orm/core';

/**
 * Key pairs the server made for itself and must keep across restarts (the Web Push VAPID pair
 * when none is configured). One row per name: bounded by construction.
 */
export const ServerKey = defineEntity({
  name: 'ServerKey',
  tableName: 'server_keys',
  properties: {
    name: p.text().primary(),
    publicKey: p.text(),
    privateKey: p.text().hidden(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});

import { defineEntity, p } from '@mikro-orm/core';

export const User = defineEntity({
  name: 'User',
  tableName: 'users',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    name: p.string(),
    role: p.enum(['user', 'admin'] as const).default('user'),
    webhookUrl: p.text().nullable(),
    /**
     * `whsec_<base64>` HMAC key of the user's webhook signatures; shown to the user once. Stored
     * as-is because the server must sign with it (see docs/architecture.md, "Webhook secrets").
     */
    webhookSecret: p.text().nullable().hidden(),
    /** The secret before the last rotation: it still signs, beside the new one, until webhookSecretPreviousUntil. */
    webhookSecretPreviousUntil: p.datetime().nullable(),
    webhookSecretPrevious: p.text().nullable().hidden(),
    /** Set when a receiver answered 410 Gone: nothing is sent until the user sets or enables it again. */
    webhookDisabledAt: p.datetime().nullable(),
    webhookDisabledReason: p.text().nullable(),
    createdAt: p.datetime().defaultRaw('now()'),
  },
});

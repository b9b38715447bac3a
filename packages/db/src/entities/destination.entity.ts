import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './user.entity.js';

/** The delivery channels a destination can be. */
export const DESTINATION_CHANNELS = ['webhook', 'ntfy', 'telegram', 'email', 'webpush'] as const;
export type DestinationChannelName = (typeof DESTINATION_CHANNELS)[number];

/**
 * Where a user's notifications go: one channel with its settings. The fan-out writes one outbox
 * row per (notification, destination) that is enabled, not disabled by its receiver, and routed
 * from one of the notification's watches.
 */
export const Destination = defineEntity({
  name: 'Destination',
  tableName: 'destinations',
  properties: {
    id: p.bigint('string').primary().autoincrement().generated('identity'),
    userId: p
      .manyToOne(User)
      .mapToPk()
      .fieldName('user_id')
      .foreignKeyName('destinations_user_id_fkey')
      .deleteRule('cascade')
      .updateRule('no action'),
    channel: p.enum([...DESTINATION_CHANNELS]),
    /** A label the user chose (optional). */
    name: p.text().nullable(),
    /** The channel's public settings (URL, chat id, address, priority…): what the API shows. */
    settings: p.json<Record<string, unknown>>().default('{}'),
    /**
     * The channel's secrets (signing secret and its rotation, bot token, access token, push
     * subscription keys). Stored as issued because the sender needs them (see
     * docs/architecture.md, "Secrets at rest"); hidden so they never serialize; shown once.
     */
    secrets: p.json<Record<string, unknown>>().default('{}').hidden(),
    /** The user's switch. */
    enabled: p.boolean().default(true),
    /** Quiet hours, local HH:MM to HH:MM in quietTimeZone (end before start: over midnight). */
    quietStart: p.text().nullable(),
    quietEnd: p.text().nullable(),
    quietTimeZone: p.text().nullable(),
    /** Watches routed here (bigint ids); null: every watch. */
    watchIds: p.array<string>().columnType('bigint[]').nullable(),
    /** Set when the receiver said it is gone (410): nothing is sent until the user enables it. */
    disabledAt: p.datetime().nullable(),
    disabledReason: p.text().nullable(),
    lastStatus: p.enum(['delivered', 'retrying', 'failed'] as const).nullable(),
    lastAttemptAt: p.datetime().nullable(),
    lastError: p.text().nullable(),
    /** Failed attempts since the last delivered one. */
    failureCount: p.integer().default(0),
    createdAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [
    { name: 'destinations_user_idx', properties: ['userId', 'id'] },
    {
      name: 'destinations_disabled_at_idx',
      expression:
        'create index destinations_disabled_at_idx on destinations (disabled_at) where disabled_at is not null',
    },
  ],
  // Quiet hours are all three fields or none.
  checks: [
    {
      name: 'destinations_quiet_check',
      expression:
        '(quiet_start is null and quiet_end is null and quiet_time_zone is null) or (quiet_start is not null and quiet_end is not null and quiet_time_zone is not null)',
    },
  ],
});

/** A destinations row as the ORM loads it. */
export type DestinationRow = InferEntity<typeof Destination>;

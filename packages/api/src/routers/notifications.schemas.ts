import { z } from 'zod';
import { cursorCodec, dropDto } from '@dropwatch/db';
import { INT8_MAX, rowIdInput } from './common.schemas.js';

/** notifications.list page size. */
export const NOTIFICATIONS_LIMIT = { min: 1, max: 100, default: 50 } as const;
/** notifications.markRead: ids per call at most. */
export const MARK_READ_MAX_IDS = 500;
/** notifications.onNew: notifications read per wake-up (it loops until caught up). */
export const ON_NEW_PAGE = 100;
/** onNew re-reads at least this often without a NOTIFY (a missed one, a reconnect of LISTEN). */
export const ON_NEW_FALLBACK_POLL_MS = 5_000;

/** Position in the caller's newest-first list: (created_at, id) of the last item seen. */
export interface NotificationCursor {
  readonly createdAt: string;
  readonly id: string;
}

const CURSOR_TEXT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([1-9]\d{0,18})$/;

/** The read model's cursor codec over "createdAt|id". */
const notificationCursor = cursorCodec<NotificationCursor>({
  toText: (c) => `${c.createdAt}|${c.id}`,
  fromText(text) {
    const m = CURSOR_TEXT.exec(text);
    if (!m?.[1] || !m[2]) return null;
    const c = { createdAt: m[1], id: m[2] };
    // The pattern admits 9999-99-99T99:99:99 and 19-digit ids above int8: refuse what Postgres would.
    const ms = c.createdAt.slice(0, 23);
    const at = new Date(`${ms}Z`);
    if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1 || at.toISOString().slice(0, 23) !== ms) return null;
    return BigInt(c.id) > INT8_MAX ? null : c;
  },
});

export const encodeNotificationCursor = notificationCursor.encode;
export const decodeNotificationCursor = notificationCursor.decode;
const notificationCursorInput = notificationCursor.input;

export const listInput = z
  .object({
    cursor: notificationCursorInput.optional(),
    unreadOnly: z.boolean().default(false),
    limit: z
      .number()
      .int()
      .min(NOTIFICATIONS_LIMIT.min)
      .max(NOTIFICATIONS_LIMIT.max)
      .default(NOTIFICATIONS_LIMIT.default),
  })
  .strict()
  .default({ unreadOnly: false, limit: NOTIFICATIONS_LIMIT.default });

export const markReadInput = z.object({ ids: z.array(rowIdInput).min(1).max(MARK_READ_MAX_IDS) }).strict();

export const onNewInput = z.object({ lastEventId: rowIdInput.optional() }).strict().default({});

export const notificationDto = z.object({
  id: z.string(),
  kind: z.string(),
  drop: dropDto,
  createdAt: z.date(),
  readAt: z.date().nullable(),
});
export type NotificationDto = z.infer<typeof notificationDto>;

export const listOutput = z.object({ items: z.array(notificationDto), nextCursor: z.string().nullable() });
export const markReadOutput = z.object({ updated: z.number().int() });

/** The stored payload (a JSON snapshot of the drop DTO): dates come back as ISO strings. */
export const storedDrop = dropDto.extend({ openedAt: z.coerce.date(), closedAt: z.coerce.date().nullable() });

import { z } from 'zod';
import { decodeCursor, type DropCursor } from '@dropwatch/discovery';
import { MAX_CURSOR_LENGTH } from '../limits.js';

/**
 * The exactly-once (tx_id, id) cursor lives in @dropwatch/discovery (drop-cursor/), because the
 * notify job consumes drop_events with the very same cursor. Re-exported here for the feed.
 */
export {
  compareCursors,
  cursorBelowXmin,
  decodeCursor,
  encodeCursor,
  MAX_ID,
  START_CURSOR,
  type DropCursor,
} from '@dropwatch/discovery';

/** zod: an opaque cursor string, parsed; a malformed one is a validation issue (BAD_REQUEST). */
export const cursorInput = z
  .string()
  .max(MAX_CURSOR_LENGTH)
  .transform((value, ctx): DropCursor => {
    const cursor = decodeCursor(value);
    if (!cursor) {
      ctx.addIssue({ code: 'custom', message: 'malformed cursor' });
      return z.NEVER;
    }
    return cursor;
  });

/**
 * The exactly-once (tx_id, id) cursor and its zod input live in @dropwatch/discovery
 * (drop-cursor/), because the notify job consumes drop_events with the very same cursor.
 * Re-exported here for the feed.
 */
export {
  compareCursors,
  cursorBelowXmin,
  cursorInput,
  decodeCursor,
  encodeCursor,
  MAX_ID,
  START_CURSOR,
  type DropCursor,
} from '@dropwatch/discovery';

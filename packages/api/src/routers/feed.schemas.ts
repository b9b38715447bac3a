import { z } from 'zod';
import { cursorInput, dropDto } from '@dropwatch/db';
import {
  BOARD_LIMIT,
  JUST_OPENED_LIMIT,
  JUST_OPENED_MINUTES,
  LIVE_LIMIT,
  NEW_DROPS_LIMIT,
  NEW_DROPS_WITHIN_MINUTES,
  STILL_OPEN_LIMIT,
} from '../limits.js';
import { boundedInt, datesInput, marketInput, partySizesInput } from './common.schemas.js';

const filters = {
  market: marketInput.optional(),
  partySizes: partySizesInput.optional(),
  dates: datesInput.optional(),
};

export const liveInput = z
  .object({ ...filters, limit: boundedInt(LIVE_LIMIT) })
  .strict()
  .default({ limit: LIVE_LIMIT.default });

export const liveOutput = z.object({
  market: z.string(),
  justOpened: z.array(dropDto),
  stillOpen: z.array(dropDto),
  board: z.array(dropDto),
  lastScanAt: z.date().nullable(),
  nextScanAt: z.date().nullable(),
  builtAt: z.date(),
  /** feed_cache version the answer was read from (0: built live, no cache row yet). */
  version: z.number().int(),
});

export const justOpenedInput = z
  .object({ ...filters, withinMinutes: boundedInt(JUST_OPENED_MINUTES), limit: boundedInt(JUST_OPENED_LIMIT) })
  .strict()
  .default({ withinMinutes: JUST_OPENED_MINUTES.default, limit: JUST_OPENED_LIMIT.default });

export const stillOpenInput = z
  .object({ ...filters, withinMinutes: boundedInt(JUST_OPENED_MINUTES), limit: boundedInt(STILL_OPEN_LIMIT) })
  .strict()
  .default({ withinMinutes: JUST_OPENED_MINUTES.default, limit: STILL_OPEN_LIMIT.default });

export const dropsOutput = z.object({ drops: z.array(dropDto) });

export const newDropsInput = z
  .object({
    cursor: cursorInput.optional(),
    /**
     * Without a cursor: start with the drops opened within this many minutes (and everything
     * committed after them). Ignored with a cursor, which alone says where to continue.
     */
    withinMinutes: boundedInt(NEW_DROPS_WITHIN_MINUTES),
    market: marketInput.optional(),
    limit: boundedInt(NEW_DROPS_LIMIT),
  })
  .strict()
  .default({ withinMinutes: NEW_DROPS_WITHIN_MINUTES.default, limit: NEW_DROPS_LIMIT.default });

export const newDropsOutput = z.object({
  drops: z.array(dropDto),
  /** Pass back as `cursor` to get the next page; opaque. */
  cursor: z.string(),
});

export const onDropInput = z
  .object({
    market: marketInput.optional(),
    /** Set by the SSE client on reconnect (the last `tracked` id); a cursor. */
    lastEventId: cursorInput.nullish(),
  })
  .strict()
  .default({});

export const boardInput = z
  .object({ market: marketInput.optional(), limit: boundedInt(BOARD_LIMIT) })
  .strict()
  .default({ limit: BOARD_LIMIT.default });

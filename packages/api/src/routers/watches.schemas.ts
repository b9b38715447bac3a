import { z } from 'zod';
import { MAX_NAME_LENGTH } from '../limits.js';
import { dateInput, marketInput, rowIdInput, textInput, venueIdInput } from './common.schemas.js';

/** A local time of day HH:MM (00:00–23:59). */
const timeOfDay = textInput().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');

export const watchAddInput = z
  .object({
    kind: z.enum(['include', 'exclude']).default('include'),
    venueId: venueIdInput.optional(),
    /** Matched normalized (lowercase, trimmed, accents folded). */
    venueName: textInput().trim().min(1).max(MAX_NAME_LENGTH).optional(),
    market: marketInput.optional(),
    partySize: z.number().int().min(1).max(20).optional(),
    dateFrom: dateInput.optional(),
    dateTo: dateInput.optional(),
    timeFrom: timeOfDay.optional(),
    timeTo: timeOfDay.optional(),
  })
  .strict()
  .refine((w) => (w.venueId === undefined) !== (w.venueName === undefined), {
    message: 'give exactly one of venueId or venueName',
    path: ['venueId'],
  })
  .refine((w) => !w.dateFrom || !w.dateTo || w.dateFrom <= w.dateTo, {
    message: 'dateFrom is after dateTo',
    path: ['dateFrom'],
  })
  .refine((w) => !w.timeFrom || !w.timeTo || w.timeFrom <= w.timeTo, {
    message: 'timeFrom is after timeTo',
    path: ['timeFrom'],
  });

export type WatchAddInput = z.infer<typeof watchAddInput>;

export const watchRemoveInput = z.object({ id: rowIdInput }).strict();

export const watchDto = z.object({
  id: z.string(),
  kind: z.enum(['include', 'exclude']),
  venueId: z.string().nullable(),
  venueName: z.string().nullable(),
  market: z.string().nullable(),
  partySize: z.number().int().nullable(),
  dateFrom: z.string().nullable(),
  dateTo: z.string().nullable(),
  timeFrom: z.string().nullable(),
  timeTo: z.string().nullable(),
  createdAt: z.date(),
});
export type WatchDto = z.infer<typeof watchDto>;

export const watchListOutput = z.object({ items: z.array(watchDto) });
export const watchAddOutput = z.object({ watch: watchDto, created: z.boolean() });
export const watchRemoveOutput = z.object({ removed: z.boolean() });

import { z } from 'zod';
import { BUILT_IN_MARKET_SLUGS } from '@dropwatch/core';
import { MAX_DATE_FILTERS, MAX_PARTY_SIZE_FILTERS } from '../limits.js';

/** A built-in market; anything else is BAD_REQUEST. */
export const marketInput = z.enum(BUILT_IN_MARKET_SLUGS);

/** A real calendar date YYYY-MM-DD (2026-02-30 is refused here, not by Postgres). */
export const dateInput = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a calendar date');

export const partySizesInput = z.array(z.number().int().min(1).max(20)).min(1).max(MAX_PARTY_SIZE_FILTERS);
export const datesInput = z.array(dateInput).min(1).max(MAX_DATE_FILTERS);

export const boundedInt = (b: { min: number; max: number; default: number }) =>
  z.number().int().min(b.min).max(b.max).default(b.default);

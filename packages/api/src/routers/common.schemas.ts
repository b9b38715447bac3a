import { z } from 'zod';
import { BUILT_IN_MARKET_SLUGS } from '@dropwatch/core';
import { VENUE_ID_PATTERN } from '@dropwatch/db';
import { MAX_DATE_FILTERS, MAX_ID_LENGTH, MAX_PARTY_SIZE_FILTERS } from '../limits.js';

/** The largest bigint (int8) value: ids above it would reach Postgres and fail there. */
export const INT8_MAX = (1n << 63n) - 1n;

const UNPAIRED_SURROGATE = /\p{Surrogate}/u;

/**
 * Every free-text input starts here: Postgres text cannot hold NUL, and an unpaired UTF-16
 * surrogate has no UTF-8 form (the driver would silently turn it into U+FFFD), so both are
 * refused as BAD_REQUEST with a message that names them instead of failing in the database.
 */
export const textInput = () =>
  z
    .string()
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL (\\u0000) characters')
    .refine((s) => !UNPAIRED_SURROGATE.test(s), 'must not contain unpaired UTF-16 surrogates');

/** Ids are bigint identities, as decimal strings on the wire (at most INT8_MAX). */
export const rowIdInput = z
  .string()
  .regex(/^[1-9]\d{0,18}$/, 'must be an id')
  .refine((s) => !/^\d+$/.test(s) || BigInt(s) <= INT8_MAX, 'must be an id (at most 9223372036854775807)');

/** Provider-qualified venue id, e.g. resy:60029. */
export const venueIdInput = textInput()
  .max(MAX_ID_LENGTH)
  .regex(VENUE_ID_PATTERN, 'must be provider:id, e.g. resy:60029');

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

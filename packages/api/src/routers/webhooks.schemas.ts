import { z } from 'zod';
import {
  WEBHOOK_ROTATION_DEFAULT_HOURS,
  WEBHOOK_ROTATION_MAX_HOURS,
  DELIVERY_URL_MAX_LENGTH,
} from '@dropwatch/discovery';
import { textInput } from './common.schemas.js';

export const webhookSetInput = z.object({ url: textInput().min(1).max(DELIVERY_URL_MAX_LENGTH) }).strict();

export const webhookSetOutput = z.object({
  url: z.string(),
  /** The Standard Webhooks signing secret (`whsec_<base64>`): shown this once, never again. */
  secret: z.string(),
});

/** The caller's webhook as it stands; never the secret. */
export const webhookGetOutput = z
  .object({
    url: z.string(),
    /** False after a receiver answered 410 Gone: nothing is sent until `enable` or `set`. */
    enabled: z.boolean(),
    disabledAt: z.date().nullable(),
    disabledReason: z.string().nullable(),
    /** While a rotation lasts, the previous secret signs too, until this moment. */
    previousSecretValidUntil: z.date().nullable(),
  })
  .nullable();

export const webhookRotateInput = z
  .object({
    /** How long the old secret keeps signing beside the new one (0: not at all). */
    overlapHours: z.number().int().min(0).max(WEBHOOK_ROTATION_MAX_HOURS).default(WEBHOOK_ROTATION_DEFAULT_HOURS),
  })
  .strict()
  .default({ overlapHours: WEBHOOK_ROTATION_DEFAULT_HOURS });

export const webhookRotateOutput = z.object({
  /** The new signing secret: shown this once. */
  secret: z.string(),
  previousSecretValidUntil: z.date().nullable(),
});
export const webhookEnableOutput = z.object({ enabled: z.literal(true) });
export const webhookRemoveOutput = z.object({ removed: z.boolean(), cancelledDeliveries: z.number().int() });
export const webhookTestOutput = z.object({
  delivered: z.boolean(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
});

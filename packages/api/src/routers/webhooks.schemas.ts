import { z } from 'zod';
import { WEBHOOK_URL_MAX_LENGTH } from '@dropwatch/discovery';
import { textInput } from './common.schemas.js';

export const webhookSetInput = z.object({ url: textInput().min(1).max(WEBHOOK_URL_MAX_LENGTH) }).strict();

export const webhookSetOutput = z.object({
  url: z.string(),
  /** The signing secret: shown this once, never again (set again to rotate it). */
  secret: z.string(),
});
export const webhookRemoveOutput = z.object({ removed: z.boolean(), cancelledDeliveries: z.number().int() });
export const webhookTestOutput = z.object({
  delivered: z.boolean(),
  status: z.number().int().nullable(),
  error: z.string().nullable(),
});

import { z } from 'zod';
import { issueToken, revokeToken, revokeUserTokens } from '../auth/api-tokens.js';
import { MAX_NAME_LENGTH } from '../limits.js';
import { textInput } from './common.schemas.js';
import { adminProcedure, router } from '../trpc.js';

const userName = textInput()
  .trim()
  .min(1)
  .max(MAX_NAME_LENGTH)
  .regex(/^[\w.@+-]+$/, 'letters, digits and _ . @ + - only');

const createInput = z
  .object({
    userName,
    admin: z.boolean().default(false),
    label: textInput().max(MAX_NAME_LENGTH).optional(),
  })
  .strict();
const createOutput = z.object({
  /** Shown once: only its sha256 is stored. */
  token: z.string(),
  userId: z.string(),
  userName: z.string(),
  role: z.enum(['user', 'admin']),
});

const revokeInput = z
  .object({ token: textInput().min(8).max(512).optional(), userName: userName.optional() })
  .strict()
  .refine((v) => (v.token === undefined) !== (v.userName === undefined), 'give exactly one of token, userName');
const revokeOutput = z.object({ revoked: z.number().int() });

export const adminRouter = router({
  tokens: router({
    /** Issues a token for a user (created if the name is new). */
    create: adminProcedure
      .input(createInput)
      .output(createOutput)
      .mutation(({ ctx, input }) =>
        issueToken(ctx.em, {
          userName: input.userName,
          role: input.admin ? 'admin' : 'user',
          label: input.label ?? null,
        }),
      ),
    /** Revokes one token, or every token of a user. */
    revoke: adminProcedure
      .input(revokeInput)
      .output(revokeOutput)
      .mutation(async ({ ctx, input }) => ({
        revoked: input.token
          ? await revokeToken(ctx.em, input.token)
          : await revokeUserTokens(ctx.em, input.userName ?? ''),
      })),
  }),
});

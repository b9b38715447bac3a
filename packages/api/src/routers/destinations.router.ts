import { randomUUID } from 'node:crypto';
import { AppError } from '@dropwatch/core';
import { Destination } from '@dropwatch/db';
import { channelEnv, channelOf, loadVapidKeys, type SendOutcome } from '@dropwatch/discovery';
import {
  assertStorableText,
  cancelPendingDeliveries,
  checkOwnWatches,
  findOwnDestination,
  lockAndCheckDestinationCount,
  toDestinationDto,
} from '../destinations/destination-store.js';
import { MAX_DESTINATIONS_PER_USER } from '../limits.js';
import { authedProcedure, publicProcedure, router } from '../trpc.js';
import {
  destinationAddInput,
  destinationAddOutput,
  destinationIdInput,
  destinationListOutput,
  destinationRemoveOutput,
  destinationTestOutput,
  destinationUpdateInput,
  destinationUpdateOutput,
  vapidPublicKeyOutput,
} from './destinations.schemas.js';

const channelNamed = (name: string) => {
  const channel = channelOf(name);
  if (!channel) throw new Error(`channel ${name} is not registered`);
  return channel;
};

/** What destinations.test and webhooks.test answer. */
export const testAnswer = (o: SendOutcome) =>
  o.kind === 'delivered'
    ? { delivered: true, status: o.status, error: null }
    : { delivered: false, status: o.status, error: o.error };

export const destinationsRouter = router({
  /**
   * The caller's destinations, oldest first (at most MAX_DESTINATIONS_PER_USER exist): settings,
   * enabled and disabled state, quiet hours, routed watches, the last delivery's outcome and the
   * failures since the last success. Never a secret. -- uses destinations_user_idx.
   */
  list: authedProcedure.output(destinationListOutput).query(async ({ ctx }) => {
    const rows = await ctx.em.find(
      Destination,
      { userId: ctx.user.id },
      { orderBy: { id: 'asc' }, limit: MAX_DESTINATIONS_PER_USER },
    );
    return { items: rows.map(toDestinationDto) };
  }),

  /**
   * Adds a destination: `{ channel, …its settings, name?, enabled?, quietHours?, watchIds? }`.
   * URLs (webhook, ntfy topic, push endpoint) must be http(s) and resolve to public addresses
   * unless WEBHOOK_ALLOW_PRIVATE (delivery checks again at connect time). Its secrets come back
   * this once. A push subscription whose endpoint is already a destination refreshes that one.
   */
  add: authedProcedure
    .input(destinationAddInput)
    .output(destinationAddOutput)
    .mutation(async ({ ctx, input }) => {
      assertStorableText(input);
      const { channel: name, name: label, enabled, quietHours, watchIds, ...channelInput } = input;
      const channel = channelNamed(name);
      const prepared = await channel.prepare(channelInput, {
        allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE,
        env: channelEnv(ctx.em, ctx.config),
      });
      return ctx.em.transactional(async (em) => {
        if (watchIds) await checkOwnWatches(em, ctx.user.id, watchIds);
        if (name === 'webpush') {
          const [same] = await em.execute<{ id: string }[]>(
            `select id::text from destinations where user_id = ? and channel = 'webpush' and secrets ->> 'endpoint' = ?`,
            [ctx.user.id, prepared.secrets.endpoint],
          );
          if (same) {
            const d = await findOwnDestination(em, ctx.user.id, same.id);
            d.secrets = prepared.secrets;
            d.settings = prepared.settings;
            d.disabledAt = null;
            d.disabledReason = null;
            await em.flush();
            return { destination: toDestinationDto(d), secrets: prepared.shownOnce, created: false };
          }
        }
        await lockAndCheckDestinationCount(em, ctx.user.id);
        const d = em.create(Destination, {
          userId: ctx.user.id,
          channel: name,
          name: label ?? null,
          enabled,
          settings: prepared.settings,
          secrets: prepared.secrets,
          quietStart: quietHours?.start ?? null,
          quietEnd: quietHours?.end ?? null,
          quietTimeZone: quietHours?.timeZone ?? null,
          watchIds: watchIds ?? null,
        });
        await em.flush();
        await em.refresh(d);
        return { destination: toDestinationDto(d), secrets: prepared.shownOnce, created: true };
      });
    }),

  /**
   * Changes a destination: name, enabled (true also clears a disabled state the receiver caused),
   * quiet hours (null: none), watchIds (null: every watch), and `settings` of its channel.
   */
  update: authedProcedure
    .input(destinationUpdateInput)
    .output(destinationUpdateOutput)
    .mutation(async ({ ctx, input }) => {
      assertStorableText(input);
      return ctx.em.transactional(async (em) => {
        const d = await findOwnDestination(em, ctx.user.id, input.id);
        if (input.settings !== undefined) {
          const channel = channelNamed(d.channel);
          const patch = channel.updateInput.safeParse(input.settings);
          if (!patch.success) {
            const issue = patch.error.issues[0];
            throw new AppError(
              'BAD_INPUT',
              `settings${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'} (for a ${d.channel} destination)`,
            );
          }
          d.settings = await channel.update(d.settings, patch.data, {
            allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE,
            env: channelEnv(em, ctx.config),
          });
        }
        if (input.name !== undefined) d.name = input.name;
        if (input.enabled !== undefined) {
          d.enabled = input.enabled;
          if (input.enabled) {
            d.disabledAt = null;
            d.disabledReason = null;
          }
        }
        if (input.quietHours !== undefined) {
          d.quietStart = input.quietHours?.start ?? null;
          d.quietEnd = input.quietHours?.end ?? null;
          d.quietTimeZone = input.quietHours?.timeZone ?? null;
        }
        if (input.watchIds !== undefined) {
          if (input.watchIds) await checkOwnWatches(em, ctx.user.id, input.watchIds);
          d.watchIds = input.watchIds;
        }
        await em.flush();
        return { destination: toDestinationDto(d) };
      });
    }),

  /** Removes a destination and its secrets; its pending deliveries end as failed ('destination removed'). */
  remove: authedProcedure
    .input(destinationIdInput)
    .output(destinationRemoveOutput)
    .mutation(async ({ ctx, input }) =>
      ctx.em.transactional(async (em) => {
        const d = await findOwnDestination(em, ctx.user.id, input.id);
        const cancelled = await cancelPendingDeliveries(em, d.id, 'destination removed');
        await em.nativeDelete(Destination, { id: d.id, userId: ctx.user.id });
        return { removed: true as const, cancelledDeliveries: cancelled };
      }),
    ),

  /**
   * Sends a `destination.test` event to one destination now (even a disabled one, and during
   * its quiet hours) and says how it went. Its id is `test_<uuid>`, never a delivery's; the
   * destination's delivery status is left as it was.
   */
  test: authedProcedure
    .input(destinationIdInput)
    .output(destinationTestOutput)
    .mutation(async ({ ctx, input }) => {
      const d = await findOwnDestination(ctx.em, ctx.user.id, input.id);
      const channel = channelNamed(d.channel);
      const outcome = await channel.send(
        {
          id: `test_${randomUUID()}`,
          userId: ctx.user.id,
          attempts: 0,
          event: { type: 'destination.test', timestamp: new Date().toISOString(), data: {} },
        },
        { id: d.id, userId: d.userId, channel: d.channel, settings: d.settings, secrets: d.secrets, quietUntil: null },
        {
          allowPrivate: ctx.config.WEBHOOK_ALLOW_PRIVATE,
          timeoutMs: channel.timeoutMs,
          env: channelEnv(ctx.em, ctx.config),
        },
      );
      return testAnswer(outcome);
    }),

  /**
   * The Web Push application server key (VAPID public key, base64url) a browser subscribes with.
   * Public: it is what every page that offers push needs first. Configured by VAPID_PUBLIC_KEY, or
   * generated once and kept in the database.
   */
  vapidPublicKey: publicProcedure.output(vapidPublicKeyOutput).query(async ({ ctx }) => {
    const keys = await loadVapidKeys(ctx.em, ctx.config);
    return { publicKey: keys.publicKey };
  }),
});

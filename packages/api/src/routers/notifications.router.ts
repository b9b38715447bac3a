import { tracked } from '@trpc/server';
import { AppError } from '@dropwatch/core';
import { pgArray, type EntityManager } from '@dropwatch/db';
import type { Context } from '../context.js';
import { authedProcedure, router } from '../trpc.js';
import {
  encodeNotificationCursor,
  listInput,
  listOutput,
  markReadInput,
  markReadOutput,
  ON_NEW_FALLBACK_POLL_MS,
  ON_NEW_PAGE,
  onNewInput,
  storedDrop,
  type NotificationDto,
} from './notifications.schemas.js';

interface NotificationRow {
  id: string;
  kind: string;
  payload: unknown;
  created_at: Date | string;
  created_at_text: string;
  read_at: Date | string | null;
}

const COLUMNS = `n.id::text as id, n.kind, n.payload, n.created_at,
  to_char(n.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at_text, n.read_at`;

const asDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));

const toDto = (r: NotificationRow): NotificationDto => ({
  id: r.id,
  kind: r.kind,
  drop: storedDrop.parse(r.payload),
  createdAt: asDate(r.created_at),
  readAt: r.read_at === null ? null : asDate(r.read_at),
});

const run = <T extends object>(em: EntityManager, sql: string, params: unknown[]) => em.execute<T[]>(sql, params);

/**
 * The caller's notifications after `afterId`, oldest first (commit order: the notify job is a
 * singleton whose batches commit one after another, so ids grow in commit order).
 * -- uses user_notifications_user_created_idx (user_id, created_at desc) per partition.
 */
function readAfter(em: EntityManager, userId: string, afterId: string, limit: number) {
  return run<NotificationRow>(
    em,
    `select ${COLUMNS} from user_notifications n
     where n.user_id = ? and n.id > ?::bigint
     order by n.id
     limit ?`,
    [userId, afterId, limit],
  );
}

/** The caller's newest notification id ('0' when none): where a subscription without an id starts. */
async function latestId(em: EntityManager, userId: string): Promise<string> {
  const rows = await run<{ id: string }>(
    em,
    `select n.id::text as id from user_notifications n where n.user_id = ? order by n.created_at desc, n.id desc limit 1`,
    [userId],
  );
  return rows[0]?.id ?? '0';
}

async function* notificationStream(
  ctx: Context & { user: { id: string } },
  from: string | undefined,
  signal: AbortSignal | undefined,
) {
  let cursor = from ?? (await latestId(ctx.em, ctx.user.id));
  while (!signal?.aborted) {
    // Register before reading, so a NOTIFY during the read is not lost.
    const woke = ctx.notifications
      ? ctx.notifications.wait(ON_NEW_FALLBACK_POLL_MS, signal)
      : new Promise<void>((r) => setTimeout(r, ON_NEW_FALLBACK_POLL_MS));
    let full = true;
    while (full && !signal?.aborted) {
      const rows = await readAfter(ctx.em, ctx.user.id, cursor, ON_NEW_PAGE);
      for (const row of rows) {
        cursor = row.id;
        yield toDto(row);
      }
      full = rows.length === ON_NEW_PAGE;
    }
    await woke;
  }
}

export const notificationsRouter = router({
  /**
   * The caller's notifications, newest first, bounded by `limit`; `nextCursor` continues.
   * -- uses user_notifications_user_created_idx (user_id, created_at desc): a Merge Append of
   * -- per-partition index scans from the cursor, stopped by the LIMIT.
   */
  list: authedProcedure
    .input(listInput)
    .output(listOutput)
    .query(async ({ ctx, input }) => {
      const params: unknown[] = [ctx.user.id];
      let where = 'n.user_id = ?';
      if (input.unreadOnly) where += ' and n.read_at is null';
      if (input.cursor) {
        where += ' and (n.created_at, n.id) < (?::timestamptz, ?::bigint)';
        params.push(input.cursor.createdAt, input.cursor.id);
      }
      params.push(input.limit + 1);
      const rows = await run<NotificationRow>(
        ctx.em,
        `select ${COLUMNS} from user_notifications n where ${where} order by n.created_at desc, n.id desc limit ?`,
        params,
      );
      const page = rows.slice(0, input.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(toDto),
        nextCursor:
          rows.length > input.limit && last
            ? encodeNotificationCursor({ createdAt: last.created_at_text, id: last.id })
            : null,
      };
    }),

  /** Marks the caller's notifications read. Any id that is not the caller's is NOT_FOUND (and nothing changes). */
  markRead: authedProcedure
    .input(markReadInput)
    .output(markReadOutput)
    .mutation(async ({ ctx, input }) => {
      const ids = [...new Set(input.ids)];
      return ctx.em.transactional(async (em) => {
        const mine = await run<{ n: number }>(
          em,
          'select count(*)::int as n from user_notifications where user_id = ? and id = any(?::bigint[])',
          [ctx.user.id, pgArray(ids)],
        );
        if ((mine[0]?.n ?? 0) !== ids.length) throw new AppError('NOT_FOUND', 'no such notification');
        const res = await em.execute<{ affectedRows: number }>(
          'update user_notifications set read_at = now() where user_id = ? and id = any(?::bigint[]) and read_at is null',
          [ctx.user.id, pgArray(ids)],
          'run',
        );
        return { updated: res.affectedRows };
      });
    }),

  /** Marks every unread notification of the caller read. */
  markAllRead: authedProcedure.output(markReadOutput).mutation(async ({ ctx }) => {
    const res = await ctx.em.execute<{ affectedRows: number }>(
      'update user_notifications set read_at = now() where user_id = ? and read_at is null',
      [ctx.user.id],
      'run',
    );
    return { updated: res.affectedRows };
  }),

  /**
   * SSE: the caller's new notifications as the notify job commits them (woken by NOTIFY
   * dropwatch_notifications). Event ids are notification ids: reconnecting with the last one
   * resumes without gaps or repeats. Only the caller's own notifications are ever read.
   */
  onNew: authedProcedure.input(onNewInput).subscription(async ({ ctx, input, signal }) => {
    if (input.lastEventId !== undefined) {
      // A position in someone else's stream is not a position in the caller's. Checked before
      // the stream opens, so the client gets NOT_FOUND as an answer rather than a broken stream.
      const own = await run<{ id: string }>(
        ctx.em,
        'select n.id::text as id from user_notifications n where n.user_id = ? and n.id = ?::bigint limit 1',
        [ctx.user.id, input.lastEventId],
      );
      if (own.length === 0) throw new AppError('NOT_FOUND', 'no such notification');
    }
    return (async function* () {
      for await (const n of notificationStream(ctx, input.lastEventId, signal)) yield tracked(n.id, n);
    })();
  }),
});

import { z } from 'zod';

/**
 * The exactly-once cursor (docs/architecture.md): (tx_id, id) of the last drop a reader has seen. On the
 * wire it is opaque: base64url of "txid:id". Both parts are unsigned 64-bit integers
 * (tx_id is an xid8, id a bigint identity), kept as decimal strings.
 *
 * The notify job (a consumer of drop_events through its consumer_cursors row) uses the very same
 * cursor as feed.newDrops / feed.onDrop, so it lives in the read model both import.
 */
export interface DropCursor {
  readonly txId: bigint;
  readonly id: bigint;
}

/** Longest encoded cursor accepted (base64url of 20 + 1 + 19 digits is 54 chars). */
export const MAX_CURSOR_LENGTH = 64;

const MAX_U64 = (1n << 64n) - 1n;
/** The largest bigint id: (t, MAX_ID) sorts after every row of transaction t. */
export const MAX_ID = (1n << 63n) - 1n;
export const START_CURSOR: DropCursor = { txId: 0n, id: 0n };

/**
 * The codec of every opaque paging cursor the API hands out: base64url of a short text, at most
 * MAX_CURSOR_LENGTH characters, one canonical spelling per position (a value that does not
 * re-encode to itself is refused), and a zod input that turns a malformed one into a validation
 * issue (BAD_REQUEST). `fromText` parses the decoded text, null when it is not a position.
 */
export interface CursorCodec<T> {
  readonly encode: (cursor: T) => string;
  /** null when the string is not a cursor this server made. */
  readonly decode: (value: string) => T | null;
  readonly input: z.ZodType<T, string>;
}

export function cursorCodec<T>(spec: { toText(cursor: T): string; fromText(text: string): T | null }): CursorCodec<T> {
  const encode = (cursor: T): string => Buffer.from(spec.toText(cursor), 'utf8').toString('base64url');
  const decode = (value: string): T | null => {
    if (value.length === 0 || value.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(value)) return null;
    const cursor = spec.fromText(Buffer.from(value, 'base64url').toString('utf8'));
    return cursor !== null && encode(cursor) === value ? cursor : null;
  };
  const input = z
    .string()
    .max(MAX_CURSOR_LENGTH)
    .transform((value, ctx): T => {
      const cursor = decode(value);
      if (cursor === null) {
        ctx.addIssue({ code: 'custom', message: 'malformed cursor' });
        return z.NEVER;
      }
      return cursor;
    });
  return { encode, decode, input };
}

/** The drop cursor on the wire: base64url of "txid:id", both decimal. */
export const dropCursorCodec = cursorCodec<DropCursor>({
  toText: (c) => `${c.txId}:${c.id}`,
  fromText(text) {
    const match = /^(\d{1,20}):(\d{1,19})$/.exec(text);
    if (!match?.[1] || !match[2]) return null;
    const txId = BigInt(match[1]);
    const id = BigInt(match[2]);
    return txId > MAX_U64 || id > MAX_ID ? null : { txId, id };
  },
});

export const encodeCursor = dropCursorCodec.encode;
export const decodeCursor = dropCursorCodec.decode;

/** The cursor of everything committed before a snapshot whose xmin is `xmin`. */
export function cursorBelowXmin(xmin: bigint): DropCursor {
  return { txId: xmin > 0n ? xmin - 1n : 0n, id: MAX_ID };
}

export function compareCursors(a: DropCursor, b: DropCursor): number {
  if (a.txId !== b.txId) return a.txId < b.txId ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** zod: an opaque drop cursor string, parsed; a malformed one is a validation issue (BAD_REQUEST). */
export const cursorInput = dropCursorCodec.input;

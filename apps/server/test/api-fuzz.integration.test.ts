import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appRouter } from '@dropwatch/api';
import { startApiHarness, TEST_ADMIN_TOKEN, type ApiHarness } from './api-fixtures.js';

/**
 * Property-based fuzz of the whole API over real HTTP: requests built from every procedure's own
 * input schema, mutated with hostile values, sent in odd envelopes, methods, batches and paths.
 * Whatever a caller sends, the answer is never a 5xx (nor a 5xx inside a batch or an SSE stream).
 */

/** Requests sent at most, and the time they may take: the test stays a CI test. */
const FUZZ_RUNS = 1_000;
const FUZZ_TIME_LIMIT_MS = 40_000;
/** The test's own timeout is the fuzz time limit plus this (the default 30 s is shorter than the limit). */
const TEARDOWN_MARGIN_MS = 30_000;
/** A subscription that is not an immediate error is an open stream: watched this long, then closed. */
const SSE_OBSERVE_MS = 200;
/** Generated strings, arrays and batches stay this small (the hostile values bring the big ones). */
const GEN_MAX_LENGTH = 40;
const GEN_MAX_ITEMS = 8;

/**
 * webhooks.test sends a request to the stored webhook URL (an outbound call, not the API's own
 * answer); its address checks have their own tests.
 */
const SKIPPED = new Set(['webhooks.test']);

interface ProcedureDef {
  _def: { type: 'query' | 'mutation' | 'subscription'; inputs: z.ZodType[] };
}
const PROCEDURES = Object.entries(appRouter._def.procedures as unknown as Record<string, ProcedureDef>)
  .filter(([path]) => !SKIPPED.has(path))
  .map(([path, p]) => ({ path, type: p._def.type, input: p._def.inputs[0] }));

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
};

/** Values valid for the schema's shape (refinements aside): what a well-meaning caller sends. */
function fromSchema(s: JsonSchema): fc.Arbitrary<unknown> {
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return fc.oneof(...variants.map(fromSchema));
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const type = (Array.isArray(s.type) ? s.type[0] : s.type) ?? 'any';
  switch (type) {
    case 'object': {
      const props = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, fromSchema(v)]));
      return fc.record(props, { requiredKeys: s.required ?? [] });
    }
    case 'array':
      return fc.array(fromSchema(s.items ?? {}), {
        minLength: s.minItems ?? 0,
        maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? GEN_MAX_ITEMS, GEN_MAX_ITEMS)),
      });
    case 'string':
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
      return fc.string({
        minLength: s.minLength ?? 0,
        maxLength: Math.max(s.minLength ?? 0, Math.min(s.maxLength ?? GEN_MAX_LENGTH, GEN_MAX_LENGTH)),
      });
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1e9, -1e9), max: Math.min(s.maximum ?? 1e9, 1e9) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e9, max: s.maximum ?? 1e9, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');
/** Hostile strings by kind; a kind is picked first, so no kind drowns in the others. */
const HOSTILE_STRING_KINDS: readonly (readonly string[])[] = [
  ['\u0000', 'a\u0000b', '\ud800', 'x\udfff', '\u0001\u001f\u007f', '\u202e\ufeff', 'resy:\u0000'],
  [
    '9223372036854775807',
    '9223372036854775808',
    '9999999999999999999',
    '99999999999999999999999',
    '-1',
    '0',
    '1e400',
    'NaN',
  ],
  [
    b64('9999-99-99T99:99:99.000000Z|1'),
    b64('2026-01-01T00:00:00.000000Z|9999999999999999999'),
    b64('0000-01-01T00:00:00.000000Z|1'),
    b64(`${2n ** 64n}:1`),
    b64('-1:2'),
    b64('1:2:3'),
    b64('1:9223372036854775808'),
    '',
    '=',
    'garbage!',
  ],
  [
    '2026-02-30',
    '0000-01-01',
    '9999-99-99',
    '24:00',
    '23:60',
    'resy:',
    'http://127.0.0.1/',
    'http://[::1]/',
    'file:///etc/passwd',
  ],
  ['__proto__', 'constructor', 'prototype', '%', '%E0%A4%A', '\\', '"', "'; drop table users; --"],
  ['x'.repeat(100_000), 'é'.repeat(5_000)],
];
/** Flat, so each hostile string is as likely as any other; now and then random code points. */
const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRING_KINDS.flat()) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: GEN_MAX_LENGTH }) },
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(2 ** 63, -(2 ** 63), Number.MAX_SAFE_INTEGER + 2, 1e308, -1, 0, 0.5, -0, true, false, null),
  fc.constantFrom(
    Array.from({ length: 10_000 }, () => 1),
    Array.from({ length: 1_000 }, () => 'x'.repeat(100)),
    [],
    {},
    JSON.parse('{"__proto__":{"polluted":true}}') as unknown,
    { constructor: { prototype: { polluted: true } } },
    { toString: 'x', valueOf: 1, hasOwnProperty: null },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A character Postgres text or a parser may choke on, put somewhere in an otherwise valid string. */
const twist = (valid: fc.Arbitrary<unknown>) =>
  fc
    .tuple(valid, fc.nat(), fc.constantFrom('\u0000', '\u0000', '\u0001', '\ud800', '\udfff', '\n', '%', '|'))
    .map(([v, at, c]) => {
      const text = String(v);
      const i = at % (text.length + 1);
      return text.slice(0, i) + c + text.slice(i);
    });

/**
 * Values of the schema's shape at its edges: every string a hostile one or a valid one with a
 * twist, every number just outside its range or beyond int8, arrays at or over their bounds.
 */
function edgeFromSchema(s: JsonSchema): fc.Arbitrary<unknown> {
  const variants = s.anyOf ?? s.oneOf;
  if (variants) return fc.oneof(...variants.map(edgeFromSchema));
  const type = (Array.isArray(s.type) ? s.type[0] : s.type) ?? 'any';
  switch (type) {
    case 'object': {
      const props = Object.fromEntries(
        Object.entries(s.properties ?? {}).map(([k, v]) => [k, fc.oneof(fromSchema(v), edgeFromSchema(v))]),
      );
      return fc.record(props, { requiredKeys: s.required ?? [] });
    }
    case 'array':
      return fc.oneof(
        fc.array(edgeFromSchema(s.items ?? {}), { minLength: 1, maxLength: GEN_MAX_ITEMS }),
        fc.constant(Array.from({ length: (s.maxItems ?? GEN_MAX_ITEMS) + 1 }, () => null)),
      );
    case 'string':
      return fc.oneof(hostileString, twist(fromSchema(s)));
    case 'integer':
    case 'number':
      return fc.constantFrom((s.minimum ?? 0) - 1, (s.maximum ?? 0) + 1, 2 ** 63, -(2 ** 63), 1.5, '1');
    default:
      return hostileValue;
  }
}

/** Key names worth trying in any object: the schema's own plus prototype keys. */
const keysOf = (s: JsonSchema): string[] => [
  ...Object.keys(s.properties ?? {}),
  '__proto__',
  'constructor',
  'prototype',
  'json',
  'meta',
];

/** One procedure's input: valid, valid with one field made hostile, or hostile through and through. */
function inputFor(schema: z.ZodType | undefined): fc.Arbitrary<unknown> {
  if (!schema) return fc.oneof(fc.constant(undefined), hostileValue);
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const valid = fromSchema(json);
  const edge = edgeFromSchema(json);
  const keys = Object.keys(json.properties ?? {});
  // One field at its edge, the others valid: the shape most likely to get past the schema's
  // cross-field rules and reach the procedure (and the database) with the bad value.
  const oneEdge =
    keys.length === 0
      ? edge
      : fc
          .tuple(valid, fc.constantFrom(...keys))
          .chain(([v, key]) =>
            edgeFromSchema(json.properties![key]!).map((bad) => ({ ...(v as Record<string, unknown>), [key]: bad })),
          );
  const mutated = fc.tuple(valid, fc.constantFrom(...keysOf(json)), hostileValue).map(([v, key, bad]) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad;
    // defineProperty, so "__proto__" becomes an own key as it would be in parsed JSON.
    const copy = { ...(v as Record<string, unknown>) };
    Object.defineProperty(copy, key, { value: bad, enumerable: true, configurable: true, writable: true });
    return copy;
  });
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: 6, arbitrary: oneEdge },
    { weight: 2, arbitrary: edge },
    { weight: 2, arbitrary: mutated },
    { weight: 1, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** The JSON text of one input on the wire: the superjson envelope, or something broken. */
const envelope = (input: fc.Arbitrary<unknown>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: input.map((v) => JSON.stringify({ json: v })) },
    { weight: 1, arbitrary: input.map((v) => JSON.stringify(v) ?? '') },
    {
      weight: 2,
      arbitrary: fc.tuple(input, hostileValue).map(([v, meta]) => JSON.stringify({ json: v, meta: { values: meta } })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"json":{"cursor":"x"},"meta":{"values":{"cursor":["bigint"]}}}',
        '{"json":{"limit":"1"},"meta":{"values":{"limit":["Date"]}}}',
        '{"json":1,"meta":{"values":["set"]}}',
        '{"json":{},"meta":{"values":{"__proto__":["map"]}}}',
        '{"json":{},"meta":{"referentialEqualities":{"a":["b"]}}}',
        '{"json":{"a":{}},"meta":{"values":{"a.__proto__.x":["undefined"]}}}',
        '{"json":',
        'null',
        '[]',
        '"json"',
        '{"meta":5}',
        '{"json":{}} trailing',
      ),
    },
  );

const ODD_PATHS = [
  '%E0%A4%A',
  'feed.live%',
  '%',
  '%00',
  'feed.live%00',
  '..%2F..%2Fetc%2Fpasswd',
  ',',
  'feed.live,,',
  ',feed.live',
  '__proto__',
  'constructor',
  'toString',
  'feed.__proto__',
  'feed.constructor.prototype',
  'feed',
  'feed.live.x',
  'feed.live/',
  'a'.repeat(5_000),
  Array.from({ length: 40 }, () => 'health.buckets').join(','),
  'feed.onDrop,feed.live',
  'admin.tokens.create,feed.live',
];

interface FuzzRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly batch: boolean;
  readonly input: string | undefined;
  readonly auth: string | undefined;
}

const auth = fc.oneof(
  { weight: 6, arbitrary: fc.constant(`Bearer ${TEST_ADMIN_TOKEN}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      undefined,
      'Bearer ',
      'Bearer dw_never-issued',
      'Basic YTpi',
      `Bearer ${'a'.repeat(10_000)}`,
    ),
  },
);

const single: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...PROCEDURES).chain((p) =>
  fc.record({
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant(p.type === 'mutation' ? ('POST' as const) : ('GET' as const)) },
      { weight: 1, arbitrary: fc.constantFrom('GET' as const, 'POST' as const) },
    ),
    path: fc.constant(p.path),
    batch: fc.constant(false),
    input: fc.option(envelope(inputFor(p.input)), { nil: undefined, freq: 10 }),
    auth,
  }),
);

const batched: fc.Arbitrary<FuzzRequest> = fc
  .constantFrom('query' as const, 'mutation' as const)
  .chain((type) =>
    fc.array(fc.constantFrom(...PROCEDURES.filter((p) => p.type === type)), { minLength: 1, maxLength: GEN_MAX_ITEMS }),
  )
  .chain((procs) =>
    fc.record({
      method: fc.constant(procs[0]!.type === 'mutation' ? ('POST' as const) : ('GET' as const)),
      path: fc.constant(procs.map((p) => p.path).join(',')),
      batch: fc.constant(true),
      input: fc.oneof(
        {
          weight: 4,
          arbitrary: fc
            .tuple(...procs.map((p) => envelope(inputFor(p.input))))
            .map((parts) => `{${parts.map((e, i) => `"${i}":${e}`).join(',')}}`),
        },
        { weight: 1, arbitrary: envelope(hostileValue) },
      ),
      auth,
    }),
  );

const odd: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('GET' as const, 'POST' as const),
  path: fc.constantFrom(...ODD_PATHS),
  batch: fc.boolean(),
  input: fc.option(envelope(hostileValue), { nil: undefined }),
  auth,
});

const request = fc.oneof(
  { weight: 10, arbitrary: single },
  { weight: 2, arbitrary: batched },
  { weight: 1, arbitrary: odd },
);

/** The worst status in an answer: the HTTP status, and every status inside a batch or an SSE error event. */
async function worstStatus(res: Response): Promise<number> {
  const type = res.headers.get('content-type') ?? '';
  if (type.includes('text/event-stream')) {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const stop = setTimeout(() => void reader.cancel(), SSE_OBSERVE_MS);
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value as Uint8Array, { stream: true });
        if (text.includes('event: serialized-error')) break;
      }
    } finally {
      clearTimeout(stop);
      await reader.cancel().catch(() => undefined);
    }
    const m = /event: serialized-error\ndata: (.*)\n/.exec(text);
    if (!m?.[1]) return res.status;
    const shape = (JSON.parse(m[1]) as { json: { data: { httpStatus: number } } }).json;
    return Math.max(res.status, shape.data.httpStatus);
  }
  const text = await res.text();
  if (!type.includes('application/json')) return res.status;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return res.status;
  }
  const items = Array.isArray(body) ? body : [body];
  let worst = res.status;
  for (const item of items) {
    const status = (item as { error?: { json?: { data?: { httpStatus?: number } } } })?.error?.json?.data?.httpStatus;
    if (typeof status === 'number') worst = Math.max(worst, status);
  }
  return worst;
}

describe('fuzz: whatever a caller sends, the answer is never 5xx', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await startApiHarness();
  });
  afterAll(() => h?.stop());

  it(
    `${FUZZ_RUNS} generated requests (or ${FUZZ_TIME_LIMIT_MS / 1000} s) over HTTP`,
    async () => {
      const byStatus = new Map<number, number>();
      let sent = 0;
      const failures: string[] = [];
      await fc
        .assert(
          fc.asyncProperty(request, async (r) => {
            const query = new URLSearchParams();
            if (r.batch) query.set('batch', '1');
            const headers: Record<string, string> = {};
            if (r.auth !== undefined) headers.authorization = r.auth;
            let body: string | undefined;
            if (r.input !== undefined) {
              if (r.method === 'GET') query.set('input', r.input);
              else {
                body = r.input;
                headers['content-type'] = 'application/json';
              }
            }
            const qs = query.toString();
            const res = await fetch(`${h.app.url}/trpc/${r.path}${qs ? `?${qs}` : ''}`, {
              method: r.method,
              headers,
              body,
            });
            const status = await worstStatus(res);
            sent += 1;
            byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
            if (status >= 500)
              failures.push(
                `${status} ${r.method} /trpc/${r.path.slice(0, 200)} input=${(r.input ?? '').slice(0, 300)}`,
              );
            return status < 500;
          }),
          {
            numRuns: FUZZ_RUNS,
            interruptAfterTimeLimit: FUZZ_TIME_LIMIT_MS,
            markInterruptAsFailure: false,
            // Biased generation favours the first of every list (the first procedures, the first hostile
            // strings) and small sizes; here every procedure and every hostile value must get its turn.
            plugins: [fc.unbiased()],
          },
        )
        .finally(() => {
          const statuses = Object.fromEntries([...byStatus.entries()].sort(([a], [b]) => a - b));
          console.info(
            `api fuzz: ${sent} requests over HTTP; responses by (worst) status: ${JSON.stringify(statuses)}`,
          );
          if (failures.length > 0) console.info(`api fuzz 5xx (first 5):\n${failures.slice(0, 5).join('\n')}`);
        });
      expect(sent).toBeGreaterThan(0);
    },
    FUZZ_TIME_LIMIT_MS + TEARDOWN_MARGIN_MS,
  );
});

import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Context } from '../src/context.js';
import { publicProcedure, router } from '../src/trpc.js';

/** A router whose one procedure returns what its own output schema refuses: a server fault. */
const faulty = router({
  broken: publicProcedure
    .input(z.object({ n: z.number().max(5) }).strict())
    .output(z.object({ a: z.string() }))
    .query(() => ({ a: 1 }) as unknown as { a: string }),
});

async function get(input: unknown) {
  const res = await fetchRequestHandler({
    router: faulty,
    endpoint: '/trpc',
    req: new Request(`http://localhost/trpc/broken?input=${encodeURIComponent(JSON.stringify({ json: input }))}`),
    createContext: () => ({}) as Context,
  });
  const body = (await res.json()) as {
    error: { json: { message: string; data: { code: string; zodError: unknown } } };
  };
  return { status: res.status, error: body.error.json };
}

describe('error formatter', () => {
  it('an output that fails its schema is a plain 500: no zod issues, no internals', async () => {
    const { status, error } = await get({ n: 1 });
    expect(status).toBe(500);
    expect(error.message).toBe('internal error');
    expect(error.data.zodError).toBeNull();
  });

  it('bad input: one line naming the field, the issues as a list in data', async () => {
    const { status, error } = await get({ n: 6, extra: true });
    expect(status).toBe(400);
    expect(error.message).not.toContain('\n');
    expect(error.message).toMatch(/n: .*5/);
    expect(error.message).toMatch(/input: .*extra/);
    expect(error.data.zodError).toEqual({
      issues: expect.arrayContaining([expect.objectContaining({ path: ['n'], code: 'too_big' })]),
    });
  });
});

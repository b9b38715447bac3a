import { describe, expect, it } from 'vitest';
import { pathnameOf } from '../src/http/server.js';

/** The router's path must be the one the URL parser gives, whatever the request target. */
describe('pathnameOf', () => {
  const viaUrl = (target: string) => new URL(target, 'http://localhost').pathname;

  it('gives what new URL gives, for plain paths and for everything it leaves to the parser', () => {
    const targets = [
      '/',
      '/trpc/feed.live?input=%7B%7D',
      '/trpc/feed.newDrops,health.status?batch=1&input={}',
      '/static/app-Abc_12.js',
      '/trpc/../metrics',
      '/trpc/./feed.live',
      '/trpc/..',
      '/trpc/.',
      '/trpc/%2e%2e/metrics',
      '/trpc\\..\\metrics',
      '//evil.test/trpc/feed.live',
      'http://other.test/trpc/feed.live?x=1',
      '/trpc/feed live',
      '/trpc/féed',
      '/a#b?c',
      '/a..b/c.',
      '/~user/x,y',
    ];
    for (const t of targets) expect(pathnameOf(t), t).toBe(viaUrl(t));
  });

  it('agrees with new URL on random targets built from the characters that matter', () => {
    const parts = [
      '/',
      'a',
      '.',
      '..',
      '%2e',
      '%2F',
      '\\',
      '?',
      '#',
      ',',
      '~',
      '-',
      '_',
      'trpc',
      ' ',
      '"',
      'é',
      '//',
      ':',
      '@',
    ];
    let state = 42;
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      let t = next() < 0.9 ? '/' : '';
      const n = 1 + Math.floor(next() * 8);
      for (let j = 0; j < n; j++) t += parts[Math.floor(next() * parts.length)];
      let want: string;
      try {
        want = viaUrl(t);
      } catch {
        continue;
      }
      expect(pathnameOf(t), t).toBe(want);
    }
  });
});

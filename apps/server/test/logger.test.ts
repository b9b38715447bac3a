import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function capture(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { stream, text: () => out };
}

describe('logger', () => {
  it('writes JSON lines by default', () => {
    const c = capture();
    createLogger('info', c.stream).info({ venue: 'resy:1' }, 'drop seen');
    expect(JSON.parse(c.text())).toMatchObject({ level: 30, msg: 'drop seen', venue: 'resy:1' });
  });

  it('LOG_FORMAT=pretty writes human-readable lines, secrets still hidden', () => {
    const c = capture();
    createLogger('info', c.stream, 'pretty').info(
      { venue: 'resy:1', headers: { authorization: 'Bearer s3cret' } },
      'drop seen',
    );
    const text = c.text();
    expect(text).toMatch(/INFO.*drop seen/);
    expect(text).toContain('venue: "resy:1"');
    expect(text).not.toContain('s3cret');
    expect(() => JSON.parse(text) as unknown).toThrow();
  });
});

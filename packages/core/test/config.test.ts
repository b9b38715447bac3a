import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, configMarkdownTable, directDatabaseUrl, envExample, loadConfig, SETTINGS } from '../src/index.js';

const root = new URL('../../../', import.meta.url);

describe('loadConfig', () => {
  it('gives every default on an empty environment', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.DISCOVERY_MARKETS).toEqual(['nyc']);
    expect(c.DISCOVERY_TIME_SLOTS).toEqual(['15:00', '20:30']);
    expect(c.DISCOVERY_PARTY_SIZES).toEqual([2, 4]);
    expect(c.DISCOVERY_WINDOW_DAYS).toBe(14);
    expect(c.RESY_MAX_RPS).toBe(10);
    expect(c.SIM_CHURN).toBe(0.02);
    expect(c.WEBHOOK_ALLOW_PRIVATE).toBe(false);
  });

  it('parses lists and booleans', () => {
    const c = loadConfig({
      DISCOVERY_MARKETS: 'nyc, la ,sf',
      DISCOVERY_PARTY_SIZES: '2,6',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    expect(c.DISCOVERY_MARKETS).toEqual(['nyc', 'la', 'sf']);
    expect(c.DISCOVERY_PARTY_SIZES).toEqual([2, 6]);
    expect(c.WEBHOOK_ALLOW_PRIVATE).toBe(true);
  });

  it('reads CORS_ORIGINS as a list of origins, empty by default, and refuses paths and wildcards', () => {
    expect(loadConfig({}).CORS_ORIGINS).toEqual([]);
    expect(loadConfig({ CORS_ORIGINS: 'https://app.example.com, http://127.0.0.1:5173' }).CORS_ORIGINS).toEqual([
      'https://app.example.com',
      'http://127.0.0.1:5173',
    ]);
    for (const bad of [
      '*',
      'https://app.example.com/',
      'app.example.com',
      'ftp://x.example',
      'https://a.example/path',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS=.* is invalid: .*origin/);
    }
  });

  it('names the variable, the value and the range of a bad value', () => {
    expect(() => loadConfig({ DROP_EVENTS_RETENTION_DAYS: '3' })).toThrow(
      /DROP_EVENTS_RETENTION_DAYS="3" is invalid: .*\(allowed: 7–30\)/,
    );
  });

  // Every ranged integer setting: one below its minimum and one above its maximum are refused.
  const ranged = Object.entries(SETTINGS).filter(([, s]) => /^-?[\d.]+–[\d.]+$/.test(s.range));
  it.each(ranged)('refuses %s outside its range', (name, s) => {
    const [min, max] = s.range.split('–').map(Number) as [number, number];
    const step = Number.isInteger(min) && Number.isInteger(max) && max - min >= 1 ? 1 : 0.01;
    for (const bad of [min - step, max + step]) {
      let error: unknown;
      try {
        loadConfig({ [name]: String(bad) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(`${name}="${bad}"`);
      expect((error as Error).message).toContain(s.range);
    }
    expect(() => loadConfig({ [name]: String(min) })).not.toThrow();
    expect(() => loadConfig({ [name]: String(max) })).not.toThrow();
  });

  it.each([
    ['DISCOVERY_MARKETS', 'nyc,atlantis'],
    ['DISCOVERY_MARKETS', 'nyc,nyc'],
    ['DISCOVERY_TIME_SLOTS', '25:00'],
    ['DISCOVERY_TIME_SLOTS', '10:00,11:00,12:00,13:00,14:00,15:00,16:00'],
    ['DISCOVERY_PARTY_SIZES', '2,0'],
    ['DROPWATCH_ROLE', 'both'],
    ['DROPWATCH_ADMIN_TOKEN', 'short'],
    ['DATABASE_URL', 'mysql://x'],
    ['RESY_BASE_URL', 'not a url'],
    ['RETENTION_CRON', 'every day'],
    ['RETENTION_CRON', '61 * * * *'],
    ['RETENTION_CRON', '0 24 * * *'],
    ['RETENTION_CRON', '0 3 32 * *'],
    ['RETENTION_CRON', '0 3 * 13 *'],
    ['RETENTION_CRON', '0 3 * * 8'],
    ['RETENTION_CRON', '0 3 * * mon-xyz'],
    ['WEBHOOK_ALLOW_PRIVATE', 'yes'],
    ['PORT', 'abc'],
  ])('refuses %s=%s', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=`));
  });

  it('refuses half a VAPID pair, naming the missing half and never printing the key', () => {
    const pub = 'BPublicKeyOfSomeLengthAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const priv = 'privateKeyS3cretAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expect(() => loadConfig({ VAPID_PUBLIC_KEY: pub })).toThrow(
      /VAPID_PRIVATE_KEY is required when VAPID_PUBLIC_KEY is set/,
    );
    let message = '';
    try {
      loadConfig({ VAPID_PRIVATE_KEY: priv });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/VAPID_PUBLIC_KEY is required when VAPID_PRIVATE_KEY is set/);
    expect(message).not.toContain('S3cret');
    expect(loadConfig({ VAPID_PUBLIC_KEY: pub, VAPID_PRIVATE_KEY: priv }).VAPID_PUBLIC_KEY).toBe(pub);
  });

  it('behind a transaction pooler, wants the direct URL and names it; never prints a URL', () => {
    expect(loadConfig({}).DATABASE_POOLER).toBe('none');
    expect(directDatabaseUrl(loadConfig({}), 'postgres://u@h/db')).toBe('postgres://u@h/db');
    const pooled = 'postgres://dw:s3cret-pw@pooler:6432/dw';
    const direct = 'postgres://dw:s3cret-pw@primary:5432/dw';
    let message = '';
    try {
      loadConfig({ DATABASE_POOLER: 'transaction', DATABASE_URL: pooled });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/DIRECT_DATABASE_URL is required when DATABASE_POOLER=transaction/);
    expect(message).not.toContain('s3cret-pw');
    expect(() => loadConfig({ DATABASE_POOLER: 'transaction', DIRECT_DATABASE_URL: direct })).toThrow(
      /DATABASE_URL is required/,
    );
    const c = loadConfig({ DATABASE_POOLER: 'transaction', DATABASE_URL: pooled, DIRECT_DATABASE_URL: direct });
    expect(directDatabaseUrl(c, pooled)).toBe(direct);
    expect(() => loadConfig({ DATABASE_POOLER: 'session' })).toThrow(/DATABASE_POOLER="session" is invalid/);
    expect(() => loadConfig({ DIRECT_DATABASE_URL: 'mysql://dw:s3cret-pw@h/x' })).toThrow(
      /DIRECT_DATABASE_URL=<hidden> is invalid/,
    );
  });

  it('never prints a secret value', () => {
    const token = 'x'.repeat(10);
    try {
      loadConfig({ DROPWATCH_ADMIN_TOKEN: token });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('DROPWATCH_ADMIN_TOKEN=<hidden>');
      expect((e as Error).message).not.toContain(token);
    }
  });
});

describe('generated docs', () => {
  it('README configuration table matches the schema', () => {
    const readme = readFileSync(new URL('README.md', root), 'utf8');
    expect(readme).toContain(configMarkdownTable());
  });

  it('.env.example matches the schema', () => {
    expect(readFileSync(new URL('.env.example', root), 'utf8')).toBe(envExample());
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@dropwatch/core';
import { readEnvironment } from '../src/environment.js';

describe('.env', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'dropwatch-env-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is read from the working directory, the real environment winning', async () => {
    await writeFile(
      path.join(dir, '.env'),
      '# local settings\nPORT=4321\nLOG_LEVEL=debug\nNOTIFY_COOLDOWN_MINUTES="45"\n',
    );
    const config = loadConfig(readEnvironment(dir, { LOG_LEVEL: 'warn' }));
    expect(config.PORT).toBe(4321);
    expect(config.NOTIFY_COOLDOWN_MINUTES).toBe(45);
    expect(config.LOG_LEVEL).toBe('warn');
  });

  it('a bad value in it is refused naming the variable, like one from the environment', async () => {
    await writeFile(path.join(dir, '.env'), 'DROP_EVENTS_RETENTION_DAYS=3\n');
    expect(() => loadConfig(readEnvironment(dir, {}))).toThrow(ConfigError);
    expect(() => loadConfig(readEnvironment(dir, {}))).toThrow(/DROP_EVENTS_RETENTION_DAYS="3" is invalid/);
  });

  it('is optional', () => {
    expect(readEnvironment(dir, { PORT: '1' })).toEqual({ PORT: '1' });
  });
});

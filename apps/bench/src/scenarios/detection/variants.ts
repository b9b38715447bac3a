import { setMaxListeners } from 'node:events';
import { loadConfig, type Config } from '@dropwatch/core';
import type { MikroORM } from '@dropwatch/db';
import { createProvider, runPoller, type Provider } from '@dropwatch/discovery';
import { runDiscoveryTick, VenueCache } from '@dropwatch/discovery/internals';
import type { Logger } from 'pino';
import { LegacyResyProvider } from './legacy-resy-provider.js';
import type { VariantName } from './options.js';

/**
 * Each design with the settings and provider it ships with: the old one with the cooldown and
 * slot cap it had (30 s, 5 000) and its Resy search (legacy-resy-provider); the new one with
 * today's defaults and provider, or the DISCOVERY_* settings of the bench's environment.
 */
export function variantSetup(
  variant: VariantName,
  env: Record<string, string>,
  logger: Logger,
): { config: Config; provider: Provider } {
  if (variant === 'old') {
    const config = loadConfig({ ...env, DISCOVERY_BUCKET_COOLDOWN_SECONDS: '30', BUCKET_SLOT_CAP: '5000' });
    return { config, provider: new LegacyResyProvider(config) };
  }
  const config = loadConfig({ ...env, ...discoveryOverrides(process.env) });
  return { config, provider: createProvider(config, logger) };
}

/** DISCOVERY_* settings in the bench's environment apply to the new design (to try other values). */
function discoveryOverrides(source: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(source).filter((e): e is [string, string] => e[0].startsWith('DISCOVERY_') && e[1] !== undefined),
  );
}

export interface VariantRunOptions {
  readonly orm: MikroORM;
  readonly config: Config;
  readonly provider: Provider;
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/** A design under test: runs until the signal aborts, then resolves with its own counters. */
export type VariantRunner = (options: VariantRunOptions) => Promise<Record<string, number>>;

/**
 * Today's design: a tick every DISCOVERY_TICK_SECONDS, skipped while the previous one still runs
 * (what Bree does with a job that is "already running").
 */
const runTicks: VariantRunner = async ({ orm, config, provider, logger, signal }) => {
  const counters = { ticks: 0, skippedTicks: 0, tickErrors: 0, tickPolls: 0, tickFailedPolls: 0 };
  const venueCache = new VenueCache();
  // Each of a tick's concurrent polls and their requests listens on the signal.
  setMaxListeners(0, signal);
  let running: Promise<void> | null = null;
  while (!signal.aborted) {
    if (running) counters.skippedTicks++;
    else {
      counters.ticks++;
      running = runDiscoveryTick({ orm, config, provider, logger, signal, venueCache })
        .then((s) => {
          counters.tickPolls += s.polled;
          counters.tickFailedPolls += s.failed;
        })
        .catch((err: unknown) => {
          counters.tickErrors++;
          logger.warn({ err }, 'discovery tick failed');
        })
        .finally(() => {
          running = null;
        });
    }
    await sleep(config.DISCOVERY_TICK_SECONDS * 1000, signal);
  }
  await running;
  return counters;
};

/** The continuous poller being built in packages/discovery/src/poller. */
const runContinuous: VariantRunner = async ({ orm, config, provider, logger, signal }) => {
  const stats = await runPoller({ orm, config, provider, logger, signal });
  return numericFields(stats);
};

/** The plain counters of a stats object (its shape is still moving; nested ones are left out). */
function numericFields(stats: object): Record<string, number> {
  return Object.fromEntries(Object.entries(stats).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

export const VARIANTS: Readonly<Record<VariantName, VariantRunner>> = { old: runTicks, new: runContinuous };

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

import { SETTINGS, type Config, type SettingName } from '@dropwatch/core';

/**
 * A config as the environment strings it came from, so a worker re-validates it with the same
 * zod schema (`loadConfig`) instead of trusting a structured clone. Travels in workerData only,
 * which is never logged (it holds secrets).
 */
export function configToSettings(config: Config): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value: unknown = config[name];
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) out[name] = value.join(',');
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[name] = String(value);
  }
  return out;
}

import { z } from 'zod';
import { SETTINGS, type SettingName } from './settings.js';

type Settings = typeof SETTINGS;
export type Config = { readonly [K in SettingName]: z.output<Settings[K]['schema']> };

/** The one schema: every setting, with its default applied before validation. */
export const configSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([name, s]) => [name, s.schema])) as {
    [K in SettingName]: Settings[K]['schema'];
  },
);

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** A setting's value as the environment would spell it (lists comma-separated). */
function asEnvValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String).join(',');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * The one config loader. Turns an environment — or a Config itself, such as the copy a job's
 * worker thread receives in its workerData — into a typed config. Unset or empty variables take
 * their default; a bad value throws a ConfigError naming the variable, the value (masked for
 * secrets) and the range.
 */
export function loadConfig(env: Readonly<Record<string, unknown>>): Config {
  const input: Record<string, string | undefined> = {};
  for (const [name, s] of Object.entries(SETTINGS)) {
    const raw = asEnvValue(env[name]);
    input[name] = raw === undefined || raw.trim() === '' ? s.default : raw.trim();
  }
  const parsed = configSchema.safeParse(input);
  if (parsed.success) {
    const problems = crossChecks(parsed.data);
    if (problems.length > 0) throw new ConfigError(problems);
    return parsed.data;
  }

  const problems = new Map<string, string>();
  for (const issue of parsed.error.issues) {
    const name = String(issue.path[0]) as SettingName;
    if (problems.has(name)) continue;
    const s = SETTINGS[name];
    const value = s.secret ? '<hidden>' : JSON.stringify(input[name]);
    problems.set(name, `${name}=${value} is invalid: ${issue.message} (allowed: ${s.range})`);
  }
  throw new ConfigError([...problems.values()]);
}

/** Rules between settings, each naming the variable to change. */
function crossChecks(config: Config): string[] {
  const problems: string[] = [];
  if (config.DATABASE_POOLER === 'transaction') {
    // Behind a transaction pooler LISTEN hears nothing and session locks land on whichever server
    // connection ran them: falling back to DATABASE_URL would fail silently, not at start-up.
    if (!config.DATABASE_URL)
      problems.push('DATABASE_URL is required when DATABASE_POOLER=transaction (the URL of the pooler)');
    if (!config.DIRECT_DATABASE_URL) {
      problems.push(
        'DIRECT_DATABASE_URL is required when DATABASE_POOLER=transaction (the primary without the pooler, for LISTEN, the migration lock and retention)',
      );
    }
  }
  // Half a VAPID pair cannot sign a push; generating a new pair would silently orphan every
  // subscription made with the configured public key.
  if (Boolean(config.VAPID_PUBLIC_KEY) !== Boolean(config.VAPID_PRIVATE_KEY)) {
    const [set, missing] = config.VAPID_PUBLIC_KEY
      ? ['VAPID_PUBLIC_KEY', 'VAPID_PRIVATE_KEY']
      : ['VAPID_PRIVATE_KEY', 'VAPID_PUBLIC_KEY'];
    problems.push(`${missing} is required when ${set} is set (set both or neither)`);
  }
  return problems;
}

/**
 * Where the connections that need a session of their own go (LISTEN, the migration lock,
 * retention's DDL session): DIRECT_DATABASE_URL, else the database the process uses.
 */
export function directDatabaseUrl(config: Pick<Config, 'DIRECT_DATABASE_URL'>, databaseUrl: string): string {
  return config.DIRECT_DATABASE_URL ?? databaseUrl;
}

/** Markdown table of every setting, for the README (a test keeps them equal). */
export function configMarkdownTable(): string {
  const rows = Object.entries(SETTINGS).map(
    ([name, s]) =>
      `| \`${name}\` | ${s.default === undefined ? '(unset)' : `\`${s.default}\``} | ${s.range} | ${s.description} |`,
  );
  return ['| variable | default | range / form | what it does |', '|---|---|---|---|', ...rows].join('\n');
}

/** The text of `.env.example` (a test keeps the file equal to it). */
export function envExample(): string {
  const lines = ['# dropwatch configuration: every variable, its default and its range.', ''];
  for (const [name, s] of Object.entries(SETTINGS)) {
    lines.push(`# ${s.description} (${s.range})`);
    lines.push(s.default === undefined ? `# ${name}=` : `# ${name}=${s.default}`);
  }
  return lines.join('\n') + '\n';
}

/** Config with secrets masked, safe to log or return. */
export function redactConfig(config: Config): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k, SETTINGS[k as SettingName].secret && v !== undefined ? '<hidden>' : v]),
  );
}

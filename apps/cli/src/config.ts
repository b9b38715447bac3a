import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { stringOpt, type Values } from './args.js';
import { UsageError } from './errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export interface CliConfig {
  readonly url: string;
  /** Never printed, never put in a message: it is a bearer credential. */
  readonly token: string | undefined;
}

/** Flags win over the environment; the URL must be http(s). */
export function resolveConfig(values: Values, env: NodeJS.ProcessEnv, command: string): CliConfig {
  const url = stringOpt(values, 'url') ?? (env.DROPWATCH_URL || DEFAULT_URL);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url / DROPWATCH_URL is not a URL: '${url}'`, command);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--url / DROPWATCH_URL must be http:// or https://, got '${parsed.protocol}'`, command);
  }
  if (parsed.username || parsed.password) {
    // Credentials in a URL end up in shell history and error messages; the token has its own setting.
    throw new UsageError('--url / DROPWATCH_URL must not carry credentials; use DROPWATCH_TOKEN', command);
  }
  const token = stringOpt(values, 'token') ?? (env.DROPWATCH_TOKEN || undefined);
  return { url, token };
}

/**
 * Where `tail` keeps its cursor between runs: $XDG_STATE_HOME/dropwatch/cursor, else
 * ~/.local/state/dropwatch/cursor (the XDG base-directory spec: state that should survive a
 * restart but is not worth backing up). A relative XDG_STATE_HOME is ignored, as the spec says.
 */
export function defaultCursorFile(env: NodeJS.ProcessEnv): string {
  const state =
    env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME)
      ? env.XDG_STATE_HOME
      : join(env.HOME || homedir(), '.local', 'state');
  return join(state, 'dropwatch', 'cursor');
}

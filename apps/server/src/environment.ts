import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';

/** Read from the working directory when present, as the shipped `.env.example` suggests. */
export const ENV_FILE = '.env';

/**
 * The environment the config is read from: `.env` in `cwd` when there is one, under the real
 * environment (a variable set in both takes the real environment's value, as with Node's
 * `--env-file`). process.env itself is left as it is.
 */
export function readEnvironment(cwd: string, env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  let text: string;
  try {
    text = readFileSync(path.join(cwd, ENV_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return env;
    throw new Error(`could not read ${path.join(cwd, ENV_FILE)}: ${(err as Error).message}`, { cause: err });
  }
  return { ...parseEnv(text), ...env };
}

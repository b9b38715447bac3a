import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { RouterInputs } from '@dropwatch/client';
import { UsageError } from './errors.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** Flags every command takes. `--url`/`--token` override DROPWATCH_URL/DROPWATCH_TOKEN. */
export const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpecs;

const GLOBAL_VALUE_FLAGS = new Set(['--url', '--token']);

/**
 * The command words (`watch add`) out of argv, wherever the global flags sit: `dropwatch --json
 * health` and `dropwatch health --json` both work. Global flags that take a value skip it, so
 * `--url http://x health` does not read the URL as a command. `hasSub(word)` says whether the
 * first word takes a subcommand.
 */
export function splitCommand(
  argv: readonly string[],
  hasSub: (word: string) => boolean,
): { words: string[]; rest: string[] } {
  const words: string[] = [];
  const rest: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    const wanted = words.length === 0 || (words.length === 1 && hasSub(words[0]!));
    if (arg.startsWith('-')) {
      rest.push(arg);
      if (GLOBAL_VALUE_FLAGS.has(arg) && i + 1 < argv.length) rest.push(argv[++i]!);
    } else if (wanted) {
      words.push(arg);
    } else {
      rest.push(arg);
    }
  }
  rest.push(...argv.slice(i));
  return { words, rest };
}

/** parseArgs, strict, with its errors turned into usage errors that name the command. */
export function parseCommandArgs(
  command: string,
  args: readonly string[],
  options: OptionSpecs,
  positionals: { min: number; max: number; name?: string },
): { values: Values; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...GLOBAL_OPTIONS, ...options },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    // parseArgs' messages are readable ("Unknown option '--frob'"); its ERR_PARSE_ARGS_* codes mark them.
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'))
      throw new UsageError((err as Error).message, command);
    throw err;
  }
  const values = parsed.values as Values;
  if (values.help) return { values, positionals: parsed.positionals };
  const n = parsed.positionals.length;
  if (n < positionals.min) throw new UsageError(`missing ${positionals.name ?? 'argument'}`, command);
  if (n > positionals.max)
    throw new UsageError(`unexpected argument '${parsed.positionals[positionals.max]}'`, command);
  return { values, positionals: parsed.positionals };
}

export function stringOpt(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function boolOpt(values: Values, name: string): boolean {
  return values[name] === true;
}

/** An integer flag within [min, max]; a readable usage error otherwise. */
export function intOpt(
  values: Values,
  name: string,
  command: string,
  range: { min: number; max: number },
): number | undefined {
  const raw = stringOpt(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < range.min || n > range.max) {
    throw new UsageError(`--${name} must be a whole number from ${range.min} to ${range.max}, got '${raw}'`, command);
  }
  return n;
}

/** A comma list of integers, e.g. `--party-sizes 2,4`. */
export function intListOpt(
  values: Values,
  name: string,
  command: string,
  range: { min: number; max: number },
): number[] | undefined {
  const raw = stringOpt(values, name);
  if (raw === undefined) return undefined;
  return raw.split(',').map((part) => {
    const n = intOpt({ [name]: part.trim() }, name, command, range);
    if (n === undefined) throw new UsageError(`--${name} is empty`, command);
    return n;
  });
}

export type Market = NonNullable<Exclude<RouterInputs['feed']['newDrops'], void | undefined>['market']>;

/**
 * `--market`, typed as the API's market slugs. Not checked here: the server knows which markets
 * exist and refuses others with a message listing them (BAD_REQUEST, exit 2).
 */
export function marketOpt(values: Values): Market | undefined {
  return stringOpt(values, 'market') as Market | undefined;
}

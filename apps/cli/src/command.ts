import type { DropwatchClient } from '@dropwatch/client';
import type { OptionSpecs, Values } from './args.js';
import type { Output } from './output.js';

export interface CommandContext {
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  /** Built on first use, so `--help` and usage errors never need a server. */
  readonly client: () => DropwatchClient;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM. */
  readonly signal: AbortSignal;
  readonly values: Values;
  readonly positionals: readonly string[];
}

export interface Command {
  /** The words that select it: 'health', 'watch add'. */
  readonly name: string;
  readonly summary: string;
  /** After `dropwatch <name>`: e.g. '<id>' or '[--unread]'. */
  readonly usage: string;
  readonly options: OptionSpecs;
  /** One line per option for --help: [flag, what it does]. */
  readonly optionHelp: readonly (readonly [string, string])[];
  readonly positionals: { readonly min: number; readonly max: number; readonly name?: string };
  /** Extra help text (examples, what the output means). */
  readonly details?: string;
  run(ctx: CommandContext): Promise<void>;
}

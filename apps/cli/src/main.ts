#!/usr/bin/env node
import { createDropwatchClient, type DropwatchClient } from '@dropwatch/client';
import { boolOpt, parseCommandArgs, splitCommand } from './args.js';
import type { Command } from './command.js';
import { COMMANDS, GROUPS } from './commands/index.js';
import { resolveConfig } from './config.js';
import { describeFailure, EXIT, UsageError } from './errors.js';
import { commandHelp, topHelp } from './help.js';
import { createOutput } from './output.js';

function findCommand(words: readonly string[]): Command {
  const [first, second] = words;
  if (first === undefined) throw new UsageError('no command given');
  if (first === 'help') throw new UsageError("use 'dropwatch --help' or 'dropwatch <command> --help'");
  const name = second !== undefined && GROUPS.has(first) ? `${first} ${second}` : first;
  const found = COMMANDS.find((c) => c.name === name);
  if (found) return found;
  if (GROUPS.has(first)) {
    const subs = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.split(' ')[1]);
    throw new UsageError(
      second === undefined
        ? `'${first}' needs a subcommand: ${subs.join(', ')}`
        : `unknown subcommand '${first} ${second}' (one of: ${subs.join(', ')})`,
      COMMANDS.some((c) => c.name === first) ? first : '',
    );
  }
  throw new UsageError(`unknown command '${first}'`);
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { words, rest } = splitCommand(argv, (w) => GROUPS.has(w));
  const json = rest.includes('--json');
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  const out = createOutput({ json, env });
  // `notifications read` is a subcommand, `notifications` alone a command: a second word only
  // selects a subcommand when one of that name exists, else it stays a positional.
  const subWords =
    words.length === 2 && !COMMANDS.some((c) => c.name === words.join(' ')) && COMMANDS.some((c) => c.name === words[0])
      ? [words[0]!]
      : words;
  const positionalsBack = subWords.length < words.length ? words.slice(subWords.length) : [];
  const controller = new AbortController();
  try {
    if (subWords.length === 0 && wantsHelp) {
      process.stdout.write(topHelp());
      return EXIT.ok;
    }
    const command = findCommand(subWords);
    const { values, positionals } = parseCommandArgs(
      command.name,
      [...positionalsBack, ...rest],
      command.options,
      command.positionals,
    );
    if (boolOpt(values, 'help')) {
      process.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    const config = resolveConfig(values, env, command.name);
    let client: DropwatchClient | undefined;
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await command.run({
      out,
      env,
      values,
      positionals,
      signal: controller.signal,
      client: () =>
        (client ??= createDropwatchClient({ url: config.url, ...(config.token ? { token: config.token } : {}) })),
    });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    const failure = describeFailure(err);
    if (json)
      process.stderr.write(
        `${JSON.stringify({ error: { message: failure.message, code: failure.code, exitCode: failure.exitCode } })}\n`,
      );
    else process.stderr.write(`dropwatch: ${failure.message}\n`);
    return failure.exitCode;
  }
}

// A closed pipe (`dropwatch tail | head -1`) is the reader saying "enough", not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dropwatch: unexpected failure: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.server;
  },
);

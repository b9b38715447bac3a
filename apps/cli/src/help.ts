import type { Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { DEFAULT_URL } from './config.js';

const GLOBAL_HELP: readonly (readonly [string, string])[] = [
  ['--url URL', `the server (default: DROPWATCH_URL, else ${DEFAULT_URL})`],
  ['--token TOKEN', 'API token (default: DROPWATCH_TOKEN; prefer the variable: flags show in `ps`)'],
  ['--json', 'machine-readable output: one JSON document (tail: one JSON line per drop)'],
  ['-h, --help', 'this help'],
];

const EXIT_HELP = `Exit status:
  0  ok
  1  the server answered with an error or could not be reached
  2  usage error: a wrong command, flag or value (the server refusing an input counts too)
  3  auth error: no token, a refused token, or a token without the rights (admin)`;

const table = (rows: readonly (readonly [string, string])[]) => {
  const width = Math.max(0, ...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join('\n');
};

export function topHelp(): string {
  return `dropwatch: the operator CLI of a dropwatch server

Usage: dropwatch <command> [options]

Commands:
${table(COMMANDS.map((c) => [c.name, c.summary]))}

Options of every command:
${table(GLOBAL_HELP)}

Environment: DROPWATCH_URL, DROPWATCH_TOKEN, NO_COLOR (no colour even on a terminal),
XDG_STATE_HOME (where tail keeps its cursor).

${EXIT_HELP}

Run 'dropwatch <command> --help' for a command's options.
`;
}

export function commandHelp(c: Command): string {
  const options = c.optionHelp.length ? `\nOptions:\n${table(c.optionHelp)}\n` : '';
  return `dropwatch ${c.name}: ${c.summary}

Usage: dropwatch ${c.name}${c.usage ? ` ${c.usage}` : ''} [--json] [--url URL] [--token TOKEN]
${options}${c.details ? `\n${c.details}\n` : ''}
${EXIT_HELP}
`;
}

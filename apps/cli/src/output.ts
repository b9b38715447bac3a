/** Where a command writes: plain lines for people, JSON for scripts, colour only on a terminal. */
export interface Output {
  readonly json: boolean;
  readonly color: boolean;
  line(text?: string): void;
  /** One JSON document (or one JSON line of a stream); Dates become ISO strings. */
  jsonLine(value: unknown): void;
  /** A warning for the person at the terminal; stderr, so it never mixes into --json output. */
  warn(text: string): void;
}

/**
 * Colour when stdout is a terminal and NO_COLOR is unset or empty (the no-color.org
 * convention); never in --json output.
 */
export function wantsColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export function createOutput(opts: { json: boolean; env: NodeJS.ProcessEnv }): Output {
  const color = !opts.json && wantsColor(process.stdout, opts.env);
  return {
    json: opts.json,
    color,
    line: (text = '') => void process.stdout.write(`${text}\n`),
    jsonLine: (value) => void process.stdout.write(`${JSON.stringify(value)}\n`),
    warn: (text) => void process.stderr.write(`dropwatch: ${text}\n`),
  };
}

const SGR = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, dim: 2, bold: 1 } as const;
export type Style = keyof typeof SGR;

export const paint = (out: Pick<Output, 'color'>, style: Style, text: string): string =>
  out.color ? `\u001b[${SGR[style]}m${text}\u001b[0m` : text;

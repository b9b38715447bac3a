import { TRPCClientError, type AppRouter } from '@dropwatch/client';

/**
 * What the exit status means, so scripts can tell "fix your command" from "fix your token"
 * from "the server is unhappy". Documented in the README and in `dropwatch --help`.
 */
export const EXIT = {
  ok: 0,
  /** The server answered with an error, or could not be reached. */
  server: 1,
  /** The command line (or an input the server refused as invalid) is wrong. */
  usage: 2,
  /** The token is missing, refused, or not allowed to do this. */
  auth: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in how the CLI was called: exit 2 with a message naming the fix. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose --help to point at ('' for the top level). */
    readonly command = '',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Failure {
  readonly exitCode: ExitCode;
  /** One readable line. */
  readonly message: string;
  /** The tRPC code when the server answered (BAD_REQUEST, UNAUTHORIZED, …). */
  readonly code: string | null;
}

/** Maps whatever a command threw to an exit code and one line for a person. */
export function describeFailure(err: unknown): Failure {
  if (err instanceof UsageError) {
    const hint = `see: dropwatch ${err.command ? `${err.command} ` : ''}--help`;
    return { exitCode: EXIT.usage, message: `${err.message} (${hint})`, code: null };
  }
  if (err instanceof TRPCClientError) {
    const data = (err as TRPCClientError<AppRouter>).data;
    const code = data?.code ?? null;
    if (code === 'UNAUTHORIZED') {
      return {
        exitCode: EXIT.auth,
        message: `not signed in: ${err.message} (set DROPWATCH_TOKEN or pass --token)`,
        code,
      };
    }
    if (code === 'FORBIDDEN')
      return { exitCode: EXIT.auth, message: `not allowed: ${err.message} (this needs an admin token)`, code };
    if (code === 'BAD_REQUEST')
      return { exitCode: EXIT.usage, message: `the server refused the input: ${err.message}`, code };
    return { exitCode: EXIT.server, message: err.message, code };
  }
  return { exitCode: EXIT.server, message: err instanceof Error ? err.message : String(err), code: null };
}

import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Paths pino blanks out wherever they appear in a log object. */
const REDACT = [
  'config.DATABASE_URL',
  'config.RESY_API_KEY',
  'config.RESY_AUTH_TOKEN',
  'config.DROPWATCH_ADMIN_TOKEN',
  '*.authorization',
  '*.Authorization',
  '*.token',
  'headers.authorization',
  'req.headers.authorization',
];

export type LogFormat = 'json' | 'pretty';

/**
 * JSON lines by default (what log collectors read). 'pretty' formats them for a terminal in the
 * same thread and synchronously, so the last lines of a shutdown are not lost in a buffer.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream, format: LogFormat = 'json'): Logger {
  const options = { level, base: { service: 'dropwatch' }, redact: { paths: REDACT, censor: '<hidden>' } };
  if (format === 'pretty') {
    const out = destination ?? process.stdout;
    const colorize = 'isTTY' in out && out.isTTY === true;
    return pino(options, pretty({ sync: true, colorize, destination: out, ignore: 'pid,hostname,service' }));
  }
  return pino(options, destination as never);
}

import { pino, type Logger } from 'pino';

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

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'dropwatch' }, redact: { paths: REDACT, censor: '<hidden>' } }, destination as never);
}

import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, wherever they appear in the logged object. */
export const REDACTED_PATHS = [
  'authToken',
  'apiKey',
  'password',
  'secret',
  '*.authToken',
  '*.apiKey',
  '*.password',
  '*.secret',
  'headers.authorization',
  'headers.cookie',
  'headers["x-twilio-signature"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
];

export interface LogOptions {
  level: string;
  /** Pretty, coloured lines for a person at a terminal; JSON otherwise. */
  pretty?: boolean;
}

export function createLogger(options: LogOptions): Logger {
  return pino({
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } }
      : {}),
  });
}

/** A logger that drops everything, for tests and tools that do not want output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

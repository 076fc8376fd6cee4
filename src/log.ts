import { join } from 'node:path';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';
import { createRotatingFile } from './log/rotating-file.js';

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
  '*.*.authToken',
  '*.*.apiKey',
  '*.*.password',
  '*.*.secret',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-twilio-signature"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-twilio-signature"]',
];

/** The original system's files: everything, and errors alone; 10 MB each, 5 rotated files kept. */
export const LOG_FILES = { all: 'whatsapp_chatbot.log', errors: 'errors.log' } as const;
export const LOG_FILE_MAX_BYTES = 10 * 1024 * 1024;
export const LOG_FILE_KEEP = 5;

export interface LogOptions {
  level: string;
  /** Pretty, coloured lines for a person at a terminal; JSON otherwise. */
  pretty?: boolean;
  /** Also write LOG_FILES here, rotated by size. */
  dir?: string | undefined;
  /**
   * Levels by area, over `level`: a logger whose bindings carry `area` (log.child({ area: 'http' })) and every
   * logger derived from it take that area's level, e.g. { http: 'warn', ai: 'debug' }.
   */
  areaLevels?: Record<string, string>;
  /** Where lines go instead of stdout (tests capture them this way). */
  destination?: DestinationStream;
  /** Rotation size of the files, for tests; LOG_FILE_MAX_BYTES otherwise. */
  fileMaxBytes?: number;
}

export function createLogger(options: LogOptions): Logger {
  const areaLevels = options.areaLevels ?? {};
  const settings: LoggerOptions = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    ...(Object.keys(areaLevels).length > 0
      ? { onChild: (child: Logger) => applyAreaLevel(child, areaLevels) }
      : {}),
  };
  return pino(settings, destination(options));
}

/** A logger that drops everything, for tests and tools that do not want output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

function destination(options: LogOptions): DestinationStream {
  const screen =
    options.destination ??
    (options.pretty ? pinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l' }) : pino.destination(1));
  if (!options.dir) return screen;
  const file = (name: string) =>
    createRotatingFile({
      path: join(options.dir ?? '.', name),
      maxBytes: options.fileMaxBytes ?? LOG_FILE_MAX_BYTES,
      keep: LOG_FILE_KEEP,
    });
  // The loggers decide what is written (per-area levels may go below LOG_LEVEL); only errors.log filters again.
  return pino.multistream([
    { level: 'trace', stream: screen },
    { level: 'trace', stream: file(LOG_FILES.all) },
    { level: 'error', stream: file(LOG_FILES.errors) },
  ]);
}

function applyAreaLevel(child: Logger, areaLevels: Record<string, string>): void {
  const area = (child.bindings() as { area?: unknown }).area;
  if (typeof area !== 'string') return;
  const level = areaLevels[area];
  if (level !== undefined) child.level = level;
}

/**
 * Fastify gives every request a child logger that carries its id. pino serialises a child's bindings when the
 * child is made, which was ~5 % of the web role's CPU per webhook (bench/analysis.md), while most requests write
 * nothing through it (at LOG_LEVEL=warn, no successful webhook does). This stand-in makes the child on the first
 * line that passes the level, and forwards everything to it from then on.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

/** Our loggers are pino's, which say whether a level would be written; Fastify's type leaves that out. */
interface LevelAware {
  isLevelEnabled?(level: string): boolean;
}

class LazyRequestLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  get #logger(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child;
  }

  #write(level: Level, args: unknown[]): void {
    // The child has the parent's level (no per-route levels here), so the parent can say whether it would write.
    if (this.#child === undefined && !wouldWrite(this.#parent, level)) return;
    const logger = this.#logger;
    logger[level](...(args as Parameters<FastifyBaseLogger['info']>));
  }

  get level(): string {
    return (this.#child ?? this.#parent).level;
  }
  set level(level: string) {
    this.#logger.level = level;
  }
  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.#write('error', args);
  }
  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }
  info(...args: unknown[]): void {
    this.#write('info', args);
  }
  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }
  silent(): void {
    // Nothing to write, as pino's own silent().
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger.child(bindings, options);
  }
}

function wouldWrite(logger: object, level: Level): boolean {
  const aware = logger as LevelAware;
  return typeof aware.isLevelEnabled === 'function' ? aware.isLevelEnabled(level) : true;
}

/** Fastify's childLoggerFactory: a lazy child, unless the route asks for its own level or serializers (then a real one). */
export function lazyRequestLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (options.level !== undefined || options.serializers !== undefined)
    return parent.child(bindings, options);
  return new LazyRequestLogger(parent, bindings);
}

/**
 * Secrets out of text that leaves the process (alerts, log lines built from error messages). Two nets: the
 * configured secret values themselves, wherever they appear, and the shapes secrets usually take (API keys,
 * Authorization headers, passwords in URLs or `key=value` pairs) for the ones we were not told about.
 */
export const REDACTED = '[redacted]';

/** Values shorter than this are not searched for: redacting "abc" everywhere would mangle every message. */
const MIN_SECRET_LENGTH = 6;

const PATTERNS: Array<[RegExp, string]> = [
  // OpenAI / OpenRouter / Anthropic style keys: sk-…, sk-or-v1-…, sk-ant-…
  [/\bsk-[A-Za-z0-9_-]{8,}/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)[^\s@/]+@/gi, `$1${REDACTED}@`],
  [
    /\b(password|passwd|pwd|token|secret|api[_-]?key|auth[_-]?token)(["']?\s*[=:]\s*["']?)[^\s"'&,;]+/gi,
    `$1$2${REDACTED}`,
  ],
];

export type Redact = (text: string) => string;

export function createRedactor(secrets: ReadonlyArray<string | undefined>): Redact {
  // Longest first, so a secret that contains another is replaced whole.
  const values = [
    ...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)),
  ]
    .sort((a, b) => b.length - a.length)
    // URL-encoded forms too: a password inside DATABASE_URL is stored encoded.
    .flatMap((s) => (encodeURIComponent(s) === s ? [s] : [s, encodeURIComponent(s)]));
  return (text) => {
    let out = text;
    for (const value of values) out = out.split(value).join(REDACTED);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
}

const SECRET_KEY = /token|secret|password|passwd|api[_-]?key|authorization|cookie|signature|credential/i;
const MAX_VALUE_LENGTH = 500;

/**
 * Context safe to send out: only primitive values (no request bodies, no nested objects that might hold
 * credentials), never a key that names a secret, strings redacted and shortened.
 */
export function safeContext(
  context: Record<string, unknown> | undefined,
  redact: Redact,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(context ?? {})) {
    if (SECRET_KEY.test(key)) continue;
    if (typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'string') out[key] = shorten(redact(value));
  }
  return out;
}

function shorten(text: string): string {
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH)}…` : text;
}

export interface RedactedError {
  /** The error's class name (pino's err serializer prints it as `type`). */
  name: string;
  message: string;
  stack?: string;
  kind?: string;
  code?: string;
  cause?: RedactedError;
}

/**
 * An error as a plain object for a log line, its message, stack and causes redacted. Without a prototype, so
 * pino's err serializer names it by `name` rather than as an `Object`.
 */
export function redactError(error: unknown, redact: Redact, depth = 0): RedactedError {
  const plain = (fields: RedactedError) => Object.assign(Object.create(null) as RedactedError, fields);
  if (!(error instanceof Error)) return plain({ name: typeof error, message: redact(String(error)) });
  const { kind, code } = error as { kind?: unknown; code?: unknown };
  return plain({
    name: error.name,
    message: redact(error.message),
    ...(error.stack ? { stack: redact(error.stack) } : {}),
    ...(typeof kind === 'string' ? { kind } : {}),
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    ...(error.cause !== undefined && depth < 3 ? { cause: redactError(error.cause, redact, depth + 1) } : {}),
  });
}

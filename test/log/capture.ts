import { Writable } from 'node:stream';

export interface Captured {
  stream: Writable;
  /** Every line written so far, parsed. */
  lines(): Array<Record<string, unknown>>;
  /** Everything written so far, as text. */
  text(): string;
}

/** A pino destination that keeps what it is given, for tests that read log lines. */
export function captureLines(): Captured {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

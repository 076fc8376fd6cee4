/** Questions at a terminal; passwords are read without echo. Only used when stdin is a TTY. */
import { createInterface } from 'node:readline/promises';
import { CliError } from './errors.js';

export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Read a line with the terminal in raw mode, printing nothing for what is typed. */
export function askHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stdout.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          finish();
          resolve(chars.join(''));
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new CliError('cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') chars = chars.slice(0, -1);
        else chars.push(char);
      }
    };
    // Raw mode (no echo) before the prompt appears, so an answer typed at once is not echoed either.
    stdin.setRawMode(true);
    process.stdout.write(question);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}

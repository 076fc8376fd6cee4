/**
 * Interactive commands need a terminal: util-linux `script` runs `chatbot …` on a pseudo-terminal, and the answers
 * are typed after each prompt appears, as a person would.
 */
import { spawn } from 'node:child_process';

export function runCliAtTerminal(
  args: string[],
  databaseUrl: string,
  answers: Array<[prompt: string, answer: string]>,
): Promise<{ code: number | null; output: string }> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ENV_FILE: '/dev/null',
    DATABASE_URL: databaseUrl,
  };
  const command = [process.execPath, 'bin/chatbot.js', ...args].join(' ');
  const child = spawn('script', ['-qec', command, '/dev/null'], { env });
  let output = '';
  let next = 0;
  let searchFrom = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    const step = answers[next];
    const at = step ? output.indexOf(step[0], searchFrom) : -1;
    if (!step || at === -1) return;
    searchFrom = at + step[0].length;
    next += 1;
    child.stdin.write(`${step[1]}\r`);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/**
 * Runs `node bin/chatbot.js …` as a real subprocess, as an operator would, with only the environment given here
 * (ENV_FILE is /dev/null, so no .env of the machine leaks in). Each start takes about a second, more on a busy
 * machine, hence the generous timeouts of the CLI suites.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/chatbot.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliResult> {
  return spawnCli(args, options).done;
}

/** The same, with the process itself: a test may kill it midway (a crash of the operator's shell). */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string | undefined>; input?: string } = {},
): { child: ChildProcessWithoutNullStreams; done: Promise<CliResult> } {
  const env: Record<string, string> = { ENV_FILE: '/dev/null', NODE_ENV: 'test', LOG_LEVEL: 'silent' };
  for (const name of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) Reflect.deleteProperty(env, name);
    else env[name] = value;
  }
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
  child.stdin.end(options.input ?? '');
  return { child, done };
}

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Start a real web process with only this environment; resolve with its exit code and output. */
function run(env: Record<string, string>) {
  const child = spawn('node_modules/.bin/tsx', ['src/main/web.ts'], {
    env: { PATH: process.env.PATH ?? '', ENV_FILE: '/dev/null', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('starting in production', () => {
  it('refuses SKIP_WEBHOOK_SIGNATURE_VERIFICATION: exit 1 with the reason on stderr, nothing listening', async () => {
    const { code, stdout, stderr } = await run({
      NODE_ENV: 'production',
      SKIP_WEBHOOK_SIGNATURE_VERIFICATION: 'true',
      PORT: '0',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('cannot start');
    expect(stderr).toContain('SKIP_WEBHOOK_SIGNATURE_VERIFICATION: refused when NODE_ENV=production');
    expect(stdout).not.toContain('ready');
  });
});

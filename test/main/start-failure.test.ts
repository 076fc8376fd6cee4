/**
 * The failures at start an operator fixes from one sentence, produced by the real system calls (a real port
 * held by another server), and ENV_FILE naming a missing file.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { EnvFileMissing, loadDotEnv } from '../../src/main/env.js';
import { explainStartFailure } from '../../src/main/start-failure.js';

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      servers.push(server);
      resolve(server);
    });
  });
}

async function portInUseError(): Promise<{ error: unknown; port: number }> {
  const held = await listen();
  const port = (held.address() as { port: number }).port;
  const error = await listen(port).catch((caught: unknown) => caught);
  return { error, port };
}

describe('explainStartFailure', () => {
  it('names PORT when the web port is held by another process', async () => {
    const { error, port } = await portInUseError();
    const line = explainStartFailure(error, { web: port, metrics: undefined });
    expect(line).toBe(
      `port ${port} is already in use (PORT=${port}): stop the process that holds it, or set PORT to a free port.`,
    );
  });

  it('names METRICS_PORT when that is the port held', async () => {
    const { error, port } = await portInUseError();
    expect(explainStartFailure(error, { web: 8000, metrics: port })).toContain(`(METRICS_PORT=${port})`);
  });

  it('passes our own refusals through as they are, and leaves anything else to the stack trace', () => {
    const refusal = new AppError(
      'database_unavailable',
      'The PGlite data directory ./data is in use by process 7',
    );
    expect(explainStartFailure(refusal, { web: 8000, metrics: undefined })).toBe(refusal.message);
    expect(
      explainStartFailure(new TypeError('x is undefined'), { web: 8000, metrics: undefined }),
    ).toBeNull();
    expect(
      explainStartFailure(new AppError('internal', 'bug'), { web: 8000, metrics: undefined }),
    ).toBeNull();
  });
});

describe('ENV_FILE', () => {
  const saved = process.env.ENV_FILE;
  afterEach(() => {
    if (saved === undefined) delete process.env.ENV_FILE;
    else process.env.ENV_FILE = saved;
  });

  it('naming a missing file is an error that says which, never a silent start without settings', () => {
    process.env.ENV_FILE = '/nonexistent/settings.env';
    expect(() => loadDotEnv()).toThrow(EnvFileMissing);
    expect(() => loadDotEnv()).toThrow('ENV_FILE=/nonexistent/settings.env: no such file');
  });

  it('reads the file it names', () => {
    process.env.ENV_FILE = '/dev/null';
    expect(loadDotEnv()).toBe('/dev/null');
  });
});

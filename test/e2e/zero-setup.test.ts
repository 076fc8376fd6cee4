/**
 * `npm start` on a machine with nothing set up: no DATABASE_URL, no REDIS_URL, no Twilio, no AI key, no .env.
 * The real `npm start` runs in a child process on PGlite and the in-process queue, and a message typed into the simulator gets the offline model's answer. It starts twice on
 * the same data directory: the first start creates the database, the second finds the conversation again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/tcp-proxy.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const PHONE = '+14155550177';
const READY_TIMEOUT_MS = 90_000;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  readyMs: number;
}

interface ThreadMessage {
  role: string;
  content: string;
  parts?: Array<{ status: string }>;
}

async function startApp(dataDir: string, envFile: string): Promise<Started> {
  const port = await freePort();
  const started = performance.now();
  // Only what any shell has, plus where to listen and where the embedded database lives.
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dirname(dataDir),
    PORT: String(port),
    HOST: '127.0.0.1',
    PGLITE_DATA_DIR: dataDir,
    ENV_FILE: envFile,
  };
  // Its own process group, so whatever is left after a failed test can be killed at once.
  const child = spawn('npm', ['start'], {
    cwd: REPO,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    const status = await fetch(`${url}/health/`).then(
      (r) => r.status,
      () => 0,
    );
    // Ready means both: the health check answers and the start banner (which names the adapters) is out.
    if (status === 200 && output.includes('whatsapp-ai-chatbot ready')) break;
    if (Date.now() > deadline) throw new Error(`not healthy within ${READY_TIMEOUT_MS} ms:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url, output: () => output, readyMs: Math.round(performance.now() - started) };
}

/** The server: the node process that npm (through a shell, or not) runs for `start`. */
function serverPid(npmPid: number): number {
  const pending = [npmPid];
  while (pending.length > 0) {
    const pid = pending.shift()!;
    if (!existsSync(`/proc/${pid}/cmdline`)) continue;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (basename(argv[0] ?? '') === 'node' && argv.includes('src/main/start.ts')) return pid;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (children !== '') pending.push(...children.split(/\s+/).map(Number));
    }
  }
  throw new Error(`npm start (pid ${npmPid}) has no server process`);
}

/** Resident memory of the server process, in MB. */
function serverRssMb(npmPid: number): number {
  const status = readFileSync(`/proc/${serverPid(npmPid)}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 1024);
}

async function thread(url: string): Promise<ThreadMessage[]> {
  const response = await fetch(`${url}/simulator/api/conversations?address=${encodeURIComponent(PHONE)}`);
  return ((await response.json()) as { messages: ThreadMessage[] }).messages;
}

/**
 * SIGTERM to the server itself, as a process manager that signals the app would (in a container the server is
 * the main process). npm then exits with the server's code.
 */
async function stop(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  process.kill(serverPid(child.pid!), 'SIGTERM');
  const result = await exited;
  running.delete(child);
  return result;
}

const running = new Set<ChildProcess>();
const directories: string[] = [];

afterAll(async () => {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the whole group is gone already
    }
  }
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

describe('zero-setup mode: the real `npm start` with no services and no keys', () => {
  it(
    'starts on PGlite and the in-process queue, answers in the simulator, stops cleanly, and keeps its data',
    { timeout: 240_000 },
    async () => {
      const home = await mkdtemp(join(tmpdir(), 'zero-setup-'));
      directories.push(home);
      const dataDir = join(home, 'data', 'pglite');
      // No .env of this checkout leaks in (a missing ENV_FILE is an error).
      const envFile = '/dev/null';

      const first = await startApp(dataDir, envFile);
      const health = (await (await fetch(`${first.url}/health/`)).json()) as {
        checks: { database: { driver: string }; queue: { adapter: string } };
      };
      expect(health.checks.database.driver).toBe('pglite');
      expect(health.checks.queue.adapter).toBe('in-process');
      expect(first.output()).toContain('PGlite (embedded');
      expect(first.output()).toContain('in-process (for one process only)');
      expect(first.output()).toContain('simulator (/simulator/)');
      const rssReady = serverRssMb(first.child.pid!);

      // The banner names the simulator's address, and it opens; so does the bare address, redirected to it.
      const printed = /open (http:\/\/\S+\/simulator\/) to chat with the bot/.exec(first.output())?.[1];
      expect(printed).toBe(`${first.url}/simulator/`);
      const page = await fetch(printed!);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      const root = await fetch(`${first.url}/`);
      expect(root.status).toBe(200);
      expect(root.redirected).toBe(true);
      expect(root.url).toBe(`${first.url}/simulator/`);
      const posted = await fetch(`${first.url}/simulator/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          from: PHONE,
          profileName: 'Newcomer',
          body: 'Does this work without any setup?',
        }),
      });
      expect(posted.status).toBe(202);
      const sentAt = performance.now();
      // Wait for the simulated handset's `delivered` too, so nothing is in flight when the signal comes.
      await expect
        .poll(async () => (await thread(first.url)).find((m) => m.role === 'assistant')?.parts?.[0]?.status, {
          timeout: 30_000,
          interval: 100,
        })
        .toBe('delivered');
      const replyMs = Math.round(performance.now() - sentAt);
      const reply = (await thread(first.url)).find((m) => m.role === 'assistant')!;
      expect(reply.content).toContain('No AI provider is configured on this server yet');
      expect(reply.content).toContain('You wrote: "Does this work without any setup?"');
      const rssAfterReply = serverRssMb(first.child.pid!);

      expect(await stop(first.child)).toEqual({ code: 0, signal: null });
      expect(first.output()).toContain('shutting down');

      const second = await startApp(dataDir, envFile);
      const history = await thread(second.url);
      expect(history.map((m) => m.role)).toEqual(['user', 'assistant']);
      const rssWarm = serverRssMb(second.child.pid!);
      expect(await stop(second.child)).toEqual({ code: 0, signal: null });

      console.log(
        `zero-setup figures: first start (creates the database) ${first.readyMs} ms, warm start ${second.readyMs} ms; ` +
          `offline reply delivered ${replyMs} ms after the POST; server RSS ${rssReady} MB at ready, ` +
          `${rssAfterReply} MB after a reply, ${rssWarm} MB after a warm start`,
      );
    },
  );

  it(
    'stops when npm is sent SIGTERM, though the shell npm runs the script in does not pass the signal on',
    { timeout: 120_000 },
    async () => {
      const home = await mkdtemp(join(tmpdir(), 'zero-setup-'));
      directories.push(home);
      const app = await startApp(join(home, 'data', 'pglite'), '/dev/null');
      const server = serverPid(app.child.pid!);
      const port = Number(new URL(app.url).port);

      app.child.kill('SIGTERM');
      const deadline = Date.now() + 15_000;
      while (alive(server) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(alive(server), `server ${server} still running:\n${app.output()}`).toBe(false);
      expect(app.output()).toContain('parent process exited; shutting down');
      expect(await portFree(port)).toBe(true);
    },
  );
});

/** Whether a process still runs (a zombie nobody has reaped yet does not). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

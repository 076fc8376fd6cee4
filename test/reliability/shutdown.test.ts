/**
 * Graceful shutdown of real processes: SIGTERM stops taking new work, lets in-flight work finish (or, past
 * SHUTDOWN_TIMEOUT_SECONDS, hands it back to the queue for another worker), closes connections and exits 0.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import {
  createProcessDeployment,
  describeExit,
  type AppProcess,
  type Exit,
  type ProcessDeployment,
} from '../helpers/processes.js';
import { inboundParams } from '../helpers/twilio.js';
import { conversationState, expectExactlyOneReply, FAST_RECOVERY, newSender, WEBHOOK } from './support.js';

/** Not a performance assertion: a process still there after this has not shut down. */
const EXIT_BOUND_MS = 20_000;

let deployment: ProcessDeployment;
let web: AppProcess;
const workers: AppProcess[] = [];

beforeAll(async () => {
  deployment = await createProcessDeployment({ ...FAST_RECOVERY, SHUTDOWN_TIMEOUT_SECONDS: '10' });
  web = await deployment.start('web');
}, 60_000);
afterAll(async () => {
  await deployment.close();
});
beforeEach((context) => {
  deployment.twilio.reset();
  deployment.llm.reset();
  context.onTestFailed(() => deployment.printOutput());
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});

async function startWorker(overrides: Record<string, string> = {}): Promise<AppProcess> {
  const worker = deployment.spawn('worker', overrides);
  workers.push(worker);
  await worker.ready();
  return worker;
}

async function postMessage(from: string, body: string): Promise<void> {
  const response = await deployment.postSigned(WEBHOOK, inboundParams({ From: from, Body: body }));
  expect(response.status).toBe(200);
}

async function exitOf(process: AppProcess): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${process.name} still running ${EXIT_BOUND_MS} ms after SIGTERM`)),
      EXIT_BOUND_MS,
    );
  });
  try {
    return await Promise.race([process.exited, bound]);
  } finally {
    clearTimeout(timer);
  }
}

const shuttingDown = (line: { msg: string }) => line.msg.startsWith('shutting down');

describe('SIGTERM', { timeout: 90_000 }, () => {
  it('to a worker with a job in flight: it takes no new job, finishes the one it has, sends its reply and exits 0', async () => {
    const inFlight = newSender();
    const later = newSender();
    deployment.llm.respondOnce({ delayMs: 2500, text: 'finished during the shutdown' });
    deployment.llm.respond(() => ({ text: 'answered by the next worker' }));
    const worker = await startWorker();
    await postMessage(inFlight, 'a slow question');
    await eventually(
      'the LLM call',
      () => Promise.resolve(deployment.llm.requests.length > 0 || undefined),
      30_000,
    );

    worker.signal('SIGTERM');
    await worker.waitForLog('that it is shutting down', shuttingDown);
    await postMessage(later, 'sent while the worker shuts down');
    const exit = await exitOf(worker);

    expect(describeExit(exit)).toBe('code 0');
    expect(deployment.twilio.sent.map((m) => [m.to, m.body])).toEqual([
      [inFlight, 'finished during the shutdown'],
    ]);
    expect((await conversationState(deployment, inFlight)).deliveries).toMatchObject([{ status: 'queued' }]);
    expect((await conversationState(deployment, later)).inbound).toEqual(['pending']);
    expect(deployment.llm.requests).toHaveLength(1);
    // Closing went through without a connection that would not close, and without the forced exit.
    expect(worker.logs.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual([]);

    await startWorker();
    await expectExactlyOneReply(deployment, later, 'answered by the next worker');
    expect(deployment.twilio.sent.filter((m) => m.to === inFlight)).toHaveLength(1);
  });

  it('to a worker whose job outlasts SHUTDOWN_TIMEOUT_SECONDS: it exits anyway, the job goes back to the queue and another worker answers it once', async () => {
    const from = newSender();
    deployment.llm.respondOnce({ delayMs: 120_000, text: 'never delivered' });
    deployment.llm.respond(() => ({ text: 'answered after the hand-back' }));
    const worker = await startWorker({ SHUTDOWN_TIMEOUT_SECONDS: '1' });
    await postMessage(from, 'a very slow question');
    await eventually(
      'the LLM call',
      () => Promise.resolve(deployment.llm.requests.length > 0 || undefined),
      30_000,
    );

    worker.signal('SIGTERM');
    const exit = await exitOf(worker);

    expect(describeExit(exit)).toBe('code 0');
    expect(worker.logs.some((line) => line.msg.startsWith('handlers still running at shutdown'))).toBe(true);
    expect(deployment.twilio.sent).toHaveLength(0);
    expect((await conversationState(deployment, from)).inbound).toEqual(['pending']);

    await startWorker();
    await expectExactlyOneReply(deployment, from, 'answered after the hand-back');
    expect(deployment.llm.requests).toHaveLength(2);
  });

  // Last: it stops the web process the other tests share.
  it('to the web process with a request in flight: the request completes with 200, new requests are turned away, it exits 0', async () => {
    const from = newSender();
    // The in-flight request is held in the database: its insert waits for a table lock the test holds.
    const holder = new pg.Client({ connectionString: deployment.database.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table messages in share mode');
      const inFlight = deployment.postSigned(
        WEBHOOK,
        inboundParams({ From: from, Body: 'in flight' }),
        30_000,
      );
      await eventually(
        'the webhook to wait for the database',
        async () => {
          const [row] = await deployment.query<{ waiting: number }>(
            `select count(*)::int as waiting from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'`,
          );
          return row!.waiting > 0 || undefined;
        },
        30_000,
      );

      web.signal('SIGTERM');
      await web.waitForLog('that it is shutting down', shuttingDown);
      const turnedAway = await deployment
        .postSigned(WEBHOOK, inboundParams({ From: newSender(), Body: 'too late' }), 5000)
        .then((response) => `HTTP ${response.status}`)
        .catch(() => 'connection refused');
      expect(turnedAway).toMatch(/^(HTTP 503|connection refused)$/);

      await holder.query('commit');
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('<Response/>');
    } finally {
      await holder.end();
    }
    expect(describeExit(await exitOf(web))).toBe('code 0');
    expect((await conversationState(deployment, from)).inbound).toEqual(['pending']);
    expect(web.logs.some((line) => line.msg === 'inbound message accepted')).toBe(true);
  });
});

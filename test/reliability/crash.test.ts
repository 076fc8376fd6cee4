/**
 * Crash safety with real processes: the web and worker roles run as separate child processes on the real
 * PostgreSQL and Redis; a worker is SIGKILLed at a chosen point of its job, a fresh worker process is started,
 * and the user must get exactly one reply (none lost, none twice).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { createProcessDeployment, type AppProcess, type ProcessDeployment } from '../helpers/processes.js';
import { inboundParams } from '../helpers/twilio.js';
import { startSendGate, type SendGate } from './send-gate.js';
import { conversationState, expectExactlyOneReply, FAST_RECOVERY, newSender, WEBHOOK } from './support.js';

let deployment: ProcessDeployment;
let gate: SendGate;
/** The live worker; each test kills it and leaves its replacement for the next test. */
let worker: AppProcess | undefined;

beforeAll(async () => {
  deployment = await createProcessDeployment(FAST_RECOVERY);
  gate = await startSendGate(deployment.twilio.url);
  [, worker] = await Promise.all([deployment.start('web'), startWorker()]);
}, 60_000);
afterAll(async () => {
  await deployment.close();
  await gate.close();
});
beforeEach(async (context) => {
  deployment.twilio.reset();
  deployment.llm.reset();
  context.onTestFailed(() => deployment.printOutput());
  if (!worker || worker.exit) worker = await startWorker();
});

/** A worker process whose sends go through the gate. */
async function startWorker(): Promise<AppProcess> {
  const started = deployment.spawn('worker', { TWILIO_API_BASE_URL: gate.url });
  await started.ready();
  return started;
}

/** SIGKILL the live worker and start its replacement. */
async function replaceWorker(): Promise<AppProcess> {
  const dead = worker!;
  expect(await dead.kill()).toEqual({ code: null, signal: 'SIGKILL' });
  worker = await startWorker();
  return worker;
}

async function postMessage(from: string, body: string): Promise<void> {
  const response = await deployment.postSigned(WEBHOOK, inboundParams({ From: from, Body: body }));
  expect(response.status).toBe(200);
}

describe('a worker killed with SIGKILL in the middle of a job', { timeout: 90_000 }, () => {
  it('during the LLM call: a new worker process runs the job again and the user gets exactly one reply', async () => {
    const from = newSender();
    deployment.llm.respondOnce({ delayMs: 120_000, text: 'the answer the dead worker never got' });
    deployment.llm.respond(() => ({ text: 'the one answer' }));
    await postMessage(from, 'hello');
    await eventually(
      'the LLM call',
      () => Promise.resolve(deployment.llm.requests.length > 0 || undefined),
      30_000,
    );

    await replaceWorker();

    await expectExactlyOneReply(deployment, from, 'the one answer');
    expect(deployment.llm.requests).toHaveLength(2);
  });

  it('after Twilio took the message but before the worker learned its SID: the new worker finds it at Twilio and does not resend', async () => {
    const from = newSender();
    deployment.llm.respond(() => ({ text: 'sent once, confirmed later' }));
    gate.plan('accept-then-hang');
    await postMessage(from, 'hello');
    await deployment.twilio.waitForSent(1, 30_000);
    const [during] = (await conversationState(deployment, from)).deliveries;
    expect(during).toMatchObject({ status: 'sending', sid: null });

    const second = await replaceWorker();

    await expectExactlyOneReply(deployment, from, 'sent once, confirmed later');
    // The fake lists a message it accepted as queued; that is what the lookup recorded.
    expect((await conversationState(deployment, from)).deliveries[0]!.status).toBe('queued');
    expect(second.logs.some((line) => line.msg === 'part had been sent before a crash; not resent')).toBe(
      true,
    );
    expect(deployment.llm.requests).toHaveLength(1);
  });

  // Between storing the reply and the HTTP request there is no database step any more: the reply's first part is
  // stored already claimed ('sending'). So a crash anywhere from the commit to the request reaching Twilio leaves
  // the same state, and one test covers that whole window.
  it('between storing the reply and its send reaching Twilio: the new worker finds nothing at Twilio and sends the stored reply once, without asking the LLM again', async () => {
    const from = newSender();
    deployment.llm.respond(() => ({ text: 'the send that was lost on the way' }));
    gate.plan('hang');
    const sendsBefore = gate.sends;
    await postMessage(from, 'hello');
    await eventually(
      'the send request',
      () => Promise.resolve(gate.sends > sendsBefore || undefined),
      30_000,
    );
    expect(deployment.twilio.sent).toHaveLength(0);

    expect(await worker!.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await conversationState(deployment, from)).toEqual({
      inbound: ['answered'],
      assistantReplies: ['the send that was lost on the way'],
      deliveries: [{ status: 'sending', sid: null, body: 'the send that was lost on the way' }],
    });
    worker = await startWorker();

    await expectExactlyOneReply(deployment, from, 'the send that was lost on the way');
    expect(deployment.llm.requests).toHaveLength(1);
  });
});

describe('a send whose answer is lost after Twilio took the message (no crash)', { timeout: 90_000 }, () => {
  it('the connection reset leaves the part "sending"; the retry finds it at Twilio and does not resend', async () => {
    const from = newSender();
    deployment.llm.respond(() => ({ text: 'taken, then the line dropped' }));
    gate.plan('accept-then-reset');
    await postMessage(from, 'hello');

    await expectExactlyOneReply(deployment, from, 'taken, then the line dropped');
    // One send reached Twilio; the retry asked instead of sending again, and the LLM was asked once.
    expect(deployment.twilio.sent.filter((m) => m.to === from)).toHaveLength(1);
    expect(deployment.llm.requests).toHaveLength(1);
  });
});

/**
 * Outages of the two services, with real processes: Redis and PostgreSQL sit behind TCP proxies the test cuts
 * (connections dropped, new ones refused, as when the server dies) and restores. One deployment for the file:
 * web, worker and scheduler reach Redis through one proxy; web and worker each reach PostgreSQL through their
 * own proxy, so either can lose the database alone; the scheduler reaches PostgreSQL directly.
 * Redis down: the webhook still stores messages and answers 200; once Redis is back the web process queues
 * them itself (the sweep is the backstop: redis-recovery.test.ts) and every user gets one reply. PostgreSQL down: the webhook answers 503 (Twilio retries)
 * and logs it as CRITICAL; Twilio's redelivery after the restore is answered once.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createProcessDeployment,
  type AppProcess,
  type LogLine,
  type ProcessDeployment,
} from '../helpers/processes.js';
import { TEST_DATABASE_ADMIN_URL, TEST_REDIS_URL } from '../helpers/services.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { inboundParams } from '../helpers/twilio.js';
import {
  conversationState,
  expectExactlyOneReply,
  FAST_RECOVERY,
  newSender,
  sleep,
  WEBHOOK,
} from './support.js';

/** Not a performance assertion: a webhook that takes longer than this is hanging on the dead service. */
const NO_HANG_MS = 5000;

let deployment: ProcessDeployment;
let redisProxy: TcpProxy;
let webDatabaseProxy: TcpProxy;
let workerDatabaseProxy: TcpProxy;
let web: AppProcess;
let worker: AppProcess;
let scheduler: AppProcess;

beforeAll(async () => {
  const redis = new URL(TEST_REDIS_URL);
  const database = new URL(TEST_DATABASE_ADMIN_URL);
  const postgres = { host: database.hostname, port: Number(database.port || 5432) };
  [redisProxy, webDatabaseProxy, workerDatabaseProxy] = await Promise.all([
    startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) }),
    startTcpProxy(postgres),
    startTcpProxy(postgres),
  ]);
  deployment = await createProcessDeployment({
    ...FAST_RECOVERY,
    REDIS_URL: viaProxy(TEST_REDIS_URL, redisProxy.port),
    STRANDED_AFTER_SECONDS: '5',
    SWEEP_INTERVAL_SECONDS: '1',
  });
  deployment.llm.respond((request) => ({ text: `answer to ${request.messages.at(-1)?.content ?? ''}` }));
  [web, worker, scheduler] = await Promise.all([
    deployment.start('web', { DATABASE_URL: viaProxy(deployment.database.url, webDatabaseProxy.port) }),
    deployment.start('worker', { DATABASE_URL: viaProxy(deployment.database.url, workerDatabaseProxy.port) }),
    deployment.start('scheduler'),
  ]);
}, 60_000);
afterAll(async () => {
  await deployment.close();
  await Promise.all([redisProxy.close(), webDatabaseProxy.close(), workerDatabaseProxy.close()]);
});
beforeEach((context) => {
  deployment.twilio.reset();
  deployment.llm.requests.length = 0;
  context.onTestFailed(() => deployment.printOutput());
});

function viaProxy(serviceUrl: string, port: number): string {
  const url = new URL(serviceUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

async function timedPost(params: Record<string, string>) {
  const started = performance.now();
  const response = await deployment.postSigned(WEBHOOK, params, NO_HANG_MS * 2);
  return { status: response.status, body: await response.text(), ms: performance.now() - started };
}

/** A line logged at or after `since` (ms since the epoch; the children share the test's clock). */
const loggedSince = (since: number) => (line: LogLine) => Number(line.time) >= since;

describe('outages', { timeout: 90_000 }, () => {
  it('Redis down: webhooks are stored and acknowledged; after Redis returns the web process queues them and each user gets one reply', async () => {
    const since = Date.now();
    await redisProxy.cut();
    const senders = [newSender(), newSender()];
    for (const [index, from] of senders.entries()) {
      const answer = await timedPost(inboundParams({ From: from, Body: `during the outage ${index}` }));
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('<Response/>');
      expect(answer.ms).toBeLessThan(NO_HANG_MS);
    }
    for (const from of senders) {
      expect((await conversationState(deployment, from)).inbound).toEqual(['pending']);
    }
    expect(deployment.twilio.sent).toHaveLength(0);

    await redisProxy.restore();
    for (const [index, from] of senders.entries()) {
      await expectExactlyOneReply(deployment, from, `answer to during the outage ${index}`, { settleMs: 0 });
    }
    await web.waitForLog(
      'that it queued them once Redis was back',
      (line) => loggedSince(since)(line) && line.msg.startsWith('queue back') && Number(line.requeued) > 0,
    );
    // Settle once for both: a late duplicate of either would show here.
    await sleep(2000);
    expect(deployment.twilio.sent.map((m) => m.to).sort()).toEqual([...senders].sort());
    expect(deployment.llm.requests).toHaveLength(2);
  });

  it('PostgreSQL down: the webhook answers 503 and logs CRITICAL; Twilio’s redelivery after the restore is answered once', async () => {
    const since = Date.now();
    await webDatabaseProxy.cut();
    const from = newSender();
    const params = inboundParams({ From: from, Body: 'are you there?' });
    const refused = await timedPost(params);
    expect(refused.status).toBe(503);
    expect(refused.ms).toBeLessThan(NO_HANG_MS);
    expect(await conversationState(deployment, from)).toEqual({
      inbound: [],
      assistantReplies: [],
      deliveries: [],
    });
    const critical = await web.waitForLog(
      'a CRITICAL database error',
      (line) => loggedSince(since)(line) && line.level >= 60 && line.severity === 'CRITICAL',
    );
    expect(critical).toMatchObject({ category: 'DATABASE' });
    expect(critical.msg).toContain('CRITICAL');

    await webDatabaseProxy.restore();
    const redelivered = await timedPost(params);
    expect(redelivered.status).toBe(200);
    await expectExactlyOneReply(deployment, from, 'answer to are you there?');
    // A second redelivery (Twilio retries more than once) is a no-op.
    expect((await timedPost(params)).status).toBe(200);
    await sleep(1500);
    expect(deployment.twilio.sent).toHaveLength(1);
    expect(deployment.llm.requests).toHaveLength(1);
  });

  it('PostgreSQL down for the worker: the job fails for good, and after the restore the scheduler runs it again and the user gets one reply', async () => {
    const since = Date.now();
    await workerDatabaseProxy.cut();
    const from = newSender();
    expect((await timedPost(inboundParams({ From: from, Body: 'hello?' }))).status).toBe(200);
    // Every attempt fails on the database; BullMQ keeps the failed job, under the message's id.
    const failed = await worker.waitForLog(
      'the job failing for good',
      (line) => loggedSince(since)(line) && line.msg === 'conversation job failed for good',
    );
    expect((await conversationState(deployment, from)).inbound).toEqual(['pending']);

    await workerDatabaseProxy.restore();
    await expectExactlyOneReply(deployment, from, 'answer to hello?');
    // The sweep re-enqueued the same message id: the kept failed job did not block it.
    const sweep = await scheduler.waitForLog(
      'a sweep that re-enqueued it',
      (line) => loggedSince(since)(line) && line.msg === 'sweep' && Number(line.reenqueued) > 0,
    );
    expect(sweep.reenqueued).toBe(1);
    const [message] = await deployment.query<{ id: string }>(
      `select m.id from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user'`,
      [from],
    );
    expect(failed.jobId).toBe(message!.id);
    expect(deployment.llm.requests).toHaveLength(1);
  });
});

/**
 * Recovery from a Redis outage without a scheduler: the web process that accepted the messages queues them
 * itself once Redis is back (src/pipeline/unqueued-retry.ts), so every one is answered within seconds; the
 * sweep, which would wait STRANDED_AFTER_SECONDS (60 s here, the default) and is not running at all, plays no
 * part. When that web process dies before Redis is back, the messages are the scheduler's sweep's: started late,
 * it finds them and every user still gets the reply. Real web, worker and scheduler processes; Redis behind a TCP
 * proxy that the test cuts and restores.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { createProcessDeployment, type AppProcess, type ProcessDeployment } from '../helpers/processes.js';
import { TEST_REDIS_URL } from '../helpers/services.js';
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

/** Messages accepted during the outage, each from its own sender. */
const MESSAGES = 12;
/** The target: every message answered within this long of Redis coming back (reported, not a timed assert). */
const TARGET_SECONDS = 15;

let deployment: ProcessDeployment;
let redisProxy: TcpProxy;
let web: AppProcess;

beforeAll(async () => {
  const redis = new URL(TEST_REDIS_URL);
  redisProxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
  const viaProxy = new URL(TEST_REDIS_URL);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(redisProxy.port);
  deployment = await createProcessDeployment({
    ...FAST_RECOVERY,
    REDIS_URL: viaProxy.toString(),
    STRANDED_AFTER_SECONDS: '60',
  });
  deployment.llm.respond((request) => ({ text: `answer to ${request.messages.at(-1)?.content ?? ''}` }));
  [web] = await Promise.all([deployment.start('web'), deployment.start('worker')]);
}, 60_000);
afterAll(async () => {
  await deployment.close();
  await redisProxy.close();
});
beforeEach((context) => {
  context.onTestFailed(() => deployment.printOutput());
});

describe('recovery from a Redis outage', { timeout: 120_000 }, () => {
  it('with no scheduler running, every message accepted during the outage is queued by the web process and answered once Redis is back', async () => {
    await redisProxy.cut();
    const senders = Array.from({ length: MESSAGES }, () => newSender());
    const statuses = await Promise.all(
      senders.map(async (from, index) => {
        const response = await deployment.postSigned(
          WEBHOOK,
          inboundParams({ From: from, Body: `during the outage ${index}` }),
        );
        return response.status;
      }),
    );
    expect(statuses).toEqual(senders.map(() => 200));
    for (const from of senders)
      expect((await conversationState(deployment, from)).inbound).toEqual(['pending']);
    // An outage of some seconds, long enough for the clients' reconnect attempts to back off.
    await sleep(4000);
    expect(deployment.twilio.sent).toHaveLength(0);

    await redisProxy.restore();
    const restoredAt = Date.now();
    await eventually(
      'a reply to every sender',
      async () => {
        const answered = new Set(deployment.twilio.sent.map((m) => m.to));
        if (!senders.every((from) => answered.has(from))) return undefined;
        // Sent, and the database has recorded Twilio's SID for each reply.
        const [row] = await deployment.query<{ count: number }>(
          `select count(*)::int as count from deliveries d join conversations c on c.id = d.conversation_id
           where c.user_address = any($1) and d.provider_message_id is not null`,
          [senders],
        );
        return row?.count === MESSAGES ? true : undefined;
      },
      90_000,
    );
    const seconds = (Date.now() - restoredAt) / 1000;
    console.log(
      `Redis back → all ${MESSAGES} messages answered in ${seconds.toFixed(1)} s (target ${TARGET_SECONDS} s)`,
    );

    // The web process queued them itself (no sweep runs in this deployment).
    const requeued = web.logs.filter((line) => line.msg.startsWith('queue back'));
    expect(requeued.reduce((sum, line) => sum + Number(line.requeued), 0)).toBe(MESSAGES);
    // Each sender got exactly its reply, and the database agrees.
    await sleep(1000);
    for (const [index, from] of senders.entries()) {
      expect(deployment.twilio.sent.filter((m) => m.to === from).map((m) => m.body)).toEqual([
        `answer to during the outage ${index}`,
      ]);
      const state = await conversationState(deployment, from);
      expect(state.inbound).toEqual(['answered']);
      expect(state.deliveries).toHaveLength(1);
    }
  });

  it('a web process that dies holding unqueued messages leaves them to the scheduler’s sweep', async () => {
    await redisProxy.cut();
    const from = newSender();
    const response = await deployment.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'left behind' }));
    expect(response.status).toBe(200);
    await web.kill();
    await redisProxy.restore();
    expect((await conversationState(deployment, from)).inbound).toEqual(['pending']);

    const scheduler = await deployment.start('scheduler', {
      STRANDED_AFTER_SECONDS: '5',
      SWEEP_INTERVAL_SECONDS: '1',
    });
    await expectExactlyOneReply(deployment, from, 'answer to left behind', { settleMs: 0 });
    const sweep = await scheduler.waitForLog(
      'a sweep that re-enqueued it',
      (line) => line.msg === 'sweep' && Number(line.reenqueued) > 0,
    );
    expect(sweep.reenqueued).toBe(1);
  });
});

/**
 * A busy number through one Twilio address: 2,000 signed webhooks from 127.0.0.1 within a minute, at the default
 * per-IP limit (IP_RATE_LIMIT_MAX=600 per 60 s), to real web and worker processes. Signed webhooks are not
 * counted by the flood guard, so every one is accepted (before, everything past 600 in a window got 429, which
 * Twilio does not retry) and every conversation is answered through the fake Twilio.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/app.js';
import { createProcessDeployment, type AppProcess, type ProcessDeployment } from '../helpers/processes.js';
import { inboundParams } from '../helpers/twilio.js';
import { WEBHOOK } from './support.js';

const WEBHOOKS = 2000;
/** Requests in flight at once: fast, without queueing thousands of sockets on a 2-core machine. */
const CONCURRENCY = 32;

let deployment: ProcessDeployment;
let web: AppProcess;

beforeAll(async () => {
  deployment = await createProcessDeployment({
    // Per-message lines at info would be 10,000 lines to keep; the guard's 429 line is a warning and stays on.
    LOG_LEVELS: 'http=warn,pipeline=warn,whatsapp=warn,ai=warn,queue=warn,db=warn',
  });
  expect(deployment.env.IP_RATE_LIMIT_MAX).toBeUndefined();
  deployment.llm.respond(() => ({ text: 'thanks, noted' }));
  [web] = await Promise.all([deployment.start('web'), deployment.start('worker')]);
}, 60_000);
afterAll(async () => {
  await deployment.close();
});
beforeEach((context) => {
  context.onTestFailed(() => deployment.printOutput());
});

/** Run `task` for 0..count-1 with at most `limit` running at once; results in index order. */
async function inParallel<T>(
  count: number,
  limit: number,
  task: (index: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

describe('signed webhooks at volume from one address', { timeout: 240_000 }, () => {
  it('accepts and answers 2,000 signed webhooks sent within a minute at the default per-IP limit', async () => {
    const senders = Array.from({ length: WEBHOOKS }, (_, i) => `whatsapp:+1555${String(i).padStart(7, '0')}`);
    const started = Date.now();
    const statuses = await inParallel(WEBHOOKS, CONCURRENCY, async (index) => {
      const response = await deployment.postSigned(
        WEBHOOK,
        inboundParams({ From: senders[index]!, Body: `order ${index}` }),
        30_000,
      );
      await response.arrayBuffer();
      return response.status;
    });
    const sentInSeconds = (Date.now() - started) / 1000;
    const refused = statuses.filter((status) => status !== 200);
    expect({ refused: refused.length, statuses: [...new Set(refused)] }).toEqual({
      refused: 0,
      statuses: [],
    });

    await eventually(
      `a recorded reply to each of the ${WEBHOOKS} senders`,
      async () => {
        const [row] = await deployment.query<{ count: number }>(
          `select count(*)::int as count from deliveries where provider_message_id is not null`,
        );
        return row?.count === WEBHOOKS ? true : undefined;
      },
      180_000,
    );
    const answeredInSeconds = (Date.now() - started) / 1000;
    console.log(
      `${WEBHOOKS} signed webhooks sent in ${sentInSeconds.toFixed(1)} s, all answered after ${answeredInSeconds.toFixed(1)} s`,
    );
    const sentTo = deployment.twilio.sent.map((m) => m.to);
    expect(sentTo).toHaveLength(WEBHOOKS);
    expect(new Set(sentTo)).toEqual(new Set(senders));
    const [pending] = await deployment.query<{ count: number }>(
      `select count(*)::int as count from messages where role = 'user' and processing_status <> 'answered'`,
    );
    expect(pending?.count).toBe(0);
    expect(web.logs.filter((line) => line.msg.startsWith('client IP over the rate limit'))).toEqual([]);
  });
});

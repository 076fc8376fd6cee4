/**
 * The broadcast use case on a real PostgreSQL with the in-process queue (nothing consumes it: what matters here is
 * what is stored and when): pacing on a virtual clock, a second run that stores nobody twice and costs no pacing,
 * findOrCreateConversation under a race, and the refusals made before any row.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTwilioChannel } from '../../src/channels/twilio/channel.js';
import type { Db } from '../../src/db/connect.js';
import { findOrCreateConversation } from '../../src/db/conversations.js';
import { rowsOf } from '../../src/db/rows.js';
import type { BroadcastRow } from '../../src/domain/broadcast-list.js';
import { isAppError } from '../../src/domain/errors.js';
import { CLI_ACTOR, type Actor } from '../../src/domain/roles.js';
import { broadcastTemplate } from '../../src/inbox/broadcast.js';
import type { ProactiveDeps } from '../../src/inbox/send-proactive.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { silentLogger } from '../../src/log.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';
import { createNumberDirectory } from '../../src/channels/number-directory.js';

const OUR_NUMBER = 'whatsapp:+14155238886';
const TEMPLATE = 'HX' + '0123456789abcdef'.repeat(2);

let database: TestDatabase;
let db: Db;
let deps: ProactiveDeps;
beforeAll(async () => {
  database = await createTestDatabase();
  db = database.database.db;
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  const twilioSettings = {
    accountSid: 'AC' + '0'.repeat(32),
    authToken: 'unused',
    whatsappNumber: OUR_NUMBER,
    apiBaseUrl: 'http://127.0.0.1:9',
  };
  const twilio = createTwilioChannel(twilioSettings);
  deps = {
    db,
    numbers: createNumberDirectory({
      db,
      twilio: twilioSettings,
      meta: null,
      decrypt: () => {
        throw new Error('no FIELD_ENCRYPTION_KEY in this test');
      },
      refreshMs: 60_000,
      log: silentLogger(),
    }),
    queue,
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    log: silentLogger(),
    channelFor: (name) => (name === 'twilio' ? twilio : undefined),
    settings: pipelineSettings(),
  };
});
afterAll(() => database.close());

/** A clock that only moves when the broadcast waits, so pacing is asserted exactly and costs no time. */
function virtualClock() {
  let now = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: (ms: number) => {
      waits.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

const people = (n: number, prefix: string): BroadcastRow[] =>
  Array.from({ length: n }, (_, i) => ({
    line: i + 2,
    to: `whatsapp:+1${prefix}${String(i).padStart(4, '0')}`,
    variables: { '1': `P${i}` },
  }));

async function storedFor(campaign: string): Promise<number> {
  const result = await db.execute(
    sql`select count(*)::int as n from messages where outbound_key like ${`broadcast:${campaign}:%`}`,
  );
  return rowsOf<{ n: number }>(result)[0]?.n ?? -1;
}

describe('broadcastTemplate', () => {
  it('paces new messages at the rate, and a second run stores nobody twice and waits for nobody', async () => {
    const rows: BroadcastRow[] = [
      ...people(4, '415700'),
      { line: 9, input: 'nope', skip: 'invalid_address' },
    ];
    const clock = virtualClock();
    const request = { actor: CLI_ACTOR, campaignId: 'c-pace', templateId: TEMPLATE, rows, ratePerSecond: 4 };
    const first = await broadcastTemplate(deps, { ...request, ...clock });
    expect(first).toMatchObject({
      recipients: 5,
      sent: 4,
      alreadySent: 0,
      failed: 0,
      skipped: { invalid_address: 1 },
    });
    expect(first.problems).toEqual([{ line: 9, to: 'nope', outcome: 'skipped', reason: 'invalid_address' }]);
    // 4 per second: 250 ms between new messages, none before the first.
    expect(clock.waits).toEqual([250, 250, 250]);
    expect(await storedFor('c-pace')).toBe(4);

    const again = virtualClock();
    const second = await broadcastTemplate(deps, { ...request, ...again });
    expect(second).toMatchObject({ sent: 0, alreadySent: 4 });
    expect(again.waits).toEqual([]);
    expect(await storedFor('c-pace')).toBe(4);
  });

  it('refuses a sender that is not ours and a malformed template before storing anything', async () => {
    const rows = people(2, '415701');
    const base = {
      actor: CLI_ACTOR,
      campaignId: 'c-refused',
      templateId: TEMPLATE,
      rows,
      ratePerSecond: 100,
    };
    const codeOf = (promise: Promise<unknown>) =>
      promise.then(
        () => 'resolved',
        (error: unknown) => (isAppError(error) ? error.code : String(error)),
      );
    expect(await codeOf(broadcastTemplate(deps, { ...base, from: 'whatsapp:+19990000000' }))).toBe(
      'invalid_from',
    );
    expect(await codeOf(broadcastTemplate(deps, { ...base, templateId: 'HXshort' }))).toBe(
      'invalid_template',
    );
    const viewer: Actor = { kind: 'token', id: null, name: 'token bi', role: 'viewer', ip: null };
    await expect(broadcastTemplate(deps, { ...base, actor: viewer })).rejects.toMatchObject({
      kind: 'forbidden',
    });
    expect(await storedFor('c-refused')).toBe(0);
  });
});

describe('findOrCreateConversation', () => {
  it('gives ten concurrent callers for one new address the same conversation, created once', async () => {
    const input = {
      channel: 'twilio' as const,
      address: 'whatsapp:+14157029999',
      businessAddress: OUR_NUMBER,
    };
    const results = await Promise.all(Array.from({ length: 10 }, () => findOrCreateConversation(db, input)));
    expect(new Set(results.map((r) => r.conversation.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results[0]?.conversation).toMatchObject({
      channel: 'twilio',
      userAddress: input.address,
      replyAddress: input.address,
      businessAddress: OUR_NUMBER,
      mode: 'bot',
    });
  });

  it('the audit log shows a broadcast that began and died midway; its re-run adds the final report', async () => {
    const rows = people(4, '415900');
    const request = {
      actor: CLI_ACTOR,
      campaignId: 'c-killed',
      templateId: TEMPLATE,
      rows,
      ratePerSecond: 1000,
    };
    const audited = async () =>
      rowsOf<{ action: string; details: Record<string, unknown> }>(
        await db.execute(
          sql`select action, details from audit_log where target_id = 'c-killed' order by created_at`,
        ),
      );
    // The process dies after the second recipient: nothing after that line runs.
    let seen = 0;
    const killed = await broadcastTemplate(deps, {
      ...request,
      ...virtualClock(),
      onRow: () => {
        if (++seen === 2) throw new Error('killed');
      },
    }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(killed).toMatchObject({ message: 'killed' });
    expect(await audited()).toEqual([
      { action: 'message.broadcast.started', details: { templateId: TEMPLATE, recipients: 4 } },
    ]);
    const report = await broadcastTemplate(deps, { ...request, ...virtualClock() });
    expect(report).toMatchObject({ sent: 2, alreadySent: 2 });
    expect((await audited()).map((row) => row.action)).toEqual([
      'message.broadcast.started',
      'message.broadcast.started',
      'message.broadcast',
    ]);
  });
});

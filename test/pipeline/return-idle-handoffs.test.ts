/**
 * HANDOFF_IDLE_MINUTES on a real PostgreSQL: conversations nobody answered return to the bot, audited, their cached
 * context forgotten; an operator who writes at that very moment keeps the conversation (the condition is checked
 * again on the locked row).
 */
import { describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/db/messages.js';
import { returnIdleHandoffsToBot } from '../../src/db/handoff.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { silentLogger } from '../../src/log.js';
import { returnIdleHandoffs } from '../../src/pipeline/return-idle-handoffs.js';
import { inbound } from '../db/fixtures.js';
import { databaseForFile } from '../helpers/database-for-file.js';

const file = databaseForFile({ poolSize: 4 });
const HOUR = 3_600_000;

/** A conversation in `human` whose handoff and last operator message are this many minutes old (null: none). */
async function handedOff(handoffMinutesAgo: number, operatorMinutesAgo: number | null): Promise<string> {
  const { conversationId } = await acceptInbound(file.testDb.database.db, inbound());
  await file.pool.query(
    `update conversations set mode = 'human',
       handoff_at = now() - make_interval(mins => $2::int),
       last_operator_message_at = case when $3::int is null then null else now() - make_interval(mins => $3::int) end
     where id = $1`,
    [conversationId, handoffMinutesAgo, operatorMinutesAgo],
  );
  return conversationId;
}
const modeOf = async (id: string) =>
  (await file.pool.query<{ mode: string }>('select mode from conversations where id = $1', [id])).rows[0]
    ?.mode;

describe('idle handoffs return to the bot', () => {
  it('after HANDOFF_IDLE_MINUTES counted from the later of the handoff and the last operator message', async () => {
    const idle = await handedOff(90, null);
    const operatorIdle = await handedOff(300, 61);
    const operatorRecent = await handedOff(300, 5);
    const recent = await handedOff(10, null);
    const context = createMemoryContextCache({ maxTurns: 10, ttlSeconds: 600 });
    await context.append(idle, [{ id: 'x', role: 'user', content: 'stale', at: Date.now() }]);
    const deps = { db: file.testDb.database.db, context, log: silentLogger() };

    expect(await returnIdleHandoffs(deps, HOUR)).toBe(2);
    expect(await modeOf(idle)).toBe('bot');
    expect(await modeOf(operatorIdle)).toBe('bot');
    expect(await modeOf(operatorRecent)).toBe('human');
    expect(await modeOf(recent)).toBe('human');
    expect(await context.get(idle)).toBeNull();
    const audit = await file.pool.query<{
      actor_kind: string;
      action: string;
      details: Record<string, string>;
    }>(`select actor_kind, action, details from audit_log where target_id = $1`, [idle]);
    expect(audit.rows).toEqual([
      {
        actor_kind: 'system',
        action: 'conversation.mode',
        details: expect.objectContaining({ from: 'human', to: 'bot', reason: 'idle' }) as Record<
          string,
          string
        >,
      },
    ]);
    // Nothing left to return: a second round changes nothing.
    expect(await returnIdleHandoffs(deps, HOUR)).toBe(0);
  });

  it('0 minutes means never', async () => {
    const id = await handedOff(60 * 24 * 30, null);
    const deps = {
      db: file.testDb.database.db,
      context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
      log: silentLogger(),
    };
    expect(await returnIdleHandoffs(deps, 0)).toBe(0);
    expect(await modeOf(id)).toBe('human');
    await file.pool.query(`update conversations set mode = 'bot' where id = $1`, [id]);
  });

  it('returns a bounded batch per round, oldest handoff first', async () => {
    const older = await handedOff(500, null);
    const newer = await handedOff(400, null);
    const returned = await returnIdleHandoffsToBot(file.testDb.database.db, HOUR, 1);
    expect(returned.map((r) => r.conversationId)).toEqual([older]);
    expect(await modeOf(newer)).toBe('human');
    expect(
      (await returnIdleHandoffsToBot(file.testDb.database.db, HOUR, 1)).map((r) => r.conversationId),
    ).toEqual([newer]);
  });

  it('an operator writing while the statement runs keeps the conversation: the condition is checked on the locked row', async () => {
    const id = await handedOff(120, null);
    const operator = await file.pool.connect();
    try {
      await operator.query('begin');
      // sendAsOperator's touch, not yet committed: the row is locked, the candidate scan still sees it idle.
      await operator.query('update conversations set last_operator_message_at = now() where id = $1', [id]);
      const sweep = returnIdleHandoffsToBot(file.testDb.database.db, HOUR, 10);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await operator.query('commit');
      expect((await sweep).map((r) => r.conversationId)).not.toContain(id);
    } finally {
      operator.release();
    }
    expect(await modeOf(id)).toBe('human');
  });
});

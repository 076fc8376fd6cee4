import { describe, expect, it } from 'vitest';
import { getConversation, switchConversationMode, touchOperatorMessage } from '../../src/db/conversations.js';
import { acceptInbound, saveReply } from '../../src/db/messages.js';
import { databaseForFile } from '../helpers/database-for-file.js';
import { inbound, plainReply } from './fixtures.js';

const file = databaseForFile();

async function handoffColumns(id: string) {
  const { rows } = await file.pool.query<{
    mode: string;
    handoff_at: Date | null;
    handoff_reason: string | null;
    last_operator_message_at: Date | null;
  }>('select mode, handoff_at, handoff_reason, last_operator_message_at from conversations where id = $1', [
    id,
  ]);
  return rows[0];
}

describe('switchConversationMode', () => {
  it('stamps the handoff only when the conversation enters human, and reports the mode it had', async () => {
    const db = file.testDb.database.db;
    const { conversationId } = await acceptInbound(db, inbound());

    const first = await switchConversationMode(db, conversationId, 'human', 'keyword');
    expect(first).toMatchObject({ previous: 'bot', mode: 'human' });
    expect(first?.handoffAt).toBeInstanceOf(Date);
    const stamped = await handoffColumns(conversationId);
    expect(stamped).toMatchObject({ mode: 'human', handoff_reason: 'keyword' });
    expect(stamped?.handoff_at?.getTime()).toBe(first?.handoffAt?.getTime());

    // Already human: no new handoff, the first one's time and reason stay.
    const again = await switchConversationMode(db, conversationId, 'human', 'operator');
    expect(again).toEqual({ previous: 'human', mode: 'human', handoffAt: null, cancelledParts: 0 });
    expect(await handoffColumns(conversationId)).toMatchObject({ handoff_reason: 'keyword' });

    expect(await switchConversationMode(db, conversationId, 'paused', 'operator')).toEqual({
      previous: 'human',
      mode: 'paused',
      handoffAt: null,
      cancelledParts: 0,
    });
    const back = await switchConversationMode(db, conversationId, 'human', 'operator');
    expect(back?.handoffAt).toBeInstanceOf(Date);
    expect(await handoffColumns(conversationId)).toMatchObject({ handoff_reason: 'operator' });
    expect((await getConversation(db, conversationId))?.mode).toBe('human');
  });

  it('two concurrent handoffs of one conversation make exactly one handoff', async () => {
    const db = file.testDb.database.db;
    const { conversationId } = await acceptInbound(db, inbound());
    const results = await Promise.all(
      Array.from({ length: 6 }, () => switchConversationMode(db, conversationId, 'human', 'keyword')),
    );
    expect(results.filter((r) => r?.handoffAt).length).toBe(1);
    expect(results.filter((r) => r?.previous === 'bot').length).toBe(1);
  });

  it("leaving the bot cancels the bot's unsent parts (paused: the system's too), never an operator's", async () => {
    const db = file.testDb.database.db;
    const first = await acceptInbound(db, inbound());
    const { conversationId } = first;
    const store = (key: string, author: 'assistant' | 'system' | `operator:${string}`, text: string) =>
      saveReply(db, { ...plainReply(conversationId, [], [text]), key, author });
    await store('bot-1', 'assistant', 'stale bot answer');
    await store('sys-1', 'system', 'a notice');
    await store('op-1', 'operator:x', 'operator words');
    const statuses = async () =>
      (
        await file.pool.query<{ body: string; status: string; error_code: string | null }>(
          'select body, status, error_code from deliveries where conversation_id = $1 order by body',
          [conversationId],
        )
      ).rows.map((r) => [r.body, r.status, r.error_code]);

    expect((await switchConversationMode(db, conversationId, 'human', 'operator'))?.cancelledParts).toBe(1);
    expect(await statuses()).toEqual([
      ['a notice', 'pending', null],
      ['operator words', 'pending', null],
      ['stale bot answer', 'canceled', 'mode_human'],
    ]);
    expect((await switchConversationMode(db, conversationId, 'paused', 'operator'))?.cancelledParts).toBe(1);
    expect(await statuses()).toEqual([
      ['a notice', 'canceled', 'mode_paused'],
      ['operator words', 'pending', null],
      ['stale bot answer', 'canceled', 'mode_human'],
    ]);
    // Back to the bot cancels nothing.
    expect((await switchConversationMode(db, conversationId, 'bot', 'operator'))?.cancelledParts).toBe(0);
  });

  it('unlessPaused leaves a paused conversation paused, and switches any other', async () => {
    const db = file.testDb.database.db;
    const { conversationId } = await acceptInbound(db, inbound());
    await switchConversationMode(db, conversationId, 'paused', 'operator');
    expect(
      await switchConversationMode(db, conversationId, 'human', 'keyword', { unlessPaused: true }),
    ).toEqual({ previous: 'paused', mode: 'paused', handoffAt: null, cancelledParts: 0 });
    expect((await handoffColumns(conversationId))?.mode).toBe('paused');
    await switchConversationMode(db, conversationId, 'bot', 'operator');
    const switched = await switchConversationMode(db, conversationId, 'human', 'keyword', {
      unlessPaused: true,
    });
    expect(switched?.mode).toBe('human');
    expect(switched?.handoffAt).toBeInstanceOf(Date);
  });

  it('returns null for an unknown conversation', async () => {
    const db = file.testDb.database.db;
    expect(
      await switchConversationMode(db, '00000000-0000-4000-8000-000000000000', 'human', 'operator'),
    ).toBeNull();
  });

  it('touchOperatorMessage restarts the idle timer', async () => {
    const db = file.testDb.database.db;
    const { conversationId } = await acceptInbound(db, inbound());
    expect((await handoffColumns(conversationId))?.last_operator_message_at).toBeNull();
    await touchOperatorMessage(db, conversationId);
    expect((await handoffColumns(conversationId))?.last_operator_message_at).toBeInstanceOf(Date);
  });
});

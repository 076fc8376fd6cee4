import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/db/messages.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { inbound } from '../db/fixtures.js';
import { cliEnv } from './env.js';
import { runCli } from './run-cli.js';

let testDb: TestDatabase;
let twilio: FakeTwilio;
let llm: FakeLlm;
let env: Record<string, string>;
beforeAll(async () => {
  [testDb, twilio, llm] = await Promise.all([createTestDatabase(), startFakeTwilio(), startFakeLlm()]);
  env = {
    ...cliEnv({ databaseUrl: testDb.url, twilio, llm }),
    HANDOFF_MESSAGE: 'A person will write to you.',
  };
});
afterAll(async () => {
  await Promise.all([testDb.close(), twilio.close(), llm.close()]);
});

async function query<T>(text: string, values: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: testDb.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('chatbot conversation mode', { timeout: 120_000 }, () => {
  it('hands a conversation found by address to a human: the handoff message is stored once, the switch audited', async () => {
    const message = inbound({ from: 'whatsapp:+14155550177' });
    const { conversationId } = await acceptInbound(testDb.database.db, message);

    const first = await runCli(['conversation', 'mode', 'whatsapp:+14155550177', 'human'], { env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`conversation ${conversationId}: bot → human`);
    const again = await runCli(['conversation', 'mode', conversationId, 'human'], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already in human');

    const outbound = await query<{ content: string; author: string; outbound_key: string }>(
      `select content, author, outbound_key from messages where conversation_id = $1 and role = 'assistant'`,
      [conversationId],
    );
    expect(outbound.map((m) => [m.content, m.author])).toEqual([['A person will write to you.', 'system']]);
    expect(outbound[0]?.outbound_key).toMatch(/^handoff:/);
    const audit = await query<{ actor_kind: string; action: string; target_id: string; details: unknown }>(
      `select actor_kind, action, target_id, details from audit_log where target_id = $1`,
      [conversationId],
    );
    expect(audit).toEqual([
      {
        actor_kind: 'cli',
        action: 'conversation.mode',
        target_id: conversationId,
        details: { from: 'bot', to: 'human', reason: 'operator' },
      },
    ]);

    const back = await runCli(['conversation', 'mode', conversationId, 'bot'], { env });
    expect(back.stdout).toContain('human → bot');
    const [row] = await query<{ mode: string }>('select mode from conversations where id = $1', [
      conversationId,
    ]);
    expect(row?.mode).toBe('bot');
  });

  it('refuses an unknown conversation (exit 1) and an unknown mode (exit 2)', async () => {
    const unknown = await runCli(['conversation', 'mode', 'whatsapp:+19999999999', 'human'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no conversation found for whatsapp:+19999999999');
    const badMode = await runCli(['conversation', 'mode', 'whatsapp:+14155550177', 'robot'], { env });
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain('the mode must be one of bot, human, paused');
  });

  it('refuses an address with a conversation per business number, listing them; --from picks one', async () => {
    const person = 'whatsapp:+14155550178';
    const other = 'whatsapp:+14155230077';
    const sales = await acceptInbound(testDb.database.db, inbound({ from: person }));
    const support = await acceptInbound(testDb.database.db, inbound({ from: person, to: other }));

    const ambiguous = await runCli(['conversation', 'mode', person, 'paused'], { env });
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`${person} has 2 conversations, one per business number`);
    expect(ambiguous.stderr).toContain(`${support.conversationId}  with ${other}`);
    expect(ambiguous.stderr).toContain(sales.conversationId);

    const picked = await runCli(['conversation', 'mode', person, 'paused', '--from', other], { env });
    expect(picked.code).toBe(0);
    expect(picked.stdout).toContain(`conversation ${support.conversationId}: bot → paused`);
    const modes = await query<{ id: string; mode: string }>(
      'select id, mode from conversations where user_address = $1',
      [person],
    );
    expect(Object.fromEntries(modes.map((m) => [m.id, m.mode]))).toEqual({
      [sales.conversationId]: 'bot',
      [support.conversationId]: 'paused',
    });
  });
});

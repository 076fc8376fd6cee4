/**
 * `chatbot data export|erase` as the real binary: the export on stdout or in a file holds the person's messages
 * and nobody else's; erase without --yes changes nothing and exits 2 with the counts; with --yes the rows go;
 * both are audited with the CLI as the actor and the pseudonym as the target.
 */
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  env = cliEnv({ databaseUrl: testDb.url, twilio, llm });
});
afterAll(async () => {
  await Promise.all([testDb.close(), twilio.close(), llm.close()]);
});

async function query<T>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: testDb.url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

interface Exported {
  subject: { pseudonym: string };
  conversations: Array<{ messages: Array<{ text: string; direction: string }> }>;
}

describe('chatbot data', { timeout: 120_000 }, () => {
  it('exports one person, erases them only with --yes, and audits both', async () => {
    const eve = 'whatsapp:+14155550190';
    const frank = 'whatsapp:+14155550191';
    const { conversationId } = await acceptInbound(
      testDb.database.db,
      inbound({ from: eve, body: 'eve: my IBAN is DE00 1234' }),
    );
    await acceptInbound(testDb.database.db, inbound({ from: eve, body: 'eve again' }));
    await acceptInbound(testDb.database.db, inbound({ from: frank, body: 'frank: call me at noon' }));

    const printed = await runCli(['data', 'export', '--user', eve], { env });
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    const document = JSON.parse(printed.stdout) as Exported;
    expect(document.conversations[0]?.messages.map((m) => m.text)).toEqual([
      'eve: my IBAN is DE00 1234',
      'eve again',
    ]);
    expect(printed.stdout).not.toContain(frank);
    expect(printed.stdout).not.toContain('frank: call me');

    const file = join(tmpdir(), `export-${process.pid}-${Date.now()}.json`);
    const written = await runCli(['data', 'export', '--user', eve, '--output', file], { env });
    expect(written.code).toBe(0);
    expect(written.stdout).toContain(`wrote 1 conversation(s) to ${file}`);
    expect((JSON.parse(await readFile(file, 'utf8')) as Exported).subject.pseudonym).toBe(
      document.subject.pseudonym,
    );
    // Personal data: readable by its owner only.
    expect((await stat(file)).mode & 0o077).toBe(0);

    const dryRun = await runCli(['data', 'erase', '--user', eve], { env });
    expect(dryRun.code).toBe(2);
    expect(dryRun.stdout).toContain('would erase 1 conversation(s), 2 message(s)');
    expect(dryRun.stderr).toContain('add --yes');
    const kept = await query<{ n: number }>(
      'select count(*)::int as n from messages where conversation_id = $1',
      [conversationId],
    );
    expect(kept[0]?.n).toBe(2);

    const erased = await runCli(['data', 'erase', '--user', eve, '--yes'], { env });
    expect(erased.stderr).toBe('');
    expect(erased.code).toBe(0);
    expect(erased.stdout).toContain('erased 1 conversation(s), 2 message(s)');
    expect(erased.stdout).toContain(document.subject.pseudonym);
    const left = await query<{ user_address: string }>('select user_address from conversations');
    expect(left.map((c) => c.user_address)).toEqual([frank]);

    const audit = await query<{ action: string; actor_kind: string; target_type: string; target_id: string }>(
      `select action, actor_kind, target_type, target_id from audit_log where action like 'data.%'
       order by created_at`,
    );
    expect(audit).toEqual(
      ['data.export', 'data.export', 'data.erase'].map((action) => ({
        action,
        actor_kind: 'cli',
        target_type: 'user',
        target_id: document.subject.pseudonym,
      })),
    );

    const unknown = await runCli(['data', 'export', '--user', eve], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no data is held about this address');
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createInboundBatcher } from '../../src/db/accept-inbound.js';
import { connectDb } from '../../src/db/connect.js';
import { acceptInbound, pendingInbound, saveReply, sessionTurns } from '../../src/db/messages.js';
import { runMigrations } from '../../src/db/migrate.js';
import { rowsOf } from '../../src/db/rows.js';
import { webhookLogWriter } from '../../src/db/webhook-log-writer.js';
import { inbound, sender } from './fixtures.js';

describe('PGlite (zero-setup mode)', () => {
  // The first start runs initdb inside WASM: about 10 s on our machines.
  it('runs the same migrations and repositories as PostgreSQL', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pglite-'));
    const dataDir = path.join(dir, 'data', 'pglite');
    const database = await connectDb({ kind: 'pglite', dataDir });
    try {
      expect(database.kind).toBe('pglite');
      expect((await runMigrations(database)).applied).toBeGreaterThan(0);
      expect(await runMigrations(database)).toEqual({ applied: 0 });
      await database.ping();

      const db = database.db;
      const from = sender();
      const first = await acceptInbound(db, inbound({ from, body: 'one', metadata: { numMedia: 0 } }));
      const audit = webhookLogWriter(db);
      audit.write({
        channel: 'twilio',
        kind: 'inbound',
        method: 'POST',
        path: '/api/whatsapp/webhook/',
        headers: {},
        body: { MessageSid: 'SMpglite' },
        responseStatus: 200,
        processingTimeMs: 1,
        providerMessageId: 'SMpglite',
      });
      await audit.close();
      const logged = await db.execute(
        sql`select body from webhook_logs where provider_message_id = 'SMpglite'`,
      );
      expect(rowsOf(logged)).toEqual([{ body: { MessageSid: 'SMpglite' } }]);
      const again = await acceptInbound(db, { ...inbound({ from }), providerMessageId: 'SMsame' });
      expect(await acceptInbound(db, { ...inbound({ from }), providerMessageId: 'SMsame' })).toEqual({
        ...again,
        duplicate: true,
      });
      expect(again.conversationId).toBe(first.conversationId);

      // Concurrent messages share one multi-row statement (accept-inbound.ts): the same SQL on PGlite.
      const statements: number[] = [];
      const batcher = createInboundBatcher(db, { maxLanes: 1, onStatement: (n) => statements.push(n) });
      const burst = [inbound(), inbound({ body: 'it\'s {quoted}, \\ "and" multi\nline' }), inbound()];
      const stored = await Promise.all(burst.map((message) => batcher.accept(message, 'skipped')));
      expect(statements).toEqual([1, 2]);
      const burstRows = rowsOf<{ content: string; processing_status: string }>(
        await db.execute(
          sql`select content, processing_status from messages where id in (${sql.join(
            stored.map((s) => sql`${s.messageId}`),
            sql`, `,
          )}) order by created_at`,
        ),
      );
      expect(burstRows).toEqual(burst.map((m) => ({ content: m.body, processing_status: 'skipped' })));

      const pending = await pendingInbound(db, first.conversationId);
      expect(pending.map((m) => m.id)).toEqual([first.messageId, again.messageId]);
      expect(pending[0]).toMatchObject({ content: 'one', metadata: { numMedia: 0 } });
      expect(pending[0]?.createdAt).toBeInstanceOf(Date);

      const saved = await saveReply(db, {
        conversationId: first.conversationId,
        answeredIds: [first.messageId, again.messageId],
        content: 'answer',
        parts: ['answer'],
        to: from,
        from: null,
        model: null,
        provider: 'offline',
        usage: null,
        latencyMs: 3,
        errorKind: null,
      });
      expect(saved.created).toBe(true);
      const turns = await sessionTurns(db, first.conversationId, {
        maxTurns: 10,
        sessionTimeoutMs: 60_000,
        now: new Date(),
      });
      expect(turns.map((t) => t.role)).toEqual(['user', 'user', 'assistant']);
      // A context reset (a timestamp parameter of the prepared statement) cuts them off on PGlite too.
      const afterReset = await sessionTurns(db, first.conversationId, {
        maxTurns: 10,
        sessionTimeoutMs: 60_000,
        now: new Date(),
        after: new Date(Date.now() + 60_000),
      });
      expect(afterReset).toEqual([]);
    } finally {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

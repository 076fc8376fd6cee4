/**
 * Meta's statuses through the webhook route on a real PostgreSQL: any order ends at the best status, a 131047
 * failure is recorded with its code and followed by the window template once (as Twilio's 63016), and a status
 * naming one of our parts in biz_opaque_callback_data gives a part whose send answer was lost its wamid.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSent, saveReply } from '../../src/db/messages.js';
import { plainReply } from '../db/fixtures.js';
import { databaseForFile } from '../helpers/database-for-file.js';
import {
  metaChange,
  metaContact,
  metaEnvelope,
  metaStatus,
  metaText,
  randomWaId,
  randomWamid,
} from '../helpers/meta.js';
import { startMetaApp, WINDOW_TEMPLATE, type MetaApp } from './meta-app.js';

const file = databaseForFile();
let meta: MetaApp;
beforeAll(async () => {
  meta = await startMetaApp({ db: file.testDb.database.db });
});
afterAll(() => meta.close());

/** A Meta conversation (its user wrote a moment ago) with one outbound part, claimed for sending. */
async function outboundPart(options: { wamid?: string } = {}) {
  const waId = randomWaId();
  const inboundId = randomWamid();
  await meta.post(
    metaEnvelope([
      [metaChange({ contacts: [metaContact({ waId })], messages: [metaText('hi', { waId }, inboundId)] })],
    ]),
  );
  const { rows } = await file.pool.query<{ conversation_id: string }>(
    'select conversation_id from messages where provider_message_id = $1',
    [inboundId],
  );
  const conversationId = rows[0]?.conversation_id as string;
  const saved = await saveReply(
    file.testDb.database.db,
    {
      ...plainReply(conversationId, [], ['Hello from us'], `+${waId}`),
      key: `operator:test:${randomUUID()}`,
    },
    { claimFirstPart: true },
  );
  const part = saved.parts[0];
  if (!part) throw new Error('no part stored');
  if (options.wamid) await recordSent(file.testDb.database.db, part.id, options.wamid, 'sent');
  return { conversationId, messageId: saved.replyId, partId: part.id, waId };
}

const partRow = async (partId: string) =>
  (
    await file.pool.query<{ status: string; error_code: string | null; provider_message_id: string | null }>(
      'select status, error_code, provider_message_id from deliveries where id = $1',
      [partId],
    )
  ).rows[0];

const postStatuses = (...statuses: Array<Record<string, unknown>>) =>
  meta.post(metaEnvelope([[metaChange({ statuses })]]));

describe('statuses', () => {
  it('read before delivered leaves read; read without delivered is read', async () => {
    const wamid = randomWamid();
    const { partId } = await outboundPart({ wamid });
    expect((await postStatuses(metaStatus({ id: wamid, status: 'read' }))).statusCode).toBe(200);
    expect((await postStatuses(metaStatus({ id: wamid, status: 'delivered' }))).statusCode).toBe(200);
    expect((await partRow(partId))?.status).toBe('read');

    const other = randomWamid();
    const second = await outboundPart({ wamid: other });
    await postStatuses(metaStatus({ id: other, status: 'read' }));
    expect((await partRow(second.partId))?.status).toBe('read');
  });

  it('applies several statuses of one POST in order, played as read', async () => {
    const wamid = randomWamid();
    const { partId } = await outboundPart({ wamid });
    const response = await postStatuses(
      metaStatus({ id: wamid, status: 'sent' }),
      metaStatus({ id: wamid, status: 'delivered' }),
      metaStatus({ id: wamid, status: 'played' }),
    );
    expect(response.statusCode).toBe(200);
    expect((await partRow(partId))?.status).toBe('read');
    await meta.flushLog();
    const logged = await file.pool.query('select kind from webhook_logs where provider_message_id = $1', [
      wamid,
    ]);
    expect(logged.rows).toEqual([{ kind: 'status' }]);
  });

  it('records 131026 with its code and sends nothing after it', async () => {
    const wamid = randomWamid();
    const { partId, conversationId } = await outboundPart({ wamid });
    await postStatuses(metaStatus({ id: wamid, status: 'failed', errorCode: 131026 }));
    expect(await partRow(partId)).toMatchObject({ status: 'failed', error_code: '131026' });
    const followed = await file.pool.query(
      `select 1 from messages where conversation_id = $1 and outbound_key like 'window-fallback:%'`,
      [conversationId],
    );
    expect(followed.rowCount).toBe(0);
  });

  it('records 131047 and follows it with the window template once, as a Twilio 63016', async () => {
    const wamid = randomWamid();
    const { partId, conversationId, messageId } = await outboundPart({ wamid });
    const failed = metaStatus({ id: wamid, status: 'failed', errorCode: 131047 });
    expect((await postStatuses(failed)).statusCode).toBe(200);
    expect((await postStatuses(failed)).statusCode).toBe(200);
    expect(await partRow(partId)).toMatchObject({ status: 'failed', error_code: '131047' });
    const followed = await file.pool.query<{ outbound_key: string; payload: { content: unknown } }>(
      `select outbound_key, payload from messages where conversation_id = $1 and outbound_key like 'window-fallback:%'`,
      [conversationId],
    );
    expect(followed.rows.map((row) => row.outbound_key)).toEqual([`window-fallback:${messageId}`]);
    const parts = await file.pool.query<{ payload: unknown }>(
      `select d.payload from deliveries d join messages m on m.id = d.message_id where m.outbound_key = $1`,
      [`window-fallback:${messageId}`],
    );
    expect(parts.rows[0]?.payload).toMatchObject({
      type: 'template',
      templateId: WINDOW_TEMPLATE.templateId,
    });
  });
});

describe('biz_opaque_callback_data', () => {
  it('gives a part whose send answer was lost the wamid of its status, ranked with what came before', async () => {
    const { partId } = await outboundPart();
    expect(await partRow(partId)).toMatchObject({ status: 'sending', provider_message_id: null });
    const wamid = randomWamid();
    // A status without the part id comes first: kept as an event, applied when the wamid is adopted.
    await postStatuses(metaStatus({ id: wamid, status: 'read' }));
    expect((await partRow(partId))?.provider_message_id).toBeNull();
    await postStatuses(metaStatus({ id: wamid, status: 'delivered', partId }));
    expect(await partRow(partId)).toMatchObject({ provider_message_id: wamid, status: 'read' });
    expect(
      meta.capture
        .lines()
        .some((line) => line.partId === partId && /took its provider id/.test(String(line.msg))),
    ).toBe(true);
  });

  it('never takes a part that has its provider id already, nor an unknown part', async () => {
    const first = randomWamid();
    const { partId } = await outboundPart({ wamid: first });
    const stray = randomWamid();
    await postStatuses(metaStatus({ id: stray, status: 'delivered', partId }));
    expect(await partRow(partId)).toMatchObject({ provider_message_id: first, status: 'sent' });
    const response = await postStatuses(
      metaStatus({ id: randomWamid(), status: 'sent', partId: randomUUID() }),
    );
    expect(response.statusCode).toBe(200);
  });

  it('follows a 131047 that adopts a part, once', async () => {
    const { partId, conversationId, messageId } = await outboundPart();
    const wamid = randomWamid();
    await postStatuses(metaStatus({ id: wamid, status: 'failed', errorCode: 131047, partId }));
    expect(await partRow(partId)).toMatchObject({
      provider_message_id: wamid,
      status: 'failed',
      error_code: '131047',
    });
    const followed = await file.pool.query(
      `select outbound_key from messages where conversation_id = $1 and outbound_key like 'window-fallback:%'`,
      [conversationId],
    );
    expect(followed.rows).toEqual([{ outbound_key: `window-fallback:${messageId}` }]);
  });
});

/**
 * The number directory on a real database: the environment's numbers and the active rows merged (a row for the
 * environment's number refines it), an undecryptable row left out and logged once, inactive rows left out (one at
 * an environment number's address deactivates that number), and
 * changes seen after the refresh interval or an explicit refresh.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNumberDirectory, environmentNumbers } from '../../src/channels/number-directory.js';
import { insertBusinessNumber, updateBusinessNumber } from '../../src/db/business-numbers.js';
import { AppError } from '../../src/domain/errors.js';
import { createFieldCipher } from '../../src/security/field-encryption.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const cipher = createFieldCipher(randomBytes(32));
const twilio = {
  accountSid: 'AC' + '01'.repeat(16),
  authToken: 'env-token',
  whatsappNumber: 'whatsapp:+14155238886',
  apiBaseUrl: undefined,
};
const meta = {
  phoneNumberId: '1111',
  accessToken: 'env-access',
  appSecret: 'env-secret',
  verifyToken: 'env-verify',
};

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb.close();
});
beforeEach(async () => {
  await testDb.database.db.execute('delete from business_numbers');
});

function directory(refreshMs: number, missRereadMs = 60_000, db = testDb.database.db) {
  const lines: Array<{ level: number; msg: string; number?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  const numbers = createNumberDirectory({
    db,
    twilio,
    meta,
    decrypt: cipher.decrypt,
    refreshMs,
    missRereadMs,
    log: pino({ level: 'info' }, stream),
  });
  return { numbers, lines };
}

const row = (
  address: string,
  credentials: Record<string, string> | null,
  extra: { isActive?: boolean } = {},
) =>
  insertBusinessNumber(testDb.database.db, {
    channel: 'twilio',
    address,
    name: null,
    aiConfigId: null,
    credentialsEncrypted: credentials === null ? null : cipher.encrypt(JSON.stringify(credentials)),
    isActive: extra.isActive ?? true,
  });

describe('number directory', () => {
  it('lists the environment’s numbers first, with their credentials, when there are no rows', async () => {
    const { numbers } = directory(60_000);
    expect(await numbers.list('twilio')).toEqual(environmentNumbers({ twilio, meta }).slice(0, 1));
    expect(await numbers.find('meta', '1111')).toMatchObject({
      id: null,
      credentials: { appSecret: 'env-secret' },
    });
    expect(await numbers.find('twilio', 'whatsapp:+19990000000')).toBeNull();
  });

  it('merges the rows: a new number added, the environment’s refined by its row, inactive ones left out', async () => {
    await row('whatsapp:+14155230001', { accountSid: 'AC' + 'ff'.repeat(16), authToken: 'own-token' });
    const refined = await row(twilio.whatsappNumber, null);
    await row('whatsapp:+14155230002', null, { isActive: false });
    const { numbers } = directory(60_000);
    const listed = await numbers.list('twilio');
    expect(listed.map((n) => n.address)).toEqual([twilio.whatsappNumber, 'whatsapp:+14155230001']);
    // The environment's number keeps its credentials under its row's identity.
    expect(listed[0]).toMatchObject({ id: refined?.id, credentials: { authToken: 'env-token' } });
    expect(await numbers.find('twilio', 'whatsapp:+14155230001')).toMatchObject({
      credentials: { authToken: 'own-token' },
    });
    expect(await numbers.find('twilio', 'whatsapp:+14155230002')).toBeNull();
  });

  it('an inactive row at an environment number’s address deactivates that number; reactivated, it answers again', async () => {
    const twilioRow = await row(twilio.whatsappNumber, null, { isActive: false });
    await insertBusinessNumber(testDb.database.db, {
      channel: 'meta',
      address: meta.phoneNumberId,
      name: null,
      aiConfigId: null,
      credentialsEncrypted: null,
      isActive: false,
    });
    const { numbers } = directory(60_000);
    expect(await numbers.list('twilio')).toEqual([]);
    expect(await numbers.find('twilio', twilio.whatsappNumber)).toBeNull();
    expect(await numbers.list('meta')).toEqual([]);
    expect(await numbers.find('meta', meta.phoneNumberId)).toBeNull();
    await updateBusinessNumber(testDb.database.db, twilioRow?.id ?? '', { isActive: true });
    await numbers.refresh();
    // Back with the environment's credentials, under its row's identity.
    expect(await numbers.find('twilio', twilio.whatsappNumber)).toMatchObject({
      id: twilioRow?.id,
      credentials: { authToken: 'env-token' },
    });
    expect(await numbers.find('meta', meta.phoneNumberId)).toBeNull();
  });

  it('leaves out a row whose credentials do not decrypt, logging it once, and keeps the others', async () => {
    await insertBusinessNumber(testDb.database.db, {
      channel: 'twilio',
      address: 'whatsapp:+14155230003',
      name: null,
      aiConfigId: null,
      credentialsEncrypted: createFieldCipher(randomBytes(32)).encrypt('{"authToken":"x"}'),
      isActive: true,
    });
    await row('whatsapp:+14155230004', null);
    const { numbers, lines } = directory(0);
    for (let i = 0; i < 3; i += 1) {
      expect(await numbers.find('twilio', 'whatsapp:+14155230003')).toBeNull();
      expect(await numbers.find('twilio', 'whatsapp:+14155230004')).not.toBeNull();
    }
    const errors = lines.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.number).toBe('whatsapp:+14155230003');
  });

  it('serves its cache within the refresh interval, and sees added and deactivated rows after refresh()', async () => {
    const { numbers } = directory(60_000);
    expect(await numbers.find('twilio', 'whatsapp:+14155230005')).toBeNull();
    const added = await row('whatsapp:+14155230005', null);
    expect(await numbers.find('twilio', 'whatsapp:+14155230005')).toBeNull();
    await numbers.refresh();
    expect(await numbers.find('twilio', 'whatsapp:+14155230005')).toMatchObject({ id: added?.id });
    await updateBusinessNumber(testDb.database.db, added?.id ?? '', { isActive: false });
    await numbers.refresh();
    expect(await numbers.find('twilio', 'whatsapp:+14155230005')).toBeNull();
  });

  it('re-reads by itself once the refresh interval has passed', async () => {
    const { numbers } = directory(0);
    expect(await numbers.find('twilio', 'whatsapp:+14155230006')).toBeNull();
    await row('whatsapp:+14155230006', null);
    expect(await numbers.find('twilio', 'whatsapp:+14155230006')).not.toBeNull();
  });

  it('looks a number it does not know up again at once (one just added), at most once per interval', async () => {
    const { numbers } = directory(60_000, 0);
    expect(await numbers.find('twilio', 'whatsapp:+14155230007')).toBeNull();
    const added = await row('whatsapp:+14155230007', null);
    expect(await numbers.find('twilio', 'whatsapp:+14155230007')).toMatchObject({ id: added?.id });
  });

  it('a Meta number of the same app takes the environment’s Meta secrets when it has none of its own', async () => {
    await insertBusinessNumber(testDb.database.db, {
      channel: 'meta',
      address: '2222',
      name: null,
      aiConfigId: null,
      credentialsEncrypted: cipher.encrypt(JSON.stringify({ accessToken: 'own-token' })),
      isActive: true,
    });
    const { numbers } = directory(60_000);
    expect((await numbers.find('meta', '2222'))?.credentials).toEqual({
      accessToken: 'own-token',
      appSecret: 'env-secret',
      verifyToken: 'env-verify',
    });
  });

  it('while the rows cannot be read, an unknown number is "try again" (503), not "not ours"', async () => {
    const broken = await createTestDatabase();
    const db = broken.database.db;
    await broken.close(); // the pool is closed: every read fails
    const { numbers, lines } = directory(60_000, 0, db);
    // The environment's own numbers still answer.
    expect(await numbers.find('twilio', twilio.whatsappNumber)).toMatchObject({ id: null });
    const unknown = await numbers.find('twilio', 'whatsapp:+14155230008').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(AppError);
    expect(unknown).toMatchObject({ kind: 'database_unavailable', retryable: true });
    expect(lines.some((l) => l.msg.includes('could not be re-read'))).toBe(true);
  });
});

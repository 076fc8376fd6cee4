/**
 * The per-IP flood guard and Meta: posts whose signature proves them Meta's are never counted (Meta posts from a
 * few addresses; a busy number must not be slowed by the guard), forged ones are, up to 429.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseForFile } from '../helpers/database-for-file.js';
import { metaChange, metaContact, metaEnvelope, metaText, randomWaId, randomWamid } from '../helpers/meta.js';
import { startMetaApp, type MetaApp } from './meta-app.js';

const file = databaseForFile();
let meta: MetaApp;
beforeAll(async () => {
  meta = await startMetaApp({ db: file.testDb.database.db, ipLimit: 2 });
});
afterAll(() => meta.close());

describe('Meta posts and the per-IP limit', () => {
  it('never counts signed posts, and answers forged ones 429 past the limit', async () => {
    const waId = randomWaId();
    const body = () =>
      metaEnvelope([
        [
          metaChange({
            contacts: [metaContact({ waId })],
            messages: [metaText('hi', { waId }, randomWamid())],
          }),
        ],
      ]);
    const signed: number[] = [];
    for (let i = 0; i < 4; i++) signed.push((await meta.post(body())).statusCode);
    expect(signed).toEqual([200, 200, 200, 200]);
    const forged: number[] = [];
    for (let i = 0; i < 3; i++) forged.push((await meta.post(body(), { appSecret: 'forged' })).statusCode);
    expect(forged).toEqual([403, 403, 429]);
  });
});

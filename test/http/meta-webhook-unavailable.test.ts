/**
 * Persist before ack: when the database cannot store a message, the Meta webhook answers 5xx, so Meta delivers
 * the POST again (it retries for days) instead of the message being lost behind a 200.
 */
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../helpers/database.js';
import { metaChange, metaContact, metaEnvelope, metaText, randomWaId, randomWamid } from '../helpers/meta.js';
import { startMetaApp } from './meta-app.js';

describe('the Meta webhook with the database gone', () => {
  it('answers 503 instead of acknowledging a message it could not store', async () => {
    const database = await createTestDatabase();
    const meta = await startMetaApp({ db: database.database.db });
    try {
      const waId = randomWaId();
      const post = () =>
        meta.post(
          metaEnvelope([
            [
              metaChange({
                contacts: [metaContact({ waId })],
                messages: [metaText('hi', { waId }, randomWamid())],
              }),
            ],
          ]),
        );
      expect((await post()).statusCode).toBe(200);
      await database.close();
      const response = await post();
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ error: 'database_unavailable' });
    } finally {
      await meta.close();
    }
  });
});

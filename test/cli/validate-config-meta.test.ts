/**
 * `chatbot validate-config` asks the fake Graph API about every Meta number (the environment's default and a
 * stored row), each with its own token, and reports a wrong token without printing it.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFieldCipher, generateFieldKey, parseFieldKey } from '../../src/security/field-encryption.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startFakeGraphApi, type FakeGraphApi } from '../helpers/fake-graph-api.js';
import { cliEnv } from './env.js';
import { runCli } from './run-cli.js';

const MAIN = { phoneNumberId: '106540352242922', token: 'EAAG-main-token', verifiedName: 'Main Shop' };
const STORED = { phoneNumberId: '207650463353033', token: 'EAAG-stored-token', qualityRating: 'YELLOW' };

let testDb: TestDatabase;
let twilio: FakeTwilio;
let llm: FakeLlm;
let graph: FakeGraphApi;
let env: Record<string, string>;
beforeAll(async () => {
  [testDb, twilio, llm, graph] = await Promise.all([
    createTestDatabase(),
    startFakeTwilio(),
    startFakeLlm(),
    startFakeGraphApi(),
  ]);
  graph.addNumber(MAIN);
  graph.addNumber(STORED);
  const fieldKey = generateFieldKey();
  const cipher = createFieldCipher(parseFieldKey(fieldKey));
  const credentials = cipher.encrypt(JSON.stringify({ accessToken: STORED.token }));
  await testDb.database.db.execute(
    sql`insert into business_numbers (channel, address, name, credentials_encrypted)
        values ('meta', ${STORED.phoneNumberId}, 'stored', ${credentials})`,
  );
  env = {
    ...cliEnv({ databaseUrl: testDb.url, twilio, llm, fieldKey }),
    META_PHONE_NUMBER_ID: MAIN.phoneNumberId,
    META_ACCESS_TOKEN: MAIN.token,
    META_APP_SECRET: 'app-secret',
    META_VERIFY_TOKEN: 'verify-me',
    META_GRAPH_API_BASE_URL: graph.url,
  };
});
afterAll(async () => {
  await Promise.all([testDb.close(), twilio.close(), llm.close(), graph.close()]);
});
beforeEach(() => graph.reset());

describe('chatbot validate-config with Meta numbers', { timeout: 120_000 }, () => {
  it('checks each Meta number with its own token and says the webhook subscription is not checked', async () => {
    const result = await runCli(['validate-config'], { env });
    expect(result.stdout).not.toContain('✗');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      new RegExp(
        `✓ Meta ${MAIN.phoneNumberId}: .*\\(Main Shop\\), quality GREEN; token valid \\(META_\\*\\)`,
      ),
    );
    expect(result.stdout).toMatch(
      new RegExp(`✓ Meta ${STORED.phoneNumberId}: .*quality YELLOW; token valid \\(number "stored"\\)`),
    );
    expect(result.stdout).toContain('webhook subscription not checked yet');
    expect(graph.requests.map((r) => [r.path, r.authorization, r.query.get('fields')])).toEqual([
      [`/${MAIN.phoneNumberId}`, `Bearer ${MAIN.token}`, 'display_phone_number,verified_name,quality_rating'],
      [
        `/${STORED.phoneNumberId}`,
        `Bearer ${STORED.token}`,
        'display_phone_number,verified_name,quality_rating',
      ],
    ]);
  });

  it('reports a wrong token with ✗ (code 190) and exits 1, never printing the token', async () => {
    const result = await runCli(['validate-config'], { env: { ...env, META_ACCESS_TOKEN: 'EAAG-wrong' } });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`✗ Meta ${MAIN.phoneNumberId}: .*HTTP 401, code 190`));
    expect(result.stdout).toMatch(new RegExp(`✓ Meta ${STORED.phoneNumberId}`));
    expect(result.stdout + result.stderr).not.toContain('EAAG-wrong');
  });

  it('asks the account Meta named in its webhooks whether the app is subscribed: ✓ with the app, ✗ with none', async () => {
    const logWebhook = (account: string, phoneNumberId: string) =>
      testDb.database.db.execute(
        sql`insert into webhook_logs (channel, kind, method, path, body, response_status, processing_time_ms)
            values ('meta', 'status', 'POST', '/api/whatsapp/meta/webhook/', ${JSON.stringify({
              object: 'whatsapp_business_account',
              entry: [
                {
                  id: account,
                  changes: [
                    {
                      field: 'messages',
                      value: { messaging_product: 'whatsapp', metadata: { phone_number_id: phoneNumberId } },
                    },
                  ],
                },
              ],
            })}::jsonb, 200, 1)`,
      );
    await logWebhook('102290129340398', MAIN.phoneNumberId);
    await logWebhook('203391230451409', STORED.phoneNumberId);
    graph.addBusinessAccount('102290129340398', [{ id: '1234567890', name: 'Shop bot' }]);
    graph.addBusinessAccount('203391230451409', []);
    try {
      const result = await runCli(['validate-config'], { env });
      expect(result.stdout).toMatch(
        new RegExp(
          `✓ Meta ${MAIN.phoneNumberId}: .*webhook subscribed \\(account 102290129340398: Shop bot\\)`,
        ),
      );
      expect(result.stdout).toMatch(
        new RegExp(
          `✗ Meta ${STORED.phoneNumberId}: .*no app is subscribed to the webhooks of WhatsApp Business Account 203391230451409`,
        ),
      );
      expect(result.code).toBe(1);
      const asked = graph.requests.filter((r) => r.path.endsWith('/subscribed_apps'));
      expect(asked.map((r) => [r.path, r.authorization])).toEqual([
        ['/102290129340398/subscribed_apps', `Bearer ${MAIN.token}`],
        ['/203391230451409/subscribed_apps', `Bearer ${STORED.token}`],
      ]);
    } finally {
      await testDb.database.db.execute(sql`delete from webhook_logs`);
    }
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { BUSINESS_NUMBER, cliEnv } from './env.js';
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
beforeEach(() => {
  twilio.reset();
});

describe('chatbot test-whatsapp', { timeout: 120_000 }, () => {
  it('sends the message through Twilio and prints its SID', async () => {
    const result = await runCli(['test-whatsapp', '--to', '+14155550123', '--message', 'Hello operator'], {
      env,
    });
    expect(result.code).toBe(0);
    expect(twilio.sent).toHaveLength(1);
    const sent = twilio.sent[0]!;
    expect(sent).toMatchObject({
      to: 'whatsapp:+14155550123',
      from: BUSINESS_NUMBER,
      body: 'Hello operator',
    });
    expect(result.stdout).toContain(`SID ${sent.sid}`);
  });

  it('sends to a business-scoped id as it is, without a +', async () => {
    const result = await runCli(
      ['test-whatsapp', '--to', 'whatsapp:CO.899759302823042', '--message', 'Hello scoped'],
      { env },
    );
    expect(result.code).toBe(0);
    expect(twilio.sent[0]).toMatchObject({ to: 'whatsapp:CO.899759302823042', body: 'Hello scoped' });
  });

  it('refuses a number that is not E.164 with exit 2 and sends nothing', async () => {
    const results = await Promise.all(
      ['4155550123', '+0123456789', '+1 415 555 0123', 'whatsapp:abc', '+CO.899759302823042'].map((to) =>
        runCli(['test-whatsapp', '--to', to, '--message', 'x'], { env }),
      ),
    );
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('not an E.164 number');
    }
    expect(twilio.requests).toHaveLength(0);
  });

  it('exits 1 with Twilio’s reason when Twilio refuses the message', async () => {
    twilio.failNext(1, { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    const result = await runCli(['test-whatsapp', '--to', '+14155550124', '--message', 'x'], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/code 21211/);
  });

  it('--check-config fetches the account and sends nothing', async () => {
    const result = await runCli(['test-whatsapp', '--check-config'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`account ${twilio.accountSid}`);
    expect(twilio.requests.map((r) => r.method)).toEqual(['GET']);
    expect(twilio.sent).toHaveLength(0);
  });

  it('--check-config exits 1 on a wrong auth token, and 2 when Twilio is not configured', async () => {
    const [wrong, missing, nothing] = await Promise.all([
      runCli(['test-whatsapp', '--check-config'], { env: { ...env, TWILIO_AUTH_TOKEN: 'wrong-token' } }),
      runCli(['test-whatsapp', '--check-config'], {
        env: {
          ...env,
          TWILIO_ACCOUNT_SID: undefined,
          TWILIO_AUTH_TOKEN: undefined,
          TWILIO_WHATSAPP_NUMBER: undefined,
        },
      }),
      runCli(['test-whatsapp'], { env }),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/HTTP 401/);
    expect(wrong.stderr).not.toContain('wrong-token');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Twilio is not configured');
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('--check-config');
  });
});

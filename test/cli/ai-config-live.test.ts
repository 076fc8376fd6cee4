import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFieldKey } from '../../src/security/field-encryption.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';
import { runCli } from './run-cli.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const fieldKey = generateFieldKey();
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ FIELD_ENCRYPTION_KEY: fieldKey, AI_CONFIG_REFRESH_SECONDS: '1' });
});
afterAll(async () => {
  await app.stop();
});

/** Send one message from a new sender and wait for the model request it causes. */
async function modelForNextMessage(sender: string): Promise<string> {
  const before = app.llm.requests.length;
  const response = await app.postSigned(
    WEBHOOK,
    inboundParams({ From: sender, To: BUSINESS_NUMBER, Body: 'hello' }),
  );
  expect(response.status).toBe(200);
  await eventually(`a reply to ${sender}`, () =>
    Promise.resolve(app.twilio.sent.some((m) => m.to === sender) ? true : undefined),
  );
  return app.llm.requests.slice(before).at(-1)!.model;
}

describe('an AI configuration activated with the CLI, while the app runs', () => {
  it('is used by the running worker for the next reply, without a restart', { timeout: 90_000 }, async () => {
    expect(await modelForNextMessage('whatsapp:+14155551001')).toBe('gpt-test');

    const created = await runCli(
      [
        'ai-config',
        'create',
        '--name',
        'live',
        '--provider',
        'openai',
        '--api-key',
        'sk-configured-key-0001',
        '--model',
        'configured-model',
        '--base-url',
        app.llm.openaiBaseUrl,
        '--activate',
      ],
      { env: { DATABASE_URL: app.databaseUrl, FIELD_ENCRYPTION_KEY: fieldKey } },
    );
    expect(created.code).toBe(0);

    // The worker re-reads the active configuration every AI_CONFIG_REFRESH_SECONDS: poll until it switches.
    let sender = 2000;
    const model = await eventually(
      'a reply from the configured model',
      async () => {
        const used = await modelForNextMessage(`whatsapp:+1415555${sender++}`);
        return used === 'configured-model' ? used : undefined;
      },
      20_000,
    );
    expect(model).toBe('configured-model');
    expect(app.llm.requests.at(-1)?.headers.authorization).toBe('Bearer sk-configured-key-0001');

    const deactivated = await runCli(['ai-config', 'deactivate'], { env: { DATABASE_URL: app.databaseUrl } });
    expect(deactivated.code).toBe(0);
    const back = await eventually(
      'a reply from the environment model again',
      async () => {
        const used = await modelForNextMessage(`whatsapp:+1415555${sender++}`);
        return used === 'gpt-test' ? used : undefined;
      },
      20_000,
    );
    expect(back).toBe('gpt-test');
  });
});

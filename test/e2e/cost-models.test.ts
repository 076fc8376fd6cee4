/**
 * Which price a call gets and what a cap does with a cheaper model, end to end (real PostgreSQL and Redis, fake
 * Twilio and a fake OpenAI-compatible LLM): with SPEND_CAP_FALLBACK_MODEL a user over the cap is answered by the
 * cheaper model, logged, and never by the capped one; an AI configuration's own price wins over the table; a
 * model without a price is recorded with no cost, logged once and pointed out in the admin.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { activateAiConfig, createAiConfig } from '../../src/db/ai-configs.js';
import { adminClient } from '../admin/client.js';
import { captureLog, type CapturedLog } from '../errors/capture-log.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
let app: TestApp;
let capture: CapturedLog;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'prices-'));
  const pricesFile = join(dir, 'prices.json');
  writeFileSync(
    pricesFile,
    JSON.stringify({ 'gpt-test': { input: 1, output: 1 }, 'gpt-cheap': { input: 0.1, output: 0.1 } }),
  );
  capture = captureLog('info');
  app = await startTestApp(
    {
      MODEL_PRICES_FILE: pricesFile,
      SPEND_CAP_USER_DAILY_USD: '0.001',
      SPEND_CAP_FALLBACK_MODEL: 'openai/gpt-cheap',
      AI_CONFIG_REFRESH_SECONDS: '0.1',
    },
    undefined,
    capture.log,
  );
  app.llm.respond(() => ({ text: 'Sure!', usage: { input: 600, output: 400 } }));
}, 60_000);
afterAll(async () => {
  await app.stop();
});

let counter = 0;
async function answered(from: string): Promise<{ model: string; cost: string | null }> {
  const body = `cost question ${++counter}`;
  expect((await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: body }))).status).toBe(200);
  return eventually(`the answer to "${body}"`, async () => {
    const [row] = await app.query<{ model: string; cost: string | null; status: string }>(
      `select mc.model, mc.cost_micros::text as cost, m.processing_status as status from messages m
       join model_calls mc on mc.inbound_message_id = m.id where m.content = $1`,
      [body],
    );
    return row ? { model: row.model, cost: row.cost } : undefined;
  });
}

describe('cost of each model', { timeout: 60_000 }, () => {
  it('answers a user over the cap with SPEND_CAP_FALLBACK_MODEL, never the capped model, and says so in the log', async () => {
    const from = 'whatsapp:+14155558001';
    expect(await answered(from)).toEqual({ model: 'gpt-test', cost: '1000' });
    const before = app.llm.requests.length;
    // $0.001 spent: the cap. The next answers come from the cheaper model at its own price.
    expect(await answered(from)).toEqual({ model: 'gpt-cheap', cost: '100' });
    expect(await answered(from)).toEqual({ model: 'gpt-cheap', cost: '100' });
    expect(app.llm.requests.slice(before).map((r) => r.model)).toEqual(['gpt-cheap', 'gpt-cheap']);
    const switched = capture.lines().filter((l) => l.msg?.includes('answering with the cheaper model'));
    expect(switched).toHaveLength(2);
    expect(switched[0]).toMatchObject({ cap: 'user', model: 'gpt-test', cheaperModel: 'gpt-cheap' });
    // Another user is under the cap: the usual model.
    expect(await answered('whatsapp:+14155558002')).toEqual({ model: 'gpt-test', cost: '1000' });
  });

  it("prices an AI configuration's calls at its own price; a model without a price is recorded with no cost, logged once, shown in the admin", async () => {
    const db = app.running.composed.deps.db;
    const own = await createAiConfig(db, null, {
      name: 'priced',
      provider: 'openai-compatible',
      model: 'gpt-test',
      baseUrl: app.llm.openaiBaseUrl,
      inputPriceUsd: 2,
      outputPriceUsd: 3,
    });
    await activateAiConfig(db, { id: own.id });
    // 600 × $2/M + 400 × $3/M = 2,400 micro-dollars (the table would say 1,000).
    await eventually('the configuration in use', async () => {
      const result = await answered(`whatsapp:+1415555810${counter % 10}`);
      return result.cost === '2400' ? true : undefined;
    });

    const unpriced = await createAiConfig(db, null, {
      name: 'unpriced',
      provider: 'openai-compatible',
      model: 'house-llama',
      baseUrl: app.llm.openaiBaseUrl,
    });
    await activateAiConfig(db, { id: unpriced.id });
    await eventually('the unpriced model in use', async () => {
      const result = await answered(`whatsapp:+1415555820${counter % 10}`);
      return result.model === 'house-llama' ? result : undefined;
    });
    expect(await answered('whatsapp:+14155558299')).toEqual({ model: 'house-llama', cost: null });
    const warnings = capture.lines().filter((l) => l.msg?.startsWith('model has no price'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ model: 'house-llama' });

    await createAdminUser(db, { username: 'cost-viewer', password: 'a long enough password' });
    const admin = adminClient(app.url);
    await admin.login('cost-viewer', 'a long enough password');
    const page = await admin.get('/admin/costs');
    expect(page.body).toMatch(/Models without a price[^<]*<code>house-llama<\/code>/);
  });
});

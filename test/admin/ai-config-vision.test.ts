/** The admin's AI configuration form and list show and edit vision, voice answers and the voice (issue #15). */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAdminUser } from '../../src/db/admin-users.js';
import { getAiConfigByName } from '../../src/db/ai-configs.js';
import { generateFieldKey } from '../../src/security/field-encryption.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { adminClient, csrfOf, type AdminClient } from './client.js';

const PASSWORD = 'correct horse battery';
let app: TestApp;
let client: AdminClient;
beforeAll(async () => {
  app = await startTestApp({ FIELD_ENCRYPTION_KEY: generateFieldKey() });
  await createAdminUser(app.running.composed.database.db, { username: 'ada', password: PASSWORD });
});
afterAll(async () => {
  await app.stop();
});
beforeEach(async () => {
  client = adminClient(app.url);
  expect((await client.login('ada', PASSWORD)).status).toBe(303);
});

const db = () => app.running.composed.database.db;

describe('AI configuration form: images and voice', () => {
  it('creates with the defaults, then edits vision, voice answers and the voice; the list says what the model sees', async () => {
    const form = await client.get('/admin/ai-configs/new');
    expect(form.body).toMatch(/<select id="vision" name="vision"/);
    expect(form.body).toMatch(/<option value="default"\s+selected/);
    const created = await client.post('/admin/ai-configs', {
      _csrf: csrfOf(form.body)!,
      name: 'Vision test',
      provider: 'openai-compatible',
      model: 'llama3.1:8b',
      baseUrl: app.llm.openaiBaseUrl,
      vision: 'default',
      voice: '',
    });
    expect(created.status).toBe(303);
    const row = await getAiConfigByName(db(), 'Vision test');
    expect(row).toMatchObject({ vision: null, voiceAnswers: false, voice: null });
    expect((await client.get('/admin/ai-configs')).body).toContain('text only (by model name)');

    const edit = await client.get(`/admin/ai-configs/${row!.id}`);
    const saved = await client.post(`/admin/ai-configs/${row!.id}`, {
      _csrf: csrfOf(edit.body)!,
      name: 'Vision test',
      provider: 'openai-compatible',
      model: 'llama3.1:8b',
      baseUrl: app.llm.openaiBaseUrl,
      vision: 'on',
      voiceAnswers: 'on',
      voice: 'nova',
    });
    expect(saved.status).toBe(303);
    expect(await getAiConfigByName(db(), 'Vision test')).toMatchObject({
      vision: true,
      voiceAnswers: true,
      voice: 'nova',
    });
    const again = await client.get(`/admin/ai-configs/${row!.id}`);
    expect(again.body).toMatch(/<option value="on"\s+selected/);
    expect(again.body).toMatch(/id="voiceAnswers"\s+name="voiceAnswers"\s+checked/);
    expect(again.body).toContain('value="nova"');
    expect((await client.get('/admin/ai-configs')).body).toMatch(/sees images<\/td>/);

    const bad = await client.post(`/admin/ai-configs/${row!.id}`, {
      _csrf: csrfOf(again.body)!,
      name: 'Vision test',
      provider: 'openai-compatible',
      model: 'llama3.1:8b',
      baseUrl: app.llm.openaiBaseUrl,
      vision: 'off',
      voice: 'two words',
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('voice: a voice name');
    expect((await getAiConfigByName(db(), 'Vision test'))?.vision).toBe(true);
  });
});

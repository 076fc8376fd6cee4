/**
 * The admin UI in real Chromium against the whole app (web, worker, scheduler on PostgreSQL and Redis, fake
 * Twilio and LLM): an operator signs in, finds a conversation that came in through the signed webhook, pauses
 * the bot and sees the next message go unanswered, resumes, switches the model with an AI configuration and
 * sees the next reply use it, and signs out. A screenshot of every page goes to test-artifacts/admin/.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createAdminUser } from '../../src/db/admin-users.js';
import { generateFieldKey } from '../../src/security/field-encryption.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { inboundParams } from '../helpers/twilio.js';

const ARTIFACTS = new URL('../../test-artifacts/admin/', import.meta.url);
const WEBHOOK = '/api/whatsapp/webhook/';
const PASSWORD = 'operator password 42';
const USER = 'whatsapp:+14155550177';

describe('admin UI in Chromium', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let page: Page;
  const problems: string[] = [];

  const shot = (name: string) =>
    page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
  const writeIn = async (body: string) => {
    const response = await app.postSigned(
      WEBHOOK,
      inboundParams({ From: USER, To: BUSINESS_NUMBER, Body: body, ProfileName: 'Grace Hopper' }),
    );
    expect(response.status).toBe(200);
  };
  const inbound = (body: string) =>
    app.query<{ processing_status: string }>(
      `select m.processing_status from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user' and m.content = $2`,
      [USER, body],
    );
  const repliesTo = () => app.twilio.sent.filter((m) => m.to === USER);

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    app = await startTestApp({
      FIELD_ENCRYPTION_KEY: generateFieldKey(),
      AI_CONFIG_REFRESH_SECONDS: '0.2',
      SIMULATOR_ENABLED: 'true',
    });
    await createAdminUser(app.running.composed.database.db, { username: 'grace', password: PASSWORD });
    browser = await launchBrowser({ viewport: { width: 1280, height: 860 } });
    page = browser.page;
    // A CSP violation or a script error shows up here; the pages must have none.
    page.on('console', (message) => {
      // The one expected error: Chromium logs the 401 of the deliberately wrong password.
      if (message.type() === 'error' && !message.text().includes('status of 401'))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // data-confirm forms ask first; the operator says yes.
    page.on('dialog', (dialog) => void dialog.accept());
  });
  afterAll(async () => {
    await browser.close();
    await app.stop();
  });

  it(
    'signs in, pauses and resumes a conversation, switches the model, and signs out',
    { timeout: 90_000 },
    async () => {
      app.llm.respond((request) => ({ text: `Answer from ${request.model}` }));
      await writeIn('Hello, is anyone there?');
      await eventually('the first reply', () => Promise.resolve(repliesTo()[0]));

      // Sign in: the dashboard asks for it and comes back after.
      await page.goto(`${app.url}/admin/`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      await shot('01-login');
      await page.getByLabel('Username').fill('grace');
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('Wrong username or password.').waitFor();
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/admin/');
      await expect(page.getByRole('link', { name: 'Simulator ↗' }).getAttribute('href')).resolves.toBe(
        '/simulator/',
      );
      await shot('02-dashboard');

      // Find the conversation that came in through the webhook.
      await page.getByRole('link', { name: 'Conversations' }).click();
      await page.getByRole('heading', { name: 'Conversations' }).waitFor();
      await page.getByLabel('Number, name or message text').fill('Grace');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByText('1 matching').waitFor();
      await shot('03-conversations');
      await page.getByRole('link', { name: /Grace Hopper/ }).click();
      await page.getByRole('heading', { name: 'Grace Hopper' }).waitFor();
      await page.getByText('Hello, is anyone there?').waitFor();
      await page.getByText('Answer from gpt-test').waitFor();
      await shot('04-conversation');

      // Pause: the next message is stored and left for a human; no model call, no WhatsApp message.
      await page.getByRole('button', { name: 'Pause bot' }).click();
      await page.getByText('The bot is paused: new messages are stored').waitFor();
      await shot('05-conversation-paused');
      app.llm.reset();
      app.llm.respond((request) => ({ text: `Answer from ${request.model}` }));
      const before = repliesTo().length;
      await writeIn('I need a human please');
      await eventually('the paused message to be skipped', async () =>
        (await inbound('I need a human please'))[0]?.processing_status === 'skipped' ? true : undefined,
      );
      expect(app.llm.requests).toHaveLength(0);
      expect(repliesTo()).toHaveLength(before);

      await page.getByRole('button', { name: 'Resume bot' }).click();
      await page.getByText('The bot is answering this conversation again.').waitFor();

      // A new AI configuration, activated at creation: the next reply comes from its model.
      await page.getByRole('link', { name: 'AI configurations' }).click();
      await page.getByRole('heading', { name: 'AI configurations' }).waitFor();
      await page.getByText('No configurations yet').waitFor();
      await page.getByRole('link', { name: 'New configuration' }).click();
      await page.getByLabel('Name').fill('Browser test model');
      await page.getByLabel('Provider').selectOption('openai-compatible');
      await page.getByLabel('Model').fill('admin-chosen-model');
      await page.getByLabel('API key').fill('sk-browser-test-key-1234567890');
      await page.getByLabel('Base URL').fill(app.llm.openaiBaseUrl);
      await page.getByLabel('Temperature').fill('0.2');
      await page.getByLabel('Make this the active configuration').check();
      await shot('06-ai-config-new');
      await page.getByRole('button', { name: 'Create configuration' }).click();
      await page.getByText('Configuration created and activated').waitFor();
      expect(await page.content()).not.toContain('sk-browser-test-key-1234567890');
      await page.getByText('sk-bro…7890').waitFor();
      await shot('07-ai-configs');

      await page.getByRole('link', { name: 'Browser test model' }).click();
      await page.getByRole('button', { name: 'Run test' }).click();
      await page.getByText('Answer from admin-chosen-model').waitFor();
      await shot('08-ai-config-test');

      const asked = app.llm.requests.length;
      await writeIn('Which model are you?');
      const reply = await eventually('the reply after the switch', () =>
        Promise.resolve(repliesTo().find((m) => m.body.startsWith('Answer from admin-chosen-model'))),
      );
      expect(reply.body).toBe('Answer from admin-chosen-model');
      expect(app.llm.requests.slice(asked).map((r) => r.model)).toEqual(['admin-chosen-model']);

      // The webhook log, and one entry with its payload.
      await page.getByRole('link', { name: 'Webhook logs' }).click();
      await page.getByRole('heading', { name: 'Webhook logs' }).waitFor();
      await shot('09-webhook-logs');
      await page.locator('a.row-link').first().click();
      await page.getByRole('heading', { name: 'Inbound message' }).waitFor();
      expect(await page.locator('pre.code').nth(1).textContent()).toContain('[redacted]');
      await shot('10-webhook-log');

      // A phone-sized screen: the same pages, laid out in one column.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${app.url}/admin/conversations`);
      await shot('11-mobile-conversations');
      await page.getByRole('link', { name: /Grace Hopper/ }).click();
      await page.getByRole('heading', { name: 'Grace Hopper' }).waitFor();
      await shot('12-mobile-conversation');
      await page.goto(`${app.url}/admin/`);
      await shot('13-mobile-dashboard');

      // Keyboard: the skip link is the first stop and lands on the content.
      await page.keyboard.press('Tab');
      expect(await page.locator(':focus').textContent()).toBe('Skip to content');

      await page.getByRole('button', { name: 'Log out' }).click();
      await page.getByText('You are signed out.').waitFor();
      await page.goto(`${app.url}/admin/conversations`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/admin/login');

      expect(problems).toEqual([]);
    },
  );
});

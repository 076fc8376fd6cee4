/**
 * The simulator in real Chromium, under the page's own Content-Security-Policy, against the whole app (web,
 * worker, scheduler on PostgreSQL and Redis) with the offline model, whose replies say how much context it saw.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';

const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

describe('simulator page in Chromium', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    app = await startTestApp({ SIMULATOR_ENABLED: 'true', AI_PROVIDER: 'offline' });
    browser = await launchBrowser();
    page = browser.page;
    // A CSP violation or a script error shows up here; the page must have none.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
  });
  afterAll(async () => {
    await browser.close();
    await app.stop();
  });

  const botBubble = (text: string) => page.locator('.message--in', { hasText: text });
  const startChat = async (phone: string, profile: string) => {
    await page.getByLabel('Phone number').fill(phone);
    await page.getByLabel('Profile name').fill(profile);
    await page.getByRole('button', { name: 'Start chat' }).click();
  };
  const say = async (text: string) => {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
  };

  it(
    'a conversation: replies arrive, the second shows context, bubbles get read ticks',
    { timeout: 60_000 },
    async () => {
      await page.goto(`${app.url}/simulator/`);
      expect(await page.title()).toContain('WhatsApp simulator');

      await page.getByLabel('Phone number').fill('12345');
      await page.getByRole('button', { name: 'Start chat' }).click();
      await page.getByText('Enter the number in international format').waitFor();

      await startChat('+1 415 555 0142', 'Ada Lovelace');
      await say('Hello there, bot!');
      await botBubble("Earlier messages in this conversation's context: 0.").waitFor();
      await say('Do you remember what I said?');
      await botBubble("Earlier messages in this conversation's context: 2.").waitFor();
      await botBubble('You wrote: "Do you remember what I said?"').waitFor();

      await expect
        .poll(() => page.locator('.message--in .message__state[data-status="read"]').count(), {
          timeout: 10_000,
        })
        .toBe(2);
      expect(await page.locator('.message--out .message__text').allTextContents()).toEqual([
        'Hello there, bot!',
        'Do you remember what I said?',
      ]);
      await expect.poll(() => page.locator('#chat-status').textContent(), { timeout: 10_000 }).toBe('online');
      expect(await page.locator('#chat-as').textContent()).toBe('You: Ada Lovelace · +14155550142');

      const stored = await app.query<{ status: string }>(`select status from deliveries order by created_at`);
      expect(stored.map((row) => row.status)).toEqual(['read', 'read']);
      await page.screenshot({ path: new URL('simulator.png', ARTIFACTS).pathname });
    },
  );

  it('HTML typed into the chat is shown as text, not turned into elements', async () => {
    const html = '<img src=x id=injected onerror="document.title=1"><b>bold?</b>';
    await say(html);
    await botBubble('You wrote: "<img src=x id=injected').waitFor();
    expect(await page.locator('.message--out .message__text').last().textContent()).toBe(html);
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.locator('.messages b').count()).toBe(0);
  });

  it(
    'several conversations: each keeps its own thread, and a reload shows the history',
    { timeout: 60_000 },
    async () => {
      await startChat('+447700900123', 'Grace');
      await say('Hi from London');
      await botBubble('You wrote: "Hi from London"').waitFor();
      expect(await page.locator('.message').count()).toBe(2);
      expect(await page.locator('.conversation').count()).toBe(2);

      await page.locator('.conversation', { hasText: 'Ada Lovelace' }).click();
      await botBubble('Do you remember what I said?').waitFor();
      expect(await page.locator('.message--in', { hasText: 'London' }).count()).toBe(0);

      await page.reload();
      await botBubble("Earlier messages in this conversation's context: 2.").waitFor();
      expect(page.url()).toContain('#+14155550142');
      expect(await page.locator('.message--out').count()).toBe(3);
      expect(await page.locator('.message--in .message__state[data-status="read"]').count()).toBe(3);
      expect(problems).toEqual([]);
    },
  );

  it('on a phone-sized screen the list and the chat take turns', { timeout: 30_000 }, async () => {
    await page.setViewportSize({ width: 390, height: 780 });
    await page.goto(`${app.url}/simulator/`);
    expect(await page.locator('.chat').isVisible()).toBe(false);
    await startChat('+5511987654321', 'Ana');
    expect(await page.locator('.sidebar').isVisible()).toBe(false);
    await say('Olá');
    await botBubble('You wrote: "Olá"').waitFor();
    await page.screenshot({ path: new URL('simulator-phone.png', ARTIFACTS).pathname });
    await page.getByRole('button', { name: 'Back to conversations' }).click();
    expect(await page.locator('.conversation').count()).toBe(3);
    expect(problems).toEqual([]);
  });

  it(
    'a reply that arrives before the send returns does not leave "typing…" up',
    { timeout: 30_000 },
    async () => {
      await page.goto(`${app.url}/simulator/`);
      await startChat('+1 415 555 0177', 'Quick Reply');
      // Hold the send's answer until the reply has come through the event stream: the order a fast pipeline gives.
      await page.route('**/simulator/api/messages', async (route) => {
        const response = await route.fetch();
        await botBubble('You wrote: "Answer me before you return"').waitFor();
        await route.fulfill({ response });
      });
      try {
        await page.getByLabel('Message', { exact: true }).fill('Answer me before you return');
        await page.getByLabel('Message', { exact: true }).press('Enter');
        await botBubble('You wrote: "Answer me before you return"').waitFor();
        await expect
          .poll(() => page.locator('.message--out .message__state').last().getAttribute('data-status'), {
            timeout: 10_000,
          })
          .not.toBe('sending');
        await expect
          .poll(() => page.locator('#chat-status').textContent(), { timeout: 5_000 })
          .toBe('online');
      } finally {
        await page.unroute('**/simulator/api/messages');
      }
    },
  );
});

describe('simulator page in Chromium, with a model that writes long answers', () => {
  let app: TestApp;
  let browser: TestBrowser;

  beforeAll(async () => {
    app = await startTestApp({ SIMULATOR_ENABLED: 'true' });
    browser = await launchBrowser({ viewport: { width: 1000, height: 900 } });
  });
  afterAll(async () => {
    await browser.close();
    await app.stop();
  });

  it(
    'a reply longer than one WhatsApp message shows as several bubbles, in order',
    { timeout: 60_000 },
    async () => {
      const paragraphs = Array.from(
        { length: 3 },
        (_, p) =>
          `Part ${p + 1} begins. ` +
          Array.from(
            { length: 24 },
            (_, s) => `Sentence ${s + 1} of paragraph ${p + 1} explains one more thing.`,
          ).join(' '),
      );
      const long = paragraphs.join('\n\n');
      app.llm.respondOnce({ text: long });
      const { page } = browser;
      await page.goto(`${app.url}/simulator/`);
      await page.getByLabel('Phone number').fill('+14155550999');
      await page.getByRole('button', { name: 'Start chat' }).click();
      await page.getByLabel('Message', { exact: true }).fill('Explain everything, please.');
      await page.getByLabel('Message', { exact: true }).press('Enter');

      const bubbles = page.locator('.message--in .message__text');
      await expect.poll(() => bubbles.count(), { timeout: 15_000 }).toBe(3);
      const texts = await bubbles.allTextContents();
      expect(texts.map((text) => text.slice(0, 13))).toEqual([
        'Part 1 begins',
        'Part 2 begins',
        'Part 3 begins',
      ]);
      expect(texts.join('\n\n')).toBe(long);
      await expect
        .poll(() => page.locator('.message--in .message__state[data-status="read"]').count(), {
          timeout: 10_000,
        })
        .toBe(3);
      await page.screenshot({ path: new URL('simulator-split.png', ARTIFACTS).pathname });
    },
  );
});

/**
 * The inbox in real Chromium against the whole app (web, worker, scheduler on PostgreSQL and Redis, fake Twilio
 * and LLM): an operator hands a conversation to a human, finds it in "Needs a human", assigns it, sees a new
 * inbound message appear in the open thread without reloading (server-sent events), replies from the composer
 * with Ctrl+Enter (the fake Twilio receives it, the thread shows it signed), and leaves an internal note.
 *
 * Screenshots of the inbox and of a conversation at desktop (1280×800) and phone (390×844) size go to
 * test-artifacts/inbox/; with UPDATE_SCREENSHOTS=1 (`npm run screenshots`) to docs/screenshots/, the committed ones.
 */
import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { createAdminUser } from '../../src/db/admin-users.js';
import { BUSINESS_NUMBER, eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { inboundParams } from '../helpers/twilio.js';

const SHOTS = new URL(
  process.env.UPDATE_SCREENSHOTS === '1' ? '../../docs/screenshots/' : '../../test-artifacts/inbox/',
  import.meta.url,
);
const WEBHOOK = '/api/whatsapp/webhook/';
const PASSWORD = 'operator password 42';
const MARIA = 'whatsapp:+5511955550101';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/** Other people waiting, for a realistic inbox: name, number, what they wrote, minutes waiting, reason. */
const WAITING: Array<[string, string, string, number, string]> = [
  ['Kenji Watanabe', 'whatsapp:+8190555501', 'I was charged twice for the same order', 95, 'keyword'],
  [
    'Amara Okafor',
    'whatsapp:+2348055550',
    'Can I speak to someone about a refund?',
    38,
    'model: refund request',
  ],
  ['Lucas Martin', 'whatsapp:+3361555502', 'The app says my account is locked', 12, 'operator'],
];

describe('inbox in Chromium', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let page: Page;
  const problems: string[] = [];

  /** The conversation pages are shot whole (thread, composer, notes); the inbox as the screen shows it. */
  const shot = (name: string, fullPage = false) =>
    page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname, fullPage });
  const writeIn = async (from: string, body: string, profileName: string) => {
    const response = await app.postSigned(
      WEBHOOK,
      inboundParams({ From: from, To: BUSINESS_NUMBER, Body: body, ProfileName: profileName }),
    );
    expect(response.status).toBe(200);
  };
  const conversationOf = (address: string) =>
    eventually('the conversation', async () => {
      const rows = await app.query<{ id: string }>('select id from conversations where user_address = $1', [
        address,
      ]);
      return rows[0]?.id;
    });
  const sentTo = (address: string) => app.twilio.sent.filter((m) => m.to === address);

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    app = await startTestApp({
      HANDOFF_MESSAGE: 'Thanks! A person from our team will answer you here shortly.',
      // The seeded handoffs are up to 95 minutes old: the idle timer must not hand them back mid-test.
      HANDOFF_IDLE_MINUTES: '0',
    });
    await createAdminUser(app.running.composed.database.db, { username: 'grace', password: PASSWORD });
    await createAdminUser(app.running.composed.database.db, { username: 'linus', password: PASSWORD });
    await app.query(`update admin_users set role = 'agent' where username = 'linus'`);
    app.llm.respond(() => ({ text: 'Hello! I am the assistant. How can I help you today?' }));
    for (const [name, address, text, minutes, reason] of WAITING) {
      await writeIn(address, text, name);
      const id = await conversationOf(address);
      await eventually('the bot reply', () => Promise.resolve(sentTo(address)[0]));
      await app.query(
        `update conversations set mode = 'human', handoff_at = now() - make_interval(mins => $2), handoff_reason = $3
         where id = $1`,
        [id, minutes, reason],
      );
    }
    const linus = await app.query<{ id: string }>(`select id from admin_users where username = 'linus'`);
    await app.query(`update conversations set assignee_id = $1 where user_address = $2`, [
      linus[0]!.id,
      WAITING[1]![1],
    ]);

    browser = await launchBrowser({ viewport: DESKTOP });
    page = browser.page;
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('dialog', (dialog) => void dialog.accept());
  });
  afterAll(async () => {
    await browser.close();
    await app.stop();
  });

  it(
    'hands over, assigns, shows an inbound message live, replies from the composer and adds a note',
    { timeout: 120_000 },
    async () => {
      await writeIn(MARIA, 'Hi! My order #4411 has not arrived yet', 'Maria Silva');
      const id = await conversationOf(MARIA);
      await eventually('the bot reply', () => Promise.resolve(sentTo(MARIA)[0]));

      await page.goto(`${app.url}/admin/login`);
      await page.getByLabel('Username').fill('grace');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();

      // Hand Maria's conversation to a human from its page: the user is told once.
      await page.goto(`${app.url}/admin/conversations/${id}`);
      await page.getByRole('button', { name: 'Hand to a human' }).click();
      await page.getByText('A human handles this conversation now').waitFor();
      await eventually('the handoff message', () =>
        Promise.resolve(sentTo(MARIA).find((m) => m.body.startsWith('Thanks! A person from our team'))),
      );

      // The inbox: oldest waiting first, Maria last; assign her to me.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
      await page.getByRole('heading', { name: 'Needs a human' }).waitFor();
      const names = await page.locator('.inbox-table .contact-name').allTextContents();
      expect(names).toEqual(['Kenji Watanabe', 'Amara Okafor', 'Lucas Martin', 'Maria Silva']);
      const maria = page.locator('tr', { hasText: 'Maria Silva' });
      await maria.getByRole('button', { name: 'Assign to me' }).click();
      await page.getByText('Assigned to you.').waitFor();
      await page.getByRole('link', { name: 'Mine' }).click();
      expect(await page.locator('.inbox-table .contact-name').allTextContents()).toEqual(['Maria Silva']);
      await page.getByRole('link', { name: 'All', exact: true }).click();
      await page.locator('.inbox-table').waitFor();
      await shot('inbox-desktop');

      // The conversation page: the live thread is connected.
      await page.getByRole('link', { name: /Maria Silva/ }).click();
      await page.getByRole('heading', { name: 'Maria Silva' }).waitFor();
      await page.locator('ol[data-live][data-connected="true"]').waitFor();
      // A marker that a reload would wipe out.
      await page.evaluate("document.body.dataset.sameDocument = 'yes'");

      // An inbound message through the signed webhook shows up without a reload.
      await writeIn(MARIA, 'Hello? Is anyone there?', 'Maria Silva');
      await page.locator('.thread').getByText('Hello? Is anyone there?').waitFor({ timeout: 10_000 });
      expect(await page.evaluate('document.body.dataset.sameDocument')).toBe('yes');

      // Reply from the composer with Ctrl+Enter: sent through Twilio once, shown signed, no reload.
      const reply = "Hi Maria, I'm Grace. I'm checking order #4411 with the courier now.";
      await page.getByLabel('Reply on WhatsApp').fill(reply);
      await page.getByLabel('Reply on WhatsApp').press('Control+Enter');
      const sent = await eventually('the operator reply at Twilio', () =>
        Promise.resolve(sentTo(MARIA).find((m) => m.body === reply)),
      );
      expect(sent.from).toBe(BUSINESS_NUMBER);
      const bubble = page.locator('.bubble-operator', { hasText: 'checking order #4411' });
      await bubble.waitFor();
      expect(await bubble.locator('.bubble-who').textContent()).toBe('grace (operator)');
      expect(await page.getByLabel('Reply on WhatsApp').inputValue()).toBe('');
      // The delivery tick reaches the open page too.
      await bubble.locator('.deliveries').getByText('queued').waitFor();
      expect((await app.twilio.deliverStatus(sent.sid, 'delivered')).status).toBe(200);
      await bubble.locator('.deliveries').getByText('delivered').waitFor({ timeout: 10_000 });
      expect(await page.evaluate('document.body.dataset.sameDocument')).toBe('yes');
      expect(sentTo(MARIA).filter((m) => m.body === reply)).toHaveLength(1);

      // An internal note: shown to operators, never sent.
      await page.getByLabel('Add a note').fill('Courier says it will be delivered tomorrow morning.');
      await page.getByRole('button', { name: 'Add note' }).click();
      await page.getByText('Note added.').waitFor();
      await page.locator('.note').getByText('Courier says').waitFor();
      expect(app.twilio.sent.some((m) => m.body.includes('Courier says'))).toBe(false);
      await page.goto(`${app.url}/admin/conversations/${id}`);
      await page.locator('ol[data-live][data-connected="true"]').waitFor();
      await shot('conversation-desktop', true);

      // Phone size: one column, the composer and the notes below the thread.
      await page.setViewportSize(PHONE);
      await page.goto(`${app.url}/admin/inbox`);
      await page.getByRole('heading', { name: 'Needs a human' }).waitFor();
      await shot('inbox-phone');
      await page.goto(`${app.url}/admin/conversations/${id}`);
      await page.locator('ol[data-live][data-connected="true"]').waitFor();
      await shot('conversation-phone', true);
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      expect(width).toBeLessThanOrEqual(PHONE.width);

      // Keyboard: the composer is reachable by its access key's target and focus is visible.
      await page.getByLabel('Reply on WhatsApp').focus();
      const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
      expect(outline).not.toBe('none');

      expect(problems).toEqual([]);
    },
  );
});

/**
 * The simulator page's drawing of each kind of content, in real Chromium: the server's display description
 * (domain/display-content.ts) goes through the page's own view.js, as a stored thread message would.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Content, MessageContext } from '../../src/domain/content.js';
import { displayOf } from '../../src/domain/display-content.js';
import { registerPage } from '../../src/channels/simulator/page.js';
import { createServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { launchBrowser, type TestBrowser } from '../helpers/browser.js';

describe('simulator page draws each kind of content', { timeout: 60_000 }, () => {
  let app: FastifyInstance;
  let url: string;
  let browser: TestBrowser;

  beforeAll(async () => {
    app = createServer({ log: createLogger({ level: 'silent' }), bodyLimitBytes: 65_536, trustProxy: false });
    registerPage(app);
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
    await browser.page.goto(`${url}/simulator/`);
  });
  afterAll(async () => {
    await browser.close();
    await app.close();
  });

  /** The bubble's text and its links, as the page builds it from `display`. */
  async function draw(content: Content, context: MessageContext = {}) {
    const display = JSON.stringify(displayOf(content, context));
    // A string, not a function: vitest would rewrite a function's import() into its own loader.
    return browser.page.evaluate<{ text: string; links: string[]; elements: number }>(`(async () => {
      const view = await import('/simulator/assets/view.js');
      const item = { key: 'k', kind: 'out', text: 'fallback', display: ${display}, time: 0, status: 'pending' };
      const node = view.bubble(item);
      document.body.append(node);
      return {
        text: node.innerText,
        links: [...node.querySelectorAll('a')].map((a) => a.href),
        elements: node.querySelectorAll('script, img').length,
      };
    })()`);
  }

  it('location: a map link with its name', async () => {
    const shown = await draw({ type: 'location', latitude: 51.5, longitude: -0.2, name: 'The Harrow Club' });
    expect(shown.text).toContain('📍 The Harrow Club');
    expect(shown.links).toEqual(['https://www.openstreetmap.org/?mlat=51.5&mlon=-0.2#map=17/51.5/-0.2']);
  });

  it('button reply: badge, title and payload', async () => {
    const shown = await draw({ type: 'interactive_reply', kind: 'button', id: 'confirm_yes', title: 'Yes' });
    expect(shown.text).toMatch(/button\s+Yes/i);
    expect(shown.text).toContain('payload: confirm_yes');
  });

  it('media, contact card, reaction and unsupported, with a quote and notes', async () => {
    const media = await draw(
      {
        type: 'media',
        items: [{ kind: 'voice', contentType: 'audio/ogg', reference: 'r' }],
        caption: 'listen',
      },
      { forwarded: 'once', quote: { providerMessageId: 'SM1' }, referral: { headline: 'Sale' } },
    );
    expect(media.text).toContain('Forwarded');
    expect(media.text).toContain('From ad "Sale"');
    expect(media.text).toContain('an earlier message');
    expect(media.text).toContain('📎 Voice message · audio/ogg');
    expect(media.text).toContain('listen');
    expect(
      (await draw({ type: 'contacts', contacts: [{ name: 'Ana', phones: ['+34600000000'] }] })).text,
    ).toContain('👤 Ana');
    expect((await draw({ type: 'reaction', emoji: '👍', targetProviderMessageId: 'SM1' })).text).toContain(
      '👍 reacted 👍',
    );
    expect((await draw({ type: 'unsupported', providerType: 'order' })).text).toContain(
      'Unsupported message (order)',
    );
  });

  it('shows markup in any field as text', async () => {
    const hostile = '<img src=x onerror="document.title=1"><script>1</script>';
    const shown = await draw(
      { type: 'location', latitude: 1, longitude: 2, name: hostile, address: hostile },
      { quote: { providerMessageId: hostile }, referral: { headline: hostile } },
    );
    expect(shown.elements).toBe(0);
    expect(shown.text).toContain('<img src=x');
  });
});

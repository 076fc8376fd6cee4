import { describe, expect, it } from 'vitest';
import { conversationListPage } from '../../../src/admin/views/conversation-list.js';
import { conversationPage } from '../../../src/admin/views/conversation.js';
import { messageContentHtml } from '../../../src/admin/views/message-content.js';
import type { ThreadMessage } from '../../../src/db/admin-queries.js';
import type { OptOutState } from '../../../src/db/opt-outs.js';
import type { Content, MessageContext } from '../../../src/domain/content.js';

const HOSTILE = '<script>alert(1)</script>';
const SID = 'SM' + 'a'.repeat(32);

function render(content: Content, context: MessageContext = {}, quotedText?: string): string {
  return messageContentHtml(content, context, quotedText !== undefined ? { quotedText } : {}).value.replace(
    /\s+/g,
    ' ',
  );
}

describe('messageContentHtml', () => {
  const cases: Array<[string, Content, MessageContext, RegExp[]]> = [
    ['text', { type: 'text', text: 'Hola' }, {}, [/<div class="bubble-body">Hola<\/div>/]],
    [
      'image with caption',
      {
        type: 'media',
        items: [{ kind: 'image', contentType: 'image/jpeg', reference: 'https://api.twilio.com/x' }],
        caption: 'receipt',
      },
      {},
      [/<span class="attachment-kind">Image<\/span>/, /<code>image\/jpeg<\/code>/, /bubble-body">receipt</],
    ],
    [
      'location',
      {
        type: 'location',
        latitude: 51.5,
        longitude: -0.2,
        name: 'The Harrow Club',
        address: '187 Freston Road',
      },
      {},
      [
        /<a href="https:\/\/www\.openstreetmap\.org\/\?mlat=51\.5&amp;mlon=-0\.2#map=17\/51\.5\/-0\.2" target="_blank" rel="noopener noreferrer">The Harrow Club<\/a>/,
        /187 Freston Road/,
        /51\.5, -0\.2/,
      ],
    ],
    [
      'contact card',
      { type: 'contacts', contacts: [{ name: 'Ana Ruiz', phones: ['+34600000000'] }] },
      {},
      [/<strong>👤 Ana Ruiz<\/strong> <span>\+34600000000<\/span>/],
    ],
    [
      'vCard file',
      { type: 'contacts', contacts: [], vcardReferences: ['https://api.twilio.com/v'] },
      {},
      [/Contact card \(vCard file, not read\)/],
    ],
    [
      'button reply',
      { type: 'interactive_reply', kind: 'button', id: '{verifyEmail:asd@asd.com}', title: 'Konfirmasi' },
      {},
      [
        /badge-info">button<\/span> <span>Konfirmasi<\/span>/,
        /<code title="payload">{verifyEmail:asd@asd.com}<\/code>/,
      ],
    ],
    [
      'reaction',
      { type: 'reaction', emoji: '👍', targetProviderMessageId: SID },
      {},
      [/reaction-emoji">👍<\/span> reacted 👍 on message <code>SM/],
    ],
    [
      'template',
      { type: 'template', templateId: 'HX1', variables: {} },
      {},
      [/<p class="muted">Template HX1<\/p>/],
    ],
    [
      'unsupported',
      { type: 'unsupported', providerType: 'order' },
      {},
      [/<p class="muted">Unsupported message \(order\)<\/p>/],
    ],
    [
      'forwarded reply from an ad',
      { type: 'text', text: 'yes' },
      { forwarded: 'frequently', referral: { headline: 'Spring sale' }, quote: { providerMessageId: SID } },
      [
        /<p class="content-note">Forwarded many times<\/p>/,
        /<p class="content-note">From ad &quot;Spring sale&quot;<\/p>/,
        /<blockquote class="content-quote">an earlier message<\/blockquote>/,
      ],
    ],
  ];
  it.each(cases)('%s', (_name, content, context, patterns) => {
    const out = render(content, context);
    for (const pattern of patterns) expect(out).toMatch(pattern);
  });

  it('shows the quoted text when the thread has it', () => {
    expect(
      render({ type: 'text', text: 'ok' }, { quote: { providerMessageId: SID } }, 'Shall I book it?'),
    ).toContain('<blockquote class="content-quote">Shall I book it?</blockquote>');
  });

  it('escapes everything a stranger wrote, in text and in attributes', () => {
    const outputs = [
      render({ type: 'text', text: HOSTILE }),
      render({
        type: 'media',
        items: [{ kind: 'document', contentType: HOSTILE, reference: HOSTILE, filename: HOSTILE }],
        caption: HOSTILE,
      }),
      render({ type: 'location', latitude: 1, longitude: 2, name: HOSTILE, address: HOSTILE }),
      render({ type: 'contacts', contacts: [{ name: HOSTILE, phones: [HOSTILE], emails: [HOSTILE] }] }),
      render({ type: 'interactive_reply', kind: 'list', id: HOSTILE, title: HOSTILE, description: HOSTILE }),
      render({ type: 'reaction', emoji: HOSTILE, targetProviderMessageId: HOSTILE }),
      render({ type: 'unsupported', providerType: HOSTILE }),
      render(
        { type: 'text', text: 'x' },
        { quote: { providerMessageId: HOSTILE }, referral: { headline: HOSTILE, sourceType: HOSTILE } },
        HOSTILE,
      ),
    ];
    for (const out of outputs) {
      expect(out).not.toContain('<script');
      expect(out).toContain('&lt;script&gt;');
    }
  });
});

function message(overrides: Partial<ThreadMessage>): ThreadMessage {
  return {
    id: crypto.randomUUID(),
    role: 'user',
    content: '',
    createdAt: new Date('2026-12-01T10:00:00Z'),
    processingStatus: 'answered',
    outcomeReason: null,
    attempts: 0,
    author: null,
    operatorName: null,
    providerMessageId: null,
    payload: null,
    model: null,
    provider: null,
    inputTokens: null,
    outputTokens: null,
    latencyMs: null,
    errorKind: null,
    deliveries: [],
    ...overrides,
  };
}

describe('conversationPage thread', () => {
  function page(messages: ThreadMessage[], optOut: OptOutState | null = null): string {
    return conversationPage({
      session: { id: 's', userId: 'u', username: 'admin', role: 'admin', csrfToken: 'csrf' },
      simulatorEnabled: false,
      conversation: {
        id: crypto.randomUUID(),
        channel: 'twilio',
        userAddress: 'whatsapp:+14155550100',
        replyAddress: 'whatsapp:+14155550100',
        businessAddress: null,
        profileName: 'Ana',
        isActive: true,
        mode: 'bot',
        contextResetAt: null,
        lastActivityAt: new Date('2026-12-01T10:00:00Z'),
        lastInboundAt: new Date('2026-12-01T10:00:00Z'),
      },
      thread: { messages, total: messages.length },
      done: '',
      handoff: {
        assigneeId: null,
        assigneeName: null,
        handoffAt: null,
        handoffReason: null,
        lastOperatorMessageAt: null,
      },
      notes: [],
      operators: [],
      optOut,
      requestKey: 'request-key-1',
      now: new Date('2026-12-01T10:05:00Z'),
      window: {
        state: { open: true, closesAt: new Date('2026-12-02T10:00:00Z') },
        applies: true,
        template: false,
      },
    }).value.replace(/\s+/g, ' ');
  }

  it('an opted-out user: the page says since when and why, and the composer is disabled with the reason', () => {
    const optOut = { optedOutAt: new Date('2026-12-01T09:30:00Z'), source: 'keyword', keyword: 'STOP' };
    const html = page(
      [message({ content: 'STOP', processingStatus: 'notice', outcomeReason: 'opt_out' })],
      optOut,
    );
    expect(html).toContain('Opted out since 2026-12-01 09:30 UTC (keyword STOP)');
    expect(html).toMatch(/<textarea[^>]*disabled/);
    expect(html).toMatch(/<button type="submit" class="button button-primary" disabled>Send/);
    expect(html).toContain('notice sent: the user opted out (OPT_OUT_KEYWORDS)');
    const open = page([message({ content: 'hi' })]);
    expect(open).not.toContain('Opted out since');
    expect(open).not.toMatch(/<textarea[^>]*disabled/);
  });

  it('says why a message was not answered, and why and after how many attempts one failed', () => {
    const html = page([
      message({ content: 'hello', processingStatus: 'failed', outcomeReason: 'ai_auth', attempts: 3 }),
      message({ content: 'later', processingStatus: 'skipped', outcomeReason: 'mode_human' }),
    ]);
    expect(html).toContain('failed: ai_auth (after 3 attempts)');
    expect(html).toContain('not answered: a human operator handles this conversation');
  });

  it('shows a row without payload as the text of its content column', () => {
    expect(page([message({ content: 'plain <b>old</b> row', payload: null })])).toContain(
      '<div class="bubble-body">plain &lt;b&gt;old&lt;/b&gt; row</div>',
    );
  });

  it('reads a malformed payload as the text of the row', () => {
    const out = page([
      message({ content: 'fallback', payload: { content: { type: 'location', latitude: 'x' } } }),
    ]);
    expect(out).toContain('<div class="bubble-body">fallback</div>');
  });

  it('quotes the bot message a user replied to, and puts a reaction on the message it targets', () => {
    const out = page([
      message({
        role: 'assistant',
        content: 'Shall I book it?',
        deliveries: [
          {
            partIndex: 0,
            partCount: 1,
            status: 'read',
            errorCode: null,
            providerMessageId: SID,
            updatedAt: new Date(),
          },
        ],
      }),
      message({
        content: '[Replying to an earlier message]\nyes',
        payload: { content: { type: 'text', text: 'yes' }, context: { quote: { providerMessageId: SID } } },
      }),
      message({
        content: '[Reacted ❤️ to an earlier message]',
        payload: { content: { type: 'reaction', emoji: '❤️', targetProviderMessageId: SID }, context: {} },
      }),
    ]);
    expect(out).toContain('<blockquote class="content-quote">Shall I book it?</blockquote>');
    expect(out).toContain('<p class="bubble-reactions" aria-label="Reactions">❤️</p>');
    expect(out).toContain('reacted ❤️ on message');
  });
});

describe('conversationListPage preview', () => {
  function preview(lastMessage: string, lastPayload: unknown): string {
    const out = conversationListPage({
      session: { id: 's', userId: 'u', username: 'admin', role: 'admin', csrfToken: 'csrf' },
      simulatorEnabled: false,
      search: '',
      filter: 'all',
      result: {
        items: [
          {
            id: crypto.randomUUID(),
            channel: 'twilio',
            userAddress: 'whatsapp:+14155550100',
            businessAddress: null,
            profileName: 'Ana',
            isActive: true,
            mode: 'bot',
            lastActivityAt: new Date('2026-12-01T10:00:00Z'),
            messageCount: 1,
            snippet: null,
            lastMessage,
            lastRole: 'user',
            lastPayload,
          },
        ],
        total: 1,
        totalCapped: false,
        page: 1,
        pageSize: 25,
      },
    }).value;
    return /class="preview">\s*<span\s*>([^<]*)<\/span/.exec(out)?.[1]?.trim() ?? '';
  }

  it('is the summary of a typed message, and the text of an old row', () => {
    const location = { content: { type: 'location', latitude: 1, longitude: 2, name: 'Cafe' }, context: {} };
    expect(preview('[Shared location: Cafe, coordinates 1, 2]', location)).toBe('📍 Cafe');
    expect(preview('old text', null)).toBe('old text');
  });
});

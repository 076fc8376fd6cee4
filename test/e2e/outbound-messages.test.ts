/**
 * Outbound messages of their own (not replies): an operator's text, a template, a media message, through the
 * real Twilio SDK to the fake Twilio, each sent once per key, with the channel refusing what it cannot send.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendOutbound } from '../../src/pipeline/send-outbound.js';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
const TEMPLATE_SID = `HX${'ab12'.repeat(8)}`;
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

let n = 0;
const newSender = () => `whatsapp:+1415777${String(1000 + n++).padStart(4, '0')}`;

/** A conversation that exists because its user wrote (and was answered). */
async function conversationOf(from: string): Promise<string> {
  await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'hi' }));
  return eventually('the conversation and its reply', async () => {
    const [row] = await app.query<{ id: string }>(
      `select c.id from conversations c join messages m on m.conversation_id = c.id and m.role = 'assistant'
       where c.user_address = $1`,
      [from],
    );
    return row?.id;
  });
}
const sentTo = (to: string) => app.twilio.sent.filter((m) => m.to === to);

describe('outbound messages', () => {
  it('an operator text is stored with its author and sent once, however often the request comes', async () => {
    const from = newSender();
    const conversationId = await conversationOf(from);
    const deps = app.running.composed.deps;
    const request = {
      conversationId,
      key: 'operator:req-1',
      author: 'operator:00000000-0000-4000-8000-000000000001' as const,
      content: { type: 'text' as const, text: 'Hi, this is Ana from the shop.' },
    };
    const first = await sendOutbound(deps, request);
    const again = await sendOutbound(deps, request);
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, messageId: first.messageId });
    await eventually('the operator message sent', () =>
      Promise.resolve(sentTo(from).find((m) => m.body === request.content.text)),
    );
    const [row] = await app.query<{ author: string; outbound_key: string; status: string }>(
      `select m.author, m.outbound_key, d.status from messages m join deliveries d on d.message_id = m.id
       where m.id = $1`,
      [first.messageId],
    );
    expect(row).toMatchObject({ author: request.author, outbound_key: 'operator:req-1' });
    expect(sentTo(from).filter((m) => m.body === request.content.text)).toHaveLength(1);
  });

  it('a template goes out as ContentSid + ContentVariables and no Body', async () => {
    const from = newSender();
    const conversationId = await conversationOf(from);
    await sendOutbound(app.running.composed.deps, {
      conversationId,
      key: 'template:welcome:1',
      author: 'system',
      content: { type: 'template', templateId: TEMPLATE_SID, variables: { '1': 'Ana', '2': '3pm' } },
    });
    const sent = await eventually('the template sent', () =>
      Promise.resolve(sentTo(from).find((m) => m.contentSid === TEMPLATE_SID)),
    );
    expect(JSON.parse(sent.contentVariables ?? '')).toEqual({ '1': 'Ana', '2': '3pm' });
    const request = app.twilio.requests.find((r) => r.params.ContentSid === TEMPLATE_SID);
    expect(request?.params).not.toHaveProperty('Body');
  });

  it('a media message goes out as MediaUrl with its caption as Body', async () => {
    const from = newSender();
    const conversationId = await conversationOf(from);
    const url = 'https://example.com/menu.jpg';
    await sendOutbound(app.running.composed.deps, {
      conversationId,
      key: 'operator:media-1',
      author: 'operator:00000000-0000-4000-8000-000000000001',
      content: {
        type: 'media',
        items: [{ kind: 'image', contentType: 'image/jpeg', reference: url }],
        caption: "Today's menu",
      },
    });
    const sent = await eventually('the media sent', () =>
      Promise.resolve(sentTo(from).find((m) => m.mediaUrls?.includes(url))),
    );
    expect(sent.body).toBe("Today's menu");
  });

  it('what the channel cannot send is refused with a typed error before anything is stored', async () => {
    const from = newSender();
    const conversationId = await conversationOf(from);
    await expect(
      sendOutbound(app.running.composed.deps, {
        conversationId,
        key: 'reaction:1',
        author: 'system',
        content: { type: 'reaction', emoji: '👍', targetProviderMessageId: 'SM1' },
      }),
    ).rejects.toMatchObject({ kind: 'channel_unsupported' });
    const rows = await app.query(`select 1 from messages where outbound_key = 'reaction:1'`);
    expect(rows).toEqual([]);
  });
});

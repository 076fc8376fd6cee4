/** A quoted reply reaches the model with the text it quotes: a part the bot sent, found by its Twilio SID. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestApp, type TestApp } from '../helpers/app.js';
import { inboundParams } from '../helpers/twilio.js';

const WEBHOOK = '/api/whatsapp/webhook/';
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

describe('a quoted reply', () => {
  it('gives the model the text of the bot message it quotes', async () => {
    const from = 'whatsapp:+14155559911';
    app.llm.respond(() => ({ text: 'We open at 9 on weekdays.' }));
    await app.postSigned(WEBHOOK, inboundParams({ From: from, Body: 'When do you open?' }));
    const first = await eventually('the first reply', () =>
      Promise.resolve(app.twilio.sent.find((m) => m.to === from)),
    );
    app.llm.respond(() => ({ text: 'Yes, Saturdays too.' }));
    await app.postSigned(
      WEBHOOK,
      inboundParams({
        From: from,
        Body: 'And on Saturday?',
        OriginalRepliedMessageSid: first.sid,
        OriginalRepliedMessageSender: 'whatsapp:+14155238886',
      }),
    );
    const request = await eventually('the model call for the quoted reply', () =>
      Promise.resolve(
        app.llm.requests.find((r) => r.messages.some((m) => m.content.includes('And on Saturday?'))),
      ),
    );
    const turn = request.messages.findLast((m) => m.role === 'user')?.content ?? '';
    expect(turn).toContain('[Replying to: "We open at 9 on weekdays."]');
    expect(turn).toContain('And on Saturday?');
  });
});

/**
 * Media downloads and transcriptions in /metrics, measured by the decorators around the real Twilio channel (its
 * fetchMedia against fake Twilio's MediaUrl, Basic auth and 302) and the real transcriber (against the fake
 * OpenAI-compatible endpoint). Also: a business number with its own Twilio account downloads with that account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTranscriber } from '../../src/ai/transcribe.js';
import { createTwilioChannel } from '../../src/channels/twilio/channel.js';
import { MediaRefused } from '../../src/media/fetch-twilio-media.js';
import { instrumentChannel, instrumentTranscriber } from '../../src/observability/instrument.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { BusinessNumber, NumberDirectory } from '../../src/ports.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../fakes/twilio-server.js';
import { parseExposition, valueOf } from './scrape.js';

const OTHER = { accountSid: 'AC' + 'b'.repeat(32), authToken: 'other-account-token' };
const OWN_NUMBER = 'whatsapp:+14155550999';

let twilio: FakeTwilio;
let llm: FakeLlm;

beforeAll(async () => {
  [twilio, llm] = await Promise.all([startFakeTwilio({ otherAccounts: [OTHER] }), startFakeLlm()]);
});
afterAll(async () => {
  await Promise.all([twilio.close(), llm.close()]);
});

/** The number directory as the channel sees it: one number with its own Twilio account. */
const numbers: Pick<NumberDirectory, 'find'> = {
  find: (_channel, address) =>
    Promise.resolve(
      address === OWN_NUMBER
        ? ({
            id: 'n1',
            channel: 'twilio',
            address,
            name: 'own account',
            aiConfigId: null,
            credentials: OTHER,
          } satisfies BusinessNumber)
        : null,
    ),
};

const limits = { maxBytes: 1024, timeoutMs: 5000 };

describe('media metrics', () => {
  it('counts downloads by channel and outcome, and transcriptions with their seconds', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const channel = instrumentChannel(
      createTwilioChannel(
        {
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          whatsappNumber: 'whatsapp:+14155238886',
          apiBaseUrl: twilio.url,
        },
        undefined,
        numbers,
      ),
      metrics,
    );
    const bytes = Buffer.from('OggS a short note');
    const url = twilio.addMedia({ bytes, contentType: 'audio/ogg; codecs=opus' });
    const item = { kind: 'voice' as const, contentType: 'audio/ogg', reference: url };
    const fetched = await channel.fetchMedia!(item, 'whatsapp:+14155238886', limits);
    expect(fetched).toEqual({ bytes, contentType: 'audio/ogg' });

    const big = twilio.addMedia({ bytes: Buffer.alloc(4096), contentType: 'image/jpeg' });
    await expect(
      channel.fetchMedia!({ ...item, kind: 'image', reference: big }, 'whatsapp:+14155238886', limits),
    ).rejects.toBeInstanceOf(MediaRefused);
    await expect(
      channel.fetchMedia!(
        { ...item, reference: 'http://169.254.169.254/latest/meta-data' },
        'whatsapp:+14155238886',
        limits,
      ),
    ).rejects.toMatchObject({ reason: 'foreign_host' });

    const transcriber = instrumentTranscriber(
      createTranscriber({ baseUrl: llm.openaiBaseUrl, apiKey: 'sk', model: 'whisper-1', timeoutMs: 5000 }),
      metrics,
    );
    llm.transcribeAs({ text: 'hello', seconds: 7 });
    expect(await transcriber.transcribe({ bytes, contentType: 'audio/ogg' })).toMatchObject({ seconds: 7 });
    llm.transcribeAs({ text: 'x', seconds: 1, status: 503 });
    await expect(transcriber.transcribe({ bytes, contentType: 'audio/ogg' })).rejects.toMatchObject({
      kind: 'ai_unavailable',
    });

    const samples = parseExposition(await metrics.registry.metrics());
    const downloads = (outcome: string) =>
      valueOf(samples, 'chatbot_media_downloads_total', { channel: 'twilio', outcome });
    expect([downloads('ok'), downloads('too_large'), downloads('foreign_host')]).toEqual([1, 1, 1]);
    expect(valueOf(samples, 'chatbot_transcription_seconds_total', { model: 'whisper-1' })).toBe(7);
    expect(valueOf(samples, 'chatbot_transcriptions_total', { model: 'whisper-1', outcome: 'ok' })).toBe(1);
    expect(
      valueOf(samples, 'chatbot_transcriptions_total', { model: 'whisper-1', outcome: 'ai_unavailable' }),
    ).toBe(1);
  });

  it("downloads a number's media with that number's own Twilio account", async () => {
    const channel = createTwilioChannel(
      {
        accountSid: twilio.accountSid,
        authToken: twilio.authToken,
        whatsappNumber: 'whatsapp:+14155238886',
        apiBaseUrl: twilio.url,
      },
      undefined,
      numbers,
    );
    const bytes = Buffer.from('%PDF-1.4 tiny');
    const url = twilio
      .addMedia({ bytes, contentType: 'application/pdf' })
      .replace(`/Accounts/${twilio.accountSid}/`, `/Accounts/${OTHER.accountSid}/`);
    const item = { kind: 'document' as const, contentType: 'application/pdf', reference: url };
    // The environment's account is not the one the media belongs to: Twilio answers it 401 (a retryable failure).
    await expect(channel.fetchMedia!(item, 'whatsapp:+14155238886', limits)).rejects.toMatchObject({
      kind: 'channel_unavailable',
    });
    expect(await channel.fetchMedia!(item, OWN_NUMBER, limits)).toEqual({
      bytes,
      contentType: 'application/pdf',
    });
    const sid = url.split('/').at(-1);
    expect(twilio.mediaRequests.filter((r) => r.mediaSid === sid && r.where === 'api')).toEqual([
      { where: 'api', mediaSid: sid, authorized: false },
      { where: 'api', mediaSid: sid, authorized: true },
    ]);
  });
});

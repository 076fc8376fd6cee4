/**
 * Photos end to end with real processes (issue #15): the web and worker roles as child processes, fake Twilio
 * serving the photo behind Basic auth and a redirect. A model that sees images gets it as an image part,
 * downscaled; a model that does not gets no image part, and a photo without words is answered with the sentence
 * that says what would enable it, without a model call.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { noVisionNotice } from '../../src/domain/user-messages.js';
import { eventually } from '../helpers/app.js';
import { createProcessDeployment, type ProcessDeployment } from '../helpers/processes.js';
import { inboundParams } from '../helpers/twilio.js';
import { expectExactlyOneReply, newSender, sleep, WEBHOOK } from '../reliability/support.js';

let deployment: ProcessDeployment | undefined;
let mediaDir: string | undefined;
afterEach(async () => {
  await deployment?.close();
  if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
  deployment = undefined;
});

async function start(env: Record<string, string>): Promise<ProcessDeployment> {
  mediaDir = await mkdtemp(join(tmpdir(), 'image-e2e-'));
  deployment = await createProcessDeployment({ MEDIA_DIR: mediaDir, ...env });
  await Promise.all([deployment.start('web'), deployment.start('worker')]);
  return deployment;
}

/** A real 3000×2000 JPEG: larger than a model's useful size, so it must arrive downscaled. */
const photo = () =>
  sharp({ create: { width: 3000, height: 2000, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .jpeg()
    .toBuffer();

async function postPhoto(app: ProcessDeployment, from: string, caption: string): Promise<void> {
  const url = app.twilio.addMedia({ bytes: await photo(), contentType: 'image/jpeg' });
  const response = await app.postSigned(
    WEBHOOK,
    inboundParams({
      From: from,
      Body: caption,
      NumMedia: '1',
      MediaUrl0: url,
      MediaContentType0: 'image/jpeg',
      MessageType: 'image',
    }),
  );
  expect(response.status).toBe(200);
}

describe('photos sent to the bot over Twilio', { timeout: 120_000 }, () => {
  it('reach a vision model as an image part, downscaled, with the caption beside it', async () => {
    const app = await start({ AI_VISION: 'true' });
    const from = newSender();
    app.llm.respond(() => ({ text: 'A lovely orange wall.' }));
    await postPhoto(app, from, 'What colour is this?');
    await expectExactlyOneReply(app, from, 'A lovely orange wall.');
    const asked = app.llm.requests.at(-1)!.messages.at(-1)!;
    expect(asked.content).toContain('What colour is this?');
    expect(asked.images).toHaveLength(1);
    const sent = await sharp(Buffer.from(asked.images![0]!.base64, 'base64')).metadata();
    expect(Math.max(sent.width, sent.height)).toBeLessThanOrEqual(1568);
    expect(sent.width).toBeGreaterThan(sent.height);
  });

  it('never reach a model that cannot see images: a photo alone gets the sentence, no model call', async () => {
    const app = await start({ AI_VISION: 'false' });
    const from = newSender();
    await postPhoto(app, from, '');
    const sentTo = () => app.twilio.sent.filter((m) => m.to === from);
    await eventually('the notice', () => Promise.resolve(sentTo().length > 0 ? true : undefined), 40_000);
    await sleep(1500);
    expect(sentTo().map((m) => m.body)).toEqual([noVisionNotice()]);
    expect(app.llm.requests).toHaveLength(0);
    const [row] = await app.query<{ processing_status: string; outcome_reason: string | null }>(
      `select m.processing_status, m.outcome_reason from messages m join conversations c on c.id = m.conversation_id
       where c.user_address = $1 and m.role = 'user'`,
      [from],
    );
    expect(row).toEqual({ processing_status: 'notice', outcome_reason: 'no_vision' });

    // With words beside it, the model answers the words and is told an image came that it cannot see.
    const second = newSender();
    app.llm.respond(() => ({ text: 'Tell me what it shows.' }));
    await postPhoto(app, second, 'Is this the right part?');
    await expectExactlyOneReply(app, second, 'Tell me what it shows.');
    const asked = app.llm.requests.at(-1)!.messages.at(-1)!;
    expect(asked.images).toBeUndefined();
    expect(asked.content).toContain('Is this the right part?');
    expect(asked.content).toMatch(/cannot see images/);
  });
});

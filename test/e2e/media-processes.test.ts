/**
 * Media understood, end to end with real processes (issue #15): the web and worker roles as child processes on
 * the real PostgreSQL and Redis, fake Twilio serving MediaUrl behind Basic auth with a 302 to its CDN, the fake
 * OpenAI-compatible server transcribing voice notes (multipart `file` + `model`) and answering chat. Each test
 * checks what reached the model, what was downloaded (and how often), and what the user got.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mediaProblemNotice } from '../../src/domain/user-messages.js';
import { eventually } from '../helpers/app.js';
import { pdfWithPages } from '../helpers/pdf.js';
import { createProcessDeployment, type AppProcess, type ProcessDeployment } from '../helpers/processes.js';
import { inboundParams } from '../helpers/twilio.js';
import { expectExactlyOneReply, FAST_RECOVERY, newSender, sleep, WEBHOOK } from '../reliability/support.js';

const MAX_BYTES = 4096;

let deployment: ProcessDeployment;
let worker: AppProcess | undefined;
let mediaDir: string;
/** A server that is not Twilio: a forged MediaUrl pointing at it must never be fetched. */
let foreign: http.Server;
let foreignHits = 0;
let foreignUrl: string;

beforeAll(async () => {
  mediaDir = await mkdtemp(join(tmpdir(), 'media-e2e-'));
  foreign = http.createServer((_request, response) => {
    foreignHits += 1;
    response.writeHead(200, { 'content-type': 'image/jpeg' }).end('not an image');
  });
  await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as AddressInfo).port}`;
  deployment = await createProcessDeployment({
    ...FAST_RECOVERY,
    MEDIA_DIR: mediaDir,
    MEDIA_MAX_BYTES: String(MAX_BYTES),
  });
  [, worker] = await Promise.all([deployment.start('web'), deployment.start('worker')]);
}, 60_000);
afterAll(async () => {
  await deployment.close();
  await new Promise((resolve) => foreign.close(resolve));
  await rm(mediaDir, { recursive: true, force: true });
});
beforeEach(async (context) => {
  deployment.twilio.reset();
  deployment.llm.reset();
  context.onTestFailed(() => deployment.printOutput());
  if (!worker || worker.exit) worker = await deployment.start('worker');
});

/** Bytes that start like an Ogg file (the transcriber is a fake: it reads the upload, not the audio). */
const voiceNote = (words: string) => Buffer.concat([Buffer.from('OggS'), Buffer.from(` voice: ${words} `)]);

async function postMedia(
  from: string,
  media: { url: string; contentType: string },
  body = '',
  messageType = 'text',
): Promise<void> {
  const response = await deployment.postSigned(
    WEBHOOK,
    inboundParams({
      From: from,
      Body: body,
      NumMedia: '1',
      MediaUrl0: media.url,
      MediaContentType0: media.contentType,
      MessageType: messageType,
    }),
  );
  expect(response.status).toBe(200);
}

async function inboundRow(from: string) {
  const [row] = await deployment.query<{
    id: string;
    content: string;
    processing_status: string;
    outcome_reason: string | null;
    payload: { content: { items: Array<Record<string, unknown>> } };
  }>(
    `select m.id, m.content, m.processing_status, m.outcome_reason, m.payload from messages m
       join conversations c on c.id = m.conversation_id
     where c.user_address = $1 and m.role = 'user' order by m.created_at limit 1`,
    [from],
  );
  return row!;
}

const mediaSidOf = (url: string) => url.split('/').at(-1)!;
const requestsFor = (url: string) =>
  deployment.twilio.mediaRequests.filter((r) => r.mediaSid === mediaSidOf(url));

describe('media sent to the bot over Twilio', { timeout: 90_000 }, () => {
  it('a voice note: one authorized download through the redirect, one transcription, the transcript in the prompt, one reply', async () => {
    const from = newSender();
    const bytes = voiceNote('table for two');
    const url = deployment.twilio.addMedia({ bytes, contentType: 'audio/ogg' });
    deployment.llm.transcribeAs({ text: 'Can I book a table for two tonight?', seconds: 4 });
    deployment.llm.respond(() => ({ text: 'Yes, a table for two is booked.' }));
    await postMedia(from, { url, contentType: 'audio/ogg' }, '', 'audio');

    await expectExactlyOneReply(deployment, from, 'Yes, a table for two is booked.');
    expect(requestsFor(url)).toEqual([
      { where: 'api', mediaSid: mediaSidOf(url), authorized: true },
      { where: 'cdn', mediaSid: mediaSidOf(url), authorized: false },
    ]);
    expect(deployment.llm.transcriptions).toHaveLength(1);
    const [upload] = deployment.llm.transcriptions;
    expect(upload).toMatchObject({ model: 'whisper-1', fileName: 'voice-note.ogg', fileType: 'audio/ogg' });
    expect(upload!.bytes.equals(bytes)).toBe(true);
    expect(deployment.llm.requests).toHaveLength(1);
    expect(deployment.llm.requests[0]!.messages.at(-1)).toEqual({
      role: 'user',
      content: '[Voice message, transcribed]: Can I book a table for two tonight?',
    });

    const row = await inboundRow(from);
    expect(row.content).toBe('[Voice message, transcribed]: Can I book a table for two tonight?');
    expect(row.payload.content.items[0]).toMatchObject({
      transcript: 'Can I book a table for two tonight?',
      transcriptSeconds: 4,
      stored: { key: `${row.id}/0`, sizeBytes: bytes.length, contentType: 'audio/ogg' },
    });
    expect((await readFile(join(mediaDir, row.id, '0'))).equals(bytes)).toBe(true);
  });

  it("a PDF: its text reaches the model with the caption; the stored turn keeps only the document's label", async () => {
    const from = newSender();
    const pdf = pdfWithPages(['Invoice 42: total due 99 EUR']);
    const url = deployment.twilio.addMedia({ bytes: pdf, contentType: 'application/pdf' });
    deployment.llm.respond(() => ({ text: 'The total is 99 EUR.' }));
    await postMedia(from, { url, contentType: 'application/pdf' }, 'What is the total?', 'document');

    await expectExactlyOneReply(deployment, from, 'The total is 99 EUR.');
    const prompt = deployment.llm.requests[0]!.messages.at(-1)!.content;
    expect(prompt).toContain('[Document (application/pdf)]\nWhat is the total?');
    expect(prompt).toContain('Invoice 42: total due 99 EUR');
    const row = await inboundRow(from);
    expect(row.content).toBe('[Document (application/pdf)]\nWhat is the total?');
    expect(requestsFor(url).filter((r) => r.where === 'api')).toHaveLength(1);
  });

  it('an oversized file: not kept, the user gets the sentence, the message says why; the model is not asked', async () => {
    const from = newSender();
    const url = deployment.twilio.addMedia({
      bytes: Buffer.alloc(MAX_BYTES * 3, 7),
      contentType: 'image/jpeg',
    });
    await postMedia(from, { url, contentType: 'image/jpeg' }, '', 'image');

    const sentence = mediaProblemNotice('too_large', MAX_BYTES);
    expect(sentence).toContain('too large');
    await expectNotice(from, sentence, 'media_too_large');
    const row = await inboundRow(from);
    expect(row.payload.content.items[0]).toMatchObject({ refused: 'too_large' });
    expect(row.payload.content.items[0]).not.toHaveProperty('stored');
    expect(deployment.llm.requests).toHaveLength(0);
  });

  it('a MediaUrl on a foreign host: never fetched, the user is asked to send it again', async () => {
    const from = newSender();
    foreignHits = 0;
    const url = `${foreignUrl}/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1`;
    await postMedia(from, { url, contentType: 'image/jpeg' }, '', 'image');

    await expectNotice(from, mediaProblemNotice('foreign_host', MAX_BYTES), 'media_foreign_host');
    expect(foreignHits).toBe(0);
    expect(deployment.llm.requests).toHaveLength(0);
  });

  it('a worker killed in the middle of a download: after the restart at most one more download, one transcription, one reply', async () => {
    const from = newSender();
    const bytes = voiceNote('call me back');
    const url = deployment.twilio.addMedia({ bytes, contentType: 'audio/ogg', stallFirstMs: 120_000 });
    deployment.llm.transcribeAs({ text: 'Please call me back', seconds: 2 });
    deployment.llm.respond(() => ({ text: 'I will call you back.' }));
    await postMedia(from, { url, contentType: 'audio/ogg' }, '', 'audio');

    await eventually(
      'the download to start',
      () => Promise.resolve(requestsFor(url).some((r) => r.where === 'cdn') || undefined),
      30_000,
    );
    expect(await worker!.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(deployment.llm.transcriptions).toHaveLength(0);
    worker = await deployment.start('worker');

    await expectExactlyOneReply(deployment, from, 'I will call you back.');
    expect(requestsFor(url).filter((r) => r.where === 'api').length).toBeLessThanOrEqual(2);
    expect(deployment.llm.transcriptions).toHaveLength(1);
    expect(deployment.llm.requests.at(-1)!.messages.at(-1)!.content).toBe(
      '[Voice message, transcribed]: Please call me back',
    );
  });
});

/** The user got exactly `sentence`, once, and their message is closed as a notice with `reason`. */
async function expectNotice(from: string, sentence: string, reason: string): Promise<void> {
  await eventually(
    `a notice to ${from}`,
    () => Promise.resolve(deployment.twilio.sent.some((m) => m.to === from) || undefined),
    30_000,
  );
  await sleep(1000);
  expect(deployment.twilio.sent.filter((m) => m.to === from).map((m) => m.body)).toEqual([sentence]);
  const row = await inboundRow(from);
  expect({ status: row.processing_status, reason: row.outcome_reason }).toEqual({ status: 'notice', reason });
}

/**
 * The understand stage in the worker's pipeline, on a real PostgreSQL, with Meta media fetched from the fake Graph
 * API over HTTP (lookup, then download with the number's token), voice notes transcribed by the real transcriber
 * against the fake OpenAI-compatible endpoint, and files kept in a real media directory. Checks what the model
 * was given, what was downloaded and how often (a retried job reads the store), and what the user got.
 */
import { unseenImagesNote } from '../../src/domain/vision.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTranscriber } from '../../src/ai/transcribe.js';
import { createNumberDirectory } from '../../src/channels/number-directory.js';
import { createMetaChannel, type MetaChannel } from '../../src/channels/meta/channel.js';
import type { Db } from '../../src/db/connect.js';
import { sentPart } from '../../src/db/deliveries.js';
import { acceptInbound } from '../../src/db/messages.js';
import { rowsOf } from '../../src/db/rows.js';
import type { MediaItem } from '../../src/domain/content.js';
import { renderForModel } from '../../src/domain/render-content.js';
import { mediaProblemNotice } from '../../src/domain/user-messages.js';
import { createMemoryContextCache } from '../../src/infra/memory/context-cache.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryQueue } from '../../src/infra/memory/queue.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { createLocalMediaStore } from '../../src/media/local-store.js';
import type { MediaStore } from '../../src/media/store.js';
import { silentLogger } from '../../src/log.js';
import { processConversation } from '../../src/pipeline/process-conversation.js';
import { createUnqueuedRetry } from '../../src/pipeline/unqueued-retry.js';
import type { ChatMessage, ChatModel, Transcriber } from '../../src/ports.js';
import { startFakeLlm, type FakeLlm } from '../fakes/llm-server.js';
import { inbound } from '../db/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startFakeGraphApi, type FakeGraphApi } from '../helpers/fake-graph-api.js';
import { fixedAi, numbersOf } from '../helpers/pipeline-deps.js';
import { pdfWithPages } from '../helpers/pdf.js';
import { pipelineSettings } from '../helpers/pipeline-settings.js';

const NUMBER = { phoneNumberId: '106540352242922', token: 'EAAG-media-token' };

let database: TestDatabase;
let db: Db;
let graph: FakeGraphApi;
let llm: FakeLlm;
let channel: MetaChannel;
let mediaDir: string;
let store: MediaStore;
let transcriber: Transcriber;
/** What the model was asked, newest last. */
const prompts: ChatMessage[][] = [];

beforeAll(async () => {
  [database, graph, llm] = await Promise.all([createTestDatabase(), startFakeGraphApi(), startFakeLlm()]);
  db = database.database.db;
  graph.addNumber(NUMBER);
  mediaDir = await mkdtemp(join(tmpdir(), 'understand-media-'));
  store = createLocalMediaStore(mediaDir);
  transcriber = createTranscriber({
    baseUrl: llm.openaiBaseUrl,
    apiKey: 'sk-test',
    model: 'whisper-1',
    timeoutMs: 5000,
  });
  const numbers = createNumberDirectory({
    db,
    twilio: null,
    meta: {
      phoneNumberId: NUMBER.phoneNumberId,
      accessToken: NUMBER.token,
      appSecret: 's',
      verifyToken: 'v',
    },
    decrypt: () => {
      throw new Error('no stored secrets here');
    },
    refreshMs: 60_000,
    log: silentLogger(),
  });
  channel = createMetaChannel({
    graph: { baseUrl: graph.url, version: 'v24.0' },
    numbers,
    sentPart: (partId) => sentPart(db, partId),
  });
});
afterAll(async () => {
  await Promise.all([database.close(), graph.close(), llm.close()]);
  await rm(mediaDir, { recursive: true, force: true });
});
beforeEach(() => {
  graph.reset();
  graph.addNumber(NUMBER);
  llm.reset();
  prompts.length = 0;
});

const model: ChatModel = {
  provider: 'scripted',
  model: 'scripted-1',
  complete: (request) => {
    prompts.push(request.messages);
    return Promise.resolve({
      text: 'understood',
      model: 'scripted-1',
      usage: { inputTokens: 1, outputTokens: 1 },
    });
  },
};

function deps(options: { vision?: boolean; transcriber?: Transcriber | null } = {}) {
  const queue = createMemoryQueue({ attempts: 1, backoffMs: 10 });
  return {
    db,
    queue,
    unqueued: createUnqueuedRetry({ queue, log: silentLogger() }),
    locks: createMemoryLocks(),
    context: createMemoryContextCache({ maxTurns: 10, ttlSeconds: 60 }),
    limiter: createMemoryRateLimiter(),
    ai: fixedAi(() =>
      Promise.resolve({
        model,
        systemPrompt: 'be brief',
        temperature: 0,
        maxTokens: 50,
        vision: options.vision ?? false,
      }),
    ),
    numbers: numbersOf(db),
    channelFor: () => channel,
    log: silentLogger(),
    settings: pipelineSettings({ conversationLockTtlMs: 1000, mediaMaxBytes: 64 * 1024 }),
    media: store,
    transcriber: options.transcriber === undefined ? transcriber : options.transcriber,
  };
}

/** A Meta user's media message, accepted as the webhook would. */
async function userSends(item: Omit<MediaItem, 'reference'> & { reference: string }, caption?: string) {
  const content = { type: 'media' as const, items: [item], ...(caption ? { caption } : {}) };
  const accepted = await acceptInbound(
    db,
    inbound({
      channel: 'meta',
      providerMessageId: `wamid.in-${randomBytes(6).toString('hex')}`,
      from: `1650555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`,
      to: NUMBER.phoneNumberId,
      body: renderForModel(content, {}),
      content,
    }),
  );
  return accepted;
}

const run = (
  d: ReturnType<typeof deps>,
  message: { conversationId: string; messageId: string },
  attempt = 1,
  maxAttempts = 3,
) => processConversation(d, message, { jobId: 'j', attempt, maxAttempts });

const downloadsOf = (mediaId: string) =>
  graph.requests.filter((r) => r.method === 'GET' && r.path === `/media-download/${mediaId}`).length;

async function messageRow(id: string) {
  const [row] = rowsOf<{
    content: string;
    processing_status: string;
    outcome_reason: string | null;
    payload: { content: { items: MediaItem[] } };
  }>(
    await db.execute(
      sql`select content, processing_status, outcome_reason, payload from messages where id = ${id}`,
    ),
  );
  return row!;
}

const lastUserTurn = () => prompts.at(-1)?.at(-1);

describe('media of a Meta message', () => {
  it('a voice note: downloaded once with the number’s token; a transcription that fails is retried from the store', async () => {
    const voice = graph.addMedia({
      bytes: Buffer.from('OggS a voice note'),
      mimeType: 'audio/ogg; codecs=opus',
    });
    const message = await userSends({ kind: 'voice', contentType: 'audio/ogg', reference: voice.id });
    llm.transcribeAs({ text: 'x', seconds: 1, status: 503 });
    await expect(run(deps(), message)).rejects.toMatchObject({ kind: 'ai_unavailable', retryable: true });
    expect(downloadsOf(voice.id)).toBe(1);
    expect((await messageRow(message.messageId)).payload.content.items[0]).toMatchObject({
      stored: { key: `${message.messageId}/0`, contentType: 'audio/ogg' },
    });

    llm.transcribeAs({ text: 'Is the shop open on Sunday?', seconds: 5 });
    await run(deps(), message, 2);
    expect(downloadsOf(voice.id)).toBe(1);
    expect(llm.transcriptions).toHaveLength(1);
    expect(llm.transcriptions[0]!.bytes.toString()).toBe('OggS a voice note');
    expect(lastUserTurn()).toEqual({
      role: 'user',
      content: '[Voice message, transcribed]: Is the shop open on Sunday?',
    });
    const lookups = graph.requests.filter((r) => r.path === `/${voice.id}`);
    expect(lookups.map((r) => r.authorization)).toEqual([`Bearer ${NUMBER.token}`]);
    const row = await messageRow(message.messageId);
    expect(row).toMatchObject({
      processing_status: 'answered',
      content: '[Voice message, transcribed]: Is the shop open on Sunday?',
    });
    expect(row.payload.content.items[0]).toMatchObject({
      transcript: 'Is the shop open on Sunday?',
      transcriptSeconds: 5,
    });
  });

  it('a photo goes to a vision model as a downscaled image beside its caption, and not to a model without vision', async () => {
    const photo = await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#3a7' } })
      .jpeg()
      .toBuffer();
    const media = graph.addMedia({ bytes: photo, mimeType: 'image/jpeg' });
    const seen = await userSends(
      { kind: 'image', contentType: 'image/jpeg', reference: media.id },
      'What colour is it?',
    );
    await run(deps({ vision: true }), seen);
    const turn = lastUserTurn()!;
    expect(turn.content).toBe('[Image (image/jpeg)]\nWhat colour is it?');
    expect(turn.images).toHaveLength(1);
    const sent = await sharp(Buffer.from(turn.images![0]!.base64, 'base64')).metadata();
    expect(turn.images![0]!.contentType).toBe('image/jpeg');
    expect(Math.max(sent.width, sent.height)).toBe(1568);

    const blind = await userSends(
      { kind: 'image', contentType: 'image/jpeg', reference: media.id },
      'And now?',
    );
    await run(deps({ vision: false }), blind);
    expect(lastUserTurn()).toEqual({
      role: 'user',
      content: `[Image (image/jpeg)]\nAnd now?\n${unseenImagesNote(1)}`,
    });
  });

  it('a text document: its text is the turn’s attachment, once; history keeps the label', async () => {
    const media = graph.addMedia({
      bytes: pdfWithPages(['Order 7 ships on Monday']),
      mimeType: 'application/pdf',
    });
    const message = await userSends({
      kind: 'document',
      contentType: 'application/pdf',
      reference: media.id,
      filename: 'order.pdf',
    });
    await run(deps(), message);
    expect(lastUserTurn()!.content).toContain('Order 7 ships on Monday');
    expect((await messageRow(message.messageId)).content).toBe('[Document "order.pdf" (application/pdf)]');
  });

  it('without a transcription service the user is asked to write, and the message says why', async () => {
    const voice = graph.addMedia({ bytes: Buffer.from('OggS'), mimeType: 'audio/ogg' });
    const message = await userSends({ kind: 'voice', contentType: 'audio/ogg', reference: voice.id });
    await run(deps({ transcriber: null }), message);
    expect(prompts).toHaveLength(0);
    const row = await messageRow(message.messageId);
    expect(row).toMatchObject({ processing_status: 'notice', outcome_reason: 'media_no_transcription' });
    expect(graph.sent.at(-1)?.body).toMatchObject({
      text: { body: mediaProblemNotice('no_transcription', 0) },
    });
  });

  it('a media id Meta no longer knows: the user is asked to send it again; with a caption the model answers and is told', async () => {
    const gone = await userSends({ kind: 'image', contentType: 'image/jpeg', reference: '999000111' });
    await run(deps(), gone);
    expect(await messageRow(gone.messageId)).toMatchObject({
      processing_status: 'notice',
      outcome_reason: 'media_gone',
    });
    expect(prompts).toHaveLength(0);

    const captioned = await userSends(
      { kind: 'image', contentType: 'image/jpeg', reference: '999000112' },
      'Is this ok?',
    );
    await run(deps(), captioned);
    expect(lastUserTurn()!.content).toBe(
      '[Image (image/jpeg) that could not be opened: it is no longer available at the WhatsApp provider]\nIs this ok?',
    );
    expect((await messageRow(captioned.messageId)).processing_status).toBe('answered');
  });

  it('over MEDIA_MAX_BYTES: refused before the download, recorded on the item', async () => {
    const big = graph.addMedia({ bytes: randomBytes(128 * 1024), mimeType: 'video/mp4' });
    const message = await userSends({ kind: 'video', contentType: 'video/mp4', reference: big.id });
    await run(deps(), message);
    expect(downloadsOf(big.id)).toBe(0);
    const row = await messageRow(message.messageId);
    expect(row).toMatchObject({ processing_status: 'notice', outcome_reason: 'media_too_large' });
    expect(row.payload.content.items[0]).toMatchObject({ refused: 'too_large' });
  });
});

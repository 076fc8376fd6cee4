/**
 * The understand stage (issue #15), between the gate and generate: the media of the batch's messages are
 * downloaded once, kept in the media store, and turned into what the model can read. A voice note becomes its
 * transcript (stored as the message's text, marked as a voice note); a PDF or text file gives its text to this
 * turn only (history keeps the short rendering); a photo goes to a model that sees images, downscaled.
 *
 * Once means once: every step is recorded on the message as soon as it is done (stored, refused, transcribed),
 * so a retried job reads the bytes from the store and never downloads or transcribes again. A file we will not
 * take is recorded with why; when nothing of the message could be understood the user gets a clear sentence
 * (a notice, as the gate's), otherwise the model answers what could be understood and reads what could not.
 */
import { recordMediaProgress } from '../db/media-records.js';
import type { PendingInbound } from '../db/messages.js';
import type { Content, MediaItem, MessageContext } from '../domain/content.js';
import { storedContent } from '../domain/content-payload.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { NoticeReason } from '../domain/outcome.js';
import { mediaLabel, renderForModel } from '../domain/render-content.js';
import type { ChatImage } from '../domain/types.js';
import { mediaProblemNotice, type MediaProblem } from '../domain/user-messages.js';
import { documentText, isReadableDocument } from '../media/document-text.js';
import { imageForModel } from '../media/downscale-image.js';
import { unseenImagesNote } from '../domain/vision.js';
import { MediaRefused } from '../media/fetch-twilio-media.js';
import { mediaKey, type MediaStore } from '../media/store.js';
import type { Channel, JobContext, Transcriber } from '../ports.js';
import type { PipelineDeps } from './deps.js';
import { aiChoiceFor } from './persona.js';

/** One download's deadline: a 16 MB file over a slow link, not a stuck connection forever. */
export const MEDIA_DOWNLOAD_TIMEOUT_MS = 60_000;

export type Deps = Pick<PipelineDeps, 'db' | 'ai' | 'numbers' | 'settings'> & {
  media: MediaStore;
  transcriber: Transcriber | null;
};

export interface UnderstandStep {
  conversation: { id: string; channel: string; businessAddress: string | null };
  channel: Channel;
  jobContext: JobContext;
  signal: AbortSignal;
  log: PipelineDeps['log'];
}

/** What the model gets for a message in this turn only, beside its stored rendering. */
export interface TurnExtras {
  /** Documents' text and notes on what could not be understood, appended to the turn. */
  attachments: string[];
  images: ChatImage[];
}

export interface Understood {
  /** The messages for the model, their payload and rendering as now stored. */
  answer: PendingInbound[];
  /** Messages of which nothing could be understood: closed with a sentence to the user. */
  notices: Array<{ message: PendingInbound; reason: NoticeReason; text: string }>;
  extras: Map<string, TurnExtras>;
}

const NOTICE_OF: Record<MediaProblem, NoticeReason> = {
  too_large: 'media_too_large',
  type_not_allowed: 'media_type_not_allowed',
  foreign_host: 'media_foreign_host',
  gone: 'media_gone',
  download_failed: 'media_download_failed',
  no_transcription: 'media_no_transcription',
  transcription_failed: 'media_transcription_failed',
};

const IMAGE_KINDS: ReadonlySet<string> = new Set(['image', 'sticker']);
const AUDIO_KINDS: ReadonlySet<string> = new Set(['voice', 'audio']);

export async function understandMedia(
  deps: Deps,
  step: UnderstandStep,
  batch: PendingInbound[],
): Promise<Understood> {
  const result: Understood = { answer: [], notices: [], extras: new Map() };
  let vision: boolean | undefined;
  // Asked only when a photo arrives, and once per batch.
  const seesImages = async () => (vision ??= (await aiChoiceFor(deps, step.conversation)).vision === true);
  for (const message of batch) {
    const { content, context } = storedContent(message.payload, message.content);
    if (content.type !== 'media' || content.items.length === 0) {
      result.answer.push(message);
      continue;
    }
    const outcome = await understandMessage(deps, step, message, { content, context }, seesImages);
    if (outcome.notice) {
      result.notices.push({
        message: outcome.message,
        reason: NOTICE_OF[outcome.notice],
        text: mediaProblemNotice(outcome.notice, deps.settings.mediaMaxBytes),
      });
      continue;
    }
    result.answer.push(outcome.message);
    if (outcome.extras.attachments.length > 0 || outcome.extras.images.length > 0)
      result.extras.set(message.id, outcome.extras);
  }
  return result;
}

async function understandMessage(
  deps: Deps,
  step: UnderstandStep,
  message: PendingInbound,
  stored: { content: Extract<Content, { type: 'media' }>; context: MessageContext },
  seesImages: () => Promise<boolean>,
): Promise<{ message: PendingInbound; extras: TurnExtras; notice?: MediaProblem }> {
  const items: MediaItem[] = stored.content.items.map((item) => ({ ...item }));
  const content: Content = { ...stored.content, items };
  let current = message;
  const save = async () => {
    const payload = { content, context: stored.context };
    const rendering = renderForModel(content, stored.context);
    await recordMediaProgress(deps.db, message.id, payload, rendering);
    current = { ...current, payload: { ...payload }, content: rendering };
  };
  const extras: TurnExtras = { attachments: [], images: [] };
  const problems: MediaProblem[] = [];
  const lastAttempt = step.jobContext.attempt >= step.jobContext.maxAttempts;

  for (const [index, item] of items.entries()) {
    step.signal.throwIfAborted();
    if (item.refused !== undefined) {
      problems.push(asProblem(item.refused));
      continue;
    }
    // Every item is downloaded once (the admin shows it); the store is read again only for what needs its bytes.
    if (item.stored && !(await needsBytes(item, seesImages))) continue;
    const bytes = await bytesOf(deps, step, message.id, index, item, lastAttempt, save);
    if (!Buffer.isBuffer(bytes)) {
      if (bytes) problems.push(asProblem(bytes.refused));
      continue;
    }
    const type = item.stored?.contentType ?? item.contentType;
    if (AUDIO_KINDS.has(item.kind) && item.transcript === undefined) {
      const problem = await transcribe(deps, step, item, bytes, type, lastAttempt);
      if (problem) {
        problems.push(problem);
        extras.attachments.push(`[${mediaLabel(item)}: ${PROBLEM_NOTES[problem]}]`);
      } else await save();
    } else if (item.kind === 'document' && isReadableDocument(type)) {
      extras.attachments.push(await documentAttachment(step, item, bytes, type));
    } else if (IMAGE_KINDS.has(item.kind) && (await seesImages())) {
      const image = await imageForModel(bytes).catch((error: unknown) => {
        step.log.warn({ err: error, messageId: message.id, index }, 'image could not be read for the model');
        return null;
      });
      if (image)
        extras.images.push({ contentType: image.contentType, base64: image.bytes.toString('base64') });
    } else if (item.kind === 'image') {
      // A model that cannot see it is told so in words, so it can say so rather than pretend it saw it.
      extras.attachments.push(unseenImagesNote(1));
    }
  }

  // Nothing else to answer: no caption, and every item failed. Otherwise the model answers what it could read
  // (the rendering and the notes say what it could not).
  const caption = stored.content.caption?.trim() ?? '';
  const notice = caption === '' && problems.length === items.length ? problems[0] : undefined;
  return notice ? { message: current, extras, notice } : { message: current, extras };
}

/** A voice note not yet transcribed, a readable document, a photo for a model that sees it. */
async function needsBytes(item: MediaItem, seesImages: () => Promise<boolean>): Promise<boolean> {
  const type = item.stored?.contentType ?? item.contentType;
  if (AUDIO_KINDS.has(item.kind)) return item.transcript === undefined;
  if (item.kind === 'document') return isReadableDocument(type);
  return IMAGE_KINDS.has(item.kind) && (await seesImages());
}

/**
 * The item's bytes: from the store when an earlier attempt kept them, else downloaded once and kept. A refusal
 * (also recorded on the item), or null when its channel has no media to fetch.
 */
async function bytesOf(
  deps: Deps,
  step: UnderstandStep,
  messageId: string,
  index: number,
  item: MediaItem,
  lastAttempt: boolean,
  save: () => Promise<void>,
): Promise<Buffer | { refused: string } | null> {
  const key = mediaKey(messageId, index);
  if (item.stored) {
    const kept = await deps.media.get(item.stored.key);
    if (kept) return kept;
    // The store lost it (erased by hand, a bucket emptied): fetched again below, once.
    step.log.warn({ messageId, key: item.stored.key }, 'stored media missing; downloading it again');
    delete item.stored;
  }
  const { channel, conversation, signal } = step;
  if (!channel.fetchMedia) return null;
  let fetched;
  try {
    fetched = await channel.fetchMedia(
      item,
      conversation.businessAddress ?? channel.senders[0] ?? '',
      { maxBytes: deps.settings.mediaMaxBytes, timeoutMs: MEDIA_DOWNLOAD_TIMEOUT_MS },
      signal,
    );
  } catch (error) {
    signal.throwIfAborted();
    if (error instanceof MediaRefused) {
      step.log.warn({ messageId, index, reason: error.reason, err: error }, 'media not taken');
      item.refused = error.reason;
      await save();
      return { refused: error.reason };
    }
    const retryable = !isAppError(error) || error.retryable;
    if (retryable && !lastAttempt)
      throw isAppError(error)
        ? error
        : new AppError('channel_unavailable', 'media download failed', { cause: error });
    step.log.error({ messageId, index, err: error }, 'media download failed for good');
    item.refused = 'download_failed';
    await save();
    return { refused: 'download_failed' };
  }
  await deps.media.put(key, fetched.bytes, fetched.contentType);
  item.stored = { key, sizeBytes: fetched.bytes.length, contentType: fetched.contentType };
  await save();
  return fetched.bytes;
}

/** Transcribes into `item`; returns the problem when it could not, or throws to retry a transient failure. */
async function transcribe(
  deps: Deps,
  step: UnderstandStep,
  item: MediaItem,
  bytes: Buffer,
  contentType: string,
  lastAttempt: boolean,
): Promise<MediaProblem | undefined> {
  if (!deps.transcriber) return 'no_transcription';
  try {
    const transcript = await deps.transcriber.transcribe({ bytes, contentType }, step.signal);
    item.transcript = transcript.text;
    item.transcriptSeconds = transcript.seconds;
    step.log.info(
      {
        seconds: transcript.seconds,
        secondsEstimated: transcript.secondsEstimated,
        model: deps.transcriber.model,
      },
      'voice message transcribed',
    );
    return undefined;
  } catch (error) {
    step.signal.throwIfAborted();
    const retryable = !isAppError(error) || error.retryable;
    if (retryable && !lastAttempt) throw error;
    step.log.error({ err: error }, 'voice message could not be transcribed');
    return 'transcription_failed';
  }
}

/** A document's text as the user's attachment, bounded; a scan without a text layer is said to be one. */
async function documentAttachment(
  step: UnderstandStep,
  item: MediaItem,
  bytes: Buffer,
  contentType: string,
): Promise<string> {
  const label = mediaLabel(item);
  try {
    const document = await documentText(bytes, contentType);
    if (document.text === '')
      return `[${label}: it has no readable text (a scan or a picture?), so its content is not known]`;
    const extent =
      document.pageCount > 1 || document.truncated
        ? ` (${document.truncated ? `first part only, ${document.pagesRead} of ${document.pageCount} pages` : `${document.pageCount} pages`})`
        : '';
    return `[Text of the attached ${label}${extent}]:\n"""\n${document.text}\n"""`;
  } catch (error) {
    step.log.warn({ err: error }, 'document text could not be read');
    return `[${label}: the file could not be read, so its content is not known]`;
  }
}

const PROBLEM_NOTES: Record<MediaProblem, string> = {
  too_large: 'too large to open',
  type_not_allowed: 'a kind of file that is not accepted',
  foreign_host: 'not from the WhatsApp provider, not opened',
  gone: 'no longer available',
  download_failed: 'could not be downloaded',
  no_transcription:
    'voice messages cannot be listened to here (no transcription service); ask the user to write',
  transcription_failed: 'could not be transcribed; ask the user to write it or send it again',
};

function asProblem(refused: string): MediaProblem {
  return Object.hasOwn(NOTICE_OF, refused) ? (refused as MediaProblem) : 'download_failed';
}

/** The turn as the model reads it now: the stored rendering, then what goes with this turn only. */
export function withExtras<T extends { id: string; content: string }>(
  message: T,
  extras: TurnExtras | undefined,
): T & { images?: ChatImage[] } {
  if (!extras) return message;
  const content = [message.content, ...extras.attachments].join('\n');
  return extras.images.length > 0 ? { ...message, content, images: extras.images } : { ...message, content };
}

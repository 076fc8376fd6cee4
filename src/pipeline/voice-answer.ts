/**
 * Voice answers (issue #15, off unless the AI configuration's `voice_answers` is on): when the batch just answered
 * held a voice note or an audio file, the reply's text (stored and sent already) is also spoken, kept in the media
 * store and sent as one more part of the reply, a voice note. Twilio and Meta fetch it from a signed, expiring URL
 * of ours under PUBLIC_BASE_URL; the simulator's page plays it from its own route.
 *
 * Once per reply: a part already stored is never made again (the insert refuses a second), and audio already in
 * the store (a run that died after speaking) is not spoken again. Best effort: the text answered the user, so a
 * failure here is logged, never retried into a second answer.
 */
import type { PendingInbound } from '../db/messages.js';
import { hasVoicePart, insertVoicePart } from '../db/voice-parts.js';
import { storedContent } from '../domain/content-payload.js';
import type { OutboundContent } from '../domain/content.js';
import { mediaKey } from '../media/store.js';
import type { Deps, Step } from './answer-batch.js';
import { aiChoiceFor } from './persona.js';
import { sendParts } from './send-parts.js';

/** What a spoken answer is stored as when the store has it from an earlier run (ai/speech.ts asks for Opus). */
const SPOKEN_TYPE = 'audio/ogg';

function spoke(message: PendingInbound): boolean {
  const { content } = storedContent(message.payload, message.content);
  return content.type === 'media' && content.items.some((i) => i.kind === 'voice' || i.kind === 'audio');
}

export async function answerWithVoice(
  deps: Deps,
  step: Step,
  batch: PendingInbound[],
  replyId: string,
  text: string,
): Promise<void> {
  const { conversation, channel, log } = step;
  if (!batch.some(spoke) || text.trim() === '') return;
  const choice = await aiChoiceFor(deps, conversation);
  if (!choice.voiceAnswers) return;
  if (!deps.speech || !deps.media) {
    log.warn(
      { replyId },
      'voice answer skipped: nothing speaks (set SPEECH_BASE_URL, or use an OpenAI or OpenAI-compatible provider)',
    );
    return;
  }
  if (!deps.mediaLinks || (channel.name !== 'simulator' && !deps.mediaLinks.public)) {
    log.warn(
      { replyId, channel: channel.name },
      'voice answer skipped: PUBLIC_BASE_URL is not set, and Twilio and Meta fetch the voice note from it',
    );
    return;
  }
  if (!channel.capabilities.media || (await hasVoicePart(deps.db, replyId))) return;

  const key = mediaKey(replyId, 0);
  let audio: { bytes: Buffer; contentType: string };
  try {
    const kept = await deps.media.get(key);
    if (kept) audio = { bytes: kept, contentType: SPOKEN_TYPE };
    else {
      audio = await deps.speech.synthesize(text, choice.voice, step.signal);
      await deps.media.put(key, audio.bytes, audio.contentType);
    }
  } catch (error) {
    step.signal.throwIfAborted();
    log.warn({ err: error, replyId }, 'voice answer not made: the speech endpoint failed; the text was sent');
    return;
  }
  const content: OutboundContent = {
    type: 'media',
    items: [
      {
        kind: 'voice',
        contentType: audio.contentType,
        reference: deps.mediaLinks.urlFor(key),
        sizeBytes: audio.bytes.length,
        stored: { key, sizeBytes: audio.bytes.length, contentType: audio.contentType },
      },
    ],
  };
  const part = await insertVoicePart(deps.db, {
    replyId,
    conversationId: conversation.id,
    content,
    to: conversation.replyAddress,
    from: conversation.businessAddress,
  });
  if (!part) return;
  log.info({ replyId, sizeBytes: audio.bytes.length, model: deps.speech.model }, 'voice answer stored');
  await sendParts(deps, [part], channel, log, step.signal);
}

import type { ErrorKind } from './errors.js';

/**
 * What a WhatsApp user reads when the AI could not answer. Never a provider's own error text: it may leak
 * internals, and it means nothing to the person on the phone. It says the team was notified only when an alert
 * channel (email or webhook) is configured, because otherwise nobody was.
 */
export function friendlyAiFailure(kind: ErrorKind, alertsConfigured: boolean): string {
  switch (kind) {
    case 'ai_timeout':
      return 'Sorry, I am taking too long to think right now. Please send your message again in a moment.';
    case 'ai_rate_limited':
      return 'I am receiving a lot of messages right now. Please try again in a minute.';
    case 'ai_unavailable':
      return 'Sorry, my AI service is not reachable at the moment. Please try again shortly.';
    default:
      return alertsConfigured
        ? 'Sorry, something went wrong on my side and I could not answer. The team has been notified; please try again later.'
        : 'Sorry, something went wrong on my side and I could not answer. Please try again later.';
  }
}

export function tooLongNotice(maxLength: number): string {
  return `Your message is too long for me to read. Please keep it under ${maxLength} characters, or split it into shorter messages.`;
}

/** A user whose spend today reached a cap (or everyone's, SPEND_CAP_DAILY_USD): once a day, no model call. */
export function spendCappedNotice(): string {
  return "I've reached my limit of answers for today, so I can't reply to more messages until tomorrow. Thank you for your patience.";
}

export function rateLimitedNotice(): string {
  return 'You are sending messages faster than I can answer. Please wait a minute, then write again.';
}

/** Why a media item could not be understood: a download refusal (MediaItem.refused) or what came after it. */
export type MediaProblem =
  | 'too_large'
  | 'type_not_allowed'
  | 'foreign_host'
  | 'gone'
  | 'download_failed'
  | 'no_transcription'
  | 'transcription_failed';

/**
 * What the user reads when nothing of their message could be understood (no caption, no other item): a clear
 * sentence that says what to do instead, never silence and never a provider's error.
 */
export function mediaProblemNotice(problem: MediaProblem, maxBytes: number): string {
  switch (problem) {
    case 'too_large':
      return `Sorry, that file is too large for me to open (the limit is ${megabytes(maxBytes)} MB). Could you send a smaller one, or write what it says?`;
    case 'type_not_allowed':
      return 'Sorry, I cannot open that kind of file. Could you send it as a photo, a PDF or a text message instead?';
    case 'foreign_host':
    case 'gone':
    case 'download_failed':
      return 'Sorry, I could not open the file you sent. Could you send it again?';
    case 'no_transcription':
      return 'Sorry, I cannot listen to voice messages here. Could you write your message instead?';
    case 'transcription_failed':
      return 'Sorry, I could not make out your voice message. Could you send it again, or write it instead?';
  }
}

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return Number.isInteger(mb) ? String(mb) : mb.toFixed(1);
}

/**
 * The answer to a photo without any text when the model answering cannot see images (issue #15): what would
 * enable it, for the user to pass on, instead of a model guessing at a picture it never saw.
 */
export function noVisionNotice(): string {
  return "Sorry, I can't look at photos yet, so I couldn't see the image you sent. If you tell me in words what it shows or what you need, I'll gladly help. (The team can turn on a vision model for this chatbot: `chatbot ai-config update --name … --vision`.)";
}

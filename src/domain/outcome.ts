/**
 * How every inbound message ends, with a reason an operator can read without the logs: answered by the model,
 * a fixed notice sent instead (which one), skipped (why), or failed (why). One list, read by the schema's CHECK
 * constraint, the pipeline, the admin and the docs.
 */

/** `pending` until the worker decides; the other four are final. */
export const PROCESSING_STATUSES = ['pending', 'answered', 'notice', 'skipped', 'failed'] as const;

export type ProcessingStatus = (typeof PROCESSING_STATUSES)[number];

/** Why a message got a notice instead of an answer. */
export const NOTICE_REASONS = {
  too_long: 'the message was over MAX_MESSAGE_LENGTH; the user was asked to shorten it',
  rate_limited: 'the user was over RATE_LIMIT_MAX_REQUESTS; told once per window to slow down',
  handoff_requested:
    'the user asked for a person (HANDOFF_KEYWORDS): the conversation went to a human and the user got HANDOFF_MESSAGE',
  handoff_by_model:
    'the model handed the conversation to a human (its reason is in the audit log and the inbox); the user got HANDOFF_MESSAGE',
  opt_out: 'the user opted out (OPT_OUT_KEYWORDS): nothing more is sent to them; they got OPT_OUT_MESSAGE',
  opt_in: 'the user opted back in (OPT_IN_KEYWORDS) and got OPT_IN_MESSAGE',
  help: 'the user asked for help (HELP_KEYWORDS) and got HELP_MESSAGE',
  spend_capped:
    "today's model spend reached a cap (SPEND_CAP_USER_DAILY_USD or SPEND_CAP_DAILY_USD); the user was told once that day",
  media_too_large:
    'the file was over MEDIA_MAX_BYTES and was not downloaded; the user was asked for a smaller one',
  media_type_not_allowed: 'the file was of a type not accepted; the user was asked for a photo, PDF or text',
  media_foreign_host:
    "the media URL was not on the provider's host, so it was not fetched; the user was asked to send it again",
  media_gone: 'the provider no longer had the file; the user was asked to send it again',
  media_download_failed:
    'the file could not be downloaded on any attempt; the user was asked to send it again',
  media_no_transcription:
    'a voice message, and no transcription service is configured (TRANSCRIPTION_*); the user was asked to write',
  media_transcription_failed:
    'the voice message could not be transcribed on any attempt; the user was asked to send it again or write',
  no_vision:
    'only images, no text, and the model answering cannot see images: the user was told (turn vision on with `chatbot ai-config update --vision`)',
} as const;

/** Why a message was closed without anything sent. */
export const SKIP_REASONS = {
  rate_limited: 'the user was over RATE_LIMIT_MAX_REQUESTS (the notice for this window was already sent)',
  mode_human: 'a human operator handles this conversation',
  mode_paused: 'the conversation is paused',
  reaction: 'a reaction: stored and shown, not answered',
  opted_out: 'the user opted out: their messages are stored, not answered, until they opt back in',
  consent_superseded:
    'a consent word undone by a later one in the same batch (STOP then START): only the state in force was confirmed',
  spend_capped: "today's model spend reached a cap; the user already had today's notice, no model was asked",
} as const;

/** Why a message failed for good. An AppError kind (ai_auth, channel_rejected, …) may stand here too. */
export const FAILURE_REASONS = {
  attempts_exhausted: 'processing failed on every attempt (see the logs with this message id)',
} as const;

export type NoticeReason = keyof typeof NOTICE_REASONS;
export type SkipReason = keyof typeof SKIP_REASONS;

/** What an operator reads next to a message: the sentence for a known reason, else the code itself. */
export function describeOutcome(status: ProcessingStatus, reason: string | null): string {
  const sentence =
    reason === null
      ? undefined
      : status === 'notice'
        ? lookup(NOTICE_REASONS, reason)
        : status === 'skipped'
          ? lookup(SKIP_REASONS, reason)
          : status === 'failed'
            ? (lookup(FAILURE_REASONS, reason) ?? `failed: ${reason}`)
            : undefined;
  switch (status) {
    case 'pending':
      return 'waiting for the worker';
    case 'answered':
      return 'answered by the model';
    case 'notice':
      return `notice sent: ${sentence ?? reason ?? 'unknown'}`;
    case 'skipped':
      return `not answered: ${sentence ?? reason ?? 'unknown'}`;
    case 'failed':
      return sentence ?? 'failed';
  }
}

function lookup(table: Record<string, string>, key: string): string | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

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

export function rateLimitedNotice(): string {
  return 'You are sending messages faster than I can answer. Please wait a minute, then write again.';
}

/**
 * The answer to a photo without any text when the model answering cannot see images (issue #15): what would
 * enable it, for the user to pass on, instead of a model guessing at a picture it never saw.
 */
export function noVisionNotice(): string {
  return "Sorry, I can't look at photos yet, so I couldn't see the image you sent. If you tell me in words what it shows or what you need, I'll gladly help. (The team can turn on a vision model for this chatbot: `chatbot ai-config update --name … --vision`.)";
}

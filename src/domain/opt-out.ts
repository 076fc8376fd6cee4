/**
 * The user's own say over what we send them (WhatsApp's opt-out rule): a message that is, as a whole, one of the
 * opt-out words stops everything we would send; an opt-in word lifts that; a help word asks what this is. Matched
 * against the WHOLE message, any case, accents, surrounding spaces and punctuation ignored ("Stop.", "  parar ",
 * "CANCELÁR"), never inside a sentence ("stop please" is a message like any other), as carriers do for SMS.
 */

/** Where an opt-out came from: the user's keyword, the provider refusing a send (Twilio 21610), an operator. */
export type OptOutSource = 'keyword' | 'provider:21610' | 'operator';

/** What a consent keyword asks for. */
export type ConsentAction = 'opt_out' | 'opt_in' | 'help';

export interface ConsentSettings {
  optOutKeywords: readonly string[];
  optInKeywords: readonly string[];
  helpKeywords: readonly string[];
  /** Sent once when the user opts out; it says how to opt back in. */
  optOutMessage: string;
  optInMessage: string;
  helpMessage: string;
}

/** The defaults, one list read by the config schema and the tests. */
export const CONSENT_DEFAULTS: ConsentSettings = {
  optOutKeywords: [
    'STOP',
    'STOPALL',
    'UNSUBSCRIBE',
    'CANCEL',
    'END',
    'QUIT',
    'PARAR',
    'SAIR',
    'CANCELAR',
    'BAJA',
  ],
  optInKeywords: ['START', 'UNSTOP', 'YES', 'INICIAR'],
  helpKeywords: ['HELP', 'AYUDA', 'AJUDA'],
  optOutMessage: "You won't receive any more messages from us. To start again, reply START.",
  optInMessage: "You're subscribed again: we'll answer your messages. Reply STOP at any time to stop.",
  helpMessage:
    'This is an automated assistant. Write your question and we will answer. Reply STOP to stop all messages, START to resume.',
};

/** A message compared as a whole: no accents, lower case, without the spaces and punctuation around it. */
export function normalizeWhole(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '');
}

export interface ConsentMatch {
  action: ConsentAction;
  /** The configured keyword that matched, as configured. */
  keyword: string;
}

/**
 * A matcher over the three lists: what the whole text asks for, or null. Opt-out wins over opt-in and help when a
 * word is configured in two lists: stopping is the one request that must never be missed.
 */
export function consentMatcher(settings: ConsentSettings): (text: string) => ConsentMatch | null {
  const table = new Map<string, ConsentMatch>();
  const add = (action: ConsentAction, keywords: readonly string[]) => {
    for (const keyword of keywords) {
      const key = normalizeWhole(keyword);
      if (key !== '' && !table.has(key)) table.set(key, { action, keyword });
    }
  };
  add('opt_out', settings.optOutKeywords);
  add('opt_in', settings.optInKeywords);
  add('help', settings.helpKeywords);
  return (text) => table.get(normalizeWhole(text)) ?? null;
}

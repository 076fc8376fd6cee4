/**
 * The environment's default channel numbers: Twilio's sender and Meta's phone number id, each with the secrets
 * its webhook and its sending need. All of a channel's variables or none, so a half-configured channel fails
 * at start with every missing name rather than on the first message.
 */
import type { Env } from './schema.js';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  whatsappNumber: string;
  apiBaseUrl: string | undefined;
}

/** The environment's default Meta number (META_*); null when none of its variables is set. */
export interface MetaSettings {
  phoneNumberId: string;
  accessToken: string;
  appSecret: string;
  verifyToken: string;
}

/** Where the Graph API is: every Meta number (environment or database) talks to it. */
export interface GraphApiSettings {
  /** Without a trailing slash; https://graph.facebook.com unless META_GRAPH_API_BASE_URL says otherwise. */
  baseUrl: string;
  /** e.g. v24.0 */
  version: string;
}

export function twilioSettings(env: Env, problems: string[]): TwilioSettings | null {
  const { TWILIO_ACCOUNT_SID: sid, TWILIO_AUTH_TOKEN: token, TWILIO_WHATSAPP_NUMBER: number } = env;
  if (!sid && !token && !number) return null;
  if (!sid) problems.push('TWILIO_ACCOUNT_SID: required when any TWILIO_* variable is set');
  if (!token) problems.push('TWILIO_AUTH_TOKEN: required when any TWILIO_* variable is set');
  if (!number) problems.push('TWILIO_WHATSAPP_NUMBER: required when any TWILIO_* variable is set');
  if (!sid || !token || !number) return null;
  return { accountSid: sid, authToken: token, whatsappNumber: number, apiBaseUrl: env.TWILIO_API_BASE_URL };
}

const META_VARIABLES = [
  'META_PHONE_NUMBER_ID',
  'META_ACCESS_TOKEN',
  'META_APP_SECRET',
  'META_VERIFY_TOKEN',
] as const;

/** All four or none: a default Meta number needs its id, a token to send, and both webhook secrets. */
export function metaSettings(env: Env, problems: string[]): MetaSettings | null {
  const missing = META_VARIABLES.filter((name) => !env[name]);
  if (missing.length === META_VARIABLES.length) return null;
  for (const name of missing)
    problems.push(`${name}: required when any of ${META_VARIABLES.join(', ')} is set`);
  const { META_PHONE_NUMBER_ID, META_ACCESS_TOKEN, META_APP_SECRET, META_VERIFY_TOKEN } = env;
  if (!META_PHONE_NUMBER_ID || !META_ACCESS_TOKEN || !META_APP_SECRET || !META_VERIFY_TOKEN) return null;
  return {
    phoneNumberId: META_PHONE_NUMBER_ID,
    accessToken: META_ACCESS_TOKEN,
    appSecret: META_APP_SECRET,
    verifyToken: META_VERIFY_TOKEN,
  };
}

/**
 * What the admin UI needs from the configuration, resolved once at start.
 */
import { createHmac } from 'node:crypto';
import { environmentNumbers } from '../channels/number-directory.js';
import type { AiSettings, Config } from '../config/load.js';
import { createRedactor, type Redact } from '../errors/redact.js';
import { fieldCipherFrom, type FieldCipher } from '../security/field-encryption.js';

export interface AdminOptions {
  /** Signs the session cookie (HMAC). */
  sessionSecret: string;
  sessionTtlMs: number;
  /**
   * Secure cookies whatever the request, because the public URL is https (TLS ends at a proxy, so the request
   * itself may be http). A request that is HTTPS as Fastify sees it (trustProxy honoured) gets them as well.
   */
  secureCookies: boolean;
  simulatorEnabled: boolean;
  /** The environment's AI settings: fill what a configuration leaves empty when it is tested. */
  aiEnvironment: AiSettings;
  /** Masks stored API keys and decrypts them to test a configuration; null when FIELD_ENCRYPTION_KEY is unset. */
  cipher: FieldCipher | null;
  appUrl: string | undefined;
  /** Removes configured secret values from what the webhook log pages show. */
  redact: Redact;
  /** Login attempts per client IP and username per window. */
  loginLimit: { max: number; windowSeconds: number };
  /** How often the live thread reads a watched conversation's newest messages. */
  livePollMs: number;
  /** The environment's numbers (TWILIO_WHATSAPP_NUMBER, META_PHONE_NUMBER_ID), shown on the Numbers page. */
  environmentNumbers: Array<{ channel: 'twilio' | 'meta'; address: string }>;
  /** Re-read this process's number directory after a change on the Numbers page (set by main/run.ts). */
  refreshNumbers?: () => Promise<void>;
}

/**
 * ADMIN_SESSION_SECRET, or a key derived from a secret the deployment already has, so cookies stay valid
 * across restarts and replicas without one more variable. The signature is defence in depth: the session is a
 * 256-bit random token checked against the database, which is what actually guards the door.
 */
export function sessionSecretFrom(config: Config): string {
  if (config.admin.sessionSecret) return config.admin.sessionSecret;
  const base =
    config.fieldEncryption.key ??
    config.twilio?.authToken ??
    (config.database.kind === 'postgres' ? config.database.url : `pglite:${config.database.dataDir}`);
  return createHmac('sha256', base).update('whatsapp-ai-chatbot admin session cookie v1').digest('base64url');
}

export function adminOptionsFrom(config: Config): AdminOptions {
  return {
    sessionSecret: sessionSecretFrom(config),
    sessionTtlMs: config.admin.sessionTtlMs,
    secureCookies: config.http.publicBaseUrl?.startsWith('https:') ?? false,
    simulatorEnabled: config.simulator.enabled,
    aiEnvironment: config.ai,
    cipher: fieldCipherFrom(config.fieldEncryption),
    appUrl: config.http.publicBaseUrl,
    redact: createRedactor([
      config.twilio?.authToken,
      config.ai.apiKey,
      config.aiFallback?.apiKey,
      config.fieldEncryption.key,
      config.fieldEncryption.previousKey,
      config.admin.sessionSecret,
    ]),
    loginLimit: { max: 5, windowSeconds: 15 * 60 },
    livePollMs: 1000,
    environmentNumbers: environmentNumbers(config).map(({ channel, address }) => ({ channel, address })),
  };
}

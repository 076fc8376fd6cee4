import { randomUUID } from 'node:crypto';
import type { FakeLlm } from '../fakes/llm-server.js';
import type { FakeTwilio } from '../fakes/twilio-server.js';
import { TEST_REDIS_URL } from '../helpers/services.js';

export const BUSINESS_NUMBER = 'whatsapp:+14155238886';

/** A complete environment for the CLI: a test database, the local Redis, and the fake Twilio and LLM. */
export function cliEnv(options: {
  databaseUrl: string;
  twilio: FakeTwilio;
  llm: FakeLlm;
  fieldKey?: string;
}): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: `test-${randomUUID()}`,
    TWILIO_ACCOUNT_SID: options.twilio.accountSid,
    TWILIO_AUTH_TOKEN: options.twilio.authToken,
    TWILIO_WHATSAPP_NUMBER: BUSINESS_NUMBER,
    TWILIO_API_BASE_URL: options.twilio.url,
    AI_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-env-key-for-tests',
    AI_BASE_URL: options.llm.openaiBaseUrl,
    AI_MODEL: 'openai/gpt-env',
    ...(options.fieldKey ? { FIELD_ENCRYPTION_KEY: options.fieldKey } : {}),
  };
}

/** The environment our processes run with in the bench: real PostgreSQL and Redis, fake Twilio and LLM. */
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_BUSINESS_NUMBER } from '../test/helpers/twilio.js';

export const ACCOUNT_SID = TEST_ACCOUNT_SID;
export const AUTH_TOKEN = TEST_AUTH_TOKEN;
export const WEBHOOK_PATH = '/api/whatsapp/webhook/';

export interface AppEnvInput {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  twilioUrl?: string;
  llmBaseUrl?: string;
  workerConcurrency?: number;
}

export function appEnv(input: AppEnvInput): Record<string, string> {
  return {
    NODE_ENV: 'production',
    // A developer's .env must not change what is measured.
    ENV_FILE: '/dev/null',
    HOST: '127.0.0.1',
    PORT: String(input.port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${input.port}`,
    DATABASE_URL: input.databaseUrl,
    AUTO_MIGRATE: 'false',
    REDIS_URL: input.redisUrl,
    REDIS_KEY_PREFIX: input.redisPrefix,
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_WHATSAPP_NUMBER: TEST_BUSINESS_NUMBER,
    ...(input.twilioUrl ? { TWILIO_API_BASE_URL: input.twilioUrl } : {}),
    AI_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-bench-not-a-real-key',
    ...(input.llmBaseUrl ? { AI_BASE_URL: input.llmBaseUrl } : {}),
    AI_MODEL: 'openai/gpt-bench',
    // Each bench message comes from its own user: answer at once instead of waiting for more of a burst, and
    // never hit the per-user limit.
    BURST_WINDOW_MS: '0',
    RATE_LIMIT_MAX_REQUESTS: '1000000',
    // The load comes from one address where Twilio's comes from many: keep the per-IP limit (and its Redis
    // round trip) in the measured path, but never reached.
    IP_RATE_LIMIT_MAX: '1000000000',
    WORKER_CONCURRENCY: String(input.workerConcurrency ?? 200),
    LOG_LEVEL: 'warn',
    // For experiments: settings over the ones above, e.g. BENCH_APP_ENV='{"METRICS_ENABLED":"false"}'.
    ...(process.env.BENCH_APP_ENV ? (JSON.parse(process.env.BENCH_APP_ENV) as Record<string, string>) : {}),
  };
}

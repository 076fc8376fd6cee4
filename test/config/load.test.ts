import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validate } from '../../src/config/load.js';

const TWILIO = {
  TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'token',
  TWILIO_WHATSAPP_NUMBER: 'whatsapp:+14155238886',
};

describe('config', () => {
  it('opt-out keywords: the documented defaults, a comma-separated list when set, a blank message refused', () => {
    const defaults = loadConfig({}).consent;
    expect(defaults.optOutKeywords).toEqual([
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
    ]);
    expect(defaults.optInKeywords).toEqual(['START', 'UNSTOP', 'YES', 'INICIAR']);
    expect(defaults.helpKeywords).toContain('HELP');
    expect(defaults.optOutMessage).toMatch(/START/);
    const set = loadConfig({
      OPT_OUT_KEYWORDS: ' stop , ,halt',
      HELP_KEYWORDS: 'info, help',
      OPT_OUT_MESSAGE: 'Bye. START to return.',
    });
    expect(set.consent).toMatchObject({
      optOutKeywords: ['stop', 'halt'],
      helpKeywords: ['info', 'help'],
      optOutMessage: 'Bye. START to return.',
    });
    expect(() => loadConfig({ OPT_IN_MESSAGE: '   ' })).toThrow(ConfigError);
  });

  it('starts with no variables at all: embedded database, in-process hot state, offline AI', () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(8000);
    expect(config.database).toEqual({ kind: 'pglite', dataDir: './data/pglite' });
    expect(config.redis).toEqual({ kind: 'memory' });
    expect(config.ai.provider).toBe('offline');
    expect(config.twilio).toBeNull();
    expect(config.conversation).toEqual({
      maxHistory: 10,
      sessionTimeoutMs: 30 * 60_000,
      rateLimitMax: 10,
      rateLimitWindowSeconds: 60,
      burstWindowMs: 1500,
      burstMaxWaitMs: 6000,
      maxMessageLength: 4096,
    });
  });

  it('reports every problem at once, naming the variable and never a secret value', () => {
    const result = validate({
      PORT: 'eighty',
      MAX_CONVERSATION_HISTORY: '0',
      TWILIO_ACCOUNT_SID: 'not-a-sid',
      TWILIO_WHATSAPP_NUMBER: '+14155238886',
      DATABASE_URL: 'mysql://x',
      OPENAI_API_KEY: 'sk-secret-value',
      AI_TIMEOUT_SECONDS: '-1',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.problems.join('\n');
    for (const name of [
      'PORT',
      'MAX_CONVERSATION_HISTORY',
      'TWILIO_ACCOUNT_SID',
      'TWILIO_WHATSAPP_NUMBER',
      'DATABASE_URL',
      'AI_TIMEOUT_SECONDS',
    ]) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain('sk-secret-value');
  });

  it('reports problems between settings together with malformed values, not one round after the other', () => {
    const result = validate({
      PORT: 'abc',
      TWILIO_ACCOUNT_SID: TWILIO.TWILIO_ACCOUNT_SID,
      AI_PROVIDER: 'anthropic',
      NODE_ENV: 'production',
      SKIP_WEBHOOK_SIGNATURE_VERIFICATION: 'true',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const names = result.problems.map((problem) => problem.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'PORT',
        'TWILIO_AUTH_TOKEN',
        'TWILIO_WHATSAPP_NUMBER',
        'ANTHROPIC_API_KEY',
        'SKIP_WEBHOOK_SIGNATURE_VERIFICATION',
      ]),
    );
    // A malformed variable is named once, not again as "required".
    const sid = validate({ TWILIO_ACCOUNT_SID: 'not-a-sid', TWILIO_AUTH_TOKEN: 'x' });
    expect(!sid.ok && sid.problems.filter((p) => p.startsWith('TWILIO_ACCOUNT_SID'))).toHaveLength(1);
  });

  it('lists missing Twilio settings together when only some are given', () => {
    const result = validate({ TWILIO_ACCOUNT_SID: TWILIO.TWILIO_ACCOUNT_SID });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      'TWILIO_AUTH_TOKEN: required when any TWILIO_* variable is set',
      'TWILIO_WHATSAPP_NUMBER: required when any TWILIO_* variable is set',
    ]);
  });

  it('reads the default Meta number and the Graph API settings, all four META_* or none', () => {
    const none = loadConfig({});
    expect(none.meta).toBeNull();
    expect(none.graphApi).toEqual({ baseUrl: 'https://graph.facebook.com', version: 'v24.0' });
    const meta = {
      META_PHONE_NUMBER_ID: '106540352242922',
      META_ACCESS_TOKEN: 'EAAG-token',
      META_APP_SECRET: 'app-secret',
      META_VERIFY_TOKEN: 'verify-me',
    };
    const config = loadConfig({
      ...meta,
      META_GRAPH_API_BASE_URL: 'http://127.0.0.1:9999/',
      META_GRAPH_API_VERSION: 'v25.0',
    });
    expect(config.meta).toEqual({
      phoneNumberId: '106540352242922',
      accessToken: 'EAAG-token',
      appSecret: 'app-secret',
      verifyToken: 'verify-me',
    });
    expect(config.graphApi).toEqual({ baseUrl: 'http://127.0.0.1:9999', version: 'v25.0' });
    // A Meta number alone is a configured channel: the simulator is not switched on by default.
    expect(config.simulator.enabled).toBe(false);
    const partial = validate({ META_ACCESS_TOKEN: 'x' });
    expect(!partial.ok && partial.problems).toEqual([
      'META_PHONE_NUMBER_ID: required when any of META_PHONE_NUMBER_ID, META_ACCESS_TOKEN, META_APP_SECRET, META_VERIFY_TOKEN is set',
      'META_APP_SECRET: required when any of META_PHONE_NUMBER_ID, META_ACCESS_TOKEN, META_APP_SECRET, META_VERIFY_TOKEN is set',
      'META_VERIFY_TOKEN: required when any of META_PHONE_NUMBER_ID, META_ACCESS_TOKEN, META_APP_SECRET, META_VERIFY_TOKEN is set',
    ]);
    const badId = validate({ ...meta, META_PHONE_NUMBER_ID: '+1 555 0100', META_GRAPH_API_VERSION: '24' });
    expect(!badId.ok && badId.problems.map((p) => p.split(':')[0])).toEqual([
      'META_PHONE_NUMBER_ID',
      'META_GRAPH_API_VERSION',
    ]);
  });

  it('keeps media in MEDIA_DIR unless S3_BUCKET names a bucket; half an S3 setup is refused', () => {
    const local = loadConfig({});
    expect(local.media).toEqual({
      maxBytes: 16 * 1024 * 1024,
      store: { kind: 'local', dir: './data/media' },
    });
    const minio = loadConfig({
      S3_BUCKET: 'chatbot-media',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY_ID: 'minio',
      S3_SECRET_ACCESS_KEY: 'minio-secret',
      MEDIA_MAX_BYTES: '5000000',
    });
    expect(minio.media).toEqual({
      maxBytes: 5_000_000,
      store: {
        kind: 's3',
        bucket: 'chatbot-media',
        region: 'us-east-1',
        endpoint: 'http://127.0.0.1:9000',
        accessKeyId: 'minio',
        secretAccessKey: 'minio-secret',
        // An S3-compatible server: path style unless told otherwise.
        forcePathStyle: true,
        prefix: '',
      },
    });
    expect(loadConfig({ S3_BUCKET: 'b' }).media.store).toMatchObject({ kind: 's3', forcePathStyle: false });
    const half = validate({ S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'only-the-id' });
    expect(!half.ok && half.problems).toEqual([
      'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both, or neither (the SDK then finds its own)',
    ]);
    const noBucket = validate({ S3_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(!noBucket.ok && noBucket.problems).toEqual([
      'S3_ENDPOINT: set S3_BUCKET too (the bucket media go to)',
    ]);
  });

  it('throws a ConfigError listing the problems from loadConfig', () => {
    expect(() => loadConfig({ PORT: '99999' })).toThrow(ConfigError);
  });

  it('treats empty variables as unset, as the original .env did', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '', REDIS_URL: '' }).http.port).toBe(8000);
  });

  it('lets DATABASE_URL and REDIS_URL win over DB_* and REDIS_*', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u@h:1/db',
      DB_HOST: 'other',
      REDIS_URL: 'redis://r:2/3',
      REDIS_HOST: 'other',
    });
    expect(config.database).toMatchObject({ kind: 'postgres', url: 'postgresql://u@h:1/db' });
    expect(config.redis).toEqual({ kind: 'redis', url: 'redis://r:2/3' });
  });

  it('builds URLs from the Django-style DB_* and REDIS_* variables, escaping passwords', () => {
    const config = loadConfig({
      DB_NAME: 'chat',
      DB_USER: 'bot',
      DB_PASSWORD: 'p@ss/word',
      DB_HOST: 'db',
      REDIS_HOST: 'cache',
      REDIS_DB: '2',
    });
    expect(config.database).toMatchObject({ url: 'postgresql://bot:p%40ss%2Fword@db:5432/chat' });
    expect(config.redis).toEqual({ kind: 'redis', url: 'redis://cache:6379/2' });
  });

  it('prefers OpenRouter, then OpenAI, then Anthropic keys', () => {
    const both = loadConfig({ OPENROUTER_API_KEY: 'or', OPENAI_API_KEY: 'oa', AI_MODEL: 'openai/gpt-4' });
    expect(both.ai).toMatchObject({ provider: 'openrouter', apiKey: 'or', model: 'openai/gpt-4' });
    expect(both.ai.baseUrl).toBe('https://openrouter.ai/api/v1');
    const openai = loadConfig({ OPENAI_API_KEY: 'oa', AI_MODEL: 'openai/gpt-4' });
    expect(openai.ai).toMatchObject({ provider: 'openai', apiKey: 'oa', model: 'gpt-4' });
    expect(loadConfig({ OPENAI_API_KEY: 'oa', OPENAI_MODEL: 'gpt-4.1' }).ai.model).toBe('gpt-4.1');
    const anthropic = loadConfig({ ANTHROPIC_API_KEY: 'an', AI_MODEL: 'anthropic/claude-sonnet-4-6' });
    expect(anthropic.ai).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-6' });
  });

  it('uses a bare AI_BASE_URL as an OpenAI-compatible server (Ollama) without a key', () => {
    const config = loadConfig({ AI_BASE_URL: 'http://127.0.0.1:11434/v1', AI_MODEL: 'llama3.1' });
    expect(config.ai).toMatchObject({ provider: 'openai-compatible', apiKey: undefined, model: 'llama3.1' });
  });

  it('refuses a forced provider without its key', () => {
    const result = validate({ AI_PROVIDER: 'anthropic' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join()).toContain('ANTHROPIC_API_KEY');
  });

  it('refuses to skip signature verification in production and warns loudly elsewhere', () => {
    const production = validate({
      ...TWILIO,
      NODE_ENV: 'production',
      SKIP_WEBHOOK_SIGNATURE_VERIFICATION: 'true',
    });
    expect(production.ok).toBe(false);
    const development = validate({ ...TWILIO, SKIP_WEBHOOK_SIGNATURE_VERIFICATION: 'true' });
    expect(development.ok).toBe(true);
    if (development.ok) {
      expect(development.config.skipWebhookSignature).toBe(true);
      expect(development.warnings.map((w) => w.text).join()).toContain('NOT checked');
    }
  });

  it('accepts Python-style booleans and rejects nonsense', () => {
    expect(loadConfig({ SKIP_WEBHOOK_SIGNATURE_VERIFICATION: 'True' }).skipWebhookSignature).toBe(true);
    expect(validate({ TRUST_PROXY: 'maybe' }).ok).toBe(false);
  });

  it('strips the trailing slash of PUBLIC_BASE_URL', () => {
    expect(loadConfig({ PUBLIC_BASE_URL: 'https://bot.example.com/' }).http.publicBaseUrl).toBe(
      'https://bot.example.com',
    );
  });

  it('reads WINDOW_TEMPLATE and its variables as the Twilio window template, and checks both', () => {
    const sid = `HX${'0123456789abcdef'.repeat(2)}`;
    expect(loadConfig({}).window.templates).toEqual({});
    expect(
      loadConfig({ WINDOW_TEMPLATE: sid, WINDOW_TEMPLATE_VARIABLES: '{"1":"there","name":"Ana"}' }).window
        .templates,
    ).toEqual({
      twilio: { type: 'template', templateId: sid, variables: { '1': 'there', name: 'Ana' } },
    });
    expect(loadConfig({ WINDOW_TEMPLATE: sid }).window.templates.twilio?.variables).toEqual({});
    const bad = validate({
      WINDOW_TEMPLATE: 'HX123',
      WINDOW_TEMPLATE_VARIABLES: '{"1": 2}',
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.problems.join('\n')).toMatch(/WINDOW_TEMPLATE: must be a Twilio Content SID/);
      expect(bad.problems.join('\n')).toMatch(/WINDOW_TEMPLATE_VARIABLES: "1": a value is a string/);
    }
    for (const variables of ['[1]', 'not json', '{"has space":"x"}', `{"${'k'.repeat(17)}":"x"}`])
      expect(validate({ WINDOW_TEMPLATE: sid, WINDOW_TEMPLATE_VARIABLES: variables }).ok).toBe(false);
    const orphan = validate({ WINDOW_TEMPLATE_VARIABLES: '{"1":"x"}' });
    expect(orphan.ok).toBe(false);
    if (!orphan.ok)
      expect(orphan.problems).toContain(
        'WINDOW_TEMPLATE_VARIABLES: set WINDOW_TEMPLATE too (the template they fill)',
      );
  });

  it('reads META_WINDOW_TEMPLATE with its language (en_US by default) and body parameters as the Meta window template', () => {
    expect(loadConfig({ META_WINDOW_TEMPLATE: 'follow_up' }).window.templates).toEqual({
      meta: { type: 'template', templateId: 'follow_up', language: 'en_US', variables: {} },
    });
    const sid = `HX${'0123456789abcdef'.repeat(2)}`;
    expect(
      loadConfig({
        WINDOW_TEMPLATE: sid,
        META_WINDOW_TEMPLATE: 'follow_up',
        META_WINDOW_TEMPLATE_LANGUAGE: 'pt_BR',
        META_WINDOW_TEMPLATE_VARIABLES: '{"1":"there"}',
      }).window.templates,
    ).toEqual({
      twilio: { type: 'template', templateId: sid, variables: {} },
      meta: { type: 'template', templateId: 'follow_up', language: 'pt_BR', variables: { '1': 'there' } },
    });
    const bad = validate({
      META_WINDOW_TEMPLATE: 'Follow Up',
      META_WINDOW_TEMPLATE_LANGUAGE: 'english',
      META_WINDOW_TEMPLATE_VARIABLES: '[1]',
    });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      const problems = bad.problems.join('\n');
      expect(problems).toMatch(/META_WINDOW_TEMPLATE: must be a Meta template's name/);
      expect(problems).toMatch(/META_WINDOW_TEMPLATE_LANGUAGE: must be a language code/);
      expect(problems).toMatch(/META_WINDOW_TEMPLATE_VARIABLES: must be a JSON object/);
    }
    const orphan = validate({ META_WINDOW_TEMPLATE_VARIABLES: '{"1":"x"}' });
    expect(orphan.ok).toBe(false);
    if (!orphan.ok)
      expect(orphan.problems).toContain(
        'META_WINDOW_TEMPLATE_VARIABLES: set META_WINDOW_TEMPLATE too (the template they fill)',
      );
  });
});

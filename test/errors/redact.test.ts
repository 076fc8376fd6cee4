import { describe, expect, it } from 'vitest';
import { createRedactor, redactError, safeContext } from '../../src/errors/redact.js';

const redact = createRedactor(['tw-auth-0123456789', 'p@ss/word!', undefined, 'abc']);

describe('createRedactor', () => {
  it('removes every configured secret value wherever it appears, URL-encoded forms too', () => {
    expect(redact('token tw-auth-0123456789 rejected; again tw-auth-0123456789')).toBe(
      'token [redacted] rejected; again [redacted]',
    );
    expect(redact(`postgresql://bot:${encodeURIComponent('p@ss/word!')}@db/x`)).not.toContain('word');
  });

  it('leaves short configured values alone so ordinary words survive', () => {
    expect(redact('abc def')).toBe('abc def');
  });

  it.each([
    ['Incorrect API key provided: sk-proj-AbCdEf123456789', 'sk-proj-AbCdEf123456789'],
    ['sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload', 'eyJhbGciOiJIUzI1NiJ9'],
    ['Basic QUMxMjM6c2VjcmV0c2VjcmV0', 'QUMxMjM6c2VjcmV0c2VjcmV0'],
    ['connect redis://:hunter2hunter2@redis:6379 failed', 'hunter2hunter2'],
    ['login failed password=letmein123', 'letmein123'],
    ['{"api_key": "zzz-unknown-key"}', 'zzz-unknown-key'],
  ])('removes secrets it was not told about by their shape: %s', (text, secret) => {
    const out = redact(text);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });
});

describe('safeContext', () => {
  it('keeps primitive values, drops objects and every key that names a secret', () => {
    expect(
      safeContext(
        {
          requestId: 'r-1',
          attempt: 2,
          retryable: true,
          authToken: 'x',
          apiKey: 'y',
          smtpPassword: 'z',
          'x-twilio-signature': 's',
          body: { Body: 'hi' },
          note: 'with tw-auth-0123456789 inside',
        },
        redact,
      ),
    ).toEqual({ requestId: 'r-1', attempt: 2, retryable: true, note: 'with [redacted] inside' });
  });
});

describe('redactError', () => {
  it('redacts the message, the stack and the causes of an error', () => {
    const error = new Error('outer tw-auth-0123456789', { cause: new Error('inner p@ss/word!') });
    const out = redactError(error, redact);
    expect(JSON.stringify(out)).not.toContain('tw-auth-0123456789');
    expect(JSON.stringify(out)).not.toContain('p@ss/word!');
    expect(out.message).toBe('outer [redacted]');
    expect(out.cause?.message).toBe('inner [redacted]');
  });
});

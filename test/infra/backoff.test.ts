import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { MAX_RETRY_DELAY_MS, isFinalError, retryDelayMs } from '../../src/infra/backoff.js';

const middle = (): number => 0.5;

describe('retryDelayMs', () => {
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [5, 16_000],
  ])(
    'after %i attempts waits backoffMs·2^(n−1) = %i ms at the middle of the jitter',
    (attempts, expected) => {
      expect(retryDelayMs(attempts, 1000, new Error('x'), middle)).toBe(expected);
    },
  );

  it('jitters within ±25 %', () => {
    expect(retryDelayMs(2, 1000, new Error('x'), () => 0)).toBe(1500);
    expect(retryDelayMs(2, 1000, new Error('x'), () => 0.999_999)).toBe(2500);
  });

  it('never waits longer than the cap', () => {
    expect(retryDelayMs(40, 1000, new Error('x'), middle)).toBe(MAX_RETRY_DELAY_MS);
  });

  it('waits at least as long as the provider asked with Retry-After', () => {
    const limited = new AppError('ai_rate_limited', 'slow down', { retryAfterSeconds: 30 });
    expect(retryDelayMs(1, 1000, limited, middle)).toBe(30_000);
    const shortAsk = new AppError('ai_rate_limited', 'slow down', { retryAfterSeconds: 1 });
    expect(retryDelayMs(4, 1000, shortAsk, middle)).toBe(8000);
  });
});

describe('isFinalError', () => {
  it('is true only for an AppError that is not retryable', () => {
    expect(isFinalError(new AppError('ai_auth', 'bad key'))).toBe(true);
    expect(isFinalError(new AppError('ai_timeout', 'slow'))).toBe(false);
    expect(isFinalError(new AppError('internal', 'bug', { retryable: true }))).toBe(false);
    expect(isFinalError(new Error('plain'))).toBe(false);
  });
});

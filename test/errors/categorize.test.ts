import { describe, expect, it } from 'vitest';
import { AppError, type ErrorKind } from '../../src/domain/errors.js';
import { alertsFor, categorize } from '../../src/errors/categorize.js';

describe('categorize', () => {
  it.each<[ErrorKind, string, string]>([
    ['database_unavailable', 'DATABASE', 'CRITICAL'],
    ['ai_auth', 'AI', 'CRITICAL'],
    ['ai_bad_request', 'AI', 'HIGH'],
    ['ai_timeout', 'AI', 'MEDIUM'],
    ['ai_rate_limited', 'AI', 'MEDIUM'],
    ['ai_unavailable', 'AI', 'MEDIUM'],
    ['channel_auth', 'WHATSAPP', 'CRITICAL'],
    ['channel_unavailable', 'WHATSAPP', 'MEDIUM'],
    ['channel_rate_limited', 'WHATSAPP', 'MEDIUM'],
    ['channel_rejected', 'WHATSAPP', 'LOW'],
    ['bad_signature', 'WEBHOOK', 'LOW'],
    ['invalid_input', 'WEBHOOK', 'LOW'],
    ['payload_too_large', 'WEBHOOK', 'LOW'],
    ['config', 'CONFIGURATION', 'CRITICAL'],
    ['queue_unavailable', 'SYSTEM', 'HIGH'],
    ['internal', 'SYSTEM', 'HIGH'],
  ])('AppError %s is %s / %s, typed by its kind', (kind, category, severity) => {
    expect(categorize(new AppError(kind, 'x'))).toEqual({ category, severity, type: kind });
  });

  it.each<[ErrorKind, string]>([
    ['ai_unavailable', 'HIGH'],
    ['ai_timeout', 'HIGH'],
    ['ai_rate_limited', 'MEDIUM'],
    ['ai_auth', 'CRITICAL'],
    ['ai_bad_request', 'HIGH'],
    ['channel_unavailable', 'MEDIUM'],
    ['database_unavailable', 'CRITICAL'],
  ])('given up on (retries and fallback exhausted), AppError %s is %s', (kind, severity) => {
    expect(categorize(new AppError(kind, 'x'), { givenUp: true })).toEqual({
      ...categorize(new AppError(kind, 'x')),
      severity,
    });
  });

  it('an error that is not an AppError is a SYSTEM error of HIGH severity typed by its class name', () => {
    expect(categorize(new TypeError('x'))).toEqual({
      category: 'SYSTEM',
      severity: 'HIGH',
      type: 'TypeError',
    });
    expect(categorize('a string')).toEqual({ category: 'SYSTEM', severity: 'HIGH', type: 'string' });
  });

  it('only HIGH and CRITICAL alert an administrator', () => {
    expect([alertsFor('LOW'), alertsFor('MEDIUM'), alertsFor('HIGH'), alertsFor('CRITICAL')]).toEqual([
      false,
      false,
      true,
      true,
    ]);
  });
});

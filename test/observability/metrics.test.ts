import { describe, expect, it } from 'vitest';
import { AppError, type ErrorKind } from '../../src/domain/errors.js';
import { categorize } from '../../src/errors/categorize.js';
import { classifyError, ERROR_CATEGORIES, ERROR_SEVERITIES } from '../../src/observability/errors.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { parseExposition, valueOf } from './scrape.js';

const read = async (metrics: ReturnType<typeof createMetrics>) =>
  parseExposition(await metrics.registry.metrics());

describe('the metrics registry', () => {
  it('reads the queue depth at scrape time, by state', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let waiting = 3;
    metrics.observeQueue(() => Promise.resolve({ waiting, active: 2, delayed: 1, failed: 0 }));
    expect(valueOf(await read(metrics), 'chatbot_queue_jobs', { state: 'waiting' })).toBe(3);
    waiting = 40;
    const samples = await read(metrics);
    expect(valueOf(samples, 'chatbot_queue_jobs', { state: 'waiting' })).toBe(40);
    expect(valueOf(samples, 'chatbot_queue_jobs', { state: 'active' })).toBe(2);
  });

  it('still answers when the queue cannot be read, without stale depth figures', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let up = true;
    metrics.observeQueue(() =>
      up
        ? Promise.resolve({ waiting: 7, active: 0, delayed: 0, failed: 0 })
        : Promise.reject(new Error('redis down')),
    );
    expect(valueOf(await read(metrics), 'chatbot_queue_jobs', { state: 'waiting' })).toBe(7);
    up = false;
    const samples = await read(metrics);
    expect(samples.filter((s) => s.name === 'chatbot_queue_jobs')).toEqual([]);
    metrics.recordError('SYSTEM', 'HIGH');
    expect(
      valueOf(await read(metrics), 'chatbot_errors_total', { category: 'SYSTEM', severity: 'HIGH' }),
    ).toBe(1);
  });

  it('keeps one registry per call, so two apps in one process do not mix their figures', async () => {
    const first = createMetrics({ processMetrics: false });
    const second = createMetrics({ processMetrics: false });
    first.recordError('AI', 'MEDIUM');
    expect(valueOf(await read(first), 'chatbot_errors_total', { category: 'AI', severity: 'MEDIUM' })).toBe(
      1,
    );
    expect(valueOf(await read(second), 'chatbot_errors_total', { category: 'AI', severity: 'MEDIUM' })).toBe(
      0,
    );
  });
});

describe('error classes', () => {
  it('maps every AppError kind to a known category and severity', () => {
    const kinds = [
      'bad_signature',
      'config',
      'ai_timeout',
      'ai_auth',
      'channel_rejected',
      'database_unavailable',
    ] as const;
    const classes = kinds.map((kind) => classifyError(new AppError(kind, 'x')));
    expect(classes).toEqual([
      { category: 'WEBHOOK', severity: 'LOW' },
      { category: 'CONFIGURATION', severity: 'CRITICAL' },
      { category: 'AI', severity: 'MEDIUM' },
      { category: 'AI', severity: 'CRITICAL' },
      { category: 'WHATSAPP', severity: 'LOW' },
      // PostgreSQL down: nothing is accepted until a person acts, as the error reporter logs it.
      { category: 'DATABASE', severity: 'CRITICAL' },
    ]);
    for (const c of classes) {
      expect(ERROR_CATEGORIES).toContain(c.category);
      expect(ERROR_SEVERITIES).toContain(c.severity);
    }
  });

  it('counts every AppError kind with the category and severity the error reporter logs it with', () => {
    // Every kind, checked by the compiler: a kind added to ErrorKind must be listed here.
    const every: Record<ErrorKind, true> = {
      invalid_input: true,
      bad_signature: true,
      payload_too_large: true,
      not_found: true,
      unauthorized: true,
      forbidden: true,
      conflict: true,
      config: true,
      ai_rate_limited: true,
      ai_timeout: true,
      ai_auth: true,
      ai_bad_request: true,
      ai_unavailable: true,
      channel_rate_limited: true,
      channel_unavailable: true,
      channel_rejected: true,
      channel_auth: true,
      channel_unsupported: true,
      database_unavailable: true,
      queue_unavailable: true,
      internal: true,
    };
    for (const kind of Object.keys(every) as ErrorKind[]) {
      const error = new AppError(kind, 'x');
      const { category, severity } = categorize(error);
      expect({ kind, ...classifyError(error) }).toEqual({ kind, category, severity });
      expect({ kind, ...classifyError(error, 'AI') }).toEqual({ kind, category, severity });
    }
  });

  it('treats an unexpected error as HIGH, in the part it came from when known', () => {
    expect(classifyError(new TypeError('oops'))).toEqual({ category: 'SYSTEM', severity: 'HIGH' });
    expect(classifyError('a string', 'AI')).toEqual({ category: 'AI', severity: 'HIGH' });
  });
});

import { describe, expect, it } from 'vitest';
import { messageDeliveryStatus } from '../../src/domain/delivery.js';
import type { DeliveryStatus } from '../../src/domain/types.js';

describe('messageDeliveryStatus', () => {
  it.each<[DeliveryStatus[], DeliveryStatus]>([
    [[], 'pending'],
    [['read'], 'read'],
    [['read', 'delivered'], 'delivered'],
    [['sent', 'read', 'sending'], 'sending'],
    [['delivered', 'failed'], 'failed'],
    [['sent', 'undelivered', 'read'], 'undelivered'],
    [['queued', 'sent'], 'queued'],
  ])('%j → %s', (parts, expected) => {
    expect(messageDeliveryStatus(parts)).toBe(expected);
  });
});

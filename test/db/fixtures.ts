/** Builders shared by the database tests. */
import { randomUUID } from 'node:crypto';
import type { ReplyInput } from '../../src/db/messages.js';
import type { InboundMessage } from '../../src/domain/types.js';

export function sid(): string {
  return `SM${randomUUID().replaceAll('-', '')}`;
}

/** A random new sender, so tests in one database never meet each other's conversations. */
export function sender(): string {
  return `whatsapp:+1${String(Math.floor(Math.random() * 1e10)).padStart(10, '0')}`;
}

export function inbound(overrides: Partial<InboundMessage> = {}): InboundMessage {
  return {
    channel: 'twilio',
    providerMessageId: sid(),
    from: sender(),
    to: 'whatsapp:+14155238886',
    body: 'hello',
    content: { type: 'text', text: overrides.body ?? 'hello' },
    context: {},
    profileName: 'Ada',
    metadata: {},
    ...overrides,
  };
}

export function rows<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/** A plain reply (no model, no usage) of `parts` to the given messages. */
export function plainReply(
  conversationId: string,
  answeredIds: string[],
  parts: string[],
  to = 'whatsapp:+14155550100',
): ReplyInput {
  return {
    conversationId,
    answeredIds,
    content: parts.join(' '),
    parts,
    to,
    from: null,
    model: null,
    provider: null,
    usage: null,
    latencyMs: null,
    errorKind: null,
  };
}

/**
 * What the reliability suites share: short recovery timings, a sender per test, and the one assertion they all
 * end with: the user got exactly one reply, and the database agrees with what Twilio has.
 */
import { expect } from 'vitest';
import { eventually } from '../helpers/app.js';
import type { ProcessDeployment } from '../helpers/processes.js';

export const WEBHOOK = '/api/whatsapp/webhook/';

/**
 * Production waits 30 s before another worker takes over a dead worker's job and conversation; here 2–3 s,
 * so a crash is recovered within seconds (the mechanism is the same, only the clocks are faster).
 */
export const FAST_RECOVERY: Record<string, string> = {
  QUEUE_LOCK_DURATION_MS: '3000',
  QUEUE_STALLED_INTERVAL_MS: '1500',
  CONVERSATION_LOCK_TTL_MS: '3000',
};

let counter = 0;
/** A new WhatsApp sender per test, so conversations never mix (pid keeps parallel files apart). */
export function newSender(): string {
  counter += 1;
  const suffix = String((process.pid % 1000) * 100 + counter).padStart(6, '0');
  return `whatsapp:+1415${suffix}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ConversationState {
  inbound: Array<string | null>;
  assistantReplies: string[];
  deliveries: Array<{ status: string; sid: string | null; body: string }>;
}

/** What the database holds for one sender's conversation. */
export async function conversationState(
  deployment: ProcessDeployment,
  from: string,
): Promise<ConversationState> {
  const messages = await deployment.query<{
    role: string;
    content: string;
    processing_status: string | null;
  }>(
    `select m.role, m.content, m.processing_status from messages m
       join conversations c on c.id = m.conversation_id
     where c.user_address = $1 order by m.created_at, m.id`,
    [from],
  );
  const deliveries = await deployment.query<{
    status: string;
    provider_message_id: string | null;
    body: string;
  }>(
    `select d.status, d.provider_message_id, d.body from deliveries d
       join conversations c on c.id = d.conversation_id
     where c.user_address = $1 order by d.created_at, d.part_index`,
    [from],
  );
  return {
    inbound: messages.filter((m) => m.role === 'user').map((m) => m.processing_status),
    assistantReplies: messages.filter((m) => m.role === 'assistant').map((m) => m.content),
    deliveries: deliveries.map((d) => ({ status: d.status, sid: d.provider_message_id, body: d.body })),
  };
}

/**
 * Wait until `from` got a reply and the database recorded its SID, then wait `settleMs` more (long enough for a
 * re-run job to send a duplicate, if one were going to) and check: exactly one message reached Twilio, with
 * `text`; every inbound message is answered; one assistant row; the part accepted (queued), with Twilio's SID.
 */
export async function expectExactlyOneReply(
  deployment: ProcessDeployment,
  from: string,
  text: string,
  options: { inbound?: number; timeoutMs?: number; settleMs?: number } = {},
): Promise<void> {
  const sentTo = () => deployment.twilio.sent.filter((m) => m.to === from);
  await eventually(
    `a recorded reply to ${from}`,
    async () => {
      const state = await conversationState(deployment, from);
      const done = state.deliveries.length > 0 && state.deliveries.every((d) => d.sid !== null);
      return done && sentTo().length > 0 ? true : undefined;
    },
    options.timeoutMs ?? 40_000,
  );
  await sleep(options.settleMs ?? 2000);
  const sent = sentTo();
  expect(sent.map((m) => m.body)).toEqual([text]);
  const state = await conversationState(deployment, from);
  expect(state.inbound).toEqual(Array.from({ length: options.inbound ?? 1 }, () => 'answered'));
  expect(state.assistantReplies).toEqual([text]);
  // 'queued' is what Twilio (and the fake) answers a send with; no status callback moves it on in these tests.
  expect(state.deliveries).toEqual([{ status: 'queued', sid: sent[0]!.sid, body: text }]);
}

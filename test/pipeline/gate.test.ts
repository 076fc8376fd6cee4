/** The gate and its policies, one at a time, on the in-process adapters (real implementations of the ports). */
import { describe, expect, it } from 'vitest';
import type { PendingInbound } from '../../src/db/messages.js';
import { CONSENT_DEFAULTS } from '../../src/domain/opt-out.js';
import { createMemoryLocks } from '../../src/infra/memory/locks.js';
import { createMemoryRateLimiter } from '../../src/infra/memory/rate-limiter.js';
import { silentLogger } from '../../src/log.js';
import { runGate, type GateConversation } from '../../src/pipeline/gate.js';
import { conversationModePolicy } from '../../src/pipeline/policies/conversation-mode.js';
import { handoffKeywordPolicy } from '../../src/pipeline/policies/handoff-keyword.js';
import { inboundPolicies } from '../../src/pipeline/policies/index.js';
import { rateLimitPolicy } from '../../src/pipeline/policies/rate-limit.js';
import { reactionPolicy } from '../../src/pipeline/policies/reaction.js';
import { tooLongPolicy } from '../../src/pipeline/policies/too-long.js';

let n = 0;
function message(overrides: Partial<PendingInbound> = {}): PendingInbound {
  n += 1;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    content: 'hello',
    contentType: 'text',
    payload: null,
    attempts: 0,
    metadata: {},
    providerMessageId: `SM${n}`,
    createdAt: new Date(),
    ...overrides,
  };
}
const conversation = (mode: GateConversation['mode'] = 'bot'): GateConversation => ({
  id: 'c-1',
  channel: 'twilio',
  userAddress: `whatsapp:+1555000${String(n).padStart(4, '0')}`,
  mode,
  optedOutAt: null,
});
const now = new Date();

describe('conversation mode policy', () => {
  it.each([
    ['bot', { kind: 'answer' }],
    ['human', { kind: 'skip', reason: 'mode_human' }],
    ['paused', { kind: 'skip', reason: 'mode_paused' }],
  ] as const)('%s → %o', (mode, decision) => {
    expect(conversationModePolicy(message(), conversation(mode), now)).toEqual(decision);
  });
});

describe('handoff keyword policy', () => {
  const policy = handoffKeywordPolicy(['human', 'atendente']);
  it('asks for a handoff on a keyword in bot and human mode, never in paused', () => {
    const asking = message({ content: 'a HUMAN please' });
    expect(policy(asking, conversation('bot'), now)).toEqual({ kind: 'handoff', keyword: 'human' });
    expect(policy(asking, conversation('human'), now)).toEqual({ kind: 'handoff', keyword: 'human' });
    expect(policy(asking, conversation('paused'), now)).toEqual({ kind: 'answer' });
    expect(policy(message({ content: 'humanity' }), conversation(), now)).toEqual({ kind: 'answer' });
  });
  it("reads the user's own words: a caption, not a quote or a reaction's rendering", () => {
    const caption = message({
      contentType: 'media',
      content: '[image] quero um atendente',
      payload: { content: { type: 'media', items: [], caption: 'quero um atendente' }, context: {} },
    });
    expect(policy(caption, conversation(), now)).toMatchObject({ kind: 'handoff', keyword: 'atendente' });
    const quoting = message({
      content: '[Replying to: "talk to a human"]\nthanks',
      payload: {
        content: { type: 'text', text: 'thanks' },
        context: { quote: { providerMessageId: 'SMq', text: 'talk to a human' } },
      },
    });
    expect(policy(quoting, conversation(), now)).toEqual({ kind: 'answer' });
    const reaction = message({
      contentType: 'reaction',
      content: 'reacted 👍 to "human"',
      payload: { content: { type: 'reaction', emoji: '👍', targetProviderMessageId: 'SMx' }, context: {} },
    });
    expect(policy(reaction, conversation(), now)).toEqual({ kind: 'answer' });
    expect(policy({ ...reaction, payload: null }, conversation(), now)).toEqual({ kind: 'answer' });
  });
});

describe('reaction policy', () => {
  it('skips a reaction and lets every other kind through', () => {
    expect(reactionPolicy(message({ contentType: 'reaction' }), conversation(), now)).toEqual({
      kind: 'skip',
      reason: 'reaction',
    });
    for (const contentType of ['text', 'media', 'location', 'interactive_reply', 'unsupported'])
      expect(reactionPolicy(message({ contentType }), conversation(), now)).toEqual({ kind: 'answer' });
  });
});

describe('too-long policy', () => {
  const policy = tooLongPolicy(10);
  it('answers a message within the cap, notices one whose stored original length was over it', () => {
    expect(policy(message({ content: '0123456789' }), conversation(), now)).toEqual({ kind: 'answer' });
    expect(
      policy(message({ content: '0123456789', metadata: { originalLength: 11 } }), conversation(), now),
    ).toMatchObject({ kind: 'notice', reason: 'too_long' });
  });
  it('does not count our rendering around the user text (a forwarded note, a quote)', () => {
    const rendered = `[Forwarded]\n[Replying to: "${'q'.repeat(200)}"]\n0123456789`;
    expect(policy(message({ content: rendered }), conversation(), now)).toEqual({ kind: 'answer' });
  });
});

describe('rate-limit policy', () => {
  const deps = () => ({
    limiter: createMemoryRateLimiter(),
    locks: createMemoryLocks(),
    log: silentLogger(),
  });
  const settings = { rateLimitMax: 2, rateLimitWindowSeconds: 60 };

  it('answers up to the limit, then one notice per window, then skips', async () => {
    const policy = rateLimitPolicy(deps(), settings);
    const c = conversation();
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await policy(message(), c, now));
    expect(decisions.map((d) => d.kind)).toEqual(['answer', 'answer', 'notice', 'skip', 'skip']);
    expect(decisions[2]).toMatchObject({ reason: 'rate_limited' });
    expect(decisions[3]).toMatchObject({ reason: 'rate_limited' });
  });

  it('asking again for the same message does not count it twice (a retried job, a folded batch)', async () => {
    const policy = rateLimitPolicy(deps(), settings);
    const c = conversation();
    const first = message();
    for (let i = 0; i < 5; i++) expect(await policy(first, c, now)).toEqual({ kind: 'answer' });
    expect(await policy(message(), c, now)).toEqual({ kind: 'answer' });
    expect((await policy(message(), c, now)).kind).toBe('notice');
  });

  it('lets the message through when the limiter does not answer', async () => {
    const broken = {
      hit: () => Promise.reject(new Error('Redis down')),
      reset: () => Promise.reject(new Error('Redis down')),
    };
    const policy = rateLimitPolicy({ ...deps(), limiter: broken }, { ...settings, rateLimitMax: 0 });
    expect(await policy(message(), conversation(), now)).toEqual({ kind: 'answer' });
  });
});

describe('runGate', () => {
  const policies = inboundPolicies(
    { limiter: createMemoryRateLimiter(), locks: createMemoryLocks(), log: silentLogger() },
    {
      maxMessageLength: 20,
      rateLimitMax: 100,
      rateLimitWindowSeconds: 60,
      handoffKeywords: ['human'],
      consent: CONSENT_DEFAULTS,
    },
  );

  it('sorts a batch into answers, notices and skips, keeping arrival order', async () => {
    const a = message({ content: 'first' });
    const r = message({ contentType: 'reaction', content: 'reacted 👍' });
    const long = message({ content: 'x'.repeat(20), metadata: { originalLength: 500 } });
    const b = message({ content: 'second' });
    const result = await runGate(policies, [a, r, long, b], conversation(), now);
    expect(result.answer.map((m) => m.id)).toEqual([a.id, b.id]);
    expect(result.skips).toEqual([{ message: r, reason: 'reaction' }]);
    expect(result.notices.map((x) => [x.message.id, x.reason])).toEqual([[long.id, 'too_long']]);
  });

  it('a batch that asks for a person answers nothing with the model, before or after that message', async () => {
    const hi = message({ content: 'hi' });
    const asking = message({ content: 'can I talk to a human?' });
    const after = message({ content: 'my order is 123' });
    const long = message({ content: 'x'.repeat(20), metadata: { originalLength: 500 } });
    const result = await runGate(policies, [hi, asking, after, long], conversation(), now);
    expect(result.answer).toEqual([]);
    expect(result.handoffs).toEqual([{ message: asking, keyword: 'human' }]);
    expect(result.skips.map((s) => [s.message.id, s.reason])).toEqual([
      [hi.id, 'mode_human'],
      [after.id, 'mode_human'],
    ]);
    // Stored with the mode check: once the handoff switched the conversation, this notice is not sent.
    expect(result.notices.map((x) => x.reason)).toEqual(['too_long']);
  });

  it('a too-long message asking for a person is handed off, not asked to shorten', async () => {
    const long = message({ content: 'human '.repeat(4), metadata: { originalLength: 500 } });
    const result = await runGate(policies, [long], conversation(), now);
    expect(result.handoffs.map((h) => h.message.id)).toEqual([long.id]);
    expect(result.notices).toEqual([]);
  });

  it('in human mode sends nothing at all, not even a notice for a message that is too long', async () => {
    const long = message({ content: 'x'.repeat(20), metadata: { originalLength: 500 } });
    const result = await runGate(policies, [message(), long], conversation('human'), now);
    expect(result.answer).toEqual([]);
    expect(result.notices).toEqual([]);
    expect(result.skips.map((s) => s.reason)).toEqual(['mode_human', 'mode_human']);
  });
});

describe('consent policy (first in the gate)', () => {
  const policies = inboundPolicies(
    { limiter: createMemoryRateLimiter(), locks: createMemoryLocks(), log: silentLogger() },
    {
      maxMessageLength: 20,
      rateLimitMax: 100,
      rateLimitWindowSeconds: 60,
      handoffKeywords: ['human', 'stop'],
      consent: CONSENT_DEFAULTS,
    },
  );
  const optedOut = (mode: GateConversation['mode'] = 'bot') => ({
    ...conversation(mode),
    optedOutAt: new Date(),
  });

  it.each(['bot', 'human', 'paused'] as const)(
    'STOP opts out in %s mode, before the handoff keyword',
    async (mode) => {
      const stop = message({ content: 'Stop.' });
      const result = await runGate(policies, [stop], conversation(mode), now);
      expect(result.consents).toEqual([{ message: stop, action: 'opt_out', keyword: 'STOP' }]);
      expect(result.handoffs).toEqual([]);
    },
  );

  it('a batch with STOP answers nothing else: earlier and later messages, notices and handoffs are skipped', async () => {
    const hi = message({ content: 'hi' });
    const stop = message({ content: 'STOP' });
    const human = message({ content: 'a human please' });
    const long = message({ content: 'x'.repeat(20), metadata: { originalLength: 500 } });
    const result = await runGate(policies, [hi, stop, human, long], conversation(), now);
    expect(result.answer).toEqual([]);
    expect(result.notices).toEqual([]);
    expect(result.handoffs).toEqual([]);
    expect(result.skips.map((s) => [s.message.id, s.reason]).sort()).toEqual(
      [
        [hi.id, 'opted_out'],
        [human.id, 'opted_out'],
        [long.id, 'opted_out'],
      ].sort(),
    );
  });

  it('an opted-out user is not answered, whatever they write; START lifts it', async () => {
    const hi = message({ content: 'hello?' });
    const human = message({ content: 'human' });
    const start = message({ content: 'start' });
    const result = await runGate(policies, [hi, human, start], optedOut(), now);
    expect(result.skips.map((s) => [s.message.id, s.reason])).toEqual([
      [hi.id, 'opted_out'],
      [human.id, 'opted_out'],
    ]);
    expect(result.consents).toEqual([{ message: start, action: 'opt_in', keyword: 'START' }]);
  });

  it('consent words apply in order: START after STOP is an opt-in, and what follows it is answered', async () => {
    const hi = message({ content: 'hi' });
    const stop = message({ content: 'STOP' });
    const between = message({ content: 'anyone?' });
    const start = message({ content: 'start' });
    const after = message({ content: 'what time is it?' });
    const result = await runGate(policies, [hi, stop, between, start, after], conversation(), now);
    expect(result.consents).toEqual([
      { message: stop, action: 'opt_out', keyword: 'STOP' },
      { message: start, action: 'opt_in', keyword: 'START' },
    ]);
    expect(result.answer).toEqual([after]);
    expect(result.skips.map((s) => [s.message.id, s.reason]).sort()).toEqual(
      [
        [hi.id, 'opted_out'],
        [between.id, 'opted_out'],
      ].sort(),
    );
  });

  it('"yes" from a user who never opted out is an ordinary message for the model', async () => {
    const yes = message({ content: 'Yes' });
    const result = await runGate(policies, [yes], conversation(), now);
    expect(result.answer).toEqual([yes]);
    expect(result.consents).toEqual([]);
  });

  it('"stop please" is not an opt-out (whole message only); HELP asks for help', async () => {
    const please = message({ content: 'stop please' });
    const help = message({ content: 'HELP' });
    const result = await runGate(policies, [please, help], conversation(), now);
    // Not an opt-out; "stop" is a handoff keyword in this setup, which shows the message went on through the gate.
    expect(result.handoffs.map((h) => h.message)).toEqual([please]);
    expect(result.consents).toEqual([{ message: help, action: 'help', keyword: 'HELP' }]);
  });
});

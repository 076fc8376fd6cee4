/**
 * The outside world of the end-to-end runs, in the bench's own process: the fake LLM (OpenAI wire protocol,
 * a fixed delay, echoing the user's text so the marker comes back) and the fake Twilio REST API, both reused
 * from the test suite. Replies are matched to webhooks by the `[bench:<id>]` marker in their body.
 */
import { startFakeLlm, type FakeLlm } from '../test/fakes/llm-server.js';
import { startFakeTwilio, type FakeTwilio } from '../test/fakes/twilio-server.js';

export const MARKER = /\[bench:([\w-]+)\]/;

export interface BenchFakes {
  llm: FakeLlm;
  twilio: FakeTwilio;
  /** Every LLM answer waits this long. */
  setLlmDelay(ms: number): void;
  /** Marker → epoch ms the fake Twilio accepted the send, for every send since the last call (then forgotten). */
  takeArrivals(): Map<string, number>;
  close(): Promise<void>;
}

export async function startBenchFakes(credentials: {
  accountSid: string;
  authToken: string;
}): Promise<BenchFakes> {
  const twilio = await startFakeTwilio(credentials);
  const llm = await startFakeLlm();
  let delayMs = 0;
  // No `text`: the fake answers `fake reply to: <last user content>`, which carries the marker.
  llm.respond(() => ({ delayMs }));
  const arrivals = new Map<string, number>();
  return {
    llm,
    twilio,
    setLlmDelay(ms) {
      delayMs = ms;
    },
    takeArrivals() {
      for (const sent of twilio.sent) {
        const marker = MARKER.exec(sent.body)?.[1];
        if (marker !== undefined && !arrivals.has(marker)) arrivals.set(marker, sent.at);
      }
      const taken = new Map(arrivals);
      arrivals.clear();
      // The fakes remember every request; forget them so a long run does not grow the bench's heap.
      twilio.reset();
      llm.requests.length = 0;
      return taken;
    },
    async close() {
      await Promise.all([twilio.close(), llm.close()]);
    },
  };
}

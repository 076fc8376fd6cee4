/**
 * Parts of PipelineDeps that pipeline tests build by hand: one AI choice for every conversation (the tests that
 * use it are about the pipeline, not about personas), and the real number directory of the test database with
 * no environment numbers (their conversations are the simulator's, which has none).
 */
import { createNumberDirectory } from '../../src/channels/number-directory.js';
import type { Db } from '../../src/db/connect.js';
import { silentLogger } from '../../src/log.js';
import type { AiChoice, AiRuntime, NumberDirectory } from '../../src/ports.js';

/** An AiRuntime whose every choice (active, a number's) comes from `choose`. */
export function fixedAi(choose: () => Promise<AiChoice>): AiRuntime {
  return { current: choose, forConfig: () => choose() };
}

export function numbersOf(db: Db): NumberDirectory {
  return createNumberDirectory({
    db,
    twilio: null,
    meta: null,
    decrypt: () => {
      throw new Error('no FIELD_ENCRYPTION_KEY in this test');
    },
    refreshMs: 60_000,
    log: silentLogger(),
  });
}

/**
 * For route tests without a database whose requests never pass the signature check: no number of ours is known,
 * so every signature is checked with the environment's auth token (what the real directory does for a To it
 * does not know).
 */
export const noNumberRows: NumberDirectory = {
  list: () => Promise.resolve([]),
  find: () => Promise.resolve(null),
};

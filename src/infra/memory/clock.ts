/** Time source of the in-memory adapters; tests pass one they can move forward instead of waiting. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Small helpers shared by the contract suites. */
import { afterEach } from 'vitest';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` holds; fails with `what` if it does not within timeoutMs. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A promise with its resolver, for handlers that must wait until the test lets them go. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

interface Disposable {
  dispose(): Promise<void>;
}

/** Wraps a factory so that everything it made in a test is disposed after that test. */
export function disposedAfterEach<A extends unknown[], T extends Disposable>(
  make: (...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  const made: T[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((item) => item.dispose()));
  });
  return async (...args) => {
    const item = await make(...args);
    made.push(item);
    return item;
  };
}

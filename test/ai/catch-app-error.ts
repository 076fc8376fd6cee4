import { isAppError, type AppError } from '../../src/domain/errors.js';

/** The AppError a promise rejects with; fails the test if it resolves or rejects with anything else. */
export async function catchAppError(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (isAppError(error)) return error;
    throw new Error(`expected an AppError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail, but it succeeded');
}

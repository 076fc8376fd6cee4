/** Option parsers: a bad value stops the command with commander's usage error (exit 2), naming the option. */
import { InvalidArgumentError } from 'commander';

export function numberIn(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`must be a number from ${min} to ${max}.`);
    }
    return parsed;
  };
}

export function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed) || parsed <= 0) {
    throw new InvalidArgumentError('must be a whole number above 0.');
  }
  return parsed;
}

export function httpUrl(value: string): string {
  try {
    if (['http:', 'https:'].includes(new URL(value).protocol)) return value;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('must be an http:// or https:// URL.');
}

export function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('must not be empty.');
  return value;
}

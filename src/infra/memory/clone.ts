/**
 * Round-trips a value through JSON, as Redis does: callers never share objects with the store, and anything
 * JSON drops (undefined fields, class instances, Dates) is dropped here too, so memory mode cannot hide such bugs.
 */
export function jsonClone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

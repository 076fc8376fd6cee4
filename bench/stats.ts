/** Small statistics for the bench: percentiles of latency samples and steady-state rates. */

/** The q-quantile (0..1) of the values by nearest rank; NaN for no values. */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  let max = Number.NaN;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? Number.NaN;
    if (!(value <= max)) max = value;
  }
  return { count: values.length, p50: percentile(values, 0.5), p99: percentile(values, 0.99), max };
}

/**
 * Completions per second in the steady part of a run: between the 10th and the 90th percentile of completion
 * times, so the ramp-up (first LLM round trip) and the tail (last stragglers) do not dilute the figure.
 * Falls back to the whole span for fewer than 10 completions.
 */
export function steadyRate(completionTimesMs: number[]): number {
  const times = completionTimesMs.slice().sort((a, b) => a - b);
  if (times.length < 2) return Number.NaN;
  const lo = times.length >= 10 ? Math.floor(times.length * 0.1) : 0;
  const hi = times.length >= 10 ? Math.ceil(times.length * 0.9) - 1 : times.length - 1;
  const span = (times[hi] ?? 0) - (times[lo] ?? 0);
  return span > 0 ? ((hi - lo) * 1000) / span : Number.NaN;
}

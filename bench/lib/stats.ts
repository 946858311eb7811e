/** Median, min and max of one set of timings (milliseconds). */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
}

/**
 * Summarizes samples; `undefined` when there are none (a runtime that was not measured).
 * The median of an even count is the mean of the two middle values.
 * @example summarize([3, 1, 2]) // { n: 3, median: 2, min: 1, max: 3 }
 */
export function summarize(samples: readonly number[] | undefined): Summary | undefined {
  if (!samples || samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, median, min: s[0], max: s[s.length - 1] };
}

/** Ratio of medians a/b, or `undefined` when either side is missing or b is zero. */
export function ratio(a: Summary | undefined, b: Summary | undefined): number | undefined {
  if (!a || !b || b.median === 0) return undefined;
  return a.median / b.median;
}

/** Milliseconds between two `process.hrtime.bigint()` readings. */
export function elapsedMs(start: bigint, end: bigint): number {
  return Number(end - start) / 1e6;
}

/** The q-quantile (0..1) of samples, nearest rank; undefined when there are none. @example quantile([1, 2, 3, 4], 0.99) // 4 */
export function quantile(samples: readonly number[] | undefined, q: number): number | undefined {
  if (!samples || samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

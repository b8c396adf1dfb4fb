/**
 * `performance.now()`, with `performance` read once: in Node the global `performance` is an accessor, so each
 * `performance.now()` runs a getter before the clock is read (a few times on every call).
 */
const performanceNow = performance;

/** Milliseconds on the monotonic clock, as `performance.now()`. */
export function monotonicNow(): number {
  return performanceNow.now();
}

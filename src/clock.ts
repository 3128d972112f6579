/**
 * Epoch milliseconds with sub-millisecond resolution. Both threads use this, so times
 * recorded on a worker and on the main thread can be compared directly.
 *
 * Imported by worker threads: pure functions only.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

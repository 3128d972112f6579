/**
 * Every timer the library sets goes through here, so that none of them keeps the process
 * alive (they are all unref'd) and tests can swap the clock's source in one place.
 */

export interface Timer {
  cancel(): void;
}

export interface TimerProvider {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const nodeTimers: TimerProvider = {
  // Read the globals at call time so fake timers installed later (vi.useFakeTimers) apply.
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as NodeJS.Timeout),
};

let provider: TimerProvider = nodeTimers;

/** Replaces the timer source (tests only); call with no argument to restore Node's. */
export function setTimerProvider(next?: TimerProvider): void {
  provider = next ?? nodeTimers;
}

/**
 * The longest delay a Node timer honours: 2^31-1 ms (about 24.8 days). A longer one fires after
 * 1 ms (with a TimeoutOverflowWarning), which would end a 30-day `timeout` at once.
 */
export const MAX_TIMER_MS = 0x7fffffff;

/**
 * Calls `fn` after `ms` milliseconds without holding the process open, unless `hold` is set:
 * for short timers whose work is owed to someone (an announcement of a settled run).
 *
 * Delays above MAX_TIMER_MS are chained: timers of at most MAX_TIMER_MS each, the last one
 * calling `fn`, so every duration the options accept (a year and more) works. The remaining
 * time is counted down rather than re-read from a clock, so fake timers drive it exactly.
 */
export function after(ms: number, fn: () => void, hold = false): Timer {
  let remaining = Math.max(0, ms);
  let handle: unknown;
  const arm = (): void => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    remaining -= step;
    handle = provider.setTimeout(remaining > 0 ? arm : fn, step);
    if (!hold) (handle as { unref?: () => void } | null)?.unref?.();
  };
  arm();
  return { cancel: () => provider.clearTimeout(handle) };
}

/** Calls `fn` at the end of the current turn of the event loop (after I/O callbacks). */
export function soon(fn: () => void): void {
  setImmediate(fn);
}

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
 * Calls `fn` after `ms` milliseconds without holding the process open, unless `hold` is set:
 * for short timers whose work is owed to someone (an announcement of a settled run).
 */
export function after(ms: number, fn: () => void, hold = false): Timer {
  const handle = provider.setTimeout(fn, Math.max(0, ms));
  if (!hold) (handle as { unref?: () => void } | null)?.unref?.();
  return { cancel: () => provider.clearTimeout(handle) };
}

/** Calls `fn` at the end of the current turn of the event loop (after I/O callbacks). */
export function soon(fn: () => void): void {
  setImmediate(fn);
}

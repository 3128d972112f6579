/**
 * A run's start, shared between the main thread and the worker without a message: each run
 * handed to the pool owns a slot in a SharedArrayBuffer. Starting, the worker writes the time
 * and its thread id, then claims the slot with the run's ticket (compare-and-swap from 0) and
 * wakes anyone waiting. Cancelling, the main thread claims the slot first (0 -> CANCELLED), and
 * the worker then skips the run; if the worker won, the main thread knows which thread to stop.
 *
 * Layout: `count` Int32 flags, `count` Int32 thread ids, then `count` Float64 start times.
 * A flag is 0 before the start, the ticket after it, CANCELLED when the start was prevented.
 *
 * The worker half (`claimStart`) is imported by worker threads: keep it free of main-thread state.
 */

const CANCELLED = -1;

export interface SlotViews {
  flags: Int32Array;
  threads: Int32Array;
  times: Float64Array;
}

export interface SlotRef {
  index: number;
  ticket: number;
}

export function slotViews(buffer: SharedArrayBuffer, count: number): SlotViews {
  const intBytes = Math.ceil((count * 8) / 8) * 8;
  return {
    flags: new Int32Array(buffer, 0, count),
    threads: new Int32Array(buffer, count * 4, count),
    times: new Float64Array(buffer, intBytes, count),
  };
}

/** Worker side: records the start; false when the main thread cancelled the run first. */
export function claimStart(
  views: SlotViews,
  index: number,
  ticket: number,
  threadId: number,
  at: number,
): boolean {
  views.times[index] = at;
  views.threads[index] = threadId;
  // The CAS publishes the writes above (sequentially consistent) and loses to a cancel.
  if (Atomics.compareExchange(views.flags, index, 0, ticket) !== 0) return false;
  Atomics.notify(views.flags, index);
  return true;
}

export class StartSlots {
  readonly buffer: SharedArrayBuffer;
  readonly count: number;
  readonly #views: SlotViews;
  /** Indexes not held by any handed-off run. */
  readonly #free: number[];
  #nextTicket: number;

  /** `firstTicket`: 1 but in tests, which start near the wrap at 2^31 - 1. */
  constructor(count: number, firstTicket = 1) {
    this.count = count;
    this.#nextTicket = firstTicket;
    this.buffer = new SharedArrayBuffer(count * 16);
    this.#views = slotViews(this.buffer, count);
    this.#free = Array.from({ length: count }, (_, i) => count - 1 - i);
  }

  /** A free slot; the caller never holds more slots than `count`. */
  acquire(): SlotRef {
    const index = this.#free.pop();
    if (index === undefined) throw new Error('async-load: no free start slot (internal accounting error)');
    const ticket = this.#nextTicket;
    this.#nextTicket = ticket >= 0x7fffffff ? 1 : ticket + 1;
    Atomics.store(this.#views.flags, index, 0);
    return { index, ticket };
  }

  #started(slot: SlotRef): boolean {
    return Atomics.load(this.#views.flags, slot.index) === slot.ticket;
  }

  /** The run's actual start (epoch ms), or undefined while it has not started. */
  startedAt(slot: SlotRef): number | undefined {
    return this.#started(slot) ? this.#views.times[slot.index] : undefined;
  }

  /** The thread running the run, or undefined while it has not started. */
  threadOf(slot: SlotRef): number | undefined {
    return this.#started(slot) ? this.#views.threads[slot.index] : undefined;
  }

  /** Resolves with the start time, or undefined if the run was cancelled before it started. */
  async whenStarted(slot: SlotRef): Promise<number | undefined> {
    const waiting = Atomics.waitAsync(this.#views.flags, slot.index, 0);
    if (waiting.async) await waiting.value;
    return this.startedAt(slot);
  }

  /** Prevents the run from starting; false if it has started already. */
  cancelStart(slot: SlotRef): boolean {
    const before = Atomics.compareExchange(this.#views.flags, slot.index, 0, CANCELLED);
    if (before !== 0) return before === CANCELLED;
    // Wakes a pending whenStarted(), which then reports no start.
    Atomics.notify(this.#views.flags, slot.index);
    return true;
  }

  /** Gives the slot back once the pool has settled the run. */
  release(slot: SlotRef): void {
    this.cancelStart(slot);
    this.#free.push(slot.index);
  }
}

/**
 * How the main thread learns the moment a run actually starts on a thread, without a message
 * per run: each in-flight run owns a slot in a SharedArrayBuffer; the worker writes the start
 * time and a ticket into it and wakes anyone waiting with Atomics.notify. The main thread
 * reads slots lazily (`startedAt`) or waits with Atomics.waitAsync when it must act at the
 * start (a timeout counts from there).
 *
 * Layout: `count` Int32 flags, then `count` Float64 times. A flag is 0 while the slot's run
 * has not started, the run's ticket once it has, and RELEASED when the slot was given back
 * before the run started (that also wakes a pending waiter, so none is left hanging).
 */

const RELEASED = -1;

export interface SlotRef {
  /** Index in the buffer handed to the workers, or 0 in a private single-slot buffer. */
  index: number;
  ticket: number;
  /** Set when the shared buffer was full and this run got a buffer of its own. */
  privateBuffer?: SharedArrayBuffer;
}

export function createSlotBuffer(count: number): SharedArrayBuffer {
  return new SharedArrayBuffer(flagBytes(count) + count * 8);
}

function flagBytes(count: number): number {
  return Math.ceil((count * 4) / 8) * 8;
}

export function views(buffer: SharedArrayBuffer, count: number): { flags: Int32Array; times: Float64Array } {
  return {
    flags: new Int32Array(buffer, 0, count),
    times: new Float64Array(buffer, flagBytes(count), count),
  };
}

/** Worker side: records that the run holding `index`/`ticket` has started at `at`. */
export function markStarted(
  flags: Int32Array,
  times: Float64Array,
  index: number,
  ticket: number,
  at: number,
): void {
  times[index] = at;
  // The store publishes the time written above (sequentially consistent).
  Atomics.store(flags, index, ticket);
  Atomics.notify(flags, index);
}

export class StartSlots {
  readonly buffer: SharedArrayBuffer;
  readonly count: number;
  #flags: Int32Array;
  #times: Float64Array;
  /** Indexes not held by any in-flight run. */
  #free: number[];
  #nextTicket = 1;

  constructor(count: number) {
    this.count = count;
    this.buffer = createSlotBuffer(count);
    ({ flags: this.#flags, times: this.#times } = views(this.buffer, count));
    this.#free = Array.from({ length: count }, (_, i) => count - 1 - i);
  }

  acquire(): SlotRef {
    const ticket = this.#nextTicket;
    this.#nextTicket = ticket >= 0x7fffffff ? 1 : ticket + 1;
    const index = this.#free.pop();
    if (index !== undefined) {
      Atomics.store(this.#flags, index, 0);
      return { index, ticket };
    }
    return { index: 0, ticket, privateBuffer: createSlotBuffer(1) };
  }

  #viewsOf(slot: SlotRef): { flags: Int32Array; times: Float64Array } {
    return slot.privateBuffer ? views(slot.privateBuffer, 1) : { flags: this.#flags, times: this.#times };
  }

  /** The run's actual start (epoch ms), or undefined while it has not started. */
  startedAt(slot: SlotRef): number | undefined {
    const { flags, times } = this.#viewsOf(slot);
    return Atomics.load(flags, slot.index) === slot.ticket ? times[slot.index] : undefined;
  }

  /** Resolves with the start time, or undefined if the slot is released before the run starts. */
  async whenStarted(slot: SlotRef): Promise<number | undefined> {
    const { flags } = this.#viewsOf(slot);
    const waiting = Atomics.waitAsync(flags, slot.index, 0);
    if (waiting.async) await waiting.value;
    return this.startedAt(slot);
  }

  release(slot: SlotRef): void {
    const { flags } = this.#viewsOf(slot);
    if (Atomics.compareExchange(flags, slot.index, 0, RELEASED) === 0) Atomics.notify(flags, slot.index);
    if (!slot.privateBuffer) this.#free.push(slot.index);
  }
}

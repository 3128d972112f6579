/**
 * Announces settled runs to subscribers in batches. A run settling starts (at most) one timer
 * for its pollInterval; every run that settles before it fires joins the same batch, and each
 * listener is called once per batch. Values are readable before this: only announcing waits.
 */

import type { UpdateEvent } from './entry.js';
import type { Listener, Registration } from './registration.js';
import { now } from './clock.js';
import { after, soon } from './timers.js';

interface Batch {
  events: UpdateEvent[];
  /**
   * Each event's listeners: the channel's set, shared by every wrapper of one (function, key),
   * so that a listener hears each run once per batch whichever wrapper started it.
   */
  audiences: Set<Listener>[];
}

export class Notifier {
  readonly loaderListeners = new Set<Listener>();
  /** One open batch per pollInterval in use. */
  readonly #open = new Map<number, Batch>();
  readonly #onError: (error: Error) => void;
  #stopped = false;

  constructor(onError: (error: Error) => void) {
    this.#onError = onError;
  }

  /** Whether anyone listens to this registration's runs (events are only built then). */
  wants(registration: Registration): boolean {
    return !this.#stopped && (this.loaderListeners.size > 0 || registration.listeners.size > 0);
  }

  push(event: UpdateEvent, registration: Registration): void {
    // Stryker disable next-line ConditionalExpression: a batch pushed after stop() is never delivered: #deliver() checks again
    if (this.#stopped) return;
    const interval = registration.pollInterval;
    let batch = this.#open.get(interval);
    if (!batch) {
      const opened: Batch = { events: [], audiences: [] };
      batch = opened;
      this.#open.set(interval, opened);
      const flush = (): void => {
        // Stryker disable next-line ConditionalExpression: only stop() replaces an open batch, and it clears them all
        if (this.#open.get(interval) === opened) this.#open.delete(interval);
        this.#deliver(opened);
      };
      if (interval === 0) soon(flush);
      // Counted from the run's end on its thread, not from its reply's arrival here, less a
      // millisecond for timer lateness: announced no later than pollInterval after it settled.
      // Held open: a settled run is owed to its subscribers even if nothing else is pending.
      else after(interval - (now() - event.finishedAt) - 1, flush, true);
    }
    batch.events.push(event);
    batch.audiences.push(registration.listeners);
  }

  /**
   * Delivers to the listeners registered when delivery began (a snapshot): one added during
   * delivery hears the next batch, so a "once" helper that re-subscribes itself cannot loop.
   * Before each call the listener must still be registered and the notifier still running: one
   * removed during delivery is not called after, and close() inside a listener stops the rest.
   */
  #deliver(batch: Batch): void {
    // Stryker disable next-line ConditionalExpression: #callEach() checks before every call
    if (this.#stopped) return;
    const byAudience = new Map<Set<Listener>, { listeners: Listener[]; events: UpdateEvent[] }>();
    batch.audiences.forEach((audience, i) => {
      // Stryker disable next-line ConditionalExpression: an empty audience gets an empty list of listeners, and none is called
      if (audience.size === 0) return;
      let target = byAudience.get(audience);
      if (!target) byAudience.set(audience, (target = { listeners: [...audience], events: [] }));
      target.events.push(batch.events[i]!);
    });
    // Frozen: every listener of a batch gets the same array, and one that emptied it (pop,
    // `length = 0`) left the listeners after it with nothing. It fails in that listener instead.
    this.#callEach([...this.loaderListeners], this.loaderListeners, Object.freeze(batch.events));
    for (const [audience, { listeners, events }] of byAudience)
      this.#callEach(listeners, audience, Object.freeze(events));
  }

  #callEach(snapshot: Listener[], current: Set<Listener>, events: readonly UpdateEvent[]): void {
    for (const listener of snapshot) {
      if (this.#stopped) return;
      if (current.has(listener)) this.#call(listener, events);
    }
  }

  /** A listener that throws must not stop the others, nor reach the host as an uncaught error. */
  #call(listener: Listener, events: readonly UpdateEvent[]): void {
    try {
      // Frozen at run time (see #deliver); typed as the listener declares it.
      listener(events as UpdateEvent[]);
    } catch (error) {
      this.#onError(subscriberError(error));
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#open.clear();
  }
}

/**
 * What a listener threw, as an Error for onError. Read with care: `instanceof` on a revoked
 * Proxy throws, and so does `String()` of an object with no prototype; either, thrown from the
 * catch in #call, took the host process down.
 */
function subscriberError(thrown: unknown): Error {
  try {
    if (thrown instanceof Error) return thrown;
  } catch {
    // A Proxy whose reads throw: shown by what it is below.
  }
  let shown: string;
  try {
    shown = String(thrown);
  } catch {
    shown = `a value that cannot be shown (${typeof thrown})`;
  }
  return new Error(`A subscriber threw ${shown}`);
}

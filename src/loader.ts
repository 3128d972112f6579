/**
 * The coordinator: owns one executor (the thread pool), one store of entries and one
 * notifier. It decides when a run starts (first call, refresh, refresh()), routes each
 * outcome into its entry, schedules the next refresh from the run's actual start, and
 * announces settled runs.
 */

import { now } from './clock.js';
import { prepare } from './codec.js';
import { Entry, type LoadState } from './entry.js';
import { CancelledError, LoaderClosedError } from './errors.js';
import type { Executor, Outcome } from './executor.js';
import { hasherReady, loadHasher } from './hash.js';
import { deriveKey, keyPrefix, type DerivedKey } from './key.js';
import { Notifier } from './notifier.js';
import type { LoadOptions, ResolvedLoaderOptions } from './options.js';
import type { FunctionRef } from './protocol.js';
import type { Listener, Registration } from './registration.js';
import { Store } from './store.js';
import { functionIdentity } from './task-function.js';
import { after } from './timers.js';

/** Refresh lead bounds (ms): how early a refresh is handed to the pool so it starts on time. */
const MIN_LEAD = 1;
const MAX_LEAD = 20;

/** A refresh that starts within this many ms after its scheduled time counts as on time. */
const ON_TIME = 1;

/**
 * The start the next refresh is measured from: the run's actual start, except that a refresh
 * that started on time (a thread wakes a fraction of a millisecond late) is measured from its
 * scheduled start, so those fractions never add up into drift (about 0.1 ms a cycle measured).
 */
function anchorOf(outcome: Outcome, scheduled: number | undefined): number {
  const { startedAt } = outcome;
  if (startedAt === undefined) return outcome.finishedAt;
  if (scheduled !== undefined && startedAt >= scheduled && startedAt - scheduled <= ON_TIME) return scheduled;
  return startedAt;
}

export class Coordinator {
  readonly #executor: Executor;
  readonly #store: Store;
  readonly #notifier: Notifier;
  readonly #options: ResolvedLoaderOptions;
  /** Function identity text -> small number, so entry texts stay short. */
  readonly #functionIds = new Map<string, number>();
  /** Latest value settled under each `key` option. */
  readonly #keyed = new Map<string, unknown>();
  /**
   * How long (ms) from a refresh timer firing to the run starting on a thread, smoothed.
   * Refreshes are handed over this much early and the thread waits out the rest, so starts
   * land on schedule instead of drifting by the dispatch lag every cycle.
   */
  #lead = 2;
  #closed = false;

  constructor(executor: Executor, options: ResolvedLoaderOptions) {
    this.#executor = executor;
    this.#options = options;
    this.#notifier = new Notifier(options.onError);
    this.#store = new Store(options.maxEntries, options.ttl, (entry) =>
      entry.dispatch({ type: 'remove', error: new CancelledError('the entry was evicted') }),
    );
    // Start loading the hasher now so it is ready before the first call with binary data.
    loadHasher().catch(options.onError);
  }

  get size(): number {
    return this.#store.size;
  }

  register(fn: FunctionRef, options: LoadOptions): Registration {
    const identity = functionIdentity(fn);
    let id = this.#functionIds.get(identity);
    if (id === undefined) this.#functionIds.set(identity, (id = this.#functionIds.size));
    return {
      fn,
      options,
      prefix: keyPrefix(id, options.key),
      pollInterval: options.pollInterval ?? this.#options.pollInterval,
      listeners: new Set(),
    };
  }

  /** The hot path: a plain call. Returns the latest value or throws the latest error. */
  read(registration: Registration, args: unknown[]): unknown {
    const entry = this.#entryFor(registration, args);
    if (!entry) return undefined;
    if (entry.failure) throw entry.failure.error;
    return entry.value;
  }

  state(registration: Registration, args: unknown[]): LoadState<unknown> {
    this.#assertOpen();
    const entry = this.#existing(registration, args);
    if (!entry) return { status: 'idle', value: undefined, error: undefined, runs: 0 };
    this.#store.touch(entry, this.#readTime());
    return entry.state();
  }

  /** Not `async`: returning the run's own promise saves a promise and three microtasks a call. */
  wait(registration: Registration, args: unknown[]): Promise<unknown> {
    let entry: Entry | undefined;
    try {
      entry = this.#entryFor(registration, args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (!entry) return loadHasher().then(() => this.wait(registration, args));
    if (entry.run) return entry.waitForRun();
    if (entry.failure) return Promise.reject(entry.failure.error);
    return Promise.resolve(entry.value);
  }

  refresh(registration: Registration, args: unknown[]): void {
    const entry = this.#entryFor(registration, args);
    if (!entry || entry.run) return;
    entry.refreshTimer?.cancel();
    entry.refreshTimer = undefined;
    this.#start(entry);
  }

  clear(registration: Registration, args: unknown[] | undefined): void {
    if (this.#closed) return;
    const error = new CancelledError('the entry was cleared');
    if (args) {
      const entry = this.#existing(registration, args);
      if (entry) this.#remove(entry, error);
      return;
    }
    for (const entry of [...this.#store.all()]) {
      if (entry.registration.prefix === registration.prefix) this.#remove(entry, error);
    }
  }

  get(key: string): unknown {
    return this.#keyed.get(key);
  }

  subscribe(listeners: Set<Listener>, listener: Listener): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(
        `Expected \`listener\` to be a function, got \`${String(listener)}\` (${typeof listener}).`,
      );
    }
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  get loaderListeners(): Set<Listener> {
    return this.#notifier.loaderListeners;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#notifier.stop();
    this.#store.stop();
    const error = new LoaderClosedError();
    for (const entry of [...this.#store.all()]) this.#remove(entry, error);
    await this.#executor.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new LoaderClosedError();
  }

  #readTime(): number {
    return this.#options.ttl === Infinity ? 0 : performance.now();
  }

  /** The call's entry if it exists; never creates one or starts a run. */
  #existing(registration: Registration, args: unknown[]): Entry | undefined {
    const key = deriveKey(registration.prefix, args);
    return key && this.#store.find(key);
  }

  /**
   * Finds or creates the call's entry (starting its first run). Undefined only while the hasher
   * for binary arguments is still loading: the call is replayed once it has loaded.
   */
  #entryFor(registration: Registration, args: unknown[]): Entry | undefined {
    this.#assertOpen();
    const key = deriveKey(registration.prefix, args);
    if (!key) {
      // The replay has no caller to throw to (a full queue, say): its errors go to onError.
      loadHasher()
        .then(() => {
          if (!this.#closed && hasherReady()) this.#entryFor(registration, args);
        })
        .catch((error: unknown) =>
          this.#options.onError(error instanceof Error ? error : new Error(String(error))),
        );
      return undefined;
    }
    const found = this.#store.find(key);
    if (found) {
      this.#store.touch(found, this.#readTime());
      return found;
    }
    return this.#create(registration, args, key);
  }

  #create(registration: Registration, args: unknown[], key: DerivedKey): Entry {
    const payload = key.needsEncoding ? (prepare(args, 'args').value as unknown[]) : args;
    const entry = new Entry(registration, key.text, args, key.binaries, payload, key.needsEncoding);
    entry.lastRead = this.#readTime();
    // Submit before adding: a call that does not fit the queue leaves no entry behind.
    this.#start(entry);
    this.#store.add(entry);
    return entry;
  }

  #start(entry: Entry, notBefore?: number): void {
    const { options } = entry.registration;
    const handedOver = notBefore === undefined ? 0 : now();
    const run = this.#executor.submit(
      {
        fn: entry.registration.fn,
        args: entry.payload,
        encoded: entry.encoded,
        timeout: options.timeout,
        notBefore,
      },
      // Executors settle asynchronously, so `run` is assigned by the time this runs.
      (outcome) => {
        if (notBefore !== undefined && outcome.arrivedAt !== undefined)
          this.#learnLead(outcome.arrivedAt - handedOver);
        this.#settle(entry, run, outcome, anchorOf(outcome, notBefore));
      },
    );
    entry.dispatch({ type: 'start', run });
    this.#store.running(entry);
  }

  /** `anchor`: the start the next refresh is measured from (see anchorOf). */
  #settle(entry: Entry, run: Entry['run'], outcome: Outcome, anchor: number): void {
    if (entry.removed || entry.run !== run) return;
    entry.dispatch({ type: 'settle', outcome });
    const { key, refreshEvery } = entry.registration.options;
    if (outcome.ok && key !== undefined) this.#keyed.set(key, outcome.value);
    this.#store.settled(entry);
    if (entry.removed) return;
    if (refreshEvery !== undefined && !this.#closed) this.#scheduleRefresh(entry, anchor, refreshEvery);
    if (this.#notifier.wants(entry.registration)) this.#notifier.push(entry.event(), entry.registration);
  }

  /** The next run starts at (anchor + refreshEvery), or at once if that has passed. */
  #scheduleRefresh(entry: Entry, anchor: number, refreshEvery: number): void {
    const target = anchor + refreshEvery;
    entry.refreshTimer = after(target - this.#lead - now(), () => {
      entry.refreshTimer = undefined;
      if (entry.removed || entry.run || this.#closed) return;
      try {
        this.#start(entry, target);
      } catch (error) {
        // The queue is full: record it like any failed run, and keep refreshing.
        const finishedAt = now();
        this.#settle(entry, entry.run, { ok: false, error, startedAt: undefined, finishedAt }, finishedAt);
      }
    });
  }

  /**
   * Learns from one refresh's dispatch lag (hand-over to arrival on a thread, before the thread
   * waits for the scheduled time). The lead jumps up at once when a lag exceeds it, since that
   * run started late, and drifts down slowly, since starting early costs only a short wait.
   */
  #learnLead(lag: number): void {
    const wanted = Math.min(MAX_LEAD, Math.max(MIN_LEAD, lag * 1.5 + 0.5));
    this.#lead = wanted > this.#lead ? wanted : this.#lead * 0.9 + wanted * 0.1;
  }

  #remove(entry: Entry, error: Error): void {
    this.#store.remove(entry);
    entry.dispatch({ type: 'remove', error });
  }
}

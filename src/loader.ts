/**
 * The coordinator: owns one executor (the thread pool), one store of entries and one
 * notifier. It decides when a run starts (first call, refresh, refresh()), routes each
 * outcome into its entry, schedules the next refresh from the run's actual start, and
 * announces settled runs.
 */

import { now } from './clock.js';
import { prepare } from './codec.js';
import { Entry, type LoadState } from './entry.js';
import {
  CancelledError,
  LoaderClosedError,
  RedisUnavailableError,
  RunLostError,
  WorkerStartError,
} from './errors.js';
import type { Executor, Outcome, RunHandle } from './executor.js';
import { loadHasher } from './hash.js';
import { deriveKey, keyPrefix, type DerivedKey } from './key.js';
import { KeyMemo } from './key-memo.js';
import { Notifier } from './notifier.js';
import type { LoadOptions, ResolvedLoaderOptions } from './options.js';
import type { FunctionRef } from './protocol.js';
import { rebuildArgs } from './rebuild-args.js';
import type { Channel, Listener, Registration } from './registration.js';
import { Store } from './store.js';
import { entryIdentity } from './entry-identity.js';
import { functionIdentity } from './task-function.js';
import { after } from './timers.js';

/** Refresh lead bounds (ms): how early a refresh is handed to the pool so it starts on time. */
const MIN_LEAD = 1;
const MAX_LEAD = 20;

/**
 * A refresh that starts at most this late counts as on time: 1/40 of its interval, between
 * 1 and 25 ms. Runs of entries that fall due together start one after another; measured from
 * their actual starts, each such collision pushed an entry's schedule a few ms later for good
 * (100 entries every second on 2 threads drifted up to 66 ms over 20 intervals). Measured from
 * the schedule, an entry that is late every cycle by the same queueing still starts each run
 * one interval after the previous one.
 */
function lateTolerance(refreshEvery: number): number {
  return Math.min(25, Math.max(1, refreshEvery / 40));
}

/**
 * The start the next refresh is measured from: the run's actual start, except that a refresh
 * that started on time is measured from its scheduled start, so small errors never add up into
 * drift. On time: early (handed over, at most the lead before its time, while every thread was
 * busy, so it did not wait) or late by at most lateTolerance (a thread wakes a fraction of a
 * millisecond late; the refresh queued behind another that fell due at the same moment).
 */
function anchorOf(outcome: Outcome, scheduled: number | undefined, refreshEvery: number): number {
  const { startedAt } = outcome;
  if (startedAt === undefined) return outcome.finishedAt;
  // Stryker disable next-line ConditionalExpression: without a schedule, startedAt - undefined is NaN, which no comparison passes
  if (scheduled !== undefined && startedAt - scheduled <= lateTolerance(refreshEvery)) return scheduled;
  return startedAt;
}

export class Coordinator {
  readonly #executor: Executor;
  readonly #store: Store;
  readonly #notifier: Notifier;
  readonly #options: ResolvedLoaderOptions;
  /** Key texts of recent simple calls; this loader's own, bounded in bytes, emptied by clear(). */
  readonly #memo = new KeyMemo();
  /**
   * Function identity text -> a small number (so entry texts stay short) and how many channels
   * use it. Forgotten with its last channel; numbers are never reused, so a forgotten
   * function's id can never name another's entries.
   */
  readonly #functions = new Map<string, { id: number; channels: number }>();
  #nextFunctionId = 0;
  /** Function id and key option -> the channel its wrappers and entries share. */
  readonly #channels = new Map<string, Channel>();
  /** Never reused, like function ids. */
  #nextChannelId = 0;
  /** `key` option -> the entries holding a value settled under it (see get()). */
  readonly #keyed = new Map<string, Set<Entry>>();
  #valueSeq = 0;
  /** Entries made while the hasher loaded, keyed without their binary hashes (see #rekey). */
  readonly #provisional = new Set<Entry>();
  /** Counts a wrapper out when it is garbage-collected, so its channel can be forgotten. */
  readonly #wrappers = new FinalizationRegistry<Channel>((channel) => {
    channel.registrations--;
    this.#forgetIfUnused(channel);
  });
  /**
   * How long (ms) from a refresh timer firing to the run starting on a thread, smoothed.
   * Refreshes are handed over this much early and the thread waits out the rest, so starts
   * land on schedule instead of drifting by the dispatch lag every cycle.
   */
  #lead = 2;
  #closed = false;
  /** Entries by cross-process identity, kept only for executors that need it (needsEntry). */
  readonly #byIdentity = new Map<string, Entry>();

  constructor(executor: Executor, options: ResolvedLoaderOptions) {
    // First: it may refuse the executor (one loader per executor), before anything is set up.
    executor.watch?.(
      (identity) => this.#byIdentity.has(identity),
      (identity, outcome) => this.#settledElsewhere(identity, outcome),
    );
    this.#executor = executor;
    this.#options = options;
    this.#notifier = new Notifier(options.onError);
    this.#store = new Store(options.maxEntries, options.ttl, (entry) => this.#released(entry));
    // Start loading the hasher now so it is ready before the first call with binary data.
    loadHasher().then(
      () => this.#rekey(),
      (error: unknown) => options.onError(error instanceof Error ? error : new Error(String(error))),
    );
  }

  get size(): number {
    return this.#store.size;
  }

  /**
   * Registers one wrapper; `wrapper` is what the user holds, watched to count the wrapper out
   * when it is garbage-collected (without it, the registration counts for the loader's life).
   */
  register(fn: FunctionRef, options: LoadOptions, wrapper?: object): Registration {
    const identity = functionIdentity(fn);
    let fnRecord = this.#functions.get(identity);
    // Stryker disable next-line UpdateOperator: counting down gives distinct ids too
    if (!fnRecord) this.#functions.set(identity, (fnRecord = { id: this.#nextFunctionId++, channels: 0 }));
    const name = keyPrefix(fnRecord.id, options.key);
    let channel = this.#channels.get(name);
    if (!channel) {
      // Entries are keyed by the channel's own number, not by the key option's text: a long
      // `key` would otherwise be copied into, and hashed with, every call's key text.
      // Stryker disable next-line UpdateOperator: counting down gives distinct numbers too
      const prefix = `${this.#nextChannelId++}|`;
      channel = { name, prefix, identity, fn, listeners: new Set(), registrations: 0, entries: 0 };
      this.#channels.set(name, channel);
      fnRecord.channels++;
    }
    const { prefix } = channel;
    channel.registrations++;
    if (wrapper) this.#wrappers.register(wrapper, channel);
    return {
      fn,
      options,
      prefix,
      pollInterval: options.pollInterval ?? this.#options.pollInterval,
      listeners: channel.listeners,
      channel,
    };
  }

  /** The hot path: a plain call. Returns the latest value or throws the latest error. */
  read(registration: Registration, args: unknown[]): unknown {
    const entry = this.#entryFor(registration, args);
    if (entry.failure) throw entry.failure.error;
    return entry.value;
  }

  state(registration: Registration, args: unknown[]): LoadState<unknown> {
    this.#assertOpen();
    const entry = this.#store.find(deriveKey(registration.prefix, args, this.#memo));
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
    if (entry.run) return entry.waitForRun();
    if (entry.failure) return Promise.reject(entry.failure.error);
    return Promise.resolve(entry.value);
  }

  refresh(registration: Registration, args: unknown[]): void {
    const entry = this.#entryFor(registration, args);
    if (entry.run) return;
    entry.refreshTimer?.cancel();
    entry.refreshTimer = undefined;
    this.#start(entry);
  }

  clear(registration: Registration, args: unknown[] | undefined): void {
    if (this.#closed) return;
    // Stryker disable next-line ConditionalExpression: close() emptied the store, so a clear() after it finds nothing to remove
    const { channel } = registration;
    const error = new CancelledError('the entry was cleared');
    this.#memo.clear();
    if (!args) {
      for (const entry of [...this.#store.all()]) {
        if (entry.registration.channel === channel) this.#remove(entry, error);
      }
      return;
    }
    const entry = this.#store.find(deriveKey(registration.prefix, args, this.#memo));
    if (entry) this.#remove(entry, error);
  }

  /** The latest value settled under the `key` option `key`, among the entries that still exist. */
  get(key: string): unknown {
    const entries = this.#keyed.get(key);
    if (!entries) return undefined;
    let latest: Entry | undefined;
    // Stryker disable next-line EqualityOperator: value numbers are unique, never equal
    for (const entry of entries) if (!latest || entry.valueSeq > latest.valueSeq) latest = entry;
    // Stryker disable next-line OptionalChaining: an empty set is deleted, so a set found here has an entry
    return latest?.value;
  }

  /** `listener` is checked by the public wrappers (OptionError) before it gets here. */
  subscribe(listeners: Set<Listener>, listener: Listener): () => void {
    this.#assertOpen();
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
    this.#provisional.clear();
    this.#memo.clear();
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
    // Stryker disable next-line ConditionalExpression: without a ttl the read time is never compared; 0 only saves the clock read
    return this.#options.ttl === Infinity ? 0 : performance.now();
  }

  /** Finds or creates the call's entry (starting its first run). */
  #entryFor(registration: Registration, args: unknown[]): Entry {
    this.#assertOpen();
    const key = deriveKey(registration.prefix, args, this.#memo);
    const found = this.#store.find(key);
    if (found) {
      this.#store.touch(found, this.#readTime());
      // A run the executor lost, or could not hand over, says nothing about the function: the
      // next call runs it again (as the error's message says) instead of serving that failure.
      if (!found.run && found.failure && runAgainOnCall(found.failure.error)) {
        found.refreshTimer?.cancel();
        found.refreshTimer = undefined;
        this.#start(found);
      }
      return found;
    }
    return this.#create(registration, key);
  }

  /**
   * The hasher has loaded: entries made before it, keyed by their binary leaves' bytes alone,
   * get their full keys, so that later calls (which hash) find them. One that a later call has
   * already duplicated keeps its provisional key and ages out like any other.
   */
  #rekey(): void {
    for (const entry of this.#provisional) {
      if (entry.removed) continue;
      // From copies out of shared memory: the key walk refuses views over shared memory.
      const { prefix } = entry.registration;
      const key = deriveKey(prefix, rebuildArgs(entry.text, prefix.length, entry.binaries).args);
      if (!this.#store.find(key)) this.#store.rekey(entry, key.text);
    }
    this.#provisional.clear();
  }

  /**
   * The run receives arguments rebuilt from the key text, not the caller's objects: the
   * caller's were read once, by the key walk, so what runs is exactly what the key says.
   */
  #create(registration: Registration, key: DerivedKey): Entry {
    const rebuilt = rebuildArgs(key.text, registration.prefix.length, key.binaries, true);
    let encoded = false;
    const payload = rebuilt.args.map((arg, i) => {
      const carried = prepare(arg, `args[${i}]`, rebuilt.shared);
      encoded ||= carried.encoded;
      return carried.value;
    });
    const entry = new Entry(registration, key, rebuilt.args, rebuilt.binaries, payload, encoded);
    // Stryker disable next-line ConditionalExpression: re-keying a complete key derives the same key, finds the entry itself and leaves it
    if (key.provisional) this.#provisional.add(entry);
    entry.lastRead = this.#readTime();
    // Submit before adding: a call that does not fit the queue leaves no entry behind.
    this.#start(entry);
    registration.channel.entries++;
    this.#store.add(entry);
    return entry;
  }

  #start(entry: Entry, notBefore?: number): void {
    const { options } = entry.registration;
    // Stryker disable next-line ConditionalExpression: read only when notBefore is set
    const handedOver = notBefore === undefined ? 0 : now();
    let identity: string | undefined;
    if (this.#executor.needsEntry) {
      identity = entryIdentity(entry.registration, entry.text);
      this.#byIdentity.set(identity, entry);
    }
    const run = this.#executor.submit(
      {
        fn: entry.registration.fn,
        args: entry.payload,
        encoded: entry.encoded,
        timeout: options.timeout,
        notBefore,
        entry: identity,
      },
      // Executors settle asynchronously, so `run` is assigned by the time this runs.
      (outcome) => {
        if (notBefore !== undefined && outcome.arrivedAt !== undefined)
          this.#learnLead(outcome.arrivedAt - handedOver);
        this.#settle(entry, run, outcome, anchorOf(outcome, notBefore, options.refreshEvery ?? 0));
      },
    );
    entry.dispatch({ type: 'start', run });
  }

  /**
   * Another process ran the entry (distributed executors): the entry takes the outcome as a run
   * of its own, announced to its subscribers, its refresh measured from that run's start.
   */
  #settledElsewhere(identity: string, outcome: Outcome): void {
    const entry = this.#byIdentity.get(identity);
    if (!entry || entry.removed || entry.run || this.#closed) return;
    entry.refreshTimer?.cancel();
    entry.refreshTimer = undefined;
    const run: RunHandle = { startedAt: () => outcome.startedAt, cancel: () => undefined };
    entry.dispatch({ type: 'start', run });
    this.#settle(entry, run, outcome, outcome.startedAt ?? outcome.finishedAt);
  }

  /** `anchor`: the start the next refresh is measured from (see anchorOf). */
  #settle(entry: Entry, run: Entry['run'], outcome: Outcome, anchor: number): void {
    if (entry.run !== run) return;
    if (entry.removed) {
      // Expired by `ttl` while running: its waiters still get the outcome; nothing follows it.
      entry.dispatch({ type: 'settle', outcome });
      return;
    }
    entry.dispatch({ type: 'settle', outcome });
    const { key, refreshEvery } = entry.registration.options;
    if (outcome.ok && key !== undefined) {
      entry.valueSeq = ++this.#valueSeq;
      let entries = this.#keyed.get(key);
      if (!entries) this.#keyed.set(key, (entries = new Set()));
      entries.add(entry);
    }
    // Not after a run that found no thread able to start: refreshing would start threads again
    // every `refreshEvery` (a busy loop of thread starts at 100 ms, and a process that never
    // exits). The entry's next call runs it again, and its refreshes resume from that run.
    const noThreads = !outcome.ok && outcome.error instanceof WorkerStartError;
    if (refreshEvery !== undefined && !this.#closed && !noThreads)
      this.#scheduleRefresh(entry, anchor, refreshEvery);
    // Stryker disable next-line ConditionalExpression: the notifier delivers to the listeners it has at delivery, none when it wants none; the check saves the event
    if (this.#notifier.wants(entry.registration)) this.#notifier.push(entry.event(), entry.registration);
    // Only now, with the run announced, may the bound evict the entry.
    this.#store.settled(entry);
  }

  /** The next run starts at (anchor + refreshEvery), or at once if that has passed. */
  #scheduleRefresh(entry: Entry, anchor: number, refreshEvery: number): void {
    const target = anchor + refreshEvery;
    entry.refreshTimer = after(target - this.#lead - now(), () => {
      entry.refreshTimer = undefined;
      // Stryker disable next-line ConditionalExpression,LogicalOperator: defensive: clear(), refresh() and close() cancel the timer, and a run in flight has none armed
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
    // Stryker disable next-line EqualityOperator: equal, both branches give the same lead
    this.#lead = wanted > this.#lead ? wanted : this.#lead * 0.9 + wanted * 0.1;
  }

  /** Cleared or closed: out of the store, its run cancelled, its waiters failed with `error`. */
  #remove(entry: Entry, error: Error): void {
    this.#store.remove(entry);
    this.#forget(entry);
    entry.dispatch({ type: 'remove', error });
  }

  /** The store's bounds let the entry go (it is already out of the store). */
  #released(entry: Entry): void {
    this.#forget(entry);
    // Neither is cancelled: an evicted entry is never running (so no one waits on it, and no
    // error need be made: eviction of a burst made one per run, a tenth of dispatch time), and an
    // expired one's run may finish for its waiters.
    entry.dispatch({ type: 'remove', error: undefined });
  }

  /** Drops everything kept for an entry that has left the store. */
  #forget(entry: Entry): void {
    if (entry.removed) return;
    if (this.#executor.needsEntry) {
      const identity = entryIdentity(entry.registration, entry.text);
      if (this.#byIdentity.get(identity) === entry) this.#byIdentity.delete(identity);
    }
    const { key } = entry.registration.options;
    // Stryker disable next-line ConditionalExpression: with no key option the keyed map holds nothing under undefined
    if (key !== undefined) {
      const entries = this.#keyed.get(key);
      if (entries?.delete(entry) && entries.size === 0) this.#keyed.delete(key);
    }
    const { channel } = entry.registration;
    channel.entries--;
    this.#forgetIfUnused(channel);
  }

  #forgetIfUnused(channel: Channel): void {
    if (channel.registrations > 0 || channel.entries > 0) return;
    if (this.#channels.get(channel.name) !== channel) return;
    this.#channels.delete(channel.name);
    const fnRecord = this.#functions.get(channel.identity);
    if (fnRecord && --fnRecord.channels === 0) {
      this.#functions.delete(channel.identity);
      this.#executor.forget?.(channel.fn);
    }
  }
}

/**
 * Failures of the executor, not of the function: a later call starts a new run (see #entryFor).
 * Threads that could not start may start now (what stopped them, low memory, may have passed).
 */
function runAgainOnCall(error: unknown): boolean {
  return (
    error instanceof RunLostError ||
    error instanceof RedisUnavailableError ||
    error instanceof WorkerStartError
  );
}

/**
 * One cache entry: a (function, key, arguments) identity and the state of its runs. Its
 * fields change only in `dispatch`, and every settled run yields exactly one UpdateEvent.
 */

import type { Outcome, RunHandle } from './executor.js';
import type { DerivedKey } from './key.js';
import { rebuildArgs } from './rebuild-args.js';
import type { Registration } from './registration.js';
import type { Timer } from './timers.js';

export type Status = 'idle' | 'running' | 'complete' | 'error';

export interface LoadState<R> {
  /** Of the entry's latest run. */
  status: Status;
  /** Latest successful value, kept through later errors and refreshes. */
  value: R | undefined;
  /** The latest run's error when `status` is 'error', else undefined. */
  error: unknown;
  /** Epoch ms when the latest run actually started on a thread. */
  startedAt?: number;
  /** Epoch ms when the latest run settled. */
  finishedAt?: number;
  /** Runs settled so far for this entry. */
  runs: number;
}

/** A settled run, as announced to subscribers. */
export interface UpdateEvent<R = unknown> {
  /** The entry's `key` option, if it has one. */
  key: string | undefined;
  /** The arguments the entry was called with. */
  args: readonly unknown[];
  status: 'complete' | 'error';
  /** The run's value when complete; else the entry's last good value. */
  value: R | undefined;
  /** The run's error when status is 'error'. */
  error: unknown;
  /** Epoch ms when the run actually started on a thread (undefined if it never started). */
  startedAt: number | undefined;
  /** Epoch ms when it settled. */
  finishedAt: number;
  /** finishedAt - startedAt, in milliseconds. */
  duration: number | undefined;
  /** Runs settled so far for this entry, this one included. */
  runs: number;
}

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * `remove`: the entry leaves its store. Its refresh stops; with `error`, its run (if any) is
 * cancelled and its waiters fail with that error; without, a run in flight may finish and its
 * waiters still get its outcome, but nothing is scheduled after it (`ttl` expiry).
 */
export type Action =
  | { type: 'start'; run: RunHandle }
  | { type: 'settle'; outcome: Outcome }
  | { type: 'remove'; error: Error | undefined };

export class Entry {
  /** The key text; changes once at most, when a provisional key is made final (Store#rekey). */
  text: string;
  /** For a call of one string or number: how the store finds the entry without its text. */
  readonly single: DerivedKey['single'];
  readonly binaries: (ArrayBufferView | ArrayBuffer)[] | undefined;
  readonly registration: Registration;
  readonly args: unknown[];
  /** The arguments as posted: `args` itself, or its codec-encoded copy. */
  readonly payload: unknown[];
  /** True when `payload` is codec-encoded. */
  readonly encoded: boolean;

  status: Status = 'idle';
  value: unknown = undefined;
  /** The latest settled run's failure; cleared by a success. While set, calls throw it. */
  failure: { error: unknown } | undefined;
  run: RunHandle | undefined;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  runs = 0;
  /** `wait()` callers of the current run. */
  waiters: Waiter[] | undefined;
  refreshTimer: Timer | undefined;
  /** performance.now() of the last read, for `ttl`. */
  lastRead = 0;
  /** The store's count of reads at this entry's last read: its place in the read order. */
  readSeq = 0;
  /** The store's eviction heap: this entry's index in it (-1: not in it) and its key there. */
  heapIndex = -1;
  heapKey = 0;
  /** True once cleared or evicted: late outcomes of its run are ignored. */
  removed = false;
  /** Order of this entry's latest successful value among the loader's (for `loader.get(key)`). */
  valueSeq = 0;
  /** Next entry with the same text but different binary data (a hash collision). */
  next: Entry | undefined;

  constructor(
    registration: Registration,
    key: Pick<DerivedKey, 'text' | 'single'>,
    args: unknown[],
    binaries: (ArrayBufferView | ArrayBuffer)[] | undefined,
    payload: unknown[],
    encoded: boolean,
  ) {
    this.registration = registration;
    this.text = key.text;
    this.single = key.single;
    this.args = args;
    this.binaries = binaries;
    this.payload = payload;
    this.encoded = encoded;
  }

  /** The one place an entry's state changes. */
  dispatch(action: Action): void {
    switch (action.type) {
      case 'start':
        this.status = 'running';
        this.run = action.run;
        this.startedAt = undefined;
        this.finishedAt = undefined;
        return;
      case 'settle': {
        const { outcome } = action;
        const waiters = this.waiters;
        this.run = undefined;
        this.waiters = undefined;
        this.runs++;
        this.startedAt = outcome.startedAt;
        this.finishedAt = outcome.finishedAt;
        if (outcome.ok) {
          this.status = 'complete';
          this.value = outcome.value;
          this.failure = undefined;
          if (waiters) for (const w of waiters) w.resolve(outcome.value);
        } else {
          this.status = 'error';
          this.failure = { error: outcome.error };
          if (waiters) for (const w of waiters) w.reject(outcome.error);
        }
        return;
      }
      case 'remove': {
        this.removed = true;
        this.refreshTimer?.cancel();
        this.refreshTimer = undefined;
        if (!action.error) return;
        const waiters = this.waiters;
        this.waiters = undefined;
        this.run?.cancel(action.error);
        if (waiters) for (const w of waiters) w.reject(action.error);
        return;
      }
    }
  }

  /** Resolves or rejects with the current run's outcome. */
  waitForRun(): Promise<unknown> {
    return new Promise((resolve, reject) => (this.waiters ??= []).push({ resolve, reject }));
  }

  state(): LoadState<unknown> {
    return {
      status: this.status,
      value: this.value,
      // Stryker disable next-line OptionalChaining: status 'error' always comes with a failure
      error: this.status === 'error' ? this.failure?.error : undefined,
      startedAt: this.run ? this.run.startedAt() : this.startedAt,
      finishedAt: this.finishedAt,
      runs: this.runs,
    };
  }

  /** The latest settled run, as announced to subscribers. */
  event(): UpdateEvent {
    const ok = this.status === 'complete';
    const { text, binaries, registration } = this;
    let args: unknown[] | undefined;
    return {
      key: registration.options.key,
      /**
       * A copy, rebuilt on first read: the entry's own arguments are what its refreshes send,
       * and a subscriber that changed them would change what later runs receive.
       */
      get args(): unknown[] {
        args ??= rebuildArgs(text, registration.prefix.length, binaries).args;
        return args;
      },
      status: ok ? 'complete' : 'error',
      value: this.value,
      // Stryker disable next-line OptionalChaining: status 'error' always comes with a failure
      error: ok ? undefined : this.failure?.error,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt!,
      duration: this.startedAt === undefined ? undefined : this.finishedAt! - this.startedAt,
      runs: this.runs,
    };
  }
}

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { afterAll, afterEach, beforeEach, expect, vi } from 'vitest';
import { createLoader, type Loader } from '../src/index.js';
import { resolveLoaderOptions } from '../src/options.js';
import type { Outcome, RunRequest } from '../src/executor.js';
import { PoolExecutor } from '../src/pool-executor.js';

/** A file a worker appends one character to per run: counts runs by their side effect. */
export function runCounter(): { path: string; count: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'async-load-test-'));
  const path = join(dir, 'runs.txt');
  writeFileSync(path, '');
  return { path, count: () => readFileSync(path, 'utf8').length };
}

/** Fails the test if anything reached the host as an unhandled rejection or uncaught exception. */
export function watchHostErrors(): void {
  const seen: unknown[] = [];
  const onError = (error: unknown): void => {
    seen.push(error);
  };
  beforeEach(() => {
    seen.length = 0;
    process.on('unhandledRejection', onError);
    process.on('uncaughtException', onError);
  });
  afterEach(() => {
    process.off('unhandledRejection', onError);
    process.off('uncaughtException', onError);
    expect(seen).toEqual([]);
  });
  afterAll(() => undefined);
}

/** Inline source of a function that waits on the first int of `sab` while it is 0 (at most 20 s); returns `n`. */
export const HOLD = `(n, sab) => {
  if (sab) Atomics.wait(new Int32Array(sab), 0, 0, 20000);
  return n;
}`;

/** Lets the runs of HOLD waiting on `sab` go on. */
export function release(sab: SharedArrayBuffer): void {
  const flag = new Int32Array(sab);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

/** A run submitted to an executor directly: its handle, its outcome, and the outcome if it has settled. */
export interface Submitted {
  handle: ReturnType<PoolExecutor['submit']>;
  outcome: Promise<Outcome>;
  settled: () => Outcome | undefined;
}
/** One function reference per source, as the loader keeps one per registration. */
const refs = new Map<string, RunRequest['fn']>();
export const ref = (source: string): RunRequest['fn'] => {
  let fn = refs.get(source);
  if (!fn) refs.set(source, (fn = { kind: 'inline', source }));
  return fn;
};
/** Submits a run of the inline function `source` (HOLD unless told) to `e`. */
export function submitRun(
  e: PoolExecutor,
  request: Partial<RunRequest> & Pick<RunRequest, 'args'>,
  source = HOLD,
): Submitted {
  let settledWith: Outcome | undefined;
  let resolve!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((r) => (resolve = r));
  const handle = e.submit({ fn: ref(source), encoded: false, ...request }, (o) => {
    settledWith = o;
    resolve(o);
  });
  return { handle, outcome, settled: () => settledWith };
}

/** Resolves after the current macrotask queue has run once (the event loop got a turn). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** What loaderFactory's loaders get unless a test overrides it: 2 threads, announcements at once. */
const TEST_DEFAULTS = { threads: 2, pollInterval: 0 } as const;

/**
 * Makes loaders for a test file (TEST_DEFAULTS unless overridden) and closes every one of them
 * after the file's tests.
 */
export function loaderFactory(): (options?: Parameters<typeof createLoader>[0]) => Loader {
  const loaders: Loader[] = [];
  afterAll(() => Promise.all(loaders.map((l) => l.close())));
  return (options = {}) => {
    const l = createLoader({ ...TEST_DEFAULTS, ...options });
    loaders.push(l);
    return l;
  };
}

/**
 * Like loaderFactory, for tests that need quick runs batched. When mutation testing instruments
 * the worker (the `workers` group), every run on a thread is slower than the executor's "quick"
 * threshold (0.5 ms), so batching would be rare or absent; those runs raise the threshold. Only
 * then: every other group keeps the default, so its batch tests still check it.
 */
export function batchingLoaderFactory(): (options?: Parameters<typeof createLoader>[0]) => Loader {
  const make = loaderFactory();
  if (process.env.ASYNC_LOAD_MUTATE_GROUP !== 'workers') return make;
  return (options = {}) => {
    const settings = resolveLoaderOptions({ ...TEST_DEFAULTS, ...options });
    return make({ ...options, executor: new PoolExecutor({ ...settings, quickMs: 50 }) });
  };
}

// recordTasks and until are also written out in pool-executor-edges.test.ts: that file is kept
// as it is while the mutation results that rest on it are current (an edit to a test file makes
// Stryker re-test everything its tests killed); they move here when it next changes.
export interface SentRun {
  fn: { source?: string };
  args: unknown[];
}
/** Every task handed to Piscina from now on: its runs as sent, and whether it went as a batch. */
export function recordTasks(): { runs: SentRun[]; batch: boolean }[] {
  const tasks: { runs: SentRun[]; batch: boolean }[] = [];
  const run = Piscina.prototype.run;
  vi.spyOn(Piscina.prototype, 'run').mockImplementation(function (this: Piscina, task: unknown, ...rest) {
    const { batch } = task as { batch?: SentRun[] };
    tasks.push(batch ? { runs: batch, batch: true } : { runs: [task as SentRun], batch: false });
    return run.call(this, task, ...rest);
  });
  return tasks;
}

/** Waits (yielding to the event loop) until `check` holds. */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await nextTurn();
}

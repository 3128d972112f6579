/**
 * Options, their defaults and their validation. Every check names the option and quotes what
 * it received, and runs at asyncLoad()/createLoader() time, never later.
 */

import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';
import { OptionError } from './errors.js';
import type { Executor } from './executor.js';
import { MAX_TIMER_MS } from './timers.js';

export interface LoadOptions {
  /**
   * Separates entries with the same arguments, and names them: `loader.get(key)` returns the
   * latest value settled under it.
   * @default undefined
   */
  key?: string;
  /**
   * Milliseconds: how long settled runs may wait to be announced to subscribers, so that runs
   * settling close together arrive in one batch. 0 announces at the end of the current turn of
   * the event loop. Values and `wait()` never wait for this.
   * @default the loader's `pollInterval` (10)
   */
  pollInterval?: number;
  /**
   * Milliseconds: re-run the entry this long after each run's actual start on a thread. A run
   * longer than this is followed by the next as soon as it ends. Unset: no refresh. Any
   * length works (timers are chained past Node's 2^31-1 ms limit).
   * @default undefined
   */
  refreshEvery?: number;
  /**
   * Milliseconds from the run's actual start on a thread (not from queueing); then the thread is
   * stopped and replaced, and the run fails with TimeoutError. Any length works.
   * @default undefined (no timeout)
   */
  timeout?: number;
}

export interface LoaderOptions {
  /**
   * Most worker threads the pool runs at once: 1 to 256 (each costs about 9 MiB, all start at once).
   * @default os.availableParallelism()
   */
  threads?: number;
  /**
   * Threads kept alive while idle (they never hold the process open).
   * @default `threads`
   */
  minThreads?: number;
  /**
   * Milliseconds an idle thread above `minThreads` lives before it exits: at most 2^31-1
   * (Piscina sets this timer itself, unchained), or Infinity to keep idle threads.
   * @default 60_000
   */
  idleTimeout?: number;
  /**
   * Runs that may wait for a thread. A call whose run does not fit throws QueueFullError.
   * @default Infinity
   */
  maxQueue?: number;
  /**
   * Heap and stack limits of each thread (Node's `ResourceLimits`). Values too small for a
   * thread to start are refused: `maxOldGenerationSizeMb` >= 8, `stackSizeMb` >= 1 (see
   * the README for the measurements on Node 20, 22 and 24).
   * @default Node's defaults
   */
  resourceLimits?: ResourceLimits;
  /**
   * Most entries kept; past it the least recently read settled entry is forgotten (never a
   * running one).
   * @default 1_000
   */
  maxEntries?: number;
  /**
   * Milliseconds an entry nobody reads (calls, state(), wait()) is kept; then it is forgotten
   * and its refresh stops. Any length works.
   * @default Infinity
   */
  ttl?: number;
  /** Default `pollInterval` for this loader's functions, in milliseconds. @default 10 */
  pollInterval?: number;
  /**
   * Receives errors that belong to no call: a thread that crashed between runs (for example
   * from a stray timer of a finished run), or a subscriber that threw.
   * @default process.emitWarning
   */
  onError?: (error: Error) => void;
  /**
   * Runs the functions somewhere other than this loader's own thread pool, for example on
   * other machines with `bullmqExecutor()` from `async-load/bullmq`. The pool options
   * (`threads`, `minThreads`, `idleTimeout`, `maxQueue`, `resourceLimits`) then do not apply.
   * One executor per loader: the loader closes it with itself.
   * @default this loader's own Piscina pool
   */
  executor?: Executor;
}

export interface ResolvedLoaderOptions {
  threads: number;
  minThreads: number;
  idleTimeout: number;
  maxQueue: number;
  resourceLimits: ResourceLimits | undefined;
  maxEntries: number;
  ttl: number;
  pollInterval: number;
  onError: (error: Error) => void;
  executor: Executor | undefined;
}

/**
 * 10 ms: a burst of settles reaches each listener as at most ~100 batches a second instead of
 * one call per run, and the added latency stays below a frame and 50x under the original's
 * 500 ms poll. Use 0 when every millisecond counts.
 */
export const DEFAULT_POLL_INTERVAL = 10;
export const DEFAULT_MAX_ENTRIES = 1_000;

/**
 * Most threads a loader may have. Every thread is a V8 isolate of about 9 MiB before it runs
 * anything, and the pool starts `minThreads` (by default all of them) at once: 256 threads are
 * about 2.2 GiB of memory, more threads than the largest common machines have cores (CPU-bound
 * runs gain nothing past the core count), and a typo such as `threads: 10_000` is refused
 * instead of taking the host's memory.
 */
export const MAX_THREADS = 256;

/** Quotes a received value for a message: `"100"` (string), `-1` (number). */
function show(value: unknown): string {
  let text: string;
  try {
    text =
      typeof value === 'string'
        ? JSON.stringify(value)
        : typeof value === 'bigint'
          ? `${value}n`
          : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return `\`${text}\` (${value === null ? 'null' : typeof value})`;
}

/** The error for a refused option or argument; the message names it and quotes what was received. */
export function invalid(option: string, value: unknown, expected: string): OptionError {
  return new OptionError(option, value, `Expected \`${option}\` to be ${expected}, got ${show(value)}.`);
}

function checkKnown(
  options: Record<string, unknown>,
  known: readonly string[],
  where: string,
  prefix = '',
): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new OptionError(
        prefix + name,
        options[name],
        `Unknown ${where} option \`${prefix}${name}\`; expected one of: ${known.join(', ')}.`,
      );
    }
  }
}

interface NumberRule {
  min: number;
  exclusiveMin?: boolean;
  /** Inclusive upper bound, and why it exists (shown in the message). */
  max?: { value: number; why: string };
  integer?: boolean;
  infinity?: boolean;
}

function number(name: string, value: unknown, rule: NumberRule): number {
  const what =
    `${rule.integer ? 'an integer' : 'a number'} ${rule.exclusiveMin ? '>' : '>='} ${rule.min}` +
    (rule.max ? ` and <= ${rule.max.value} (${rule.max.why})` : '') +
    (rule.infinity ? ' (or Infinity)' : '');
  const ok =
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a non-number fails Number.isFinite() below, and Infinity only passes where allowed
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (value === Infinity ? rule.infinity === true : Number.isFinite(value)) &&
    (rule.exclusiveMin ? value > rule.min : value >= rule.min) &&
    (!rule.max || value === Infinity || value <= rule.max.value) &&
    (!rule.integer || value === Infinity || Number.isInteger(value));
  if (!ok) throw invalid(name, value, what);
  return value;
}

function plainObject(value: unknown, option: string, where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OptionError(
      option,
      value,
      `Expected ${where}\`${option}\` to be an object, got ${show(value)}.`,
    );
  }
  return value as Record<string, unknown>;
}

/** `subscribe(listener)`: refused at once, not when the first batch is delivered. */
export function checkListener(listener: unknown): void {
  if (typeof listener !== 'function') throw invalid('listener', listener, 'a function');
}

/** `loader.get(key)`. */
export function checkKey(key: unknown): void {
  if (typeof key !== 'string') throw invalid('key', key, 'a string');
}

const LOAD_OPTIONS = ['key', 'pollInterval', 'refreshEvery', 'timeout'] as const;

export function validateLoadOptions(input: unknown): LoadOptions {
  const o = plainObject(input, 'options', 'asyncLoad() ');
  checkKnown(o, LOAD_OPTIONS, 'asyncLoad()');
  const out: LoadOptions = {};
  if (o.key !== undefined) {
    if (typeof o.key !== 'string') throw invalid('key', o.key, 'a string');
    out.key = o.key;
  }
  if (o.pollInterval !== undefined) out.pollInterval = number('pollInterval', o.pollInterval, { min: 0 });
  if (o.refreshEvery !== undefined) {
    out.refreshEvery = number('refreshEvery', o.refreshEvery, { min: 0, exclusiveMin: true });
  }
  if (o.timeout !== undefined) out.timeout = number('timeout', o.timeout, { min: 0, exclusiveMin: true });
  return out;
}

const LOADER_OPTIONS = [
  'threads',
  'minThreads',
  'idleTimeout',
  'maxQueue',
  'resourceLimits',
  'maxEntries',
  'ttl',
  'pollInterval',
  'onError',
  'executor',
] as const;

const RESOURCE_LIMITS = [
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
] as const;

/**
 * Smallest `resourceLimits` a thread can start with, measured with the built package on Node
 * 20.20, 22.23 and 24.9 (a thread must start, run, be replaced after a crash, and run again):
 *
 * - `maxOldGenerationSizeMb`: threads start from 5 MB on Node 20 and from 7 MB on 22 and 24.
 *   Below that they die while starting; at 1-2 MB Node 22 and 24 abort the whole process.
 *   8 covers all three with a little room.
 * - `stackSizeMb`: threads start from 0.3 MB; 0.25 overflows on the first run; 0.2 and below
 *   kill the process (exit 6 on Node 20, SIGSEGV on 22 and 24). 1 MB is required because the
 *   library itself walks values nested up to 1,000 levels (MAX_DEPTH), which fails
 *   below about 1 MB.
 * - `maxYoungGenerationSizeMb`, `codeRangeSizeMb`: any positive value starts (V8 rounds small
 *   values up), down to 0.1 measured.
 */
export const MIN_RESOURCE_LIMITS: Readonly<Record<(typeof RESOURCE_LIMITS)[number], number>> = {
  maxOldGenerationSizeMb: 8,
  stackSizeMb: 1,
  maxYoungGenerationSizeMb: 0,
  codeRangeSizeMb: 0,
};

/**
 * Largest `resourceLimits` accepted where a larger value does harm: both are reserved as
 * address space when a thread starts. Measured on Node 20: a `codeRangeSizeMb` of 1e8 aborts the
 * whole process (V8 cannot reserve it; 1e6 starts) and a `stackSizeMb` of 65,536 makes thread
 * creation fail with EAGAIN (16,384 starts). 4,096 MB is far past any real need for either.
 */
export const MAX_RESOURCE_LIMITS: Readonly<Partial<Record<(typeof RESOURCE_LIMITS)[number], number>>> = {
  stackSizeMb: 4096,
  codeRangeSizeMb: 4096,
};

export function resolveLoaderOptions(input: unknown): ResolvedLoaderOptions {
  const o = plainObject(input, 'options', 'createLoader() ');
  checkKnown(o, LOADER_OPTIONS, 'createLoader()');
  const threads =
    o.threads === undefined
      ? Math.max(1, availableParallelism())
      : number('threads', o.threads, {
          min: 1,
          integer: true,
          max: { value: MAX_THREADS, why: 'about 9 MiB of memory per thread, all started at once' },
        });
  const minThreads =
    o.minThreads === undefined ? threads : number('minThreads', o.minThreads, { min: 0, integer: true });
  if (minThreads > threads) throw invalid('minThreads', minThreads, `at most \`threads\` (${threads})`);
  let resourceLimits: ResourceLimits | undefined;
  if (o.resourceLimits !== undefined) {
    const limits = plainObject(o.resourceLimits, 'resourceLimits', '');
    checkKnown(limits, RESOURCE_LIMITS, 'resourceLimits', 'resourceLimits.');
    resourceLimits = {};
    for (const name of RESOURCE_LIMITS) {
      if (limits[name] !== undefined)
        resourceLimits[name] = number(`resourceLimits.${name}`, limits[name], {
          min: MIN_RESOURCE_LIMITS[name],
          exclusiveMin: MIN_RESOURCE_LIMITS[name] === 0,
          max:
            MAX_RESOURCE_LIMITS[name] === undefined
              ? undefined
              : { value: MAX_RESOURCE_LIMITS[name], why: 'reserved as address space when a thread starts' },
        });
    }
  }
  if (o.onError !== undefined && typeof o.onError !== 'function')
    throw invalid('onError', o.onError, 'a function');
  if (
    o.executor !== undefined &&
    (typeof o.executor !== 'object' ||
      o.executor === null ||
      typeof (o.executor as Executor).submit !== 'function' ||
      typeof (o.executor as Executor).close !== 'function')
  )
    throw invalid('executor', o.executor, 'an executor (an object with submit() and close())');
  return {
    threads,
    minThreads,
    idleTimeout:
      o.idleTimeout === undefined
        ? 60_000
        : number('idleTimeout', o.idleTimeout, {
            min: 0,
            infinity: true,
            // Piscina sets this timer itself, unchained: a longer one would fire after 1 ms.
            max: {
              value: MAX_TIMER_MS,
              why: "Node's longest timer, about 24.8 days; Infinity keeps idle threads",
            },
          }),
    maxQueue:
      o.maxQueue === undefined
        ? Infinity
        : number('maxQueue', o.maxQueue, { min: 0, integer: true, infinity: true }),
    resourceLimits,
    maxEntries:
      o.maxEntries === undefined
        ? DEFAULT_MAX_ENTRIES
        : number('maxEntries', o.maxEntries, { min: 1, integer: true, infinity: true }),
    ttl:
      o.ttl === undefined ? Infinity : number('ttl', o.ttl, { min: 0, exclusiveMin: true, infinity: true }),
    pollInterval:
      o.pollInterval === undefined
        ? DEFAULT_POLL_INTERVAL
        : number('pollInterval', o.pollInterval, { min: 0 }),
    onError: (o.onError as ((error: Error) => void) | undefined) ?? defaultOnError,
    executor: o.executor as Executor | undefined,
  };
}

function defaultOnError(error: Error): void {
  process.emitWarning(error);
}

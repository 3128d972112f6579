/**
 * Options, their defaults and their validation. Every check names the option and quotes what
 * it received, and runs at asyncLoad()/createLoader() time, never later.
 */

import { availableParallelism } from 'node:os';
import type { ResourceLimits } from 'node:worker_threads';

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
   * longer than this is followed by the next as soon as it ends. Unset: no refresh.
   * @default undefined
   */
  refreshEvery?: number;
  /**
   * Milliseconds from the run's actual start on a thread (not from queueing); then the thread is
   * stopped and replaced, and the run fails with TimeoutError.
   * @default undefined (no timeout)
   */
  timeout?: number;
}

export interface LoaderOptions {
  /**
   * Most worker threads the pool runs at once.
   * @default os.availableParallelism()
   */
  threads?: number;
  /**
   * Threads kept alive while idle (they never hold the process open).
   * @default `threads`
   */
  minThreads?: number;
  /**
   * Milliseconds an idle thread above `minThreads` lives before it exits.
   * @default 60_000
   */
  idleTimeout?: number;
  /**
   * Runs that may wait for a thread. A call whose run does not fit throws QueueFullError.
   * @default Infinity
   */
  maxQueue?: number;
  /** Heap and stack limits of each thread (Node's `ResourceLimits`). @default Node's defaults */
  resourceLimits?: ResourceLimits;
  /**
   * Most entries kept; past it the least recently read settled entry is forgotten (never a
   * running one).
   * @default 1_000
   */
  maxEntries?: number;
  /**
   * Milliseconds an entry nobody reads (calls, state(), wait()) is kept; then it is forgotten
   * and its refresh stops.
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
}

/**
 * 10 ms: a burst of settles reaches each listener as at most ~100 batches a second instead of
 * one call per run, and the added latency stays below a frame and 50x under the original's
 * 500 ms poll. Use 0 when every millisecond counts.
 */
export const DEFAULT_POLL_INTERVAL = 10;
export const DEFAULT_MAX_ENTRIES = 1_000;

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

function checkKnown(options: object, known: readonly string[], where: string): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new TypeError(`Unknown ${where} option \`${name}\`; expected one of: ${known.join(', ')}.`);
    }
  }
}

function number(
  name: string,
  value: unknown,
  rule: { min: number; exclusiveMin?: boolean; integer?: boolean; infinity?: boolean },
): number {
  const what = `${rule.integer ? 'an integer' : 'a number'} ${rule.exclusiveMin ? '>' : '>='} ${rule.min}${rule.infinity ? ' (or Infinity)' : ''}`;
  if (typeof value !== 'number')
    throw new TypeError(`Expected \`${name}\` to be ${what}, got ${show(value)}.`);
  const ok =
    !Number.isNaN(value) &&
    (value === Infinity ? rule.infinity === true : Number.isFinite(value)) &&
    (rule.exclusiveMin ? value > rule.min : value >= rule.min) &&
    (!rule.integer || value === Infinity || Number.isInteger(value));
  if (!ok) throw new RangeError(`Expected \`${name}\` to be ${what}, got ${show(value)}.`);
  return value;
}

function plainObject(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected ${where} options to be an object, got ${show(value)}.`);
  }
  return value as Record<string, unknown>;
}

const LOAD_OPTIONS = ['key', 'pollInterval', 'refreshEvery', 'timeout'] as const;

export function validateLoadOptions(input: unknown): LoadOptions {
  const o = plainObject(input, 'asyncLoad()');
  checkKnown(o, LOAD_OPTIONS, 'asyncLoad()');
  const out: LoadOptions = {};
  if (o.key !== undefined) {
    if (typeof o.key !== 'string')
      throw new TypeError(`Expected \`key\` to be a string, got ${show(o.key)}.`);
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
] as const;

const RESOURCE_LIMITS = [
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
] as const;

export function resolveLoaderOptions(input: unknown): ResolvedLoaderOptions {
  const o = plainObject(input, 'createLoader()');
  checkKnown(o, LOADER_OPTIONS, 'createLoader()');
  const threads =
    o.threads === undefined
      ? Math.max(1, availableParallelism())
      : number('threads', o.threads, { min: 1, integer: true });
  const minThreads =
    o.minThreads === undefined ? threads : number('minThreads', o.minThreads, { min: 0, integer: true });
  if (minThreads > threads) {
    throw new RangeError(
      `Expected \`minThreads\` to be at most \`threads\` (${threads}), got ${show(minThreads)}.`,
    );
  }
  let resourceLimits: ResourceLimits | undefined;
  if (o.resourceLimits !== undefined) {
    const limits = plainObject(o.resourceLimits, '`resourceLimits`');
    checkKnown(limits, RESOURCE_LIMITS, 'resourceLimits');
    resourceLimits = {};
    for (const name of RESOURCE_LIMITS) {
      if (limits[name] !== undefined)
        resourceLimits[name] = number(`resourceLimits.${name}`, limits[name], { min: 0, exclusiveMin: true });
    }
  }
  if (o.onError !== undefined && typeof o.onError !== 'function') {
    throw new TypeError(`Expected \`onError\` to be a function, got ${show(o.onError)}.`);
  }
  return {
    threads,
    minThreads,
    idleTimeout:
      o.idleTimeout === undefined ? 60_000 : number('idleTimeout', o.idleTimeout, { min: 0, infinity: true }),
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
  };
}

function defaultOnError(error: Error): void {
  process.emitWarning(error);
}

/**
 * Options of bullmqExecutor() and of the worker, validated like the rest of the library:
 * OptionError naming the option and quoting what was received.
 */

import type { RedisOptions } from 'ioredis';
import { OptionError } from '../errors.js';
import { invalid } from '../options.js';
import { MAX_TIMER_MS } from '../timers.js';

export interface BullmqExecutorOptions {
  /** A `redis://` or `rediss://` URL, or ioredis options. Use `rediss://` (TLS) across machines. */
  connection: string | RedisOptions;
  /**
   * The BullMQ queue the jobs go to; workers must be started with the same name.
   * Letters, digits, `-` and `_`.
   * @default 'async-load'
   */
  queue?: string;
  /**
   * Shared with the workers (`--secret-env`): every job is HMAC-signed with it and workers
   * refuse unsigned, tampered or expired jobs.
   * @default undefined (jobs unsigned)
   */
  secret?: string | Buffer;
  /**
   * Milliseconds a shared result is kept in Redis after its run. Set it to the loader's `ttl`.
   * @default 86_400_000 (one day)
   */
  ttl?: number;
  /**
   * Milliseconds a job may wait for a worker before workers refuse it as expired (signed jobs)
   * and the run fails. Also the life of its binary argument key.
   * @default 3_600_000
   */
  jobExpiry?: number;
  /**
   * Milliseconds without an answer from Redis after which pending runs fail with
   * RedisUnavailableError. Calls made while Redis is down fail at once.
   * @default 10_000
   */
  unavailableAfter?: number;
  /**
   * Milliseconds between checks of every pending run's job state (events can be lost).
   * @default 1_000
   */
  sweepInterval?: number;
  /**
   * Milliseconds of a refresh lease. Of the processes that hold an entry with `refreshEvery`,
   * one owns its lease and adds its refresh runs; it renews the lease every third of this
   * period while its loader has the entry. When it dies, another process takes over within one
   * period; when its loader lets the entry go, at the next renewal. At least 100.
   * @default 10_000
   */
  leasePeriod?: number;
}

export interface ResolvedExecutorOptions {
  connection: string | RedisOptions;
  queue: string;
  secret: string | Buffer | undefined;
  ttl: number;
  jobExpiry: number;
  unavailableAfter: number;
  sweepInterval: number;
  leasePeriod: number;
}

export const DEFAULT_QUEUE = 'async-load';

const KNOWN = [
  'connection',
  'queue',
  'secret',
  'ttl',
  'jobExpiry',
  'unavailableAfter',
  'sweepInterval',
  'leasePeriod',
];

/**
 * A duration in milliseconds, > 0 and at most Number.MAX_SAFE_INTEGER: Redis takes `ttl` and
 * `jobExpiry` as integer expiries (PEXPIRE), and refused 1e300 with every result's write.
 */
function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > Number.MAX_SAFE_INTEGER)
    throw invalid(name, value, 'a number of milliseconds > 0 and at most Number.MAX_SAFE_INTEGER');
  return value;
}

/**
 * A duration that sets a Node timer: at most MAX_TIMER_MS (about 24.8 days). Node fires a longer
 * one after 1 ms (a 3e9 `unavailableAfter` failed every run at once, a 1e12 `sweepInterval`
 * swept every millisecond).
 */
function timerLength(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value >= min && value <= MAX_TIMER_MS))
    throw invalid(
      name,
      value,
      `${min > 0 ? `a number of milliseconds from ${min}` : 'a number of milliseconds > 0'} and at most ${MAX_TIMER_MS.toLocaleString('en-US')} (the longest a Node timer waits)`,
    );
  return value;
}

export function checkQueueName(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,100}$/.test(value))
    throw invalid('queue', value, 'a name of 1 to 100 letters, digits, `-` or `_`');
  return value;
}

export function checkConnection(value: unknown): string | RedisOptions {
  if (typeof value === 'string') {
    if (!/^rediss?:\/\//.test(value)) throw invalid('connection', value, 'a redis:// or rediss:// URL');
    return value;
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  throw invalid('connection', value, 'a redis:// or rediss:// URL or ioredis options');
}

export function resolveExecutorOptions(input: unknown): ResolvedExecutorOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalid('options', input, 'an object with at least `connection`');
  const o = input as Record<string, unknown>;
  for (const name of Object.keys(o)) {
    if (!KNOWN.includes(name))
      throw new OptionError(
        name,
        o[name],
        `Unknown bullmqExecutor() option \`${name}\`; expected one of: ${KNOWN.join(', ')}.`,
      );
  }
  const secret = o.secret;
  if (
    secret !== undefined &&
    !(typeof secret === 'string' && secret.length > 0) &&
    !(Buffer.isBuffer(secret) && secret.length > 0)
  )
    throw invalid('secret', secret, 'a non-empty string or Buffer');
  return {
    connection: checkConnection(o.connection),
    queue: o.queue === undefined ? DEFAULT_QUEUE : checkQueueName(o.queue),
    secret: secret,
    ttl: positive('ttl', o.ttl, 86_400_000),
    jobExpiry: positive('jobExpiry', o.jobExpiry, 3_600_000),
    unavailableAfter: timerLength('unavailableAfter', o.unavailableAfter, 10_000),
    sweepInterval: timerLength('sweepInterval', o.sweepInterval, 1_000),
    // At least 100 ms: the lease is renewed every third of it, and Redis must answer in between.
    leasePeriod: timerLength('leasePeriod', o.leasePeriod, 10_000, 100),
  };
}

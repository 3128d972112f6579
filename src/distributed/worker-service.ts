/**
 * The worker side: a BullMQ Worker that takes jobs from the queue and runs each on this
 * process's own Piscina pool (the same PoolExecutor and worker threads as a local loader).
 * Never on the BullMQ worker's main thread: a CPU-bound function there blocks the lock
 * renewal, BullMQ takes the job for stalled, and it runs twice.
 *
 * A job is checked before anything of it runs: its format, its signature when a `secret` is
 * set, `modulesOnly` and the `allow` roots. A refused job fails at once, without a retry,
 * with a reason starting with REFUSED (the app turns it into JobRefusedError).
 */

import { availableParallelism } from 'node:os';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { now } from '../clock.js';
import { encodeThrown, prepare, type Carried } from '../codec.js';
import type { Outcome } from '../executor.js';
import { invalid, MAX_THREADS } from '../options.js';
import { PoolExecutor } from '../pool-executor.js';
import { MAX_TIMER_MS } from '../timers.js';
import { connect } from './bullmq-executor.js';
import {
  INLINE_RESULT_CHARS,
  JOB_VERSION,
  Keys,
  REFUSED,
  type JobData,
  type JobReturn,
  type ResultMeta,
  type SettledNote,
} from './job.js';
import { checkConnection, checkQueueName, DEFAULT_QUEUE } from './options.js';
import { readMeta, writeResult } from './results.js';
import { checkSignature } from './signing.js';
import { Wire } from './wire.js';

export interface WorkerOptions {
  /** A `redis://` or `rediss://` URL, or ioredis options. */
  connection: string | RedisOptions;
  /** @default 'async-load' */
  queue?: string;
  /** Jobs taken at once. @default `threads` */
  concurrency?: number;
  /** Worker threads of this process's pool. @default os.availableParallelism() */
  threads?: number;
  /** Refuse inline functions (source text); run only moduleTask()s. @default false */
  modulesOnly?: boolean;
  /** Directories module tasks must live under (file URLs only). @default [] (any module) */
  allow?: string[];
  /** Refuse jobs not signed with this secret (see bullmqExecutor's `secret`). @default undefined */
  secret?: string | Buffer;
  /**
   * Milliseconds a job's lock lasts; a job whose worker died is taken again after about
   * lockDuration + up to 2 x stalledInterval (with the defaults, at most 16 s).
   * @default 8_000
   */
  lockDuration?: number;
  /** Milliseconds between checks for stalled jobs. @default 4_000 */
  stalledInterval?: number;
  /** Errors that belong to no job. @default process.emitWarning */
  onError?: (error: Error) => void;
}

export interface WorkerHandle {
  /** Resolves once connected to Redis and taking jobs. */
  readonly ready: Promise<void>;
  /**
   * Stops taking jobs, waits up to `graceMs` (0 to 2,147,483,647, or Infinity) for the running
   * ones, then stops; a job still running is taken again by another worker (stalled-job recovery).
   */
  close(graceMs?: number): Promise<void>;
}

/** Longest close() waits for BullMQ's forced close (it waits for Redis, which may be gone). */
const FORCED_CLOSE_WAIT_MS = 2_000;

function count(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw invalid(
      name,
      value,
      max === Number.MAX_SAFE_INTEGER ? 'an integer >= 1' : `an integer from 1 to ${max}`,
    );
  return value;
}

/** Normalised roots, each ending with a separator so `/srv/app` does not allow `/srv/app2`. */
function roots(allow: unknown): string[] {
  if (allow === undefined) return [];
  if (!Array.isArray(allow) || allow.some((d) => typeof d !== 'string' || d === ''))
    throw invalid('allow', allow, 'an array of directory paths');
  return (allow as string[]).map((d) => {
    const full = resolve(d);
    return full.endsWith(sep) ? full : full + sep;
  });
}

/** Why the job must be refused before running, or undefined. */
function policyProblem(job: JobData, modulesOnly: boolean, allowed: string[]): string | undefined {
  if (job.fn.kind === 'inline')
    return modulesOnly ? 'this worker runs module tasks only (--modules-only)' : undefined;
  if (allowed.length === 0) return undefined;
  let path: string;
  try {
    path = resolve(fileURLToPath(job.fn.url));
  } catch {
    return `module ${job.fn.url} is not a file URL, and this worker allows only modules under its --allow roots`;
  }
  return allowed.some((root) => path.startsWith(root))
    ? undefined
    : `module ${job.fn.url} is outside this worker's --allow roots`;
}

function wellFormed(data: unknown): data is JobData {
  const d = data as Partial<JobData> | null;
  const fn = d?.fn as Partial<JobData['fn']> | undefined;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.v === JOB_VERSION &&
    typeof d.run === 'string' &&
    typeof d.args === 'string' &&
    typeof d.entry === 'string' &&
    typeof d.exp === 'number' &&
    Number.isInteger(d.bins) &&
    (fn?.kind === 'inline'
      ? typeof (fn as { source?: unknown }).source === 'string'
      : fn?.kind === 'module' &&
        typeof (fn as { url?: unknown }).url === 'string' &&
        typeof (fn as { exportName?: unknown }).exportName === 'string')
  );
}

export function startWorker(options: WorkerOptions): WorkerHandle {
  const connection = checkConnection(options.connection);
  const queue = options.queue === undefined ? DEFAULT_QUEUE : checkQueueName(options.queue);
  // As a loader's pool: at most MAX_THREADS, all started at once.
  const threads = count(
    'threads',
    options.threads,
    Math.min(MAX_THREADS, Math.max(1, availableParallelism())),
    MAX_THREADS,
  );
  const concurrency = count('concurrency', options.concurrency, threads);
  // Both set Node timers in BullMQ, which fire after 1 ms when longer than MAX_TIMER_MS.
  const lockDuration = count('lockDuration', options.lockDuration, 8_000, MAX_TIMER_MS);
  const stalledInterval = count('stalledInterval', options.stalledInterval, 4_000, MAX_TIMER_MS);
  const allowed = roots(options.allow);
  const modulesOnly = options.modulesOnly === true;
  const secret = options.secret;
  const onError = options.onError ?? ((error: Error) => process.emitWarning(error));
  const keys = new Keys(queue);
  const wire = new Wire();
  const pool = new PoolExecutor({
    threads,
    minThreads: threads,
    idleTimeout: 60_000,
    maxQueue: Infinity,
    resourceLimits: undefined,
    onError,
  });
  const client = connect(connection, { maxRetriesPerRequest: null, enableAutoPipelining: true });
  client.on('error', () => undefined);

  const refuse = (why: string): never => {
    throw new UnrecoverableError(REFUSED + why);
  };

  const processor = async (job: Job): Promise<JobReturn> => {
    const data: unknown = job.data;
    if (!wellFormed(data)) return refuse('it is not an async-load job of a format this worker knows');
    const binaries: Buffer[] = [];
    if (data.bins > 0) {
      const hash = await client.hgetallBuffer(keys.args(data.run));
      for (let i = 0; i < data.bins; i++) {
        const b = hash[`b${i}`];
        if (!b) return refuse('its binary arguments are gone from Redis (expired?)');
        binaries.push(b);
      }
    }
    if (secret !== undefined) {
      const problem = checkSignature(data, binaries, secret, now());
      if (problem) return refuse(problem);
    }
    const policy = policyProblem(data, modulesOnly, allowed);
    if (policy) return refuse(policy);
    // The app decided to run the entry after reading its latest outcome, and added this job
    // in a second step; another process's run may have settled in between (deduplication
    // allows a new job once the previous one is done). That run's outcome is stored before
    // its job completes, so it is visible here: served instead of running the entry twice.
    const latest = await readMeta(client, keys, data.entry);
    if (
      latest?.ok &&
      latest.startedAt !== undefined &&
      (data.after === undefined || latest.startedAt > data.after)
    ) {
      // Announced like a run's outcome: the app's runs waiting for this job read the served one.
      const served: SettledNote = { run: data.run, served: latest.run, entry: data.entry };
      await client.publish(keys.settled(), JSON.stringify(served));
      return { run: data.run, served: latest.run };
    }
    const args = wire.unpack(data.args, binaries);
    if (!Array.isArray(args)) return refuse('its arguments are not an array');
    const outcome = await new Promise<Outcome>((settle) => {
      try {
        pool.submit({ fn: data.fn, args, encoded: data.encoded, timeout: data.timeout }, settle);
      } catch (error) {
        settle({ ok: false, error, startedAt: undefined, finishedAt: now() });
      }
    });
    let ok = outcome.ok;
    let carried: Carried;
    if (outcome.ok) {
      try {
        carried = prepare(outcome.value, 'result');
      } catch (error) {
        ok = false;
        carried = encodeThrown(error);
      }
    } else carried = encodeThrown(outcome.error);
    const packed = wire.pack(carried.value);
    const meta: ResultMeta = {
      run: data.run,
      ok,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      encoded: carried.encoded,
      bins: packed.binaries.length,
    };
    const returned: JobReturn =
      packed.binaries.length === 0 && packed.text.length <= INLINE_RESULT_CHARS
        ? { run: data.run, meta, text: packed.text }
        : { run: data.run };
    const note: SettledNote = { ...returned, entry: data.entry };
    await writeResult(client, keys, data.entry, meta, packed, data.ttl, JSON.stringify(note));
    if (data.bins > 0) await client.del(keys.args(data.run));
    return returned;
  };

  // A failed job is announced too, so its waiters settle without waiting for the sweep. The
  // reason is BullMQ's failedReason: the error's message.
  const announced = async (job: Job): Promise<JobReturn> => {
    try {
      return await processor(job);
    } catch (error) {
      const data = job.data as Partial<JobData> | null;
      if (typeof data?.run === 'string' && typeof data.entry === 'string') {
        const note: SettledNote = {
          run: data.run,
          entry: data.entry,
          failed: error instanceof Error ? error.message : String(error),
        };
        await client.publish(keys.settled(), JSON.stringify(note)).catch(() => undefined);
      }
      throw error;
    }
  };

  // Its failures reach onError through the Worker's own 'error' event; without a listener here,
  // ioredis also prints each failed reconnect as an unhandled error event.
  const workerConnection = connect(connection, { maxRetriesPerRequest: null });
  workerConnection.on('error', () => undefined);
  const worker = new Worker(queue, announced, {
    connection: workerConnection,
    concurrency,
    lockDuration,
    stalledInterval,
    maxStalledCount: 1,
  });
  worker.on('error', (error) => onError(error));

  // Rejects when the worker closes before it was ready; a caller who never awaits it must not
  // get an unhandled rejection.
  const ready = worker.waitUntilReady().then(() => undefined);
  ready.catch(() => undefined);
  let closing: Promise<void> | undefined;
  return {
    ready,
    close(graceMs = 30_000): Promise<void> {
      // Infinity: wait for running jobs however long they take. A Node timer longer than
      // MAX_TIMER_MS fires after 1 ms, which would force the close at once.
      if (
        typeof graceMs !== 'number' ||
        Number.isNaN(graceMs) ||
        graceMs < 0 ||
        (graceMs > MAX_TIMER_MS && graceMs !== Infinity)
      )
        return Promise.reject(
          invalid('graceMs', graceMs, `0 to ${MAX_TIMER_MS.toLocaleString('en-US')} ms, or Infinity`),
        );
      closing ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const graceful = worker.close();
        const forced = new Promise<void>((done) => {
          if (graceMs === Infinity) return;
          timer = setTimeout(() => {
            // Running jobs stay locked until their lock expires, then another worker takes them.
            // BullMQ's forced close waits for Redis: with Redis unreachable it never returned.
            void worker.close(true).then(done, done);
            setTimeout(done, FORCED_CLOSE_WAIT_MS).unref();
          }, graceMs);
        });
        await Promise.race([graceful, forced]);
        clearTimeout(timer);
        await pool.close();
        client.disconnect();
        workerConnection.disconnect();
      })();
      return closing;
    },
  };
}

/**
 * The Executor that runs functions on other processes and machines through BullMQ on Redis.
 *
 * One run per entry everywhere: each run's job gets a fresh id (never reused: BullMQ's own
 * counter restarts at 1 when Redis restarts without persistence, and a waiter was handed
 * another job's result) and a deduplication id equal to the entry's identity, so an `add` for
 * an entry whose run is in flight anywhere joins that run instead. The worker stores each
 * outcome under the entry's identity, so a process that has not seen an entry yet serves the
 * shared result instead of running it again.
 *
 * A run settles when the worker announces its outcome on the queue's pub/sub channel (a
 * SettledNote, also for refused and failed jobs). BullMQ's QueueEvents is not used: each app
 * process would parse every event of every job in the queue (about five per job), and it
 * drops events in bursts anyway. Nothing waits forever: a sweep reads the job of every run
 * pending for a `sweepInterval`, and all of them on every reconnect (a job failed without a
 * note, e.g. stalled twice with its worker killed, or gone: RunLostError), and runs fail with
 * RedisUnavailableError once Redis has not answered for `unavailableAfter`.
 */

import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { now } from '../clock.js';
import { decode } from '../codec.js';
import {
  CancelledError,
  JobRefusedError,
  OptionError,
  LoaderClosedError,
  RedisUnavailableError,
  RunLostError,
  WorkerCrashedError,
} from '../errors.js';
import type { Executor, Outcome, RunHandle, RunRequest } from '../executor.js';
import { after, type Timer } from '../timers.js';
import { JOB_VERSION, Keys, REFUSED, type JobData, type JobReturn, type SettledNote } from './job.js';
import { Leases } from './lease.js';
import {
  resolveExecutorOptions,
  type BullmqExecutorOptions,
  type ResolvedExecutorOptions,
} from './options.js';
import { readMeta, readResult, type StoredResult } from './results.js';
import { reviveError } from './revive.js';
import { sign } from './signing.js';
import { Wire } from './wire.js';

/** How many entries' latest start times are remembered (see #known). */
const KNOWN_ENTRIES = 100_000;
/** Bound on close() waiting for BullMQ's own clients to quit (Redis may be down). */
const CLOSE_WAIT_MS = 2_000;
/** Milliseconds before adding a run's job again after the connection dropped under it. */
const RETRY_ADD_MS = 100;
/** A pending run's job is checked at least every this many sweep intervals. */
const CHECK_BACKOFF_MAX = 8;
/** Job states read at once by a sweep. */
const SWEEP_BATCH = 64;
/** Completed and failed jobs are kept this long (s) so a sweep that missed the event still reads them. */
const KEEP_JOBS_S = 3_600;
/** A follower tries the lease this long (ms) after the holder's would lapse, so it has lapsed. */
const LAPSE_MARGIN_MS = 5;

export function connect(connection: string | RedisOptions, extra: RedisOptions): Redis {
  return typeof connection === 'string'
    ? new Redis(connection, extra)
    : new Redis({ ...connection, ...extra });
}

class PendingRun implements RunHandle {
  readonly request: RunRequest;
  readonly onSettle: (outcome: Outcome) => void;
  readonly since = now();
  readonly run = randomUUID();
  jobId: string | undefined;
  /** The add of its job has been answered: the sweep may look the job up. */
  added = false;
  /** Adding its job is tried again when the connection drops meanwhile (see #begin). */
  retries = false;
  /** Milliseconds from `since` after which the sweep checks its job (see #sweep). */
  checkAfter: number;
  done = false;
  readonly #executor: BullmqExecutor;

  constructor(
    executor: BullmqExecutor,
    request: RunRequest,
    onSettle: (outcome: Outcome) => void,
    checkAfter: number,
  ) {
    this.#executor = executor;
    this.checkAfter = checkAfter;
    this.request = request;
    this.onSettle = onSettle;
  }

  /** A remote start is not known until the run settles. */
  startedAt(): number | undefined {
    return undefined;
  }

  cancel(reason: Error): void {
    // The job may be shared with other processes: it is not removed, only no longer awaited here.
    this.#executor.finish(this, { ok: false, error: reason, startedAt: undefined, finishedAt: now() });
  }

  get entry(): string {
    return this.request.entry ?? this.run;
  }
}

export class BullmqExecutor implements Executor {
  readonly needsEntry = true;
  readonly #options: ResolvedExecutorOptions;
  readonly #keys: Keys;
  readonly #wire = new Wire();
  /** Commands: no offline queue, so a call made while Redis is down fails at once. */
  readonly #client: Redis;
  readonly #queue: Queue;
  readonly #pending = new Set<PendingRun>();
  /** Job id -> the local runs waiting for it. */
  readonly #byJob = new Map<string, Set<PendingRun>>();
  /**
   * Entry -> the latest run this process has had an outcome of (its id and start). A first run
   * (no record) or a refresh first looks for a newer shared result; a settled run announced
   * twice is delivered once. Insertion-ordered, oldest dropped past KNOWN_ENTRIES.
   */
  readonly #known = new Map<string, { run: string; startedAt: number | undefined }>();
  /** Pub/sub connection on which workers announce settled runs (SettledNote). */
  readonly #subscriber: Redis;
  #watcher:
    { holds: (entry: string) => boolean; deliver: (entry: string, outcome: Outcome) => void } | undefined;
  /** The command connection has been ready at least once. */
  #wasReady = false;
  /** Epoch ms of Redis's latest answer. */
  #lastContact = now();
  readonly #sweeper: NodeJS.Timeout;
  #sweeping = false;
  #closed = false;
  /**
   * Resolves when the command client is first ready (or fails after `unavailableAfter`). With
   * the offline queue off, a command sent while connecting fails; only the first connection is
   * waited for, so that calls made while Redis is down later fail at once.
   */
  readonly #firstReady: Promise<void>;
  /** Refresh leases (lease.ts): which entries this process refreshes for every process. */
  readonly #leases: Leases;
  /**
   * Entry -> refresh runs that found another process owning the entry's lease: each waits for
   * that owner's outcome (#settleFollowers), or for the lease to lapse (#retryRefresh).
   */
  readonly #followers = new Map<string, Map<PendingRun, Timer>>();

  constructor(options: BullmqExecutorOptions) {
    this.#options = resolveExecutorOptions(options);
    const { connection, queue } = this.#options;
    this.#keys = new Keys(queue);
    this.#client = connect(connection, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
    });
    // ioredis reports connection failures as 'error' events; the runs report them as RedisUnavailableError.
    this.#client.on('error', () => undefined);
    this.#firstReady = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(unavailable(new Error(`no connection within ${this.#options.unavailableAfter} ms`))),
        this.#options.unavailableAfter,
      );
      timer.unref();
      // Notes of settled runs are heard from before the first job is added (ioredis subscribes
      // again by itself after a reconnect).
      this.#client.once('ready', () => {
        this.#subscriber.subscribe(this.#keys.settled()).then(() => {
          clearTimeout(timer);
          resolve();
        }, reject);
      });
    });
    // Awaited by every run; a rejection no run awaited yet must not become an unhandled one.
    this.#firstReady.catch(() => undefined);
    this.#client.on('ready', () => {
      this.#wasReady = true;
      this.#lastContact = now();
      void this.#sweep(true);
    });
    this.#queue = new Queue(queue, { connection: this.#client });
    this.#queue.on('error', () => undefined);
    this.#subscriber = connect(connection, { maxRetriesPerRequest: null });
    this.#subscriber.on('error', () => undefined);
    this.#subscriber.on('message', (_channel: string, text: string) => void this.#settled(text));
    // Announcements made while it was disconnected are lost: every pending job is checked.
    this.#subscriber.on('ready', () => void this.#sweep(true));
    this.#sweeper = setInterval(() => void this.#sweep(), this.#options.sweepInterval);
    this.#sweeper.unref();
    this.#leases = new Leases(
      this.#client,
      this.#keys,
      this.#options.leasePeriod,
      (entry) => this.#watcher?.holds(entry) ?? true,
    );
  }

  submit(request: RunRequest, onSettle: (outcome: Outcome) => void): RunHandle {
    if (this.#closed) throw new LoaderClosedError();
    const run = new PendingRun(this, request, onSettle, this.#options.sweepInterval);
    // Connected, or connecting for the first time: a dropped connection is waited out.
    run.retries = this.#client.status === 'ready' || !this.#wasReady;
    this.#pending.add(run);
    void this.#begin(run);
    return run;
  }

  finish(run: PendingRun, outcome: Outcome): void {
    if (run.done) return;
    run.done = true;
    this.#pending.delete(run);
    this.#unlisten(run);
    run.onSettle(outcome);
  }

  watch(holds: (entry: string) => boolean, deliver: (entry: string, outcome: Outcome) => void): void {
    // Each loader closes its executor with it, and runs settled elsewhere go to one loader.
    if (this.#watcher)
      throw new OptionError(
        'executor',
        this,
        'This bullmqExecutor() already serves another loader; create one executor per loader.',
      );
    if (this.#closed) return;
    this.#watcher = { holds, deliver };
  }

  /**
   * A worker announced a settled run: the runs of this process waiting for its job settle;
   * otherwise it is delivered if this process holds the entry and has not had it.
   */
  async #settled(text: string): Promise<void> {
    let note: SettledNote;
    try {
      note = JSON.parse(text) as SettledNote;
    } catch {
      return;
    }
    if (this.#closed || typeof note.entry !== 'string' || typeof note.run !== 'string') return;
    if (this.#byJob.has(note.run)) {
      if (typeof note.failed === 'string') this.#failed(note.run, note.failed);
      else await this.#completed(note.run, note);
      return;
    }
    if (note.failed !== undefined) return;
    const watcher = this.#watcher;
    if (!watcher?.holds(note.entry)) return;
    if (this.#known.get(note.entry)?.run === note.run) return;
    let stored = inlineResult(note);
    if (!stored) {
      try {
        stored = await readResult(this.#client, this.#keys, note.entry);
      } catch {
        return;
      }
      if (!stored) return;
    }
    if (this.#known.get(note.entry)?.run === stored.meta.run || this.#byJob.has(stored.meta.run)) return;
    const outcome = this.#outcomeOf(stored, note.entry);
    if (this.#settleFollowers(note.entry, outcome)) return;
    watcher.deliver(note.entry, outcome);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    const closed = new LoaderClosedError();
    for (const run of [...this.#pending])
      this.finish(run, { ok: false, error: closed, startedAt: undefined, finishedAt: now() });
    for (const runs of this.#followers.values()) for (const timer of runs.values()) timer.cancel();
    this.#followers.clear();
    // Leases are given up so that the other processes take over at once, not a period later.
    const quit = Promise.allSettled([this.#queue.close(), this.#leases.close()]);
    await Promise.race([quit, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    this.#client.disconnect();
    this.#subscriber.disconnect();
  }

  #remember(entry: string, run: string, startedAt: number | undefined): void {
    const previous = this.#known.get(entry);
    this.#known.delete(entry);
    // A run refused or lost before it started keeps the previous start as the one to beat.
    this.#known.set(entry, { run, startedAt: startedAt ?? previous?.startedAt });
    if (this.#known.size > KNOWN_ENTRIES) {
      const oldest = this.#known.keys().next().value;
      if (oldest !== undefined) this.#known.delete(oldest);
    }
  }

  async #begin(run: PendingRun): Promise<void> {
    if (run.done) return;
    const { request } = run;
    const entry = run.entry;
    try {
      await this.#firstReady;
      const last = this.#known.get(entry)?.startedAt;
      // The newest start this process knows of: the job carries it (JobData.after).
      let after = last;
      if (last === undefined || request.notBefore !== undefined) {
        // First sight of the entry in this process, or a refresh that another process may have
        // run already: a newer shared result is served instead of a new run. A refresh usually
        // finds its own latest run, so it reads the small metadata first.
        const meta = last === undefined ? undefined : await readMeta(this.#client, this.#keys, entry);
        const newer = meta?.ok && meta.startedAt !== undefined && meta.startedAt > last!;
        const shared =
          last === undefined || newer ? await readResult(this.#client, this.#keys, entry) : undefined;
        this.#lastContact = now();
        if (run.done) return;
        const seen = shared?.meta.startedAt;
        if (seen !== undefined && (after === undefined || seen > after)) after = seen;
        if (shared?.meta.ok && seen !== undefined && (last === undefined || seen > last)) {
          this.finish(run, this.#outcomeOf(shared, entry));
          return;
        }
      }
      // A refresh is added only by the process that owns the entry's lease; others follow it.
      if (request.notBefore !== undefined && !(await this.#mayRefresh(run, after))) return;
      const packed = this.#wire.pack(request.args);
      const data: JobData = {
        v: JOB_VERSION,
        run: run.run,
        fn: request.fn,
        args: packed.text,
        bins: packed.binaries.length,
        encoded: request.encoded,
        entry,
        exp: now() + this.#options.jobExpiry,
      };
      if (request.timeout !== undefined) data.timeout = request.timeout;
      if (after !== undefined) data.after = after;
      data.ttl = this.#options.ttl;
      if (this.#options.secret !== undefined) data.sig = sign(data, packed.binaries, this.#options.secret);
      if (packed.binaries.length > 0) {
        const key = this.#keys.args(run.run);
        const fields: (string | Buffer)[] = [];
        packed.binaries.forEach((b, i) => fields.push(`b${i}`, b));
        await this.#client
          .multi()
          .hset(key, ...fields)
          .pexpire(key, Math.ceil(this.#options.jobExpiry))
          .exec();
      }
      // Listened for before the add: the worker may finish the job, and its note or event
      // arrive, before the add's reply does.
      this.#listen(run, run.run);
      const job = await this.#queue.add('run', data, {
        jobId: run.run,
        deduplication: { id: entry },
        removeOnComplete: { age: KEEP_JOBS_S },
        removeOnFail: { age: KEEP_JOBS_S },
        // A refresh starts at its time (previous start + refreshEvery), not when handed over.
        ...(request.notBefore !== undefined && { delay: Math.max(0, request.notBefore - now()) }),
      });
      this.#lastContact = now();
      const jobId = job.id ?? run.run;
      run.added = true;
      if (run.done || jobId === run.run) return;
      // Joined a run already in flight: it may have settled before this process listened.
      this.#listen(run, jobId);
      await this.#check(jobId);
    } catch (error) {
      if (run.done) return;
      // The connection dropped while the run was being added (ioredis reconnects within
      // milliseconds): tried again until `unavailableAfter`, as a pending run. A run submitted
      // while Redis was already unreachable fails at once (run.retries is false).
      if (
        !this.#closed &&
        run.retries &&
        connectionLost(error, this.#client) &&
        now() - run.since < this.#options.unavailableAfter
      ) {
        after(RETRY_ADD_MS, () => void this.#begin(run));
        return;
      }
      this.finish(run, {
        ok: false,
        error: this.#closed ? new LoaderClosedError() : unavailable(error),
        startedAt: undefined,
        finishedAt: now(),
      });
    }
  }

  /** Makes `run` wait for job `jobId` (and no longer for the one it waited for before). */
  #listen(run: PendingRun, jobId: string): void {
    this.#unlisten(run);
    run.jobId = jobId;
    let runs = this.#byJob.get(jobId);
    if (!runs) this.#byJob.set(jobId, (runs = new Set()));
    runs.add(run);
  }

  #unlisten(run: PendingRun): void {
    if (run.jobId === undefined) return;
    const runs = this.#byJob.get(run.jobId);
    if (runs?.delete(run) && runs.size === 0) this.#byJob.delete(run.jobId);
  }

  /**
   * A refresh request: true when this process owns the entry's lease (or has just taken it),
   * and so adds the run. Otherwise the run follows the owner's and false is returned. `since`:
   * the newest start #begin knew of; a run that started later settles this one.
   */
  async #mayRefresh(run: PendingRun, since: number | undefined): Promise<boolean> {
    const turn = await this.#leases.take(run.entry);
    this.#lastContact = now();
    if (run.done) return false;
    if (turn.owner) return true;
    const entry = run.entry;
    let runs = this.#followers.get(entry);
    if (!runs) this.#followers.set(entry, (runs = new Map()));
    runs.set(
      run,
      after(turn.retryIn + LAPSE_MARGIN_MS, () => this.#retryRefresh(run)),
    );
    // The owner's run may have been announced after #begin read the entry's latest outcome and
    // before this run was listed as a follower: read it again now that announcements reach it.
    // Compared with what #begin knew, not with what is known now: that announcement, with no
    // follower to settle, was remembered as known (and went to the loader, which ignores it
    // while the entry runs), so this run would have waited for the lease to lapse.
    const meta = await readMeta(this.#client, this.#keys, entry);
    if (meta?.startedAt !== undefined && (since === undefined || meta.startedAt > since)) {
      const stored = await readResult(this.#client, this.#keys, entry);
      if (stored) {
        const outcome = this.#outcomeOf(stored, entry);
        // Remembered as known now, so its announcement will be skipped: delivered either way.
        if (!this.#settleFollowers(entry, outcome)) this.#watcher?.deliver(entry, outcome);
      }
    }
    return false;
  }

  /**
   * A follower heard nothing from the lease's owner within its lease: the owner may be gone, so
   * the refresh goes through #begin again (a newer shared result, or the lease, or follow).
   */
  #retryRefresh(run: PendingRun): void {
    const runs = this.#followers.get(run.entry);
    if (runs?.delete(run) && runs.size === 0) this.#followers.delete(run.entry);
    if (run.done || this.#closed) return;
    if (this.#watcher && !this.#watcher.holds(run.entry)) {
      // The loader let the entry go meanwhile (ttl): nobody here reads it, so nothing is run for it.
      this.finish(run, {
        ok: false,
        error: new CancelledError('the entry left the loader while its refresh waited for another process'),
        startedAt: undefined,
        finishedAt: now(),
      });
      return;
    }
    void this.#begin(run);
  }

  /** The lease owner's outcome settles the refresh runs following it; false when there were none. */
  #settleFollowers(entry: string, outcome: Outcome): boolean {
    const runs = this.#followers.get(entry);
    if (!runs) return false;
    this.#followers.delete(entry);
    let settled = false;
    for (const [run, timer] of runs) {
      timer.cancel();
      if (run.done) continue;
      this.finish(run, outcome);
      settled = true;
    }
    return settled;
  }

  /** The stored outcome, decoded; remembered as the entry's latest. */
  #outcomeOf(stored: StoredResult, entry: string): Outcome {
    const { meta } = stored;
    this.#remember(entry, meta.run, meta.startedAt);
    let value = this.#wire.unpack(stored.text, stored.binaries);
    if (meta.encoded) value = decode(value);
    return meta.ok
      ? { ok: true, value, startedAt: meta.startedAt ?? meta.finishedAt, finishedAt: meta.finishedAt }
      : { ok: false, error: reviveError(value), startedAt: meta.startedAt, finishedAt: meta.finishedAt };
  }

  /** Settles every local run waiting for `jobId` with `outcome` (made once, shared). */
  #settleJob(jobId: string, outcome: () => Outcome): void {
    const runs = this.#byJob.get(jobId);
    if (!runs) return;
    const made = outcome();
    for (const run of [...runs]) this.finish(run, made);
  }

  async #completed(jobId: string, returned?: unknown): Promise<void> {
    const runs = this.#byJob.get(jobId);
    if (!runs || runs.size === 0) return;
    const first = runs.values().next().value!;
    let stored: StoredResult | undefined = inlineResult(returned);
    if (!stored) {
      try {
        stored = await readResult(this.#client, this.#keys, first.entry);
        this.#lastContact = now();
      } catch {
        // Redis went away between the event and the read: the sweep tries again.
        return;
      }
    }
    this.#settleJob(jobId, () =>
      stored
        ? this.#outcomeOf(stored, first.entry)
        : {
            ok: false,
            error: new RunLostError(
              'The run completed but its result is gone from Redis (expired or deleted); call again to run it again.',
            ),
            startedAt: undefined,
            finishedAt: now(),
          },
    );
  }

  #failed(jobId: string, reason: string): void {
    this.#settleJob(jobId, () => ({
      ok: false,
      error: failure(reason),
      startedAt: undefined,
      finishedAt: now(),
    }));
  }

  /**
   * Reads one job's state and settles its runs if it is over. From the job's hash in one O(1)
   * read: BullMQ's getJobState scans the wait and active lists, so a sweep of thousands of
   * queued jobs cost Redis time quadratic in the queue's length.
   */
  async #check(jobId: string): Promise<void> {
    const fields = await this.#client.hmget(
      this.#queue.toKey(jobId),
      'timestamp',
      'processedOn',
      'finishedOn',
      'returnvalue',
      'failedReason',
    );
    const [timestamp = null, processedOn = null, finishedOn = null, returned = null, failedReason = null] =
      fields;
    this.#lastContact = now();
    if (timestamp === null) {
      this.#settleJob(jobId, () => ({
        ok: false,
        error: new RunLostError(
          "The run's job is gone from Redis before it settled (Redis restarted without persistence, or the job was removed); call again to run it again.",
        ),
        startedAt: undefined,
        finishedAt: now(),
      }));
    } else if (finishedOn !== null) {
      if (returned === null && failedReason !== null) this.#failed(jobId, failedReason);
      else await this.#completed(jobId, parseReturned(returned));
    } else if (processedOn === null) {
      // Waiting for a worker: past jobExpiry none will run it (a signed job is refused then).
      const runs = this.#byJob.get(jobId);
      let oldest = Infinity;
      for (const run of runs ?? []) oldest = Math.min(oldest, run.since);
      if (now() - oldest > this.#options.jobExpiry) {
        this.#settleJob(jobId, () => ({
          ok: false,
          error: new RunLostError(
            `No worker took the run's job within jobExpiry (${this.#options.jobExpiry} ms); check that workers are running on queue "${this.#options.queue}".`,
          ),
          startedAt: undefined,
          finishedAt: now(),
        }));
      }
    }
  }

  /**
   * Checks the state of pending jobs. On a timer only those due: a run's job is first checked
   * once it has waited one interval, then after twice as long each time, up to
   * CHECK_BACKOFF_MAX intervals (notes settle almost every run; checking each of 8,000 queued
   * runs every second cost Redis and the app more than running them). After a reconnect, all
   * of them.
   */
  async #sweep(all = false): Promise<void> {
    if (this.#sweeping || this.#closed || this.#pending.size === 0) return;
    this.#sweeping = true;
    try {
      const t = now();
      const interval = this.#options.sweepInterval;
      const jobs: string[] = [];
      for (const [jobId, runs] of this.#byJob) {
        let due = false;
        for (const run of runs) {
          if (!run.added || !(all || run.since + run.checkAfter <= t)) continue;
          due = true;
          const age = t - run.since;
          run.checkAfter = age + Math.min(Math.max(age, interval), interval * CHECK_BACKOFF_MAX);
        }
        if (due) jobs.push(jobId);
      }
      for (let i = 0; i < jobs.length; i += SWEEP_BATCH)
        await Promise.all(jobs.slice(i, i + SWEEP_BATCH).map((jobId) => this.#check(jobId)));
      // Nothing to check: Redis is still asked, so that runs fail once it stops answering.
      if (jobs.length === 0 && this.#pending.size > 0) {
        await this.#client.ping();
        this.#lastContact = now();
      }
    } catch (error) {
      // Redis does not answer: runs that have waited past the bound (counted from their own
      // start when later than Redis's last answer) fail; the others are checked again.
      const t = now();
      for (const run of [...this.#pending]) {
        if (t - Math.max(this.#lastContact, run.since) > this.#options.unavailableAfter)
          this.finish(run, { ok: false, error: unavailable(error), startedAt: undefined, finishedAt: t });
      }
    } finally {
      this.#sweeping = false;
    }
  }
}

/** A job hash's `returnvalue` (JSON), or undefined if it is not JSON. */
function parseReturned(text: string | null): unknown {
  if (text === null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether a command failed because the connection went away (ioredis gives these errors no
 * code): the client is not ready, or the error says the connection closed under the command.
 */
function connectionLost(error: unknown, client: Redis): boolean {
  if (client.status !== 'ready') return true;
  const message = error instanceof Error ? error.message : String(error);
  return /connection is closed|connection close|isn't writeable/i.test(message);
}

/** The outcome a job's return value carries (see JobReturn), if it carries one. */
function inlineResult(returned: unknown): StoredResult | undefined {
  const r = returned as Partial<JobReturn> | null | undefined;
  if (typeof r !== 'object' || r === null || typeof r.text !== 'string' || typeof r.meta !== 'object')
    return undefined;
  return { meta: r.meta, text: r.text, binaries: [] };
}

function unavailable(cause: unknown): Error {
  if (cause instanceof RedisUnavailableError) return cause;
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RedisUnavailableError(
    `Redis did not answer (${why}). Check that it is running and reachable; calls work again once it is.`,
    { cause },
  );
}

/** A job's failedReason as the error its callers see. */
function failure(reason: string): Error {
  if (reason.startsWith(REFUSED)) return new JobRefusedError(reason);
  if (/stalled more than allowable limit/i.test(reason))
    return new WorkerCrashedError(
      'The run was lost twice with the worker running it (killed, or it stopped renewing its lock); it was not tried again.',
      { cause: new Error(reason) },
    );
  return new WorkerCrashedError(`The job failed on its worker: ${reason}`, { cause: new Error(reason) });
}

/** Creates an executor for `createLoader({ executor })` that runs functions on async-load workers through BullMQ. */
export function bullmqExecutor(options: BullmqExecutorOptions): Executor {
  return new BullmqExecutor(options);
}

/**
 * Runs functions on a Piscina pool of worker threads. Owns the pool, the start slots, the
 * per-run timeouts (counted from the actual start) and the mapping of Piscina's plain errors
 * onto our error classes.
 */

import { getRandomValues } from 'node:crypto';
import { Piscina, queueOptionsSymbol } from 'piscina';
import type { ResourceLimits } from 'node:worker_threads';
import { now } from './clock.js';
import { decode } from './codec.js';
import {
  LoaderClosedError,
  QueueFullError,
  TimeoutError,
  WorkerCrashedError,
  type WorkerStartError,
} from './errors.js';
import type { Executor, Outcome, RunHandle, RunRequest } from './executor.js';
import type { BatchMessage, FunctionRef, ResultMessage, TaskMessage, WorkerSetup } from './protocol.js';
import { StartSlots, type SlotRef } from './start-slots.js';
import { StartWatch } from './start-watch.js';
import { StrayReports } from './stray-reports.js';
import { crashError, isBatchDone, isReply, startError } from './thread-answers.js';
import { after, soon, type Timer } from './timers.js';

export interface PoolSettings {
  threads: number;
  minThreads: number;
  idleTimeout: number;
  maxQueue: number;
  resourceLimits: ResourceLimits | undefined;
  /** Errors that belong to no run, such as a thread that crashed between runs. */
  onError: (error: Error) => void;
  /**
   * Runs of a function averaging less than this (ms) are batched; QUICK_MS unless set. Not a
   * loader option: tests set it when instrumented code makes every run slower than QUICK_MS.
   */
  quickMs?: number;
  /**
   * A batched run running longer than this (ms) has the runs behind it in its batch taken back;
   * STEAL_MS unless set. Not a loader option: a test of what happens inside a batch sets it
   * when instrumented code or a loaded machine makes a run of its batch take longer.
   */
  stealMs?: number;
}

/**
 * Running from TypeScript sources (tests, tsx) the worker is a .ts file that Node 20 can only
 * load through tsx; the published build ships plain .js beside this file's compiled copy, and
 * threads load it through a CommonJS entry (see workers/entry.cts for why).
 */
function workerLocation(): { filename: string; execArgv: string[] | undefined } {
  // Stryker disable next-line StringLiteral: '' matches too when running from source, as every mutation run does; the build's path is tested by package.test.ts
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fromSource ? '../workers/worker.ts' : '../workers/entry.cjs';
  const filename = new URL(file, import.meta.url).href;
  return { filename, execArgv: fromSource ? [...process.execArgv, '--import', 'tsx'] : undefined };
}

/** A run waiting in our queue or handed to Piscina; it is also the caller's handle to it. */
class PendingRun implements RunHandle {
  readonly request: RunRequest;
  readonly onSettle: (outcome: Outcome) => void;
  readonly #executor: PoolExecutor;
  /** Set once handed to Piscina. */
  slot: SlotRef | undefined;
  /** Set once settled for the caller (or cancelled while still queued). */
  done = false;
  /** Handed to a thread that died before the run started, and handed over again once. */
  retried = false;
  /** The pool that was current when the run came, by number (see #checkStall). */
  cameOn = 0;
  /** A thread answered that it lacks the inline function: send the source with it. */
  needsSource = false;
  /** The current hand-off (its placement says which thread took it). */
  hand: HandOff | undefined;
  /** A refresh held back until its scheduled start because every thread was busy (see #pump). */
  deferral: Timer | undefined;
  /** Held back, then queued at its scheduled start: it goes without a start time to wait for. */
  due = false;

  constructor(executor: PoolExecutor, request: RunRequest, onSettle: (outcome: Outcome) => void) {
    this.#executor = executor;
    this.request = request;
    this.onSettle = onSettle;
  }

  startedAt(): number | undefined {
    return this.slot && !this.done ? this.#executor.startedAt(this.slot) : undefined;
  }

  cancel(reason: Error): void {
    this.#executor.cancel(this, reason);
  }
}

/**
 * Runs wait in our own queue and are handed to Piscina a few at a time (four per thread, so a
 * thread finishing one run finds the next already there). Cancelling never goes through
 * Piscina's AbortSignal support: abortable tasks skip Piscina's fast queue, and with them the
 * dispatch suite measured 0.34x raw Piscina's rate (an AbortController per run and Piscina's
 * per-task worker scan for abortable tasks). Instead a run is cancelled through its start slot:
 * before it starts, the worker is told to skip it; after, its thread is stopped (#stopThread).
 */
export class PoolExecutor implements Executor {
  /** Replaced by a fresh pool when threads stop starting (see #checkStall). */
  #pool: Piscina<TaskMessage, ResultMessage>;
  /** The current pool's threads that exit while starting (see StartWatch). */
  #starts!: StartWatch;
  readonly #settings: PoolSettings;
  readonly #setup: WorkerSetup;
  readonly #slots: StartSlots;
  readonly #capacity: number;
  readonly #maxQueue: number;
  readonly #handOffLimit: number;
  /** Runs not yet handed to Piscina, oldest first, from index #head on. */
  #queue: PendingRun[] = [];
  #head = 0;
  /**
   * Refreshes, handed over before anything in #queue: a refresh is due at its scheduled time,
   * not after whatever backlog of calls built up since (one due at +100 ms started at +3.4 s,
   * behind 60,000 queued calls).
   */
  #due: PendingRun[] = [];
  /** Piscina tasks handed over and not settled (a batch is one): bounded by #handOffLimit. */
  #tasksHeld = 0;
  /** Runs handed to Piscina whose current hand-off has not settled. */
  readonly #handedOff = new Set<PendingRun>();
  /** Start slots held by hand-offs Piscina has not settled (a re-handed run's old one included). */
  #slotsHeld = 0;
  /** Runs submitted and not yet settled for the caller; bounded by threads + maxQueue. */
  #inFlight = 0;
  #closed = false;
  readonly #onError: (error: Error) => void;
  readonly #nonces = new Nonces();
  /**
   * Inline functions by source: the number tasks name them by, and how many tasks have carried
   * the source. A source is sent with the first tasks (about one per thread) and then only when
   * a thread says it lacks it, rather than with every run (300 runs of a 1 MiB function cloned
   * 300 MiB). Forgotten with the function (forget()).
   */
  readonly #inlineIds = new Map<string, { id: number; sentWithSource: number }>();
  #nextInlineId = 0;
  /** Errors the threads could not charge to a run in flight. */
  readonly #strays: StrayReports;
  /**
   * Threads being stopped (by thread id): the load balancer never hands them a task. An id
   * leaves the set when its thread has exited, by which time Piscina has dropped the thread.
   */
  readonly #doomed = new Set<number>();
  /** Pools started so far, less one: the current pool's number (see #checkStall). */
  #poolNumber = 0;
  /** The last thread failure, the cause given to WorkerStartError. */
  #lastLoss: unknown;
  #stallCheckQueued = false;
  /** Refreshes held back until their scheduled start (see #pump); cancelled by close(). */
  readonly #deferred = new Set<PendingRun>();
  /** Batches in flight (their hand-offs, in order), watched by #stealRound. */
  readonly #batches = new Set<HandOff[]>();
  #stealer: Timer | undefined;
  /** Hand-offs of batched runs by nonce, until their reply arrives (see #handOffBatch). */
  readonly #streamed = new Map<number, HandOff>();
  /** Recent run times by function (see #learnDuration); forgotten with the function. */
  readonly #durations = new Map<FunctionRef, { average: number; runs: number }>();
  /** Start slots: room for every task handed over to be a full batch. */
  readonly #slotCount: number;
  readonly #quickMs: number;
  readonly #stealMs: number;

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    this.#quickMs = settings.quickMs ?? QUICK_MS;
    this.#stealMs = settings.stealMs ?? STEAL_MS;
    this.#handOffLimit = settings.threads * 4;
    this.#slotCount = this.#handOffLimit * MAX_BATCH;
    this.#slots = new StartSlots(this.#slotCount);
    this.#strays = new StrayReports(settings.onError);
    this.#setup = {
      slots: this.#slots.buffer,
      slotCount: this.#slots.count,
      strays: this.#strays.name,
    };
    this.#maxQueue = settings.maxQueue;
    this.#onError = settings.onError;
    this.#capacity = settings.threads + settings.maxQueue;
    this.#pool = this.#createPool();
  }

  #createPool(): Piscina<TaskMessage, ResultMessage> {
    const settings = this.#settings;
    const { filename, execArgv } = workerLocation();
    const pool = new Piscina<TaskMessage, ResultMessage>({
      filename,
      execArgv,
      maxThreads: settings.threads,
      minThreads: settings.minThreads,
      idleTimeout: settings.idleTimeout,
      // The queue lives here (see above); Piscina only ever holds a few runs.
      maxQueue: Infinity,
      // One run per thread: terminating a thread must stop exactly one run.
      concurrentTasksPerWorker: 1,
      // 'sync' would freeze timers and I/O a user's function leaves running between runs.
      atomics: 'async',
      resourceLimits: settings.resourceLimits,
      workerData: this.#setup,
      // Our own timing is exact and cheaper; Piscina's histograms are not needed.
      // Stryker disable next-line BooleanLiteral: Piscina's histograms change only its speed
      recordTiming: false,
      // A task Piscina cannot place (every thread busy) goes back to the front of its queue, not
      // the back: runs start in the order they were handed over (without it, a run handed over
      // while every thread was busy could start after runs handed over later).
      stricterFIFO: true,
      // The one door through which a thread is stopped (see #stopThread): a thread marked for
      // termination is never picked. With one task per thread, Piscina's default balancer
      // picks the first idle thread; this does the same, skipping doomed ones.
      loadBalancer: (task, workers) => {
        for (const worker of workers) {
          if (worker.currentUsage === 0 && !this.#doomed.has(worker.id)) {
            // Noted on the task (see #handOff): which thread it went to, before it started.
            const placement = (task as unknown as Record<symbol, Placement | undefined>)[queueOptionsSymbol];
            if (placement) placement.threadId = worker.id;
            return worker;
          }
        }
        return null;
      },
    });
    // With no listener, an 'error' event (a thread crashing between runs, or while starting)
    // would throw in the host. Once closing, the pool belongs to no run: replies that raced
    // close() reach Piscina after it dropped their tasks ("Unexpected message from Worker"),
    // which is not worth an onError.
    pool.on('error', (error: Error) => {
      if (pool !== this.#pool || this.#closed) return;
      settings.onError(crashError(error));
      this.#threadLost(error);
    });
    // Replies of batched runs, posted by the thread as each run ends (see #handOffBatch).
    pool.on('message', (message: unknown) => this.#onStreamed(message));
    const starts = new StartWatch(
      () => pool.threads,
      settings.threads,
      (code) => {
        // Replacements for threads that exited are started after the exit listeners have run.
        soon(() => starts.look());
        if (pool !== this.#pool || this.#closed) return;
        const error = new WorkerCrashedError(
          `A worker thread exited with code ${code} while starting, before running anything`,
          { exitCode: code },
        );
        settings.onError(error);
        this.#threadLost(error);
      },
    );
    // A thread that exits by itself between runs (a timer a function left behind called
    // process.exit) takes no run with it, and Piscina replaces it without a word: onError
    // hears of it here. Prepended: Piscina's own listener marks every exit as its own doing.
    pool.on('workerCreate', (info: { id: number; destroyed: boolean }) => {
      // Read now: a thread's id reads -1 once it has exited.
      const threadId = info.id;
      starts.ready(threadId);
      const worker = pool.threads.find((w) => w.threadId === threadId);
      worker?.prependOnceListener('exit', (code: number) => {
        soon(() => {
          this.#wake(pool);
          // Piscina may have started a replacement.
          starts.look();
        });
        if (pool !== this.#pool || this.#closed || info.destroyed || this.#doomed.has(threadId)) return;
        for (const run of this.#handedOff) if (run.hand?.placement.threadId === threadId) return;
        settings.onError(
          new WorkerCrashedError(
            `A worker thread exited between runs (exit code ${code}); work a function left running ` +
              'after its run (a timer, a promise) may have called process.exit. The thread was replaced.',
            { exitCode: code },
          ),
        );
      });
    });
    this.#starts = starts;
    starts.look();
    return pool;
  }

  submit(request: RunRequest, onSettle: (outcome: Outcome) => void): RunHandle {
    if (this.#closed) throw new LoaderClosedError();
    if (this.#inFlight >= this.#capacity) throw new QueueFullError(this.#maxQueue);
    this.#inFlight++;
    const run = new PendingRun(this, request, onSettle);
    run.cameOn = this.#poolNumber;
    if (request.notBefore !== undefined) this.#due.push(run);
    else this.#queue.push(run);
    this.#pump();
    return run;
  }

  startedAt(slot: SlotRef): number | undefined {
    return this.#slots.startedAt(slot);
  }

  cancel(run: PendingRun, reason: Error): void {
    if (run.done) return;
    if (run.deferral) {
      run.deferral.cancel();
      run.deferral = undefined;
      this.#deferred.delete(run);
    }
    // Still in our queue, or handed off but not started: it will never run.
    if (!run.slot || this.#slots.cancelStart(run.slot)) {
      this.#finish(run, { ok: false, error: reason, startedAt: undefined, finishedAt: now() });
      return;
    }
    // In a batch, and a later run of the batch has started: this one has ended, its reply is on
    // its way. Settled now; the thread, running another call's run, is left alone.
    if (this.#endedInBatch(run)) {
      this.#finish(run, {
        ok: false,
        error: reason,
        startedAt: this.#slots.startedAt(run.slot),
        finishedAt: now(),
      });
      return;
    }
    // Running: stop its thread, and settle for the caller now rather than when the thread has
    // exited: a thread blocked in a system call (execSync, a read from a pipe) exits only when
    // the call returns, and the caller's deadline is the timeout, not that.
    const startedAt = this.#slots.startedAt(run.slot);
    const threadId = this.#slots.threadOf(run.slot);
    if (threadId !== undefined) this.#stopThread(threadId);
    this.#finish(run, { ok: false, error: reason, startedAt, finishedAt: now() });
  }

  /**
   * Every stop of a thread goes through here. Terminating behind Piscina's back is safe only
   * once Piscina can no longer hand the thread a task: the run may have replied already (its
   * reply still on its way to this thread), and Piscina, on reading that reply, would give the
   * thread its next task, which would then die with it (6 to 17 of 150 innocent runs failed in
   * the loop). So the thread is first marked doomed, which the load balancer respects,
   * and only then terminated. Piscina sees the exit, fails whatever task the thread still had
   * (only the stopped run, already settled for its caller), drops the thread and starts another.
   */
  #stopThread(threadId: number): void {
    const worker = this.#pool.threads.find((w) => w.threadId === threadId);
    if (!worker || this.#doomed.has(threadId)) return;
    this.#doomed.add(threadId);
    // Stryker disable next-line StringLiteral,ArrowFunction: thread ids are never reused, so a stale id only takes room in the set
    worker.once('exit', () => this.#doomed.delete(threadId));
    worker.terminate().catch(() => undefined);
  }

  /**
   * Piscina starts a thread for waiting tasks only when a task is submitted or to keep
   * `minThreads`. With `minThreads: 0`, runs waiting when the last thread went (stopped for a
   * timeout, or exited) waited for ever. A task that needs no start slot (it names a function
   * no thread has, so the thread answers at once that it lacks it) makes Piscina start one.
   */
  #wake(pool: Piscina<TaskMessage, ResultMessage>): void {
    if (pool !== this.#pool || this.#closed || pool.threads.length > 0 || this.#handedOff.size === 0) return;
    const wake: TaskMessage = { fn: { id: -1 }, args: [], slot: -1, ticket: 0, nonce: this.#nonces.next() };
    pool.run(wake).catch(() => undefined);
  }

  /** The task's name for an inline function, with its source while threads may lack it. */
  #inline(source: string, run: PendingRun): { id: number; source?: string } {
    let known = this.#inlineIds.get(source);
    if (!known) this.#inlineIds.set(source, (known = { id: this.#nextInlineId++, sentWithSource: 0 }));
    if (run.needsSource || known.sentWithSource < this.#settings.threads) {
      known.sentWithSource++;
      return { id: known.id, source };
    }
    return { id: known.id };
  }

  /** The coordinator no longer needs this function: forget its number (threads drop it by LRU). */
  forget(fn: FunctionRef): void {
    this.#durations.delete(fn);
    if (fn.kind === 'inline') this.#inlineIds.delete(fn.source);
  }

  #finish(run: PendingRun, outcome: Outcome): void {
    if (run.done) return;
    run.done = true;
    this.#inFlight--;
    run.onSettle(outcome);
  }

  /** The next run to hand over: refreshes first (see #due), then the queue. */
  #next(): PendingRun | undefined {
    if (this.#due.length > 0) return this.#due.shift();
    return this.#head < this.#queue.length ? this.#queue[this.#head++] : undefined;
  }

  #pump(): void {
    const { threads } = this.#settings;
    while (this.#tasksHeld < this.#handOffLimit && this.#slotsHeld < this.#slotCount) {
      const run = this.#next();
      if (!run) break;
      if (run.done) continue;
      // A refresh handed over before its scheduled start waits for it on its thread, which is
      // free only if some thread is idle. With every thread busy it would wait in Piscina's
      // queue and then either start early or hold a thread while other runs queue behind it
      // (100 entries refreshing every 20 ms settled 17 % fewer runs than scheduled): it is
      // held back here instead and handed over, first, at its scheduled start.
      const { notBefore } = run.request;
      if (notBefore !== undefined && !run.due && this.#tasksHeld >= threads) {
        const wait = notBefore - now();
        if (wait > 0) {
          this.#defer(run, wait);
          continue;
        }
      }
      // Every thread has work and more runs wait: quick runs go several to a task, one message
      // and one reply round trip of Piscina's for all of them instead of one each (20,000
      // trivial runs: one per task went at 0.6x raw Piscina's rate).
      if (this.#tasksHeld >= threads && this.#quick(run)) {
        const group = [run];
        while (
          group.length < MAX_BATCH &&
          this.#slotsHeld + group.length < this.#slotCount &&
          this.#head < this.#queue.length
        ) {
          const next = this.#queue[this.#head]!;
          if (next.done) {
            this.#head++;
            continue;
          }
          if (!this.#quick(next)) break;
          group.push(next);
          this.#head++;
        }
        if (group.length > 1) {
          this.#handOffBatch(group);
          continue;
        }
      }
      this.#handOff(run);
    }
    if (this.#head === this.#queue.length) {
      // Emptied (the usual case under light load): reuse the array rather than allocate one per call.
      this.#queue.length = 0;
      this.#head = 0;
      // Stryker disable next-line ConditionalExpression,LogicalOperator,EqualityOperator,ArithmeticOperator: when to compact changes only how much memory the queue's consumed head holds, never which run comes next
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #defer(run: PendingRun, wait: number): void {
    this.#deferred.add(run);
    run.deferral = after(wait, () => {
      run.deferral = undefined;
      this.#deferred.delete(run);
      if (run.done || this.#closed) return;
      run.due = true;
      this.#due.unshift(run);
      this.#pump();
    });
  }

  /** The task for one run, and its timeout armed from its start. */
  #task(run: PendingRun, slot: SlotRef, placement: Placement): { message: TaskMessage; hand: HandOff } {
    const { request } = run;
    run.slot = slot;
    this.#slotsHeld++;
    this.#handedOff.add(run);
    // Optional fields only when set: every field is cloned twice per run.
    const message: TaskMessage = {
      fn: request.fn.kind === 'inline' ? this.#inline(request.fn.source, run) : request.fn,
      args: request.args,
      slot: slot.index,
      ticket: slot.ticket,
      nonce: this.#nonces.next(),
    };
    if (request.encoded) message.encoded = true;
    // A held-back refresh is due already; without a start time its thread reports no arrival,
    // so the time it was held back is never learnt as dispatch lag.
    if (request.notBefore !== undefined && !run.due) message.notBefore = request.notBefore;
    const hand: HandOff = { run, slot, nonce: message.nonce, placement, timer: undefined, settled: false };
    run.hand = hand;
    if (request.timeout !== undefined) {
      const timeout = request.timeout;
      void this.#slots.whenStarted(slot).then((startedAt) => {
        if (startedAt === undefined || run.done || hand.settled) return;
        hand.timer = after(startedAt + timeout - now(), () => {
          // Ended in its batch (a later run of it started): its reply is on its way, in time.
          if (!this.#endedInBatch(run)) this.cancel(run, new TimeoutError(timeout));
        });
      });
    }
    return { message, hand };
  }

  /**
   * Ends one hand-off: gives back its slot and, if the run still belongs to it, settles the
   * run (`outcome`) or leaves it to whoever took it back (undefined: requeued or skipped).
   */
  #settleHand(hand: HandOff, outcome: Outcome | undefined): void {
    if (hand.settled) return;
    hand.settled = true;
    hand.timer?.cancel();
    const { run, slot } = hand;
    this.#slots.release(slot);
    this.#slotsHeld--;
    // The run was handed over again (see #requeue): this hand-off only gives back its slot.
    if (run.slot === slot) {
      this.#handedOff.delete(run);
      try {
        if (outcome) {
          if (outcome.startedAt !== undefined)
            this.#learnDuration(run, outcome.finishedAt - outcome.startedAt);
          this.#finish(run, outcome);
        }
      } catch (error) {
        // Settling runs the coordinator's bookkeeping; a bug there must reach onError, not the host.
        this.#onError(error instanceof Error ? error : new Error(String(error)));
      }
    }
    this.#pump();
  }

  /** A reply (or something claiming to be one) for one hand-off. */
  #onReply(hand: HandOff, result: unknown): void {
    const { run, slot } = hand;
    if (!isReply(result, hand.nonce)) {
      // Not a reply the worker made for this task: user code on the thread changed a
      // built-in that Piscina's own code uses (Object.prototype.then, Map.prototype.get, even
      // from work left running after its run returned) or forged one on the thread's port.
      // The thread cannot be trusted with another task. A run that never started on it is
      // handed over again, once, like one whose thread died before it started.
      const threadId = this.#slots.threadOf(slot) ?? hand.placement.threadId;
      if (threadId !== undefined) this.#stopThread(threadId);
      if (!run.done && run.slot === slot && !run.retried && this.#slots.cancelStart(slot)) {
        run.retried = true;
        this.#requeue([run]);
        return this.#settleHand(hand, undefined);
      }
      return this.#settleHand(hand, {
        ok: false,
        error: new WorkerCrashedError(
          'The worker thread answered with something other than a reply; a function that ran on it ' +
            'may have changed a built-in (such as Object.prototype.then). The thread was replaced.',
        ),
        startedAt: this.#slots.startedAt(slot),
        finishedAt: now(),
      });
    }
    if ('skipped' in result) return this.#settleHand(hand, undefined);
    if ('missing' in result) {
      // The thread did not have the function (a new thread, or one that dropped it): the
      // run never started; it goes again, with the source this time.
      if (run.slot === slot && !run.done) {
        run.needsSource = true;
        this.#requeue([run]);
      }
      return this.#settleHand(hand, undefined);
    }
    const { arrivedAt, startedAt, finishedAt } = result;
    const payload = result.ok ? result.value : result.error;
    const value = result.encoded === true ? decode(payload) : payload;
    this.#settleHand(
      hand,
      result.ok
        ? { ok: true, value, arrivedAt, startedAt, finishedAt }
        : { ok: false, error: value, arrivedAt, startedAt, finishedAt },
    );
  }

  /**
   * The hand-off's task failed: its thread died or Piscina refused it. `alone`: no other run of
   * the same task started, so the thread's death belongs to no call (it goes to onError).
   */
  #onFailure(hand: HandOff, pool: Piscina<TaskMessage, ResultMessage>, error: unknown, alone: boolean): void {
    const { run, slot } = hand;
    if (pool === this.#pool && !run.done && run.slot === slot && this.#slots.cancelStart(slot)) {
      if (!alone) {
        // Another run of the same batch took the thread down: this one never started, and goes
        // again, with no blame.
        this.#requeue([run]);
        return this.#settleHand(hand, undefined);
      }
      // The thread died before the run started (while starting, or from an earlier run's
      // leftovers): nothing of the run executed, so it is handed over again, once. The
      // thread's death belongs to no call: it goes to onError.
      this.#onError(crashError(error, false));
      this.#threadLost(error);
      if (!run.retried) {
        run.retried = true;
        this.#requeue([run]);
      } else {
        this.#finish(run, {
          ok: false,
          error: startError(error),
          startedAt: undefined,
          finishedAt: now(),
        });
      }
      return this.#settleHand(hand, undefined);
    }
    const startedAt = this.#slots.startedAt(slot);
    this.#settleHand(hand, { ok: false, error: crashError(error), startedAt, finishedAt: now() });
  }

  /** Piscina's run(); a thread it cannot start is the same as one that died before the run. */
  #post(
    pool: Piscina<TaskMessage, ResultMessage>,
    message: TaskMessage | BatchMessage,
    placement: Placement,
  ): Promise<unknown> {
    // Piscina shows the load balancer a task's queue options (a symbol key, never posted): the
    // balancer writes there which thread took the task, so a thread that answers with something
    // other than a reply can be stopped even when the run never started on it.
    (message as unknown as Record<symbol, Placement>)[queueOptionsSymbol] = placement;
    try {
      const task = pool.run(message as TaskMessage);
      // Piscina starts a thread inside run() when it needs one.
      if (pool === this.#pool) this.#starts.look();
      return task;
    } catch (error) {
      // Piscina starts a thread inside run() when it needs one, and Node may refuse to (EAGAIN
      // when out of threads or memory): the same as a thread that died before the run started.
      return Promise.reject(error);
    }
  }

  #handOff(run: PendingRun): void {
    const pool = this.#pool;
    const placement: Placement = { threadId: undefined };
    const { message, hand } = this.#task(run, this.#slots.acquire(), placement);
    this.#tasksHeld++;
    this.#post(pool, message, placement).then(
      (result) => {
        this.#tasksHeld--;
        this.#onReply(hand, result);
      },
      (error: unknown) => {
        this.#tasksHeld--;
        this.#onFailure(hand, pool, error, true);
      },
    );
  }

  /**
   * Several quick runs in one task (see #pump). The thread runs them one after another and
   * posts each reply as soon as its run ends (a reply never waits for the rest of the batch,
   * and none is lost if a later run takes the thread down: Node delivers what a thread posted
   * before it reports the thread's exit). The task itself ends with the nonces it replied to.
   */
  #handOffBatch(runs: PendingRun[]): void {
    const pool = this.#pool;
    const placement: Placement = { threadId: undefined };
    const hands: HandOff[] = [];
    const tasks: TaskMessage[] = [];
    for (const run of runs) {
      const { message, hand } = this.#task(run, this.#slots.acquire(), placement);
      tasks.push(message);
      hands.push(hand);
      this.#streamed.set(hand.nonce, hand);
      hand.batch = hands;
    }
    const batch: BatchMessage = { batch: tasks, nonce: this.#nonces.next() };
    this.#tasksHeld++;
    this.#batches.add(hands);
    // One timer for all batches in flight, not one per batch (see #steal).
    this.#stealer ??= after(this.#stealMs, () => this.#stealRound());
    this.#post(pool, batch, placement).then(
      (result) => {
        this.#batchOver(hands);
        if (isBatchDone(result, batch.nonce)) this.#batchDone(hands, new Set(result.replied));
        else for (const hand of hands) this.#onReply(hand, undefined);
        this.#pump();
      },
      (error: unknown) => {
        this.#batchOver(hands);
        const anyStarted = hands.some((h) => this.#slots.startedAt(h.slot) !== undefined);
        for (const hand of hands) if (!hand.settled) this.#onFailure(hand, pool, error, !anyStarted);
        this.#pump();
      },
    );
  }

  /** A batch's task settled: it no longer counts toward the limit, nor is watched for stealing. */
  #batchOver(hands: HandOff[]): void {
    this.#tasksHeld--;
    this.#batches.delete(hands);
    // Replies still on their way are put back by #batchDone.
    for (const hand of hands) this.#streamed.delete(hand.nonce);
  }

  /** The thread ran the batch and replied (on the other port) to the runs named in `replied`. */
  #batchDone(hands: HandOff[], replied: Set<number>): void {
    for (const hand of hands) {
      if (hand.settled) continue;
      if (replied.has(hand.nonce)) {
        // Posted, on its way on the other port: it settles the run when it arrives. A thread
        // whose port a function closed never delivers it; that is a broken thread. Held:
        // Piscina lets go of an idle thread's handles, and a script waiting only for this reply
        // would otherwise exit before it is read.
        this.#streamed.set(hand.nonce, hand);
        hand.lost = after(
          STREAM_WAIT_MS,
          () => {
            this.#streamed.delete(hand.nonce);
            this.#replyLost(hand);
          },
          true,
        );
        continue;
      }
      // Not reached by the thread (the batch ended early, or the run was taken back): never
      // started, so it goes again unless it went already. Started with no reply: broken.
      if (this.#slots.cancelStart(hand.slot)) {
        if (!hand.run.done && hand.run.slot === hand.slot) this.#requeue([hand.run]);
        this.#settleHand(hand, undefined);
      } else this.#onReply(hand, undefined);
    }
  }

  /** Steals from every batch in flight (see #steal), every #stealMs while there are any. */
  #stealRound(): void {
    this.#stealer = undefined;
    for (const hands of this.#batches) this.#steal(hands);
    if (this.#batches.size > 0 && !this.#closed)
      this.#stealer = after(this.#stealMs, () => this.#stealRound());
  }

  /**
   * Takes back the runs of a batch that wait behind a run that has been running longer than
   * #stealMs (a function that is usually quick, this time slow, or never settling): they have
   * not started, so they are handed over again, to whichever thread is free, and the thread
   * skips them if it ever gets there.
   */
  #steal(hands: HandOff[]): void {
    const at = now();
    let blocked = false;
    let taken = false;
    for (const hand of hands) {
      if (hand.settled) continue;
      const startedAt = this.#slots.startedAt(hand.slot);
      if (startedAt !== undefined) {
        if (at - startedAt > this.#stealMs) blocked = true;
        continue;
      }
      if (!blocked) continue;
      const { run } = hand;
      if (!run.done && run.slot === hand.slot && this.#slots.cancelStart(hand.slot)) {
        this.#requeue([run]);
        taken = true;
      }
    }
    if (taken) this.#pump();
  }

  /**
   * The thread said it posted the run's reply, and it never came: something on the thread (a
   * function that closed the thread's port, in this batch or before it) broke it. Which run
   * did cannot be told, so none is blamed: the thread is stopped and each run whose value was
   * lost goes again, once (a run that breaks its port again then fails as crashed).
   */
  #replyLost(hand: HandOff): void {
    const threadId = this.#slots.threadOf(hand.slot) ?? hand.placement.threadId;
    if (threadId !== undefined) this.#stopThread(threadId);
    const { run } = hand;
    if (!run.done && run.slot === hand.slot && !run.retried) {
      run.retried = true;
      this.#requeue([run]);
      this.#settleHand(hand, undefined);
      return;
    }
    this.#onReply(hand, undefined);
  }

  /** A reply a thread posted for a run of a batch (Piscina's 'message' event). */
  #onStreamed(message: unknown): void {
    const nonce = (message as { nonce?: unknown } | null)?.nonce;
    if (typeof nonce !== 'number') return;
    const hand = this.#streamed.get(nonce);
    if (!hand) return;
    this.#streamed.delete(nonce);
    hand.lost?.cancel();
    this.#onReply(hand, message);
  }

  /** A batched run that has ended on its thread: a run after it in its batch has started. */
  #endedInBatch(run: PendingRun): boolean {
    const hand = run.hand;
    if (!hand?.batch) return false;
    const at = hand.batch.indexOf(hand);
    for (let i = at + 1; i < hand.batch.length; i++)
      if (this.#slots.startedAt(hand.batch[i]!.slot) !== undefined) return true;
    return false;
  }

  /** Run time of each function's recent runs (moving average, ms): quick ones are batched. */
  #learnDuration(run: PendingRun, ms: number): void {
    const { fn } = run.request;
    const known = this.#durations.get(fn);
    // Updated in place: this runs once per settled run, on the dispatch path.
    if (known === undefined) this.#durations.set(fn, { average: ms, runs: 1 });
    else {
      known.average = known.average * 0.8 + ms * 0.2;
      known.runs++;
    }
  }

  /** A run worth batching: its function's recent runs were quick, and it has no start time. */
  #quick(run: PendingRun): boolean {
    if (run.request.notBefore !== undefined) return false;
    const known = this.#durations.get(run.request.fn);
    return known !== undefined && known.runs >= QUICK_AFTER && known.average < this.#quickMs;
  }

  /** Puts runs that never started back at the head of the queue, detached from their hand-off. */
  #requeue(runs: PendingRun[]): void {
    for (const run of runs) {
      this.#handedOff.delete(run);
      run.slot = undefined;
    }
    this.#queue.splice(this.#head, 0, ...runs);
  }

  /**
   * A thread died. Piscina replaces a thread that dies while running, but not one that dies
   * while starting (it stops replacing them for good): runs handed to it then wait in its queue
   * for a thread that never comes, and every later call joins them. Checked once the current
   * turn is over, when Piscina has dropped the thread and started any replacement.
   */
  #threadLost(error: unknown): void {
    this.#lastLoss = error;
    if (this.#stallCheckQueued) return;
    this.#stallCheckQueued = true;
    soon(() => {
      this.#stallCheckQueued = false;
      this.#checkStall();
    });
  }

  /**
   * No thread alive or starting while runs wait for one: the pool cannot proceed by itself. It
   * is replaced by a fresh pool, so that threads are tried again. Each run gets one fresh pool
   * started after it came: runs that came while the stalled pool was current go over to the
   * fresh one; runs that came earlier already had the stalled pool started for them, and fail
   * with WorkerStartError rather than wait. So a call made once threads can start again runs,
   * even if threads started before it go on exiting after it came.
   */
  #checkStall(): void {
    if (this.#closed || this.#pool.threads.length > 0) return;
    // Handed-off runs that have not started never will on this pool: take them back.
    const waiting: PendingRun[] = [];
    for (const run of this.#handedOff) {
      if (run.slot && !run.done && this.#slots.cancelStart(run.slot)) waiting.push(run);
    }
    const queued = this.#head < this.#queue.length || this.#due.length > 0;
    if (waiting.length === 0 && !queued) return;
    const stalled = this.#poolNumber;
    const old = this.#pool;
    this.#pool = this.#createPool();
    this.#poolNumber++;
    // Its queued tasks settle as 'Terminating worker thread'; their runs are detached by then.
    this.#requeue(waiting);
    old.destroy().catch(() => undefined);
    const error = startError(this.#lastLoss);
    // Failed ones stay in the queue: #pump skips runs that are done.
    for (let i = this.#head; i < this.#queue.length; i++) this.#failStart(this.#queue[i]!, stalled, error);
    for (const run of this.#due) this.#failStart(run, stalled, error);
    this.#pump();
  }

  /** Fails a run waiting for a thread that came before pool number `stalled` (see #checkStall). */
  #failStart(run: PendingRun, stalled: number, error: WorkerStartError): void {
    if (run.cameOn < stalled)
      this.#finish(run, { ok: false, error, startedAt: undefined, finishedAt: now() });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new LoaderClosedError();
    for (let i = this.#head; i < this.#queue.length; i++) this.cancel(this.#queue[i]!, closed);
    for (const run of this.#due) this.cancel(run, closed);
    this.#due = [];
    for (const run of this.#deferred) this.cancel(run, closed);
    this.#queue = [];
    this.#head = 0;
    for (const run of this.#handedOff) {
      // Their threads are all about to be terminated: settle them now, with the reason.
      this.#finish(run, {
        ok: false,
        error: closed,
        startedAt: run.slot && this.#slots.startedAt(run.slot),
        finishedAt: now(),
      });
    }
    for (const hand of this.#streamed.values()) hand.lost?.cancel();
    this.#streamed.clear();
    this.#stealer?.cancel();
    this.#batches.clear();
    this.#strays.close();
    // Threads exit at once, except one blocked in a system call (execSync, a read from a pipe),
    // which exits only when the call returns: close() does not wait for that beyond a bound.
    const destroyed = this.#pool.destroy();
    await new Promise<void>((resolve) => {
      const timer = after(CLOSE_WAIT_MS, resolve);
      const done = (): void => {
        timer.cancel();
        resolve();
      };
      destroyed.then(done, done);
    });
  }
}

/** How long close() waits for threads to exit (see close()). */
const CLOSE_WAIT_MS = 2_000;

/** Where the load balancer put a task (see #handOff). */
interface Placement {
  threadId: number | undefined;
}

/** One run's hand-off to Piscina, alone or in a batch, until its slot is given back. */
interface HandOff {
  readonly run: PendingRun;
  readonly slot: SlotRef;
  readonly nonce: number;
  readonly placement: Placement;
  timer: Timer | undefined;
  settled: boolean;
  /** The runs handed over in the same task, in order (batches only). */
  batch?: HandOff[];
  /** Waits for a reply the thread says it posted (batches only; see #handOffBatch). */
  lost?: Timer;
}

/** Runs of a function whose recent runs took less than this (ms) on average are batched... */
const QUICK_MS = 0.5;
/** ...once it has run this many times. */
const QUICK_AFTER = 3;
/** Most runs in one task. */
const MAX_BATCH = 8;
/** A batched run running longer than this (ms) has the runs behind it in its batch taken back. */
const STEAL_MS = 10;
/** How long a reply a thread says it posted may take to arrive before the thread counts as broken. */
const STREAM_WAIT_MS = 2_000;

/** Random 32-bit numbers, drawn from the system's generator 256 at a time. */
class Nonces {
  readonly #pool = new Uint32Array(256);
  #next = 256;

  next(): number {
    if (this.#next === 256) {
      getRandomValues(this.#pool);
      this.#next = 0;
    }
    return this.#pool[this.#next++]!;
  }
}

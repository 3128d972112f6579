/**
 * Runs functions on a Piscina pool of worker threads. Owns the pool, the start slots, the
 * per-run timeouts (counted from the actual start) and the mapping of Piscina's plain errors
 * onto our error classes.
 */

import { Piscina } from 'piscina';
import type { ResourceLimits } from 'node:worker_threads';
import { now } from './clock.js';
import { decode } from './codec.js';
import {
  CancelledError,
  LoaderClosedError,
  QueueFullError,
  TimeoutError,
  WorkerCrashedError,
} from './errors.js';
import type { Executor, Outcome, RunHandle, RunRequest } from './executor.js';
import type { ResultMessage, TaskMessage, WorkerSetup } from './protocol.js';
import { StartSlots } from './start-slots.js';
import { after, type Timer } from './timers.js';

export interface PoolSettings {
  threads: number;
  minThreads: number;
  idleTimeout: number;
  maxQueue: number;
  resourceLimits: ResourceLimits | undefined;
  /** Errors that belong to no run, such as a thread that crashed between runs. */
  onError: (error: Error) => void;
}

/**
 * Running from TypeScript sources (tests, tsx) the worker is a .ts file that Node 20 can only
 * load through tsx; the published build ships plain .js beside this file's compiled copy.
 */
function workerLocation(): { filename: string; execArgv: string[] | undefined } {
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = new URL(`../workers/worker.${fromSource ? 'ts' : 'js'}`, import.meta.url).href;
  return { filename, execArgv: fromSource ? [...process.execArgv, '--import', 'tsx'] : undefined };
}

const EXIT_CODE = /worker exited with code: (-?\d+)/;

export class PoolExecutor implements Executor {
  readonly #pool: Piscina<TaskMessage, ResultMessage>;
  readonly #slots: StartSlots;
  readonly #capacity: number;
  readonly #maxQueue: number;
  /** Runs submitted and not yet settled; bounded by threads + maxQueue. */
  #inFlight = 0;
  /** Every unsettled run's cancel function, so close() can end them all. */
  readonly #live = new Set<(reason: Error) => void>();
  #closed = false;

  constructor(settings: PoolSettings) {
    const { filename, execArgv } = workerLocation();
    this.#slots = new StartSlots(Math.min(4096, settings.threads + Math.min(settings.maxQueue, 4096)));
    const setup: WorkerSetup = { slots: this.#slots.buffer, slotCount: this.#slots.count };
    this.#maxQueue = settings.maxQueue;
    this.#capacity = settings.threads + settings.maxQueue;
    this.#pool = new Piscina({
      filename,
      execArgv,
      maxThreads: settings.threads,
      minThreads: settings.minThreads,
      idleTimeout: settings.idleTimeout,
      // The queue limit is enforced here, synchronously, so a call that does not fit can throw.
      maxQueue: Infinity,
      // 'sync' would freeze timers and I/O a user's function leaves running between runs.
      atomics: 'async',
      resourceLimits: settings.resourceLimits,
      workerData: setup,
      // Our own timing is exact and cheaper; Piscina's histograms are not needed.
      recordTiming: false,
    });
    // With no listener, an 'error' event (a thread crashing between runs) would throw in the host.
    this.#pool.on('error', (error: Error) => settings.onError(crashError(error)));
  }

  submit(request: RunRequest): RunHandle {
    if (this.#closed) throw new LoaderClosedError();
    if (this.#inFlight >= this.#capacity) throw new QueueFullError(this.#maxQueue);
    this.#inFlight++;
    const slot = this.#slots.acquire();
    const controller = new AbortController();
    let timer: Timer | undefined;
    let done = false;
    const message: TaskMessage = {
      fn: request.fn,
      args: request.args,
      encoded: request.encoded,
      slot: slot.index,
      ticket: slot.ticket,
    };
    if (slot.privateBuffer) message.slotBuffer = slot.privateBuffer;
    if (request.notBefore !== undefined) message.notBefore = request.notBefore;

    const cancel = (reason: Error): void => {
      if (!done && !controller.signal.aborted) controller.abort(reason);
    };
    this.#live.add(cancel);

    if (request.timeout !== undefined) {
      const timeout = request.timeout;
      void this.#slots.whenStarted(slot).then((startedAt) => {
        if (startedAt === undefined || done) return;
        timer = after(startedAt + timeout - now(), () => cancel(new TimeoutError(timeout)));
      });
    }

    const settled = this.#pool.run(message, { signal: controller.signal }).then(
      (result): Outcome => {
        const value = result.encoded
          ? decode(result.ok ? result.value : result.error)
          : result.ok
            ? result.value
            : result.error;
        const { arrivedAt, startedAt, finishedAt } = result;
        return result.ok
          ? { ok: true, value, arrivedAt, startedAt, finishedAt }
          : { ok: false, error: value, arrivedAt, startedAt, finishedAt };
      },
      (error: unknown): Outcome => ({
        ok: false,
        error: controller.signal.aborted ? abortReason(controller.signal) : crashError(error),
        startedAt: this.#slots.startedAt(slot),
        finishedAt: now(),
      }),
    );
    const finish = (): void => {
      done = true;
      timer?.cancel();
      this.#slots.release(slot);
      this.#live.delete(cancel);
      this.#inFlight--;
    };
    return {
      settled: settled.finally(finish),
      startedAt: () => this.#slots.startedAt(slot),
      cancel,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new LoaderClosedError();
    for (const cancel of [...this.#live]) cancel(closed);
    await this.#pool.destroy();
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new CancelledError(String(reason));
}

/** Piscina reports thread failures as plain Errors; give them our class and the exit code. */
function crashError(error: unknown): Error {
  if (error instanceof WorkerCrashedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message === 'Terminating worker thread') return new LoaderClosedError();
  const exit = EXIT_CODE.exec(message);
  if (exit) {
    const exitCode = Number(exit[1]);
    return new WorkerCrashedError(
      `The worker thread exited with code ${exitCode} while running the function.`,
      {
        exitCode,
        cause: error,
      },
    );
  }
  if ((error as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new WorkerCrashedError(
      'The worker thread ran out of memory (see the resourceLimits loader option) and was replaced.',
      { cause: error },
    );
  }
  return new WorkerCrashedError(`The worker thread crashed: ${message}`, { cause: error });
}
